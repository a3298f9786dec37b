//! The engine beside the UI thread. A forwarding thread owns the [`Channel`] (first running
//! the demo fill when asked): it hands the UI's requests to the engine and the engine's
//! [`Update`]s to the UI over a std channel, waking the UI (`request_repaint`) for each, so
//! the UI thread never blocks and draws nothing while nothing arrives.
//!
//! The channel's receiver cannot be shared with the UI thread, so the forwarder looks for new
//! requests between waits of at most [`POLL`] on the engine: a request reaches the engine
//! within that time; idle, the forwarder wakes that often, the UI not at all.

use std::sync::{Arc, Mutex};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use vantage_core::Config;
use vantage_core::engine::{Channel, Request, RequestKind, Update};
use vantage_core::progress::Progress;

use crate::demo::{self, DemoOptions, Filled};

/// Longest wait on the engine before the forwarder looks for requests again.
pub const POLL: Duration = Duration::from_millis(15);

/// What reaches the UI.
#[derive(Debug)]
pub enum Incoming {
    /// From the engine (boxed: an update is much larger than the demo's outcome).
    Update(Box<Update>),
    /// The demo fill ended (before the engine opened); the error as one line.
    Demo(Result<Filled, String>),
}

/// What the UI hands the forwarder.
enum Outgoing {
    /// A request for the engine.
    Request(Request),
    /// Cancel the engine's requests of a kind.
    Cancel(RequestKind),
}

/// The UI's end: requests out, [`Incoming`] in.
pub struct Bridge {
    requests: Option<mpsc::Sender<Outgoing>>,
    incoming: mpsc::Receiver<Incoming>,
    filling: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Bridge {
    /// Starts the forwarder (and with `demo`, the fill first); `wake` is called after every
    /// message for the UI. Requests sent before the engine is open wait for it.
    pub fn start(config: Config, demo: Option<DemoOptions>, wake: impl Fn() + Send + Sync + 'static) -> anyhow::Result<Bridge> {
        let (requests, from_ui) = mpsc::channel::<Outgoing>();
        let (to_ui, incoming) = mpsc::channel::<Incoming>();
        let filling = Arc::new(AtomicBool::new(demo.is_some()));
        let flag = filling.clone();
        let out = Out { to_ui, wake: Arc::new(wake) };
        let thread = std::thread::Builder::new().name("vantage-gui-bridge".into()).spawn(move || {
            if let Some(options) = demo {
                let progress = Arc::new(DemoProgress { out: out.clone(), state: Mutex::new(None) });
                let filled = demo::fill(&config, options, progress);
                flag.store(false, Ordering::SeqCst);
                out.send(Incoming::Demo(filled.map_err(|e| format!("demo: {e:#}"))));
            }
            forward(config, &from_ui, &out);
        })?;
        Ok(Bridge { requests: Some(requests), incoming, filling, thread: Some(thread) })
    }

    /// Queues a request for the engine (never blocks).
    pub fn send(&self, request: Request) {
        if let Some(r) = &self.requests {
            let _ = r.send(Outgoing::Request(request));
        }
    }

    /// Cancels the engine's requests of `kind` sent so far (never blocks).
    pub fn cancel(&self, kind: RequestKind) {
        if let Some(r) = &self.requests {
            let _ = r.send(Outgoing::Cancel(kind));
        }
    }

    /// The next message, if one is waiting.
    pub fn try_recv(&self) -> Option<Incoming> {
        self.incoming.try_recv().ok()
    }

    /// The next message, waiting at most `timeout` (tests wait for the engine with it).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Incoming> {
        self.incoming.recv_timeout(timeout).ok()
    }
}

impl Drop for Bridge {
    /// Stops the engine and waits for it — unless the demo fill is still running, which is
    /// left to end with the process.
    fn drop(&mut self) {
        self.requests.take();
        if let Some(thread) = self.thread.take()
            && !self.filling.load(Ordering::SeqCst)
        {
            let _ = thread.join();
        }
    }
}

/// The forwarder's way to the UI.
#[derive(Clone)]
struct Out {
    to_ui: mpsc::Sender<Incoming>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Out {
    /// Sends and wakes; false once the UI is gone.
    fn send(&self, message: Incoming) -> bool {
        let sent = self.to_ui.send(message).is_ok();
        (self.wake)();
        sent
    }
}

/// The demo fill's progress as [`Update::Progress`], at most one every [`PROGRESS_EVERY`]
/// within a phase (the fill advances far more often than is worth a frame).
struct DemoProgress {
    out: Out,
    state: Mutex<Option<Phase>>,
}

/// The demo fill's current phase as the UI was last told of it.
struct Phase {
    label: String,
    done: u64,
    total: Option<u64>,
    told: Instant,
}

/// How often the demo's progress reaches the UI.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

impl Progress for DemoProgress {
    fn phase(&self, label: &str, total: Option<u64>) {
        if let Ok(mut state) = self.state.lock() {
            *state = Some(Phase { label: label.to_string(), done: 0, total, told: Instant::now() });
        }
        self.out.send(Incoming::Update(Box::new(Update::Progress { label: label.to_string(), done: 0, total })));
    }

    fn advance(&self, n: u64) {
        let Ok(mut state) = self.state.lock() else { return };
        let Some(phase) = state.as_mut() else { return };
        phase.done += n;
        if phase.told.elapsed() >= PROGRESS_EVERY {
            phase.told = Instant::now();
            self.out.send(Incoming::Update(Box::new(Update::Progress { label: phase.label.clone(), done: phase.done, total: phase.total })));
        }
    }

    fn finish(&self) {}
}

/// Runs the engine until the UI drops its end.
fn forward(config: Config, from_ui: &mpsc::Receiver<Outgoing>, out: &Out) {
    let channel = match Channel::start(config) {
        Ok(c) => c,
        Err(e) => {
            out.send(Incoming::Update(Box::new(Update::Unavailable { part: "open", message: e.to_string() })));
            return;
        }
    };
    'run: loop {
        loop {
            match from_ui.try_recv() {
                Ok(Outgoing::Request(request)) => {
                    channel.send(request);
                }
                Ok(Outgoing::Cancel(kind)) => {
                    channel.cancel(kind);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => break 'run,
            }
        }
        if let Some(update) = channel.recv_timeout(POLL)
            && !out.send(Incoming::Update(Box::new(update)))
        {
            break;
        }
    }
    channel.shutdown();
}
