//! Flow analytics (Apache Spot's flow OA, flows.md): raw flow records read from nfdump's CSV
//! output (both header dialects) and Zeek's `conn.log` (TSV and JSON lines) into Spot's raw
//! columns ([`model::RawFlow`]), located errors for bad lines ([`parse`]); the OA run of a
//! date ([`oa`]) with its enrichment ([`enrich`]), over spot-ml's scores or those of the
//! built-in scorer ([`score`]); RITA's beacon score, long connections and strobes ([`beacon`]); the reads of
//! the outputs ([`queries`]) and their HTTP endpoints ([`api`]); a threat's storyboard
//! ([`storyboard`]).

pub mod api;
pub mod beacon;
pub mod enrich;
pub mod import;
pub mod oa;
pub mod parse;
pub mod queries;
pub mod score;
pub mod storyboard;

/// The raw flow record (its type lives with its storage).
pub mod model {
    pub use crate::store::flows::model::RawFlow;
}
