//! Runs one scenario on a [`Platform`]: start barrier, controller, stop flag, counters, results.
//!
//! The shape follows the seed: the controller (Python's main thread) holds its interpreter's lock
//! while it starts the workers, sleeps `delay` with the lock released, takes the lock back, clears
//! the running flag, and joins with the lock released. Every worker waits at a start barrier, so
//! all counts are measured from the same moment.

use crate::gil::{EventLog, FreeThread, Gil, GilThread, LockStats, ThreadState, WorkerId};
use crate::padded::CachePadded;
use crate::scenario::{load_worker, LockMode, Role, RunConfig, RunResult, WorkerReport};
use crate::workload::{run_load, run_victim, LatencyStats, LoadReport, Victim};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use web_time::Instant;

/// The controller's id in the event log.
pub const CONTROLLER: WorkerId = Role::Controller.worker();
/// The incrementer's id in the event log.
pub const INCREMENTER: WorkerId = Role::Incrementer.worker();
/// The (first) load's id in the event log; the others follow it (see
/// [`crate::scenario::load_worker`]).
pub const LOAD: WorkerId = Role::Load.worker();

/// How long workers may take to reach the start barrier before the run is abandoned.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a run could not complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunError(pub String);

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RunError {}

/// A started thread that can be waited for.
pub trait Join {
    /// Waits for the thread to end; an error if it panicked.
    fn join(self: Box<Self>) -> Result<(), RunError>;
}

/// The incrementer running in an interpreter of its own (a process, or a worker with its own lock).
pub trait Isolated {
    /// Whether it has reached the start barrier.
    fn is_ready(&mut self) -> Result<bool, RunError>;
    /// An error if it has died (checked while the controller sleeps).
    fn check_alive(&mut self) -> Result<(), RunError> {
        Ok(())
    }
    /// Lets it start counting.
    fn go(&self);
    /// Its count so far.
    fn count(&self) -> u64;
    /// Clears its running flag.
    fn stop(&self);
    /// Waits for it to end and returns its outcome.
    fn finish(self: Box<Self>) -> Result<IncrementerOutcome, RunError>;
}

/// What an incrementer reports when it ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncrementerOutcome {
    /// The last count it published.
    pub count: u64,
    /// From the start signal to its exit.
    pub elapsed: Duration,
    /// What it did with its lock (none without one).
    pub lock: Option<LockStats>,
    /// How long its requests waited (latency and server victims).
    pub latency: Option<LatencyStats>,
}

/// Where runs happen: native threads and processes, or Web Workers.
pub trait Platform {
    /// Starts `f` on a new thread of the parent interpreter.
    fn spawn(
        &self,
        name: &'static str,
        f: Box<dyn FnOnce() + Send + 'static>,
    ) -> Result<Box<dyn Join>, RunError>;
    /// Starts an incrementer with a lock of its own, waiting at its start barrier.
    fn start_isolated(
        &self,
        victim: Victim,
        interval: Duration,
        log: Option<Arc<EventLog>>,
    ) -> Result<Box<dyn Isolated>, RunError>;
}

/// A live reading, passed to the observer while the controller sleeps.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Since the start signal.
    pub elapsed: Duration,
    /// The incrementer's count so far.
    pub count: u64,
}

/// The flags and counters shared by the threads of one run (a `multiprocessing.Value` each).
#[derive(Default)]
pub struct RunShared {
    /// The seed's `running` flag.
    pub running: CachePadded<AtomicBool>,
    /// The seed's `counter`.
    pub counter: CachePadded<AtomicU64>,
    /// Start barrier: workers that have arrived.
    pub ready: AtomicU32,
    /// Start barrier: set once by the controller.
    pub go: AtomicBool,
}

/// Spins (yielding the CPU) until `go` is set.
pub fn wait_for_go(go: impl Fn() -> bool) {
    while !go() {
        std::thread::yield_now();
    }
}

/// The body of the incrementer thread: waits at the barrier, counts, reports.
fn incrementer_thread(
    gil: Option<&Gil>,
    shared: &RunShared,
    victim: Victim,
) -> Result<IncrementerOutcome, RunError> {
    shared.ready.fetch_add(1, AcqRel);
    wait_for_go(|| shared.go.load(Acquire));
    let started = Instant::now();
    let (out, lock) = match gil {
        Some(gil) => {
            let mut t = gil.attach(INCREMENTER);
            let out = run_victim(&mut t, victim, &shared.running, &shared.counter);
            (out, Some(t.detach()))
        }
        None => (
            run_victim(
                &mut FreeThread::default(),
                victim,
                &shared.running,
                &shared.counter,
            ),
            None,
        ),
    };
    let out = out.map_err(RunError)?;
    Ok(IncrementerOutcome {
        count: out.count,
        elapsed: started.elapsed(),
        lock,
        latency: out.latency,
    })
}

/// The body of a load thread, worker `worker`.
fn load_thread(
    gil: Option<&Gil>,
    shared: &RunShared,
    cfg: &RunConfig,
    log: Option<&EventLog>,
    worker: WorkerId,
) -> (LoadReport, Option<LockStats>) {
    shared.ready.fetch_add(1, AcqRel);
    wait_for_go(|| shared.go.load(Acquire));
    match gil {
        Some(gil) => {
            let mut t = gil.attach(worker);
            let report = run_load(&mut t, cfg.load, &shared.running, log, worker);
            (report, Some(t.detach()))
        }
        None => (
            run_load(
                &mut FreeThread::default(),
                cfg.load,
                &shared.running,
                log,
                worker,
            ),
            None,
        ),
    }
}

type Slot<T> = Arc<Mutex<Option<T>>>;

fn take_slot<T>(slot: &Slot<T>, what: &str) -> Result<T, RunError> {
    slot.lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| RunError(format!("the {what} ended without reporting")))
}

/// Runs one scenario and measures it. `observe` is called about every 100 ms while the controller
/// sleeps (from the controller's thread, with its lock released).
pub fn run(
    platform: &dyn Platform,
    cfg: &RunConfig,
    log: Option<Arc<EventLog>>,
    observe: &mut dyn FnMut(Progress),
) -> Result<RunResult, RunError> {
    let scenario = cfg.scenario;
    let gil = match scenario.lock_mode() {
        LockMode::Shared => Some(Arc::new(Gil::with_log(cfg.interval, log.clone()))),
        LockMode::Free => None,
    };
    let shared = Arc::new(RunShared {
        running: CachePadded::new(AtomicBool::new(true)),
        ..RunShared::default()
    });

    let mut attached = gil.as_ref().map(|g| g.attach(CONTROLLER));
    let mut ctl = match &mut attached {
        Some(t) => Controller::Gil(t),
        None => Controller::Free(FreeThread::default()),
    };
    let out = control(&mut ctl, platform, cfg, &gil, &shared, log, observe);
    let controller = attached.map(|t| t.detach());
    let switches = gil.as_ref().map_or(0, |g| g.switch_number());
    out.map(|r| {
        assemble(
            cfg,
            RunParts {
                controller,
                switches,
                ..r
            },
        )
    })
}

/// The controller's thread, under the parent's lock or under none: one type for both, so that
/// [`control`] is compiled once (twice, it was the page's largest function).
enum Controller<'a, 'g> {
    Gil(&'a mut GilThread<'g>),
    Free(FreeThread),
}

impl ThreadState for Controller<'_, '_> {
    fn checkpoint(&mut self) {
        match self {
            Controller::Gil(t) => t.checkpoint(),
            Controller::Free(t) => t.checkpoint(),
        }
    }

    fn eval_loop(&mut self, step: impl FnMut() -> bool) {
        match self {
            Controller::Gil(t) => t.eval_loop(step),
            Controller::Free(t) => t.eval_loop(step),
        }
    }

    fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R {
        match self {
            Controller::Gil(t) => t.allow_threads(f),
            Controller::Free(t) => t.allow_threads(f),
        }
    }
}

/// What the threads of one run hand back when it ends, whichever executor ran them.
#[derive(Clone, Debug, Default)]
pub struct RunParts {
    /// The incrementer's outcome.
    pub incrementer: IncrementerOutcome,
    /// From the controller's wake-up to the flag cleared.
    pub stop_lag: Duration,
    /// The controller's use of its lock (none without one).
    pub controller: Option<LockStats>,
    /// Each load thread's report and its use of the lock, in worker order (none without a
    /// load).
    pub loads: Vec<(LoadReport, Option<LockStats>)>,
    /// The parent interpreter's hand-offs (CPython's `switch_number`).
    pub switches: u64,
}

/// One run's result from its parts: the same assembly for the threaded and the cooperative
/// executor.
pub fn assemble(cfg: &RunConfig, parts: RunParts) -> RunResult {
    let scenario = cfg.scenario;
    let RunParts {
        incrementer,
        stop_lag,
        controller,
        loads,
        switches,
    } = parts;
    let elapsed_s = incrementer.elapsed.as_secs_f64();
    let mut workers = vec![
        WorkerReport {
            worker: CONTROLLER,
            role: Role::Controller,
            isolated: false,
            lock: controller,
        },
        WorkerReport {
            worker: INCREMENTER,
            role: Role::Incrementer,
            isolated: scenario.isolated(),
            lock: incrementer.lock,
        },
    ];
    let n_loads = loads.len() as u8;
    let mut load: Option<LoadReport> = None;
    for (i, (report, lock)) in loads.into_iter().enumerate() {
        workers.push(WorkerReport {
            worker: load_worker(i as u8),
            role: Role::Load,
            isolated: false,
            lock,
        });
        match &mut load {
            None => load = Some(report),
            Some(first) => {
                first.ops += report.ops;
                first.restarts += report.restarts;
            }
        }
    }
    RunResult {
        scenario,
        delay_s: cfg.delay.as_secs_f64(),
        count: incrementer.count,
        elapsed_s,
        stop_lag_s: stop_lag.as_secs_f64(),
        rate_per_s: if elapsed_s > 0.0 {
            incrementer.count as f64 / elapsed_s
        } else {
            0.0
        },
        switches,
        switch_interval_ms: cfg.interval.as_secs_f64() * 1e3,
        workers,
        load,
        loads: n_loads,
        latency_ms: incrementer.latency,
    }
}

/// The controller: what Python's main thread does in the seed.
fn control(
    ts: &mut Controller<'_, '_>,
    platform: &dyn Platform,
    cfg: &RunConfig,
    gil: &Option<Arc<Gil>>,
    shared: &Arc<RunShared>,
    log: Option<Arc<EventLog>>,
    observe: &mut dyn FnMut(Progress),
) -> Result<RunParts, RunError> {
    let scenario = cfg.scenario;
    let mut threads: Vec<Box<dyn Join>> = Vec::new();
    let mut expected_ready = 0;

    // The incrementer: a thread of this interpreter, a subinterpreter (a thread with a lock of its
    // own, in this process's memory), or a process of its own.
    let inc_slot: Slot<Result<IncrementerOutcome, RunError>> = Arc::default();
    let mut isolated = if scenario.in_process() {
        Some(platform.start_isolated(cfg.victim, cfg.interval, log.clone())?)
    } else {
        // A subinterpreter's lock logs into the run's log, so its lane shows the lock it holds.
        let own = scenario
            .in_subinterpreter()
            .then(|| Arc::new(Gil::with_log(cfg.interval, log.clone())));
        let (gil, shared, slot, victim) = (
            own.or_else(|| gil.clone()),
            shared.clone(),
            inc_slot.clone(),
            cfg.victim,
        );
        threads.push(platform.spawn(
            "incrementer",
            Box::new(move || {
                let out = incrementer_thread(gil.as_deref(), &shared, victim);
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
            }),
        )?);
        expected_ready += 1;
        None
    };

    // The loads: always threads of this interpreter.
    let load_slots: Vec<Slot<(LoadReport, Option<LockStats>)>> =
        (0..cfg.load_threads()).map(|_| Arc::default()).collect();
    for (i, slot) in load_slots.iter().enumerate() {
        let (gil, ours, slot, cfg, log) =
            (gil.clone(), shared.clone(), slot.clone(), *cfg, log.clone());
        let worker = load_worker(i as u8);
        let started = platform.spawn(
            "load",
            Box::new(move || {
                let out = load_thread(gil.as_deref(), &ours, &cfg, log.as_deref(), worker);
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
            }),
        );
        match started {
            Ok(t) => threads.push(t),
            Err(e) => {
                // Let the threads already started leave before reporting.
                stop_all(shared, &isolated);
                for t in threads {
                    let _ = t.join();
                }
                return Err(e);
            }
        }
        expected_ready += 1;
    }

    // Start barrier, then the seed's `time.sleep(delay)` with the lock released.
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let isolated_ready = match &mut isolated {
            Some(iso) => iso.is_ready()?,
            None => true,
        };
        if isolated_ready && shared.ready.load(Acquire) >= expected_ready {
            break;
        }
        if Instant::now() > deadline {
            stop_all(shared, &isolated);
            return Err(RunError(format!(
                "the workers of '{scenario}' did not start within {} s",
                START_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    let started = Instant::now();
    shared.go.store(true, Release);
    if let Some(iso) = &isolated {
        iso.go();
    }
    let count_now = |iso: &Option<Box<dyn Isolated>>| match iso {
        Some(iso) => iso.count(),
        None => shared.counter.load(Relaxed),
    };
    let woke = ts.allow_threads(|| {
        let end = started + cfg.delay;
        loop {
            let now = Instant::now();
            if now >= end {
                break Ok(now);
            }
            std::thread::sleep((end - now).min(Duration::from_millis(100)));
            if let Some(iso) = &mut isolated {
                iso.check_alive()?;
            }
            observe(Progress {
                elapsed: started.elapsed(),
                count: count_now(&isolated),
            });
        }
    });
    // Back with the lock: only now can the flag be cleared (the late stop).
    stop_all(shared, &isolated);
    let stop_lag = woke.as_ref().map(Instant::elapsed);

    let joined: Result<Vec<()>, RunError> =
        ts.allow_threads(|| threads.into_iter().map(|t| t.join()).collect());
    let stop_lag = stop_lag.map_err(RunError::clone)?;
    let incrementer = match isolated {
        Some(iso) => iso.finish()?,
        None => {
            joined.clone()?;
            take_slot(&inc_slot, "incrementer thread")??
        }
    };
    joined?;
    let loads = load_slots
        .iter()
        .map(|slot| take_slot(slot, "load thread"))
        .collect::<Result<_, _>>()?;
    Ok(RunParts {
        incrementer,
        stop_lag,
        loads,
        ..RunParts::default()
    })
}

fn stop_all(shared: &RunShared, isolated: &Option<Box<dyn Isolated>>) {
    shared.running.store(false, Relaxed);
    // Workers still at the barrier must be let through to see the flag and leave.
    shared.go.store(true, Release);
    if let Some(iso) = isolated {
        iso.stop();
        iso.go();
    }
}
