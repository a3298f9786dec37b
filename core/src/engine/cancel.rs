//! Cancelling what a [`Channel`](super::Channel) runs: [`Cancels`] keeps, per request kind,
//! the last request id a front end cancelled up to, and the abort handles of the requests
//! running. A cancelled request that is still queued never starts; a running one is aborted
//! at its next await point — its open transaction is rolled back, so what it finished (an
//! aggregation window, say) stays done and what it did not is as if never begun.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::task::AbortHandle;

use super::request::{RequestId, RequestKind};

/// The cancellations of one channel (shared by the caller's thread and the runtime).
#[derive(Debug, Default)]
pub struct Cancels {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Requests of a kind with an id up to this one are cancelled.
    upto: HashMap<RequestKind, RequestId>,
    /// The requests running now.
    running: HashMap<RequestId, (RequestKind, AbortHandle)>,
}

impl Cancels {
    /// Cancels every request of `kind` sent up to `last` (the last id given out): the running
    /// ones are aborted now, the queued ones will not start. Returns how many were running.
    pub fn cancel(&self, kind: RequestKind, last: RequestId) -> usize {
        let Ok(mut state) = self.state.lock() else { return 0 };
        let upto = state.upto.entry(kind).or_insert(last);
        *upto = (*upto).max(last);
        let mut aborted = 0;
        for (id, (k, handle)) in &state.running {
            if *k == kind && *id <= last {
                handle.abort();
                aborted += 1;
            }
        }
        aborted
    }

    /// Whether request `id` of `kind` has been cancelled.
    pub fn cancelled(&self, kind: RequestKind, id: RequestId) -> bool {
        self.state.lock().is_ok_and(|s| s.upto.get(&kind).is_some_and(|upto| id <= *upto))
    }

    /// Notes a request that started; aborts it at once when it was cancelled meanwhile.
    pub fn started(&self, kind: RequestKind, id: RequestId, handle: AbortHandle) {
        let Ok(mut state) = self.state.lock() else { return };
        if state.upto.get(&kind).is_some_and(|upto| id <= *upto) {
            handle.abort();
        }
        state.running.insert(id, (kind, handle));
    }

    /// Forgets a request that ended.
    pub fn ended(&self, id: RequestId) {
        if let Ok(mut state) = self.state.lock() {
            state.running.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cancel_aborts_the_running_and_skips_the_queued_of_its_kind_only() {
        let cancels = Cancels::default();
        let forever = || tokio::spawn(std::future::pending::<()>());
        let (migrate, events) = (forever(), forever());
        cancels.started(RequestKind::Migrate, RequestId(1), migrate.abort_handle());
        cancels.started(RequestKind::Events, RequestId(2), events.abort_handle());
        assert_eq!(cancels.cancel(RequestKind::Migrate, RequestId(3)), 1);
        assert!(migrate.await.is_err_and(|e| e.is_cancelled()));
        assert!(!events.is_finished(), "another kind runs on");
        assert!(cancels.cancelled(RequestKind::Migrate, RequestId(3)), "queued before the cancel: never starts");
        assert!(!cancels.cancelled(RequestKind::Migrate, RequestId(4)), "sent after it: runs");
        assert!(!cancels.cancelled(RequestKind::Events, RequestId(2)));
        // cancelled between the check and the start: aborted as it starts
        let late = forever();
        cancels.started(RequestKind::Migrate, RequestId(3), late.abort_handle());
        assert!(late.await.is_err_and(|e| e.is_cancelled()));
    }
}
