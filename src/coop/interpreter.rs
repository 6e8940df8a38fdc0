//! The experiment's interpreters on the cooperative [`Scheduler`]: the parent interpreter
//! (controller, incrementer or I/O victim, load) and the isolated one (a process, or a free thread
//! on a worker of its own).

use super::{Clock, CoopThread, Next, Scheduler, Turn};
use crate::gil::{Event, EventKind, EventLog, LockStats, Protocol, WorkerId};
use crate::padded::CachePadded;
use crate::runner::{
    assemble, IncrementerOutcome, RunParts, RunShared, CONTROLLER, INCREMENTER, LOAD,
};
use crate::scenario::{load_worker, LockMode, RunConfig, RunResult, Scenario};
use crate::workload::{Counting, IoLoop, LatencyStats, Load, LoadThread, Victim};
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use web_time::Instant;

/// Events an interpreter keeps between two reads of [`Interpreter::take_events`].
const LOG_CAPACITY: usize = 1 << 14;

/// The controller: Python's main thread in the seed. It holds the lock while the workers start,
/// sleeps `delay` without it, takes it back to clear the flag (late, if a `z * z` holds it), and
/// joins the workers.
struct Controller {
    shared: Arc<RunShared>,
    delay: Duration,
    wakes: Option<Instant>,
    stop_lag: Duration,
    joined: bool,
}

impl Controller {
    fn run(&mut self, at: Instant) -> Next {
        match (self.wakes, self.joined) {
            (None, _) => {
                let t = at + self.delay;
                self.wakes = Some(t);
                Next::BlockUntil(t)
            }
            (Some(woke), false) => {
                // Back with the lock: only now can the flag be cleared (the late stop).
                self.shared.running.store(false, Relaxed);
                self.stop_lag = at.saturating_duration_since(woke);
                self.joined = true;
                Next::Join
            }
            (Some(_), true) => Next::Exit,
        }
    }
}

/// The victim: the incrementer counting in slices of time, or the I/O loop blocking once per
/// turn. Stopped by the flag, or (a free thread on a worker of its own, which nobody can reach in
/// time) at `stop_at`.
struct Incrementer {
    shared: Arc<RunShared>,
    victim: Victim,
    counting: Counting,
    io: IoLoop,
    /// An I/O call (or the latency victim's receive) is in progress: count it when the thread
    /// runs again.
    in_call: bool,
    /// The latency victim: when the client's next request arrives. The client is outside the
    /// interpreter and never late, so its requests arrive once per period from the start on the
    /// clock, queued while the victim is busy; no message crosses (the scheduler is the only
    /// thread of the worker).
    next_arrival: Instant,
    /// The latency victim: each request's wait in nanoseconds, from its arrival to the victim
    /// holding the lock again.
    waits: Vec<u64>,
    started: Instant,
    stop_at: Option<Instant>,
    elapsed: Option<Duration>,
}

impl Incrementer {
    fn new(
        shared: Arc<RunShared>,
        victim: Victim,
        started: Instant,
        stop_after: Option<Duration>,
    ) -> Self {
        Self {
            shared,
            victim,
            counting: Counting::default(),
            io: IoLoop::default(),
            in_call: false,
            next_arrival: started,
            waits: Vec::new(),
            started,
            stop_at: stop_after.map(|d| started + d),
            elapsed: None,
        }
    }

    fn run(&mut self, clock: &impl Clock, at: Instant, until: Instant) -> Next {
        let until = self.stop_at.map_or(until, |s| s.min(until));
        let s = &self.shared;
        let alive = match self.victim {
            Victim::Incrementer => self
                .counting
                .count_until(&s.running, &s.counter, until, || clock.counted()),
            Victim::Io { op } => {
                if std::mem::take(&mut self.in_call) {
                    // Back from the call with the lock: count it, then a checkpoint.
                    self.io.called(&s.counter);
                    return Next::Checkpoint;
                }
                let stopping = self.stop_at.is_some_and(|s| at + op > s);
                if s.running.load(Relaxed) && !stopping {
                    self.in_call = true;
                    return Next::BlockUntil(at + op);
                }
                false
            }
            Victim::Latency { period } => {
                if std::mem::take(&mut self.in_call) {
                    // Back from the receive with the lock: the request is answered now.
                    let waited = at.saturating_duration_since(self.next_arrival);
                    self.waits.push(waited.as_nanos() as u64);
                    s.counter.fetch_add(1, Relaxed);
                    self.next_arrival += period;
                    return Next::Checkpoint;
                }
                let stopping = self.stop_at.is_some_and(|s| self.next_arrival > s);
                if s.running.load(Relaxed) && !stopping {
                    // The blocking receive, with the lock released, until the next request
                    // (at once if it has already arrived).
                    self.in_call = true;
                    return Next::BlockUntil(self.next_arrival.max(at));
                }
                false
            }
            // The page refuses it in this mode before a run starts (`coop::unsupported`).
            Victim::Server => false,
        };
        let now = clock.now();
        if alive && self.stop_at.is_none_or(|s| now < s) {
            return Next::Checkpoint;
        }
        self.elapsed = Some(self.stop_at.map_or(now, |s| s.min(now)) - self.started);
        Next::Exit
    }

    fn outcome(&self, lock: Option<LockStats>) -> IncrementerOutcome {
        IncrementerOutcome {
            count: self.shared.counter.load(Relaxed),
            elapsed: self.elapsed.unwrap_or_default(),
            lock,
            latency: matches!(self.victim, Victim::Latency { .. })
                .then(|| LatencyStats::from_ns(&mut self.waits.clone())),
        }
    }
}

/// A load thread: one operation per turn.
struct LoadWorker {
    /// Its worker id (`load 1` is [`LOAD`]).
    id: WorkerId,
    shared: Arc<RunShared>,
    thread: LoadThread,
    log: Arc<EventLog>,
    /// When the operation running elsewhere (the release load's) started.
    offloaded_at: Option<Instant>,
}

impl LoadWorker {
    fn run(&mut self, clock: &impl Clock, at: Instant) -> Next {
        if let Some(started) = self.offloaded_at.take() {
            // Back with the lock after the work done elsewhere: one operation done.
            self.thread.op_took(at.saturating_duration_since(started));
            return Next::Checkpoint;
        }
        if !self.shared.running.load(Relaxed) {
            return Next::Exit;
        }
        let load = self.thread.load();
        let kind = match load {
            Load::Release { .. } => EventKind::ReleaseStart,
            _ => EventKind::OpStart,
        };
        self.log.push_at(at, kind, self.id, self.id);
        match load {
            Load::Release { .. } => {
                self.offloaded_at = Some(at);
                return Next::Offload;
            }
            Load::Short { op } => clock.busy(op),
            Load::Bignum { .. } => clock.op(|| self.thread.square_step()),
        }
        self.thread
            .op_took(clock.now().saturating_duration_since(at));
        Next::Checkpoint
    }
}

/// The threads of the experiment's interpreters.
enum ExperimentThread {
    Controller(Controller),
    Incrementer(Incrementer),
    Load(LoadWorker),
}

impl<C: Clock> CoopThread<C> for ExperimentThread {
    fn run(&mut self, clock: &C, at: Instant, until: Instant) -> Next {
        match self {
            ExperimentThread::Controller(c) => c.run(at),
            ExperimentThread::Incrementer(i) => i.run(clock, at, until),
            ExperimentThread::Load(l) => l.run(clock, at),
        }
    }

    fn long_turn(&self) -> bool {
        matches!(self, ExperimentThread::Load(_))
    }
}

/// What [`Interpreter::step`] asks of whoever drives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Call `step` again (after yielding to the event loop, if there is one).
    Again,
    /// Every thread sleeps: call `step` again after this long.
    Idle(Duration),
    /// The controller has just cleared the running flag: stop the isolated incrementer now
    /// ([`IsolatedIncrementer::stop`]), then call `step` again.
    StopIsolated,
    /// The controller waits for the isolated incrementer's outcome:
    /// [`Interpreter::isolated_finished`], then `step` again.
    WaitIsolated,
    /// The load dropped the lock around one operation of C code that releases the GIL: run
    /// [`crate::workload::release_op`] on a buffer of this many bytes on another worker (beside
    /// this one, as the C code runs beside Python's threads), then call
    /// [`Interpreter::offload_done`]; meanwhile keep calling `step`.
    Offload(usize),
    /// The run is over: [`Interpreter::result`].
    Done,
}

/// The parent interpreter of one run (controller; incrementer thread unless the scenario puts it
/// in an interpreter of its own; load thread if the scenario has one), run on the calling thread.
pub struct Interpreter<C: Clock> {
    cfg: RunConfig,
    log: Arc<EventLog>,
    shared: Arc<RunShared>,
    sched: Scheduler<ExperimentThread, C>,
    local_incrementer: bool,
    started: Option<Instant>,
    isolated: Option<IncrementerOutcome>,
    stop_sent: bool,
    /// A [`Step::Offload`] was handed out and its work has not finished.
    offload_sent: bool,
}

impl<C: Clock> Interpreter<C> {
    /// The interpreter of one run on `clock`, its controller holding the lock, the workers not
    /// started.
    pub fn new(cfg: RunConfig, clock: C) -> Self {
        let now = clock.now();
        let log = Arc::new(EventLog::starting_at(LOG_CAPACITY, now));
        let shared = Arc::new(RunShared {
            running: CachePadded::new(AtomicBool::new(true)),
            ..RunShared::default()
        });
        let interval = (cfg.scenario.lock_mode() == LockMode::Shared).then_some(cfg.interval);
        let mut sched = Scheduler::new(clock, interval, log.clone());
        let controller = Controller {
            shared: shared.clone(),
            delay: cfg.delay,
            wakes: None,
            stop_lag: Duration::ZERO,
            joined: false,
        };
        sched.spawn(CONTROLLER, ExperimentThread::Controller(controller), now);
        Self {
            cfg,
            log,
            shared,
            sched,
            local_incrementer: !needs_isolated_worker(cfg.scenario),
            started: None,
            isolated: None,
            stop_sent: false,
            offload_sent: false,
        }
    }

    /// Its clock.
    pub fn clock(&self) -> &C {
        self.sched.clock()
    }

    /// Microseconds since this interpreter was created: the time of its events.
    pub fn now_us(&self) -> u64 {
        self.sched.now_us()
    }

    /// The start signal: the workers start (and wait for the lock); the controller goes to sleep
    /// at its next turn.
    pub fn go(&mut self) {
        if self.started.is_some() {
            return;
        }
        let now = self.clock().now();
        self.started = Some(now);
        if self.local_incrementer {
            let inc = Incrementer::new(self.shared.clone(), self.cfg.victim, now, None);
            self.sched
                .spawn(INCREMENTER, ExperimentThread::Incrementer(inc), now);
        }
        for i in 0..self.cfg.load_threads() {
            let id = load_worker(i);
            let load = LoadWorker {
                id,
                shared: self.shared.clone(),
                thread: LoadThread::new_elsewhere(self.cfg.load),
                log: self.log.clone(),
                offloaded_at: None,
            };
            self.sched.spawn(id, ExperimentThread::Load(load), now);
        }
    }

    /// The incrementer's count so far (0 when it runs elsewhere).
    pub fn count(&self) -> u64 {
        self.shared.counter.load(Relaxed)
    }

    /// Seconds since the start signal.
    pub fn elapsed_s(&self) -> f64 {
        let now = self.clock().now();
        self.started
            .map_or(0.0, |s| now.saturating_duration_since(s).as_secs_f64())
    }

    /// Events since the last call, oldest first, each once ([`Scheduler::take_events`]).
    pub fn take_events(&mut self) -> Vec<Event> {
        self.sched.take_events()
    }

    /// The isolated incrementer has ended with `outcome`.
    pub fn isolated_finished(&mut self, outcome: IncrementerOutcome) {
        self.isolated = Some(outcome);
    }

    /// The work of the last [`Step::Offload`] has finished: the load takes the lock back.
    pub fn offload_done(&mut self) {
        self.offload_sent = false;
        let now = self.clock().now();
        self.sched.offload_done(LOAD, now);
    }

    /// Runs the interpreter's threads for about `budget` (one `z * z` may take longer).
    pub fn step(&mut self, budget: Duration) -> Step {
        if self.started.is_none() {
            return Step::Idle(Duration::from_millis(1));
        }
        let turn = self.sched.run_for(budget);
        if !self.offload_sent && self.sched.is_offloaded(LOAD) {
            self.offload_sent = true;
            if let Load::Release { bytes } = self.cfg.load {
                return Step::Offload(bytes);
            }
        }
        if !self.local_incrementer {
            if !self.stop_sent && !self.shared.running.load(Relaxed) {
                self.stop_sent = true;
                return Step::StopIsolated;
            }
            let joined = self.sched.others_gone(CONTROLLER);
            if self.isolated.is_none() && self.stop_sent && joined {
                return Step::WaitIsolated;
            }
        }
        match turn {
            Turn::Again => Step::Again,
            Turn::Idle(d) => Step::Idle(d),
            Turn::Done => Step::Done,
        }
    }

    /// What the run measured; complete once [`Step::Done`] was returned.
    pub fn result(&self) -> RunResult {
        let now = self.clock().now();
        let sched = &self.sched;
        let incrementer = match sched.thread(INCREMENTER) {
            Some(ExperimentThread::Incrementer(i)) => i.outcome(sched.stats(INCREMENTER, now)),
            _ => self.isolated.clone().unwrap_or_default(),
        };
        let stop_lag = match sched.thread(CONTROLLER) {
            Some(ExperimentThread::Controller(c)) => c.stop_lag,
            _ => Duration::ZERO,
        };
        let loads = (0..self.cfg.load_threads())
            .filter_map(|i| match sched.thread(load_worker(i)) {
                Some(ExperimentThread::Load(l)) => {
                    Some((l.thread.report().clone(), sched.stats(l.id, now)))
                }
                _ => None,
            })
            .collect();
        assemble(
            &self.cfg,
            RunParts {
                incrementer,
                stop_lag,
                controller: sched.stats(CONTROLLER, now),
                loads,
                switches: sched.protocol().map_or(0, Protocol::switch_number),
            },
        )
    }
}

/// Whether a run of `scenario` needs its incrementer on a worker of its own: in an interpreter of
/// its own (a process), or lock-free beside the load (free threading runs threads in parallel).
pub fn needs_isolated_worker(scenario: Scenario) -> bool {
    scenario.isolated() || scenario.lock_mode() == LockMode::Free
}

/// The incrementer of an interpreter of its own (a process: a lock nobody else takes) or of a
/// free-threaded interpreter (no lock), on a scheduler of its own on another worker.
///
/// A process is stopped from outside ([`IsolatedIncrementer::stop`]) when its parent's controller
/// clears the flag. A free thread stops itself after `delay`: its controller needs no lock, so it
/// is never late, and it cannot be told in time from a worker that is inside a `z * z`.
pub struct IsolatedIncrementer<C: Clock> {
    cfg: RunConfig,
    shared: Arc<RunShared>,
    sched: Scheduler<ExperimentThread, C>,
    started: Option<Instant>,
    done: bool,
}

impl<C: Clock> IsolatedIncrementer<C> {
    /// The incrementer of a run of `cfg` on `clock`, at its start barrier.
    pub fn new(cfg: RunConfig, clock: C) -> Self {
        let log = Arc::new(EventLog::starting_at(LOG_CAPACITY, clock.now()));
        let own_lock = cfg.scenario.lock_mode() == LockMode::Shared;
        Self {
            cfg,
            sched: Scheduler::new(clock, own_lock.then_some(cfg.interval), log),
            shared: Arc::new(RunShared {
                running: CachePadded::new(AtomicBool::new(true)),
                ..RunShared::default()
            }),
            started: None,
            done: false,
        }
    }

    /// Its clock.
    pub fn clock(&self) -> &C {
        self.sched.clock()
    }

    /// Microseconds since this incrementer was created: the time of its events.
    pub fn now_us(&self) -> u64 {
        self.sched.now_us()
    }

    /// The start signal: takes its own lock (nobody else ever asks for it) and starts counting.
    pub fn go(&mut self) {
        if self.started.is_some() {
            return;
        }
        let now = self.clock().now();
        self.started = Some(now);
        let free = self.sched.protocol().is_none();
        let stop_after = free.then_some(self.cfg.delay);
        let inc = Incrementer::new(self.shared.clone(), self.cfg.victim, now, stop_after);
        self.sched
            .spawn(INCREMENTER, ExperimentThread::Incrementer(inc), now);
    }

    /// Clears its running flag: it stops at its next iteration.
    pub fn stop(&self) {
        self.shared.running.store(false, Relaxed);
    }

    /// Counts for about `budget`: [`Step::Again`], [`Step::Idle`] while the I/O victim's call
    /// lasts, or [`Step::Done`] once it has stopped.
    pub fn step(&mut self, budget: Duration) -> Step {
        if self.started.is_none() {
            return Step::Idle(Duration::from_millis(1));
        }
        if !self.done {
            match self.sched.run_for(budget) {
                Turn::Again => return Step::Again,
                Turn::Idle(d) => return Step::Idle(d),
                Turn::Done => self.done = true,
            }
        }
        Step::Done
    }

    /// The count so far.
    pub fn count(&self) -> u64 {
        self.shared.counter.load(Relaxed)
    }

    /// Seconds since the start signal (until it stopped).
    pub fn elapsed_s(&self) -> f64 {
        match (self.sched.thread(INCREMENTER), self.started) {
            (Some(ExperimentThread::Incrementer(i)), _) if i.elapsed.is_some() => {
                i.elapsed.unwrap_or_default().as_secs_f64()
            }
            (_, Some(s)) => self
                .clock()
                .now()
                .saturating_duration_since(s)
                .as_secs_f64(),
            _ => 0.0,
        }
    }

    /// Events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.sched.take_events()
    }

    /// What it reports when it has stopped.
    pub fn outcome(&self) -> IncrementerOutcome {
        match self.sched.thread(INCREMENTER) {
            Some(ExperimentThread::Incrementer(i)) => {
                i.outcome(self.sched.stats(INCREMENTER, self.clock().now()))
            }
            _ => IncrementerOutcome::default(),
        }
    }
}
