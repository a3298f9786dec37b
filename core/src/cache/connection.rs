//! A Redis connection that repairs itself, shared by the cache and the queue.
//!
//! `redis`'s `ConnectionManager` reconnects in the background after I/O errors, but a
//! reconnect that fails for another reason — the server restarted with another password, so
//! authentication failed — leaves it holding that error for good. [`RedisConn`] replaces such
//! a manager with a fresh one (lazily connecting, so a server still refusing us costs one
//! quick attempt per operation; the worker loop waits between its attempts).
//!
//! An operation whose connection was certainly not usable — refused, authentication failed,
//! or already closed (a restart nobody noticed yet) — is retried once on the new connection,
//! so the first request after Redis returns succeeds instead of reporting the old outage.
//! Each connect gives up after [`CONNECT_TIMEOUT`] with [`CONNECT_RETRIES`] further attempt, so
//! an unreachable Redis fails a request within a few seconds rather than ten.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, Value};

use crate::config::SecretUrl;
use crate::error::{Error, Result};

/// How long one attempt to connect (TCP, `AUTH`, `SELECT`) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Further attempts after a failed connect, before an operation reports the error.
pub const CONNECT_RETRIES: usize = 1;

/// Longest pause between two connect attempts.
const MAX_RETRY_DELAY: Duration = Duration::from_millis(500);

/// Maps a Redis error to the core error type (never includes the URL).
pub fn redis_error(e: redis::RedisError) -> Error {
    Error::Redis(e.to_string())
}

/// Opens a Redis client for `url`.
pub fn client(url: &SecretUrl) -> Result<redis::Client> {
    redis::Client::open(url.expose()).map_err(|e| Error::Config(format!("redis url {}: {e}", url.redacted())))
}

/// The connection settings of every Redis connection manager of Vantage.
pub fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_number_of_retries(CONNECT_RETRIES)
        .set_max_delay(MAX_RETRY_DELAY)
}

/// A cloneable Redis connection (all clones share one multiplexed connection) that recovers
/// from any outage by itself; see the module documentation.
#[derive(Clone)]
pub struct RedisConn {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    /// Generation number and the current manager.
    current: Mutex<(u64, ConnectionManager)>,
}

impl std::fmt::Debug for RedisConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisConn")
    }
}

impl RedisConn {
    /// Connects to `url`; the error names the URL with its password masked.
    pub async fn connect(url: &SecretUrl) -> Result<RedisConn> {
        let client = client(url)?;
        let manager = ConnectionManager::new_with_config(client.clone(), manager_config())
            .await
            .map_err(|e| Error::Redis(format!("{}: {e}", url.redacted())))?;
        Ok(RedisConn { inner: Arc::new(Inner { client, current: Mutex::new((0, manager)) }) })
    }

    /// The client, for connections of their own (blocking pops).
    pub fn client(&self) -> &redis::Client {
        &self.inner.client
    }

    fn current(&self) -> (u64, ConnectionManager) {
        self.inner.current.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The manager to retry on after `error` happened on generation `seen`: a new one when
    /// the old one cannot recover by itself (it only reconnects after I/O errors), unless
    /// another caller replaced it already.
    fn after_failure(&self, seen: u64, error: &RedisError) -> (u64, ConnectionManager) {
        let mut slot = self.inner.current.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.0 == seen && !error.is_io_error() {
            match ConnectionManager::new_lazy_with_config(self.inner.client.clone(), manager_config()) {
                Ok(manager) => {
                    tracing::info!("redis: replacing the connection after: {error}");
                    *slot = (seen + 1, manager);
                }
                Err(e) => tracing::warn!("redis: cannot renew the connection: {e}"),
            }
        }
        slot.clone()
    }
}

/// The I/O error kind behind a Redis error, if it is one.
fn io_kind(error: &RedisError) -> Option<io::ErrorKind> {
    let source = std::error::Error::source(error)?;
    let io = source.downcast_ref::<io::Error>().or_else(|| source.downcast_ref::<Arc<dyn std::error::Error + Send + Sync>>()?.downcast_ref::<io::Error>());
    io.map(io::Error::kind)
}

/// Whether the command cannot have reached the server: the connection was refused, failed
/// authentication, or was already closed.
fn not_sent(error: &RedisError) -> bool {
    error.kind() == ErrorKind::AuthenticationFailed
        || matches!(io_kind(error), Some(io::ErrorKind::ConnectionRefused | io::ErrorKind::BrokenPipe | io::ErrorKind::NotConnected))
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let (generation, mut manager) = self.current();
            match manager.send_packed_command(cmd).await {
                Err(e) if not_sent(&e) => self.after_failure(generation, &e).1.send_packed_command(cmd).await,
                result => result,
            }
        })
    }

    fn req_packed_commands<'a>(&'a mut self, cmd: &'a Pipeline, offset: usize, count: usize) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let (generation, mut manager) = self.current();
            match manager.send_packed_commands(cmd, offset, count).await {
                Err(e) if not_sent(&e) => self.after_failure(generation, &e).1.send_packed_commands(cmd, offset, count).await,
                result => result,
            }
        })
    }

    fn get_db(&self) -> i64 {
        self.current().1.get_db()
    }
}

