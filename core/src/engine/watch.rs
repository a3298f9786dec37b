//! Waiting for a cache key to be written: the cache's change notification
//! ([`Cache::subscribe`]), with a new subscription after one was lost.

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use crate::cache::{Cache, Changes};

/// Pause before subscribing again after a subscription could not be made (the cache is down).
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

/// A subscription to the written keys, renewed when lost.
pub(super) struct Watch<'a> {
    cache: &'a dyn Cache,
    changes: Option<Changes>,
}

impl<'a> Watch<'a> {
    /// Subscribes (a failure is retried by [`Watch::written`]).
    pub(super) async fn new(cache: &'a dyn Cache) -> Watch<'a> {
        let changes = cache.subscribe().await.inspect_err(|e| tracing::debug!("cache subscription: {e}")).ok();
        Watch { cache, changes }
    }

    /// Returns when `key` may have been written since the last call: it was announced, some
    /// announcements were missed, or the subscription had to be renewed. The caller reads again.
    pub(super) async fn written(&mut self, key: &str) {
        loop {
            let Some(changes) = self.changes.as_mut() else {
                match self.cache.subscribe().await {
                    Ok(changes) => self.changes = Some(changes),
                    Err(e) => {
                        tracing::debug!("cache subscription: {e}");
                        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
                    }
                }
                return;
            };
            match changes.recv().await {
                Ok(written) if written == key => return,
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => return,
                Err(RecvError::Closed) => self.changes = None,
            }
        }
    }
}
