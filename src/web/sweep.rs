//! A sweep running in the pool, and the state it shares with the page.
//!
//! The controller is a pool task (it blocks on the lock and in `sleep`, which only a worker may
//! do). It writes; the page's main thread reads every animation frame and must never wait, so
//! every read here is an atomic load or a `try_lock` that gives up at once when a worker happens
//! to hold the mutex (the page simply tries again next frame).

use crate::gil::EventLog;
use crate::platform::web::{worker_panic, WebPlatform};
use crate::runner::{run, Progress};
use crate::scenario::{RunConfig, RunResult, SweepConfig};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering::*};
use std::sync::{Arc, Mutex};

/// Events kept per run: enough for a 10 s run of the busiest scenario (about 1000 events/s with
/// a 5 ms interval) with room to spare; 16 bytes each.
pub const LOG_CAPACITY: usize = 1 << 15;

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
    /// A run failed; see [`Sweep::error`].
    Failed = 3,
}

/// One sweep's shared state.
pub struct Sweep {
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
    /// Index of the run in [`Sweep::runs`].
    pub run: usize,
    /// The incrementer's count so far.
    pub count: u64,
    /// Seconds since the run's start signal.
    pub elapsed_s: f64,
    /// When the start signal was given, in microseconds on the run's log clock (0 until known).
    pub go_us: u64,
}

impl Sweep {
    /// Starts `config` in the pool (which must be running) and returns its shared state at once.
    pub fn start(config: SweepConfig) -> Arc<Self> {
        let sweep = Self::new(config);
        let s = sweep.clone();
        let platform = WebPlatform::new();
        rayon::spawn(move || s.control(&platform));
        sweep
    }

    /// A sweep with no controller task: the page runs it one run at a time in workers that share
    /// no memory with it ([`crate::coop`]) and reports here what they post: [`Sweep::begin_run`],
    /// [`Sweep::set_live`], [`Sweep::push_result`], [`Sweep::fail`].
    pub fn external(config: SweepConfig) -> Arc<Self> {
        Self::new(config)
    }

    fn new(config: SweepConfig) -> Arc<Self> {
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

    /// Externally run sweeps: the next run to start, with its new event log; `None` (and the
    /// sweep is over) when every run is done or a stop was asked for.
    pub fn begin_run(&self) -> Option<(usize, RunConfig, Arc<EventLog>)> {
        if self.status.load(SeqCst) != Status::Running as u8 {
            return None;
        }
        let i = self.started();
        if self.stop_requested.load(SeqCst) {
            self.status.store(Status::Stopped as u8, SeqCst);
            return None;
        }
        let Some(cfg) = self.runs.get(i).copied() else {
            self.status.store(Status::Done as u8, SeqCst);
            return None;
        };
        Some((i, cfg, self.open_run(i)))
    }

    /// Run `i` begins: a fresh event log and live reading, and `started` moves on.
    fn open_run(&self, i: usize) -> Arc<EventLog> {
        let log = Arc::new(EventLog::new(LOG_CAPACITY));
        self.live_count.store(0, SeqCst);
        self.live_elapsed_us.store(0, SeqCst);
        self.live_go_us.store(0, SeqCst);
        lock(&self.logs).push(log.clone());
        self.started.store(i as u32 + 1, SeqCst);
        log
    }

    /// Externally run sweeps: a live reading of the run in progress.
    pub fn set_live(&self, count: u64, elapsed_us: u64, go_us: u64) {
        self.live_count.store(count, SeqCst);
        self.live_elapsed_us.store(elapsed_us, SeqCst);
        if go_us > 0 {
            self.live_go_us.store(go_us, SeqCst);
        }
    }

    /// Externally run sweeps: the run in progress finished.
    pub fn push_result(&self, result: RunResult) {
        self.live_count.store(result.count, SeqCst);
        let mut results = lock(&self.results);
        results.push(result);
        self.results_len.store(results.len() as u32, SeqCst);
    }

    /// Externally run sweeps: the run in progress failed.
    pub fn fail(&self, message: String) {
        *lock(&self.error) = Some(message);
        self.status.store(Status::Failed as u8, SeqCst);
    }

    /// The controller: every run in order, one at a time, as the seed does.
    fn control(&self, platform: &WebPlatform) {
        for (i, cfg) in self.runs.iter().enumerate() {
            if self.stop_requested.load(SeqCst) {
                self.status.store(Status::Stopped as u8, SeqCst);
                return;
            }
            let log = self.open_run(i);
            let clock = log.clone();
            let mut observe = |p: Progress| {
                let elapsed_us = p.elapsed.as_micros() as u64;
                self.live_count.store(p.count, SeqCst);
                self.live_elapsed_us.store(elapsed_us, SeqCst);
                self.live_go_us
                    .store(clock.now_us().saturating_sub(elapsed_us).max(1), SeqCst);
            };
            match run(platform, cfg, Some(log), &mut observe) {
                Ok(result) => {
                    self.live_count.store(result.count, SeqCst);
                    lock(&self.results).push(result);
                    self.results_len.store(i as u32 + 1, SeqCst);
                }
                Err(e) => {
                    *lock(&self.error) = Some(format!(
                        "the run '{}' at {} s failed: {e}",
                        cfg.scenario,
                        cfg.delay.as_secs_f64()
                    ));
                    self.status.store(Status::Failed as u8, SeqCst);
                    return;
                }
            }
        }
        self.status.store(Status::Done as u8, SeqCst);
    }

    /// Every run of the sweep, in order.
    pub fn runs(&self) -> &[RunConfig] {
        &self.runs
    }

    /// Asks the controller to stop before the next run (a run in progress always completes, as
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
