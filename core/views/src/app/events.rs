//! Engine events into the dashboard: the router's own (the deployment, its health, progress, failures
//! routed to the model whose request failed, cancellations) and the models' answers, and the
//! outcome of an export.

use vantage_core::engine::{RequestKind, Update};

use super::{App, Effect};
use crate::tabs::{TabModel, Taken};

impl App {
    /// Takes an engine event (the screen is to be redrawn after any); returns the requests the
    /// view now needs (e.g. the details of the first row of a list that just arrived).
    pub fn on_event(&mut self, event: Update) -> Vec<Effect> {
        self.revision += 1;
        if let Update::Health { outage } = event {
            return self.health(outage);
        }
        self.take(event);
        self.wanted(&[])
    }

    /// The store or the cache stopped answering, or answers again: the header says so while
    /// it lasts; what is shown stays. Once everything answers, an error shown because a
    /// backend was unavailable goes (any other stays) and the view asks for its data again
    /// (what failed meanwhile comes back by itself).
    fn health(&mut self, outage: Option<String>) -> Vec<Effect> {
        let recovered = self.outage.is_some() && outage.is_none();
        self.outage = outage;
        if !recovered {
            return Vec::new();
        }
        if self.error.is_some() && self.error == self.unavailable_error {
            self.error = None;
        }
        self.unavailable_error = None;
        self.notice = Some("the store and the cache answer again".into());
        let effects = self.requests();
        self.note_sent(&effects);
        effects
    }

    /// Takes an engine event into the router or the model it is for.
    fn take(&mut self, event: Update) {
        let mut event = match event {
            Update::Ready { store, cache } => {
                self.backend = Some(format!("{store} + {cache}"));
                return;
            }
            Update::Progress { label, done, total } => {
                self.progress = Some((label, done, total));
                return;
            }
            Update::Failed { kind, error, .. } => {
                if self.working == Some(kind) {
                    self.working = None;
                    self.progress = None;
                }
                self.requester(kind).failed(kind);
                self.error = Some(error.to_string());
                if matches!(*error, vantage_core::engine::Error::Unavailable(_)) {
                    self.unavailable_error = self.error.clone();
                }
                return;
            }
            Update::Cancelled { kind, .. } => {
                self.requester(kind).failed(kind);
                if self.working == Some(kind) {
                    self.working = None;
                    self.progress = None;
                    self.notice = Some(if kind == RequestKind::Import { "cancelled: the import stored nothing" } else { "cancelled; what was finished stays" }.into());
                }
                return;
            }
            Update::Migrated(report) => {
                self.working = None;
                Update::Migrated(report)
            }
            imported @ Update::Imported { .. } => {
                self.working = None;
                imported
            }
            Update::Unavailable { message, .. } => {
                self.error = Some(message);
                return;
            }
            other => other,
        };
        let models: [&mut dyn TabModel; 10] = [
            &mut self.statistics,
            &mut self.attackers,
            &mut self.passwords,
            &mut self.devices,
            &mut self.events,
            &mut self.pcap,
            &mut self.flows,
            &mut self.dynfw,
            &mut self.operations,
            &mut self.dossier,
        ];
        let mut taken = None;
        for model in models {
            match model.take(event) {
                Taken::Mine(reply) => {
                    taken = Some(reply);
                    break;
                }
                Taken::NotMine(back) => event = back,
            }
        }
        if let Some(reply) = taken {
            if reply.notice.is_some() {
                self.notice = reply.notice;
            }
            if reply.error.is_some() {
                self.error = reply.error;
            }
            if reply.finished {
                self.progress = None;
            }
        }
    }

    /// Reports the outcome of an export.
    pub fn exported(&mut self, result: Result<String, String>) {
        match result {
            Ok(path) => self.notice = Some(format!("exported {path}")),
            Err(e) => self.error = Some(format!("export failed: {e}")),
        }
    }
}
