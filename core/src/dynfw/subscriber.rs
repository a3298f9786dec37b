//! The CURVE SUB socket on the system libzmq (cargo feature `zmq`; Debian's libzmq3-dev).
//!
//! [`spawn`] connects to the endpoint with the client's keypair and the server's public key,
//! subscribes to every `dynfw/` topic (unknown ones are counted and skipped by the feed), and
//! hands each message to the [`FeedHandle`] on a thread of its own. libzmq reconnects by
//! itself after a lost connection, backing off from [`RECONNECT_MS`] to [`RECONNECT_MAX_MS`];
//! the socket's monitor events (connected, CURVE handshake succeeded/failed, disconnected) go
//! to the handle's [`super::service::Link`]. A wrong server key gives no error of its own: the
//! connection is made and the handshake never completes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use super::DynfwConfig;
use super::keys::ClientKeys;
use super::service::{FeedHandle, LinkEvent};
use crate::clock::Clock;
use crate::error::{Error, Result};

/// First reconnect interval (ms).
pub const RECONNECT_MS: i32 = 100;
/// Longest reconnect interval (ms).
pub const RECONNECT_MAX_MS: i32 = 5_000;
/// How often the thread looks at the stop flag (ms).
const TICK_MS: i64 = 200;
/// Save a changed state at most this often.
const SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

static MONITORS: AtomicU64 = AtomicU64::new(0);

fn zmq_error(what: &str, e: zmq::Error) -> Error {
    Error::Config(format!("dynfw: {what}: {e}"))
}

/// The client keypair kept in `config.dir` (made with libzmq on first use).
pub fn client_keys(config: &DynfwConfig) -> Result<ClientKeys> {
    ClientKeys::load_or_create(&config.dir.join("client.key"), || {
        let pair = zmq::CurveKeyPair::new().map_err(|e| zmq_error("making the client's CURVE keypair", e))?;
        Ok(ClientKeys { public: pair.public_key, secret: pair.secret_key })
    })
}

/// Connects and follows `config`'s feed into `handle` until [`FeedHandle::stop`]; errors only
/// when the socket cannot be set up (libzmq without CURVE, a bad endpoint).
pub fn spawn(config: &DynfwConfig, handle: FeedHandle, clock: Clock) -> Result<JoinHandle<()>> {
    if zmq::has("curve") != Some(true) {
        return Err(Error::Config("dynfw: this libzmq has no CURVE support (install Debian's libzmq3-dev, built with libsodium)".into()));
    }
    let keys = client_keys(config)?;
    let context = zmq::Context::new();
    let socket = context.socket(zmq::SUB).map_err(|e| zmq_error("socket", e))?;
    socket.set_curve_serverkey(&config.server_key).map_err(|e| zmq_error("server key", e))?;
    socket.set_curve_publickey(&keys.public).map_err(|e| zmq_error("client key", e))?;
    socket.set_curve_secretkey(&keys.secret).map_err(|e| zmq_error("client key", e))?;
    socket.set_reconnect_ivl(RECONNECT_MS).map_err(|e| zmq_error("reconnect interval", e))?;
    socket.set_reconnect_ivl_max(RECONNECT_MAX_MS).map_err(|e| zmq_error("reconnect interval", e))?;
    socket.set_linger(0).map_err(|e| zmq_error("linger", e))?;
    socket.set_subscribe(b"dynfw/").map_err(|e| zmq_error("subscribe", e))?;
    let monitor_endpoint = format!("inproc://vantage-dynfw-monitor-{}", MONITORS.fetch_add(1, Ordering::Relaxed));
    let events = zmq::SocketEvent::CONNECTED as i32
        | zmq::SocketEvent::DISCONNECTED as i32
        | zmq::SocketEvent::HANDSHAKE_SUCCEEDED as i32
        | zmq::SocketEvent::HANDSHAKE_FAILED_NO_DETAIL as i32
        | zmq::SocketEvent::HANDSHAKE_FAILED_PROTOCOL as i32
        | zmq::SocketEvent::HANDSHAKE_FAILED_AUTH as i32;
    socket.monitor(&monitor_endpoint, events).map_err(|e| zmq_error("monitor", e))?;
    let monitor = context.socket(zmq::PAIR).map_err(|e| zmq_error("monitor socket", e))?;
    monitor.connect(&monitor_endpoint).map_err(|e| zmq_error("monitor socket", e))?;
    socket.connect(&config.endpoint).map_err(|e| zmq_error(&format!("connect {}", config.endpoint), e))?;
    let thread = std::thread::Builder::new()
        .name("dynfw-subscriber".into())
        .spawn(move || follow(&socket, &monitor, &handle, clock))
        .map_err(|e| Error::Config(format!("dynfw: thread: {e}")))?;
    Ok(thread)
}

fn follow(socket: &zmq::Socket, monitor: &zmq::Socket, handle: &FeedHandle, clock: Clock) {
    let mut saved = std::time::Instant::now();
    while !handle.is_stopped() {
        let mut items = [socket.as_poll_item(zmq::POLLIN), monitor.as_poll_item(zmq::POLLIN)];
        if zmq::poll(&mut items, TICK_MS).is_err() {
            break;
        }
        if items[0].is_readable() {
            while let Ok(frames) = socket.recv_multipart(zmq::DONTWAIT) {
                handle.receive(&frames, clock.now());
            }
        }
        if items[1].is_readable() {
            while let Ok(frames) = monitor.recv_multipart(zmq::DONTWAIT) {
                if let Some(event) = link_event(&frames) {
                    handle.link_event(event);
                }
            }
        }
        if saved.elapsed() >= SAVE_EVERY {
            saved = std::time::Instant::now();
            if let Err(e) = handle.save(clock.now()) {
                tracing::warn!("dynfw: could not save the state: {e}");
            }
        }
    }
    if let Err(e) = handle.save(clock.now()) {
        tracing::warn!("dynfw: could not save the state: {e}");
    }
}

/// The monitor message's event (first frame: u16 event, u32 value, little-endian).
fn link_event(frames: &[Vec<u8>]) -> Option<LinkEvent> {
    let first = frames.first()?;
    let raw = u16::from_le_bytes([*first.first()?, *first.get(1)?]);
    match zmq::SocketEvent::from_raw(raw) {
        zmq::SocketEvent::CONNECTED => Some(LinkEvent::Connected),
        zmq::SocketEvent::DISCONNECTED => Some(LinkEvent::Disconnected),
        zmq::SocketEvent::HANDSHAKE_SUCCEEDED => Some(LinkEvent::HandshakeSucceeded),
        zmq::SocketEvent::HANDSHAKE_FAILED_NO_DETAIL | zmq::SocketEvent::HANDSHAKE_FAILED_PROTOCOL | zmq::SocketEvent::HANDSHAKE_FAILED_AUTH => {
            Some(LinkEvent::HandshakeFailed)
        }
        _ => None,
    }
}
