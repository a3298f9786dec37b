//! Flow analytics (Apache Spot's flow OA, flows.md): raw flow records read from nfdump's CSV
//! output (both header dialects) and Zeek's `conn.log` (TSV and JSON lines) into Spot's raw
//! columns ([`model::RawFlow`]), located errors for bad lines ([`parse`]), or built from
//! captures as nfpcapd builds them ([`pcap`]); the OA run of a date ([`pipeline`], [`oa`]) with
//! its enrichment ([`enrich`]: network context [`context`], the HTTP reputation service
//! [`reputation`]), over spot-ml's scores or those of the built-in scorer ([`score`]), with
//! the flagged pairs of RITA's beacon score ([`beacon`]: also long connections and strobes);
//! the reads of the outputs ([`queries`], hiding what the safelists name: [`safelist`]) and
//! their HTTP endpoints ([`api`]), with the `[flows]` settings a deployment holds
//! ([`settings`]); a threat's storyboard ([`storyboard`]); the demo's flows day ([`demo`]);
//! an address set's part of the IP dossier ([`dossier`]).

pub mod api;
pub mod beacon;
pub mod context;
mod datafile;
pub mod demo;
pub mod dossier;
pub mod enrich;
pub mod import;
pub mod oa;
pub mod parse;
pub mod pcap;
pub mod pipeline;
pub mod queries;
pub mod reputation;
pub mod safelist;
pub mod score;
pub mod settings;
pub mod storyboard;

/// The raw flow record (its type lives with its storage).
pub mod model {
    pub use crate::store::flows::model::RawFlow;
}
