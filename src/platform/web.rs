//! The web back end: a thread is a task on the wasm-bindgen-rayon pool of Web Workers, all sharing
//! one wasm memory; an isolated incrementer (the process analogue) is a worker running under a lock
//! of its own.
//!
//! Every task here may block (on the lock, on a latch, in `sleep`), which a worker may do and the
//! page's main thread may not: nothing in this module is ever called from the main thread except
//! [`worker_panic`], which never waits.
//!
//! The build aborts on panic (`panic_abort`): a panicking worker dies without unwinding, so nothing
//! it promised to signal is ever signalled. A panic hook records the message first, and every wait
//! here polls that record, so a run fails with the message instead of hanging.

use crate::gil::{EventLog, Gil};
use crate::padded::CachePadded;
use crate::runner::{
    wait_for_go, IncrementerOutcome, Isolated, Join, Platform, RunError, INCREMENTER,
};
use crate::scenario::MAX_LOADS;
use crate::workload::{run_victim, Victim};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{Arc, Condvar, Mutex, Once};
use std::time::Duration;
use web_time::Instant;

/// Workers in the pool: one per task of a run that may block at once (the controller, the
/// incrementer thread or the isolated incrementer, up to [`MAX_LOADS`] load threads, the client of
/// a latency or server victim), plus one so that a task spawned while another is still leaving
/// never queues behind it. Never fewer.
pub const POOL_SIZE: usize = 2 + MAX_LOADS as usize + 1 + 1;

/// How long an isolated incrementer may take to leave after its flag is cleared.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a blocked wait looks for a dead worker.
const PANIC_POLL: Duration = Duration::from_millis(50);

static PANICKED: AtomicBool = AtomicBool::new(false);
static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);
static HOOK: Once = Once::new();

/// Installs (once) the panic hook that records a dying worker's message before the abort.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        // std's own hook is not kept: on wasm32-unknown-unknown it writes to a stderr that goes
        // nowhere, and leaving it out (with `from_utf8` for the downloads) took 2.1 KB gzip off
        // the page.
        std::panic::set_hook(Box::new(move |info| {
            // Only the first message matters: the others are usually consequences of it.
            if let Ok(mut slot) = PANIC_MESSAGE.try_lock() {
                slot.get_or_insert_with(|| info.to_string());
            }
            PANICKED.store(true, SeqCst);
        }));
    });
}

/// The message of the first panic in any worker, if one happened. Never blocks (safe on the
/// main thread); `Some("")` if the message is being written right now.
pub fn worker_panic() -> Option<String> {
    if !PANICKED.load(SeqCst) {
        return None;
    }
    Some(match PANIC_MESSAGE.try_lock() {
        Ok(m) => m.clone().unwrap_or_default(),
        Err(_) => String::new(),
    })
}

fn dead_worker_error(what: &str) -> RunError {
    let msg = worker_panic().unwrap_or_default();
    RunError(format!("a Web Worker stopped while {what}: {msg}"))
}

/// A one-shot value a worker hands to whoever waits for it.
struct Latch<T> {
    value: Mutex<Option<T>>,
    cond: Condvar,
}

impl<T> Latch<T> {
    fn new() -> Self {
        Self {
            value: Mutex::new(None),
            cond: Condvar::new(),
        }
    }

    fn set(&self, v: T) {
        *self.value.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
        self.cond.notify_all();
    }

    /// Waits (in a worker) for the value, until `timeout` if given, or until some worker panics.
    fn wait(&self, timeout: Option<Duration>, what: &str) -> Result<T, RunError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut slot = self.value.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(v) = slot.take() {
                return Ok(v);
            }
            if PANICKED.load(SeqCst) {
                return Err(dead_worker_error(what));
            }
            if deadline.is_some_and(|d| Instant::now() > d) {
                return Err(RunError(format!("timed out while {what}")));
            }
            slot = self
                .cond
                .wait_timeout(slot, PANIC_POLL)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// Web Workers of one wasm-bindgen-rayon pool (started by the page with `initThreadPool`).
#[derive(Clone, Copy, Debug, Default)]
pub struct WebPlatform;

impl WebPlatform {
    /// The pool must already be running, with at least [`POOL_SIZE`] workers.
    pub fn new() -> Self {
        install_panic_hook();
        Self
    }
}

struct TaskJoin {
    done: Arc<Latch<()>>,
    name: &'static str,
}

impl Join for TaskJoin {
    fn join(self: Box<Self>) -> Result<(), RunError> {
        self.done
            .wait(None, &format!("waiting for the {} thread", self.name))
    }
}

impl Platform for WebPlatform {
    fn spawn(
        &self,
        name: &'static str,
        f: Box<dyn FnOnce() + Send + 'static>,
    ) -> Result<Box<dyn Join>, RunError> {
        let done = Arc::new(Latch::new());
        let signal = done.clone();
        rayon::spawn(move || {
            f();
            signal.set(());
        });
        Ok(Box::new(TaskJoin { done, name }))
    }

    fn start_isolated(
        &self,
        victim: Victim,
        interval: Duration,
        log: Option<Arc<EventLog>>,
    ) -> Result<Box<dyn Isolated>, RunError> {
        let cell = Arc::new(IsolatedCell {
            running: CachePadded::new(AtomicBool::new(true)),
            counter: CachePadded::new(AtomicU64::new(0)),
            ready: AtomicBool::new(false),
            go: AtomicBool::new(false),
            outcome: Latch::new(),
        });
        let c = cell.clone();
        rayon::spawn(move || {
            c.ready.store(true, Release);
            wait_for_go(|| c.go.load(Acquire));
            let started = Instant::now();
            // An interpreter of its own: a fresh lock nobody else takes, logging into the run's
            // log so the timeline shows this worker beside the others.
            let gil = Gil::with_log(interval, log);
            let mut t = gil.attach(INCREMENTER);
            let out = run_victim(&mut t, victim, &c.running, &c.counter);
            let lock = t.detach();
            c.outcome
                .set(out.map_err(RunError).map(|out| IncrementerOutcome {
                    count: out.count,
                    elapsed: started.elapsed(),
                    lock: Some(lock),
                    latency: out.latency,
                }));
        });
        Ok(Box::new(IsolatedWorker(cell)))
    }
}

/// What a run and its isolated incrementer share (the analogue of the native child's memfd).
struct IsolatedCell {
    running: CachePadded<AtomicBool>,
    counter: CachePadded<AtomicU64>,
    ready: AtomicBool,
    go: AtomicBool,
    outcome: Latch<Result<IncrementerOutcome, RunError>>,
}

struct IsolatedWorker(Arc<IsolatedCell>);

impl Isolated for IsolatedWorker {
    fn is_ready(&mut self) -> Result<bool, RunError> {
        if PANICKED.load(SeqCst) {
            return Err(dead_worker_error("starting the isolated incrementer"));
        }
        Ok(self.0.ready.load(Acquire))
    }

    fn go(&self) {
        self.0.go.store(true, Release);
    }

    fn count(&self) -> u64 {
        self.0.counter.load(Relaxed)
    }

    fn stop(&self) {
        self.0.running.store(false, Relaxed);
    }

    fn finish(self: Box<Self>) -> Result<IncrementerOutcome, RunError> {
        self.0.outcome.wait(
            Some(EXIT_TIMEOUT),
            "waiting for the isolated incrementer to stop",
        )?
    }
}

impl Drop for IsolatedWorker {
    fn drop(&mut self) {
        // On every path out of a run (including errors), let the worker leave so the pool gets
        // its thread back.
        self.0.running.store(false, Relaxed);
        self.0.go.store(true, Release);
    }
}
