//! A sweep's state shared between whoever runs it and the page's main thread.
//!
//! In threads mode the runs happen in a controller task of the pool ([`super::source`]), which
//! writes here; the page's main thread reads every animation frame and must never wait, so every
//! read is an atomic load or a `try_lock` that gives up at once when a worker happens to hold the
//! mutex (the page simply tries again next frame). In cooperative mode the page itself writes what
//! its workers post.

use super::timeline::LOG_CAPACITY;
use crate::gil::EventLog;
use crate::platform::web::worker_panic;
use crate::scenario::{RunConfig, RunResult, SweepConfig};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering::*};
use std::sync::{Arc, Mutex};

/// Where a sweep is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// Runs are going on.
    Running = 0,
    /// Every run finished.
    Done = 1,
    /// Stopped by the reader between two runs.
    Stopped = 2,
    /// A run failed; see [`SharedSweep::error`].
    Failed = 3,
}

/// One sweep's shared state.
pub struct SharedSweep {
    /// What is being run.
    pub config: SweepConfig,
    runs: Vec<RunConfig>,
    status: AtomicU8,
    stop_requested: AtomicBool,
    /// Runs started so far (the one in progress is `started - 1`).
    started: AtomicU32,
    /// The running run's count and time since its start signal, about every 100 ms.
    live_count: AtomicU64,
    live_elapsed_us: AtomicU64,
    /// When the running run's start signal was given, on its log's clock (0 until known).
    live_go_us: AtomicU64,
    /// One event log per started run.
    logs: Mutex<Vec<Arc<EventLog>>>,
    results: Mutex<Vec<RunResult>>,
    results_len: AtomicU32,
    error: Mutex<Option<String>>,
}

/// A live reading of the run in progress.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Live {
    /// Index of the run in [`SharedSweep::runs`].
    pub run: usize,
    /// The incrementer's count so far.
    pub count: u64,
    /// Seconds since the run's start signal.
    pub elapsed_s: f64,
    /// When the start signal was given, in microseconds on the run's log clock (0 until known).
    pub go_us: u64,
}

impl SharedSweep {
    /// The state of a sweep of `config` about to start.
    pub fn new(config: SweepConfig) -> Arc<Self> {
        Arc::new(Self {
            runs: config.runs().collect(),
            config,
            status: AtomicU8::new(Status::Running as u8),
            stop_requested: AtomicBool::new(false),
            started: AtomicU32::new(0),
            live_count: AtomicU64::new(0),
            live_elapsed_us: AtomicU64::new(0),
            live_go_us: AtomicU64::new(0),
            logs: Mutex::new(Vec::new()),
            results: Mutex::new(Vec::new()),
            results_len: AtomicU32::new(0),
            error: Mutex::new(None),
        })
    }

    /// Run `i` begins: a fresh event log and live reading, and `started` moves on.
    pub fn open_run(&self, i: usize) -> Arc<EventLog> {
        let log = Arc::new(EventLog::new(LOG_CAPACITY));
        self.live_count.store(0, SeqCst);
        self.live_elapsed_us.store(0, SeqCst);
        self.live_go_us.store(0, SeqCst);
        lock(&self.logs).push(log.clone());
        self.started.store(i as u32 + 1, SeqCst);
        log
    }

    /// A live reading of the run in progress.
    pub fn set_live(&self, count: u64, elapsed_us: u64, go_us: u64) {
        self.live_count.store(count, SeqCst);
        self.live_elapsed_us.store(elapsed_us, SeqCst);
        if go_us > 0 {
            self.live_go_us.store(go_us, SeqCst);
        }
    }

    /// The run in progress finished.
    pub fn push_result(&self, result: RunResult) {
        self.live_count.store(result.count, SeqCst);
        let mut results = lock(&self.results);
        results.push(result);
        self.results_len.store(results.len() as u32, SeqCst);
    }

    /// The run in progress failed.
    pub fn fail(&self, message: String) {
        *lock(&self.error) = Some(message);
        self.status.store(Status::Failed as u8, SeqCst);
    }

    /// The sweep ended without a failure: every run done, or stopped as asked.
    pub fn end(&self, status: Status) {
        self.status.store(status as u8, SeqCst);
    }

    /// Every run of the sweep, in order.
    pub fn runs(&self) -> &[RunConfig] {
        &self.runs
    }

    /// Asks for a stop before the next run (a run in progress always completes, as
    /// one `z * z` does).
    pub fn request_stop(&self) {
        self.stop_requested.store(true, SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn stop_requested(&self) -> bool {
        self.stop_requested.load(SeqCst)
    }

    /// Where the sweep is; a dead worker counts as a failure.
    pub fn status(&self) -> Status {
        match self.status.load(SeqCst) {
            0 if worker_panic().is_some() => Status::Failed,
            0 => Status::Running,
            1 => Status::Done,
            2 => Status::Stopped,
            _ => Status::Failed,
        }
    }

    /// Why the sweep failed, if it did. `None` also while the message cannot be read without
    /// waiting.
    pub fn error(&self) -> Option<String> {
        if let Some(msg) = worker_panic() {
            return Some(format!("a Web Worker stopped: {msg}"));
        }
        self.error.try_lock().ok().and_then(|e| e.clone())
    }

    /// Runs started so far.
    pub fn started(&self) -> usize {
        self.started.load(SeqCst) as usize
    }

    /// The run in progress, if any.
    pub fn live(&self) -> Option<Live> {
        let started = self.started();
        if started == 0 || self.results_len() >= started {
            return None;
        }
        Some(Live {
            run: started - 1,
            count: self.live_count.load(SeqCst),
            elapsed_s: self.live_elapsed_us.load(SeqCst) as f64 / 1e6,
            go_us: self.live_go_us.load(SeqCst),
        })
    }

    /// Runs finished so far.
    pub fn results_len(&self) -> usize {
        self.results_len.load(SeqCst) as usize
    }

    /// Results from index `from` on, or `None` if a worker holds the list right now.
    pub fn try_results_since(&self, from: usize) -> Option<Vec<RunResult>> {
        let results = self.results.try_lock().ok()?;
        Some(results.get(from..).unwrap_or_default().to_vec())
    }

    /// The event log of run `i`, or `None` if it has not started or a worker holds the list.
    pub fn try_log(&self, i: usize) -> Option<Arc<EventLog>> {
        self.logs.try_lock().ok()?.get(i).cloned()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Only the controller writes these, each with a single push or store: still consistent after
    // a panic elsewhere.
    m.lock().unwrap_or_else(|p| p.into_inner())
}
