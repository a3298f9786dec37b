//! The Passwords tab's own state: the masked leak check (only the SHA-1 leaves the model) and
//! the most often seen leaked-password hashes.

use vantage_core::engine::{Update, Request};
use vantage_core::passwords::{self, PwnedHash};

use super::{Ctx, Reply, TabModel, Taken};
use crate::effect::Effect;
use crate::keys::{Action, Mode};
use crate::panels::{Panel, Source};
use crate::table::TableData;

/// The Passwords tab's model (its resource panels are [`super::statistics::Statistics`]').
#[derive(Debug, Default)]
pub struct Passwords {
    /// SHA-1 of the password being checked (the password itself is not kept).
    leak_pending: Option<String>,
    /// Length of the last checked password and its answer (None while checking).
    pub leak: Option<(usize, Option<Option<PwnedHash>>)>,
    /// The most often seen leaked-password hashes.
    pub leaked_top: Option<Vec<PwnedHash>>,
}

impl TabModel for Passwords {
    fn requests(&self, _: &Ctx, source: &Source) -> Vec<Request> {
        match source {
            Source::LeakedTop => vec![Request::LeakedTop { limit: 30 }],
            _ => Vec::new(),
        }
    }

    fn take(&mut self, event: Update) -> Taken {
        match event {
            Update::Leak { sha1, found } => {
                if self.leak_pending.as_deref() == Some(sha1.as_str()) {
                    self.leak_pending = None;
                    if let Some((_, answer)) = &mut self.leak {
                        *answer = Some(found);
                    }
                }
            }
            Update::LeakedTop(top) => self.leaked_top = Some(top),
            other => return Taken::NotMine(other),
        }
        Taken::Mine(Reply::default())
    }

    fn act(&mut self, ctx: &Ctx, action: &Action) -> Option<Reply> {
        match action {
            Action::CheckPassword if ctx.detail.is_none() => Some(Reply::typing(Mode::CheckPassword, "")),
            _ => None,
        }
    }

    fn submit(&mut self, _: &Ctx, _: Mode, input: String) -> Reply {
        // hashed here: the engine and the store only ever see the SHA-1
        let sha1 = passwords::sha1_hex(&input);
        self.leak = Some((input.chars().count(), None));
        self.leak_pending = Some(sha1.clone());
        Reply::effects(vec![Effect::Engine(Request::CheckHash { sha1 })])
    }

    fn table(&self, _: &Ctx, p: &Panel) -> Option<TableData> {
        if p.source != Source::LeakedTop {
            return None;
        }
        let rows = self
            .leaked_top
            .as_ref()?
            .iter()
            .map(|h| vec![h.hash[..16].to_string(), h.count.to_string(), h.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")])
            .collect();
        Some(TableData::new(&["sha1", "count", "sources"], rows))
    }

    fn text(&self, _: &Ctx, p: &Panel) -> Vec<String> {
        if p.source != Source::LeakCheck {
            return Vec::new();
        }
        let mut lines = match &self.leak {
            None => vec!["press c, type a password, Enter".to_string()],
            Some((n, None)) => vec![format!("checking ({n} characters)")],
            Some((n, Some(None))) => vec![format!("not leaked ({n} characters)")],
            Some((n, Some(Some(h)))) => {
                let mut l = vec![format!("LEAKED ({n} characters)"), format!("seen {} times", h.count)];
                if !h.sources.is_empty() {
                    l.push(format!("via {}", h.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")));
                }
                l
            }
        };
        lines.extend([String::new(), "Only the SHA-1 is looked up;".into(), "the password is not kept.".into()]);
        lines
    }
}
