//! The experiment without shared memory: the threads of one interpreter take turns on one thread,
//! under the rules of the GIL; an interpreter of its own (a process) runs on another thread.
//!
//! Where Web Workers cannot share memory (an iframe in a page that is not cross-origin isolated),
//! the threads of [`crate::gil::Gil`] cannot run side by side in a pool. Under the GIL they do not
//! run side by side anyway: only the holder runs. [`Interpreter`] runs the controller, the
//! incrementer and the load of one interpreter on the calling thread and switches between them
//! exactly where the lock would hand over, following `src/gil`'s protocol:
//!
//! - a waiter asks for a drop (`drop_request`) once it has waited one whole `interval` during which
//!   `switch_number` did not change; here the scheduler reads each waiter's timer from the clock
//!   instead of the waiting thread waking up, and dates the request when its interval ended;
//! - the holder looks at the request only at its checkpoints: the incrementer between two
//!   iterations, the load between two operations (one `z * z` is never interrupted);
//! - a drop hands the lock to the waiter that has waited longest, and a holder that dropped on
//!   request queues behind it (forced switching);
//! - the controller sleeps `delay` without the lock, then must take it back to clear the flag: the
//!   late stop.
//!
//! [`IsolatedIncrementer`] is the incrementer of an interpreter of its own (a process: a lock
//! nobody else takes) or of a free-threaded one (no lock), run on another thread and stopped from
//! outside, as a process is by its parent. The two exchange plain numbers ([`encode_outcome`],
//! [`encode_result`]) because, here, they share no memory.
//!
//! The counting and the squaring are the same work as in [`crate::workload`]; only who decides
//! when a thread runs differs.

use crate::gil::{Event, EventKind, LockStats, WorkerId};
use crate::runner::{IncrementerOutcome, CONTROLLER, INCREMENTER, LOAD};
use crate::scenario::{LockMode, Role, RunConfig, RunResult, Scenario, WorkerReport};
use crate::workload::{square, Load, LoadReport};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use num_bigint::BigUint;
use std::collections::VecDeque;
use std::time::Duration;
use web_time::Instant;

/// Incrementer iterations between two looks at the clock (about 50 µs of counting).
const CLOCK_EVERY: u32 = 1 << 14;

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
    /// The run is over: [`Interpreter::result`].
    Done,
}

/// Where the controller (Python's main thread) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctl {
    /// Holds the lock while the workers reach the start barrier.
    Starting,
    /// In `sleep(delay)`, without the lock, until then.
    Sleeping(Instant),
    /// Woke up; waits for the lock to clear the flag.
    Waiting,
    /// Cleared the flag; joins the threads without the lock.
    Joining,
    /// Took the lock back after joining; waits for the isolated incrementer, then leaves.
    Finishing,
    /// Left.
    Done,
}

/// A thread waiting in `take`: CPython's timed wait on the lock's condition, in rounds of
/// `interval`.
#[derive(Clone, Copy, Debug)]
struct Waiter {
    id: WorkerId,
    since: Instant,
    round_start: Instant,
    saved_switch_number: u64,
}

/// The load thread's state between two operations.
struct LoadThread {
    z: BigUint,
    report: LoadReport,
    done: bool,
}

/// One interpreter (controller, incrementer thread unless the scenario isolates it, load thread if
/// the scenario has one) run cooperatively on the calling thread.
pub struct Interpreter {
    cfg: RunConfig,
    epoch: Instant,
    /// One lock for the interpreter's threads (false: free-threaded, no lock).
    shared: bool,
    /// The incrementer runs here (false: in an interpreter of its own, or lock-free elsewhere).
    local_incrementer: bool,

    // The lock.
    holder: Option<WorkerId>,
    last_holder: WorkerId,
    switch_number: u64,
    drop_request: bool,
    waiters: VecDeque<Waiter>,
    held_since: [Option<Instant>; 4],
    stats: [LockStats; 4],

    // The run.
    running: AtomicBool,
    counter: AtomicU64,
    x: u64,
    started: Option<Instant>,
    ctl: Ctl,
    woke: Option<Instant>,
    stop_lag: Duration,
    incrementer_done: bool,
    incrementer_elapsed: Duration,
    load: Option<LoadThread>,
    isolated: Option<IncrementerOutcome>,
    events: Vec<Event>,
    /// The last drop request and wake-up logged ahead of time (see [`Interpreter::announce`]).
    announced_request: Option<Instant>,
    announced_wake: bool,
}

impl Interpreter {
    /// The interpreter of one run, its controller holding the lock, the workers at the start
    /// barrier.
    pub fn new(cfg: RunConfig) -> Self {
        let scenario = cfg.scenario;
        let shared = scenario.lock_mode() == LockMode::Shared;
        let mut me = Self {
            cfg,
            epoch: Instant::now(),
            shared,
            local_incrementer: !needs_isolated_worker(scenario),
            holder: None,
            last_holder: 0,
            switch_number: 0,
            drop_request: false,
            waiters: VecDeque::new(),
            held_since: [None; 4],
            stats: Default::default(),
            running: AtomicBool::new(true),
            counter: AtomicU64::new(0),
            x: 0,
            started: None,
            ctl: Ctl::Starting,
            woke: None,
            stop_lag: Duration::ZERO,
            incrementer_done: false,
            incrementer_elapsed: Duration::ZERO,
            load: scenario.has_load().then(|| LoadThread {
                z: BigUint::from(10u32),
                report: LoadReport::default(),
                done: false,
            }),
            isolated: None,
            events: Vec::new(),
            announced_request: None,
            announced_wake: false,
        };
        if shared {
            let now = Instant::now();
            me.take(CONTROLLER, now);
        }
        me
    }

    /// Microseconds since this interpreter was created: the time of its events.
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// The start signal: the workers try to take the lock, the controller goes to sleep.
    pub fn go(&mut self) {
        if self.started.is_some() {
            return;
        }
        let now = Instant::now();
        self.started = Some(now);
        if self.shared {
            if self.local_incrementer {
                self.take(INCREMENTER, now);
            }
            if self.load.is_some() {
                self.take(LOAD, now);
            }
            // `time.sleep(delay)` drops the lock around the sleep.
            self.release(CONTROLLER, now);
        }
        self.ctl = Ctl::Sleeping(now + self.cfg.delay);
    }

    /// The incrementer's count so far (0 when it runs elsewhere).
    pub fn count(&self) -> u64 {
        self.counter.load(Relaxed)
    }

    /// Seconds since the start signal.
    pub fn elapsed_s(&self) -> f64 {
        self.started.map_or(0.0, |s| s.elapsed().as_secs_f64())
    }

    /// Events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// The isolated incrementer has ended with `outcome`.
    pub fn isolated_finished(&mut self, outcome: IncrementerOutcome) {
        self.isolated = Some(outcome);
        if !self.shared {
            // No lock: nothing makes the controller late, and the incrementer stopped itself on
            // time (see `IsolatedIncrementer`); the load stops at its next operation.
            self.running.store(false, Relaxed);
        }
    }

    /// Runs the interpreter's threads for about `budget` (one `z * z` may take longer).
    pub fn step(&mut self, budget: Duration) -> Step {
        if self.started.is_none() {
            return Step::Idle(Duration::from_millis(1));
        }
        let end = Instant::now() + budget;
        if !self.shared {
            return self.step_free(end);
        }
        loop {
            let now = Instant::now();
            self.wake_controller(now);
            self.raise_requests(now);
            if self.ctl == Ctl::Joining && self.threads_done() {
                // Joined: `allow_threads` takes the lock back.
                self.ctl = Ctl::Finishing;
                self.take(CONTROLLER, now);
            }
            match self.holder {
                Some(INCREMENTER) => {
                    if self.drop_request {
                        self.answer_drop_request(INCREMENTER, now);
                        continue;
                    }
                    let until = self.next_deadline(end);
                    if !self.count_until(until) {
                        let now = Instant::now();
                        self.incrementer_done = true;
                        self.incrementer_elapsed = now - self.started.unwrap_or(now);
                        self.detach(INCREMENTER, now);
                    }
                }
                Some(LOAD) => {
                    if self.drop_request {
                        self.answer_drop_request(LOAD, now);
                        continue;
                    }
                    if !self.running.load(Relaxed) {
                        if let Some(l) = &mut self.load {
                            l.done = true;
                        }
                        self.detach(LOAD, now);
                        continue;
                    }
                    self.announce();
                    self.load_op(now);
                }
                Some(_) => match self.ctl {
                    Ctl::Waiting => {
                        // Back with the lock: only now can the flag be cleared (the late stop).
                        self.running.store(false, Relaxed);
                        self.stop_lag = now - self.woke.unwrap_or(now);
                        self.ctl = Ctl::Joining;
                        // The join runs without the lock.
                        self.release(CONTROLLER, now);
                        if !self.local_incrementer {
                            return Step::StopIsolated;
                        }
                    }
                    Ctl::Finishing => {
                        if !self.local_incrementer && self.isolated.is_none() {
                            return Step::WaitIsolated;
                        }
                        self.detach(CONTROLLER, now);
                        self.ctl = Ctl::Done;
                        return Step::Done;
                    }
                    // The controller holds the lock only in the states above once started.
                    _ => return Step::Done,
                },
                None => match self.ctl {
                    Ctl::Sleeping(t) => return Step::Idle(t.saturating_duration_since(now)),
                    Ctl::Done => return Step::Done,
                    // Joining with threads still to end always has a holder or a waiter.
                    _ => return Step::Again,
                },
            }
            if Instant::now() >= end {
                return Step::Again;
            }
        }
    }

    /// No lock (free-threaded): the load runs; the controller clears the flag when it wakes.
    fn step_free(&mut self, end: Instant) -> Step {
        loop {
            let now = Instant::now();
            if let Ctl::Sleeping(t) = self.ctl {
                if now >= t {
                    self.running.store(false, Relaxed);
                    self.woke = Some(t);
                    self.ctl = Ctl::Joining;
                }
            }
            let load_running = self.load.as_ref().is_some_and(|l| !l.done);
            if load_running {
                if self.running.load(Relaxed) {
                    self.load_op(now);
                    if Instant::now() >= end {
                        return Step::Again;
                    }
                    continue;
                }
                if let Some(l) = &mut self.load {
                    l.done = true;
                }
            }
            match self.ctl {
                Ctl::Sleeping(t) => return Step::Idle(t.saturating_duration_since(now)),
                _ if self.isolated.is_none() => return Step::WaitIsolated,
                _ => {
                    self.ctl = Ctl::Done;
                    return Step::Done;
                }
            }
        }
    }

    /// What the run measured; complete once [`Step::Done`] was returned.
    pub fn result(&self) -> RunResult {
        let scenario = self.cfg.scenario;
        let lock = |id: WorkerId| self.shared.then(|| self.stats[id as usize].clone());
        let incrementer = if self.local_incrementer {
            IncrementerOutcome {
                count: self.count(),
                elapsed: self.incrementer_elapsed,
                lock: lock(INCREMENTER),
            }
        } else {
            self.isolated.clone().unwrap_or_default()
        };
        let elapsed_s = incrementer.elapsed.as_secs_f64();
        let mut workers = vec![
            WorkerReport {
                worker: CONTROLLER,
                role: Role::Controller,
                isolated: false,
                lock: lock(CONTROLLER),
            },
            WorkerReport {
                worker: INCREMENTER,
                role: Role::Incrementer,
                isolated: scenario.isolated(),
                lock: incrementer.lock,
            },
        ];
        if self.load.is_some() {
            workers.push(WorkerReport {
                worker: LOAD,
                role: Role::Load,
                isolated: false,
                lock: lock(LOAD),
            });
        }
        RunResult {
            scenario,
            delay_s: self.cfg.delay.as_secs_f64(),
            count: incrementer.count,
            elapsed_s,
            stop_lag_s: self.stop_lag.as_secs_f64(),
            rate_per_s: if elapsed_s > 0.0 {
                incrementer.count as f64 / elapsed_s
            } else {
                0.0
            },
            switches: if self.shared { self.switch_number } else { 0 },
            workers,
            load: self.load.as_ref().map(|l| l.report.clone()),
        }
    }

    // ---- The threads ---------------------------------------------------------------------------

    fn threads_done(&self) -> bool {
        (!self.local_incrementer || self.incrementer_done)
            && self.load.as_ref().is_none_or(|l| l.done)
    }

    /// The controller's sleep ends at `t`: it asks for the lock from then on.
    fn wake_controller(&mut self, now: Instant) {
        if let Ctl::Sleeping(t) = self.ctl {
            if now >= t {
                self.woke = Some(t);
                self.ctl = Ctl::Waiting;
                self.take(CONTROLLER, t);
            }
        }
    }

    /// The incrementer counts, as the seed's loop does, until the flag is cleared (returns false)
    /// or the clock reaches `until` (returns true).
    fn count_until(&mut self, until: Instant) -> bool {
        let (x, alive) = count_until(&self.running, &self.counter, self.x, until);
        self.x = x;
        alive
    }

    /// One uninterruptible operation of the load.
    fn load_op(&mut self, now: Instant) {
        let Some(l) = &mut self.load else { return };
        self.events.push(Event {
            t_us: (now - self.epoch).as_micros() as u64,
            kind: EventKind::OpStart,
            worker: LOAD,
            by: LOAD,
        });
        let started = Instant::now();
        match self.cfg.load {
            Load::Bignum { cap_bits } => {
                l.z = square(&l.z);
                if l.z.bits() > cap_bits {
                    l.z = BigUint::from(10u32);
                    l.report.restarts += 1;
                }
            }
            Load::Short { op } => {
                let mut spins: u64 = 0;
                while started.elapsed() < op {
                    spins = core::hint::black_box(spins.wrapping_add(1));
                }
            }
        }
        l.report.ops += 1;
        if l.report.op_s.len() < LoadReport::MAX_TIMED_OPS {
            l.report.op_s.push(started.elapsed().as_secs_f64());
        }
    }

    /// Before an operation of the load, which blocks this thread until it ends: logs, ahead of
    /// time, what will certainly happen meanwhile, so that whoever draws the timeline shows it
    /// while it happens, as it would from threads that really wait.
    ///
    /// While the load holds the lock nobody can take it, and the load lets go only when asked or
    /// once the flag is cleared, which needs the lock. So the earliest drop request a waiter (or
    /// the controller, once awake) will raise is certain, at its date; and so is the controller
    /// waiting for the lock from its wake-up on. Only the log is written ahead: the lock's state
    /// changes when the clock gets there, in `raise_requests`. A copy of an event, logged again
    /// when it happens, changes nothing on a timeline.
    fn announce(&mut self) {
        let interval = self.cfg.interval;
        let wake = match self.ctl {
            Ctl::Sleeping(t) => Some(t),
            _ => None,
        };
        if let (Some(t), false) = (wake, self.announced_wake) {
            self.announced_wake = true;
            self.log(t, EventKind::Wait, CONTROLLER, CONTROLLER);
        }
        if self.drop_request {
            return;
        }
        let mut next: Option<(Instant, WorkerId)> = None;
        let candidates = self
            .waiters
            .iter()
            .map(|w| {
                let mut t = w.round_start + interval;
                if w.saved_switch_number != self.switch_number {
                    t += interval;
                }
                (t, w.id)
            })
            .chain(wake.map(|t| (t + interval, CONTROLLER)));
        for (t, by) in candidates {
            if next.is_none_or(|(n, _)| t < n) {
                next = Some((t, by));
            }
        }
        if let Some((t, by)) = next {
            if self.announced_request != Some(t) {
                self.announced_request = Some(t);
                self.log(t, EventKind::Request, LOAD, by);
            }
        }
    }

    /// When the holder must next look at the clock: a waiter's interval ends, the controller
    /// wakes, or `end`.
    fn next_deadline(&self, end: Instant) -> Instant {
        let mut next = end;
        for w in &self.waiters {
            let mut t = w.round_start + self.cfg.interval;
            if w.saved_switch_number != self.switch_number {
                t += self.cfg.interval;
            }
            next = next.min(t);
        }
        if let Ctl::Sleeping(t) = self.ctl {
            next = next.min(t);
        }
        next
    }

    // ---- The lock (src/gil's protocol, one thread running at a time) ----------------------------

    fn log(&mut self, t: Instant, kind: EventKind, worker: WorkerId, by: WorkerId) {
        self.events.push(Event {
            t_us: t.saturating_duration_since(self.epoch).as_micros() as u64,
            kind,
            worker,
            by,
        });
    }

    /// `take`: the lock if it is free, else a place among the waiters from `t`.
    fn take(&mut self, id: WorkerId, t: Instant) {
        if self.holder.is_none() && self.waiters.is_empty() {
            self.acquire(id, t, None);
        } else {
            self.log(t, EventKind::Wait, id, id);
            self.waiters.push_back(Waiter {
                id,
                since: t,
                round_start: t,
                saved_switch_number: self.switch_number,
            });
        }
    }

    fn acquire(&mut self, id: WorkerId, now: Instant, waited_since: Option<Instant>) {
        self.holder = Some(id);
        let stats = &mut self.stats[id as usize];
        if self.last_holder != id {
            self.last_holder = id;
            self.switch_number += 1;
            stats.switches += 1;
        }
        // Any pending request was aimed at the previous holder.
        self.drop_request = false;
        stats.takes += 1;
        if let Some(since) = waited_since {
            stats.waited_s += now.saturating_duration_since(since).as_secs_f64();
        }
        self.held_since[id as usize] = Some(now);
        self.log(now, EventKind::Take, id, id);
    }

    /// `drop`: frees the lock and wakes one waiter, which takes it (the longest waiting: the
    /// condition variable wakes waiters in order).
    fn release(&mut self, id: WorkerId, now: Instant) {
        if self.holder != Some(id) {
            return;
        }
        if let Some(since) = self.held_since[id as usize].take() {
            let held = now.saturating_duration_since(since).as_secs_f64();
            let stats = &mut self.stats[id as usize];
            stats.held_s += held;
            stats.longest_hold_s = stats.longest_hold_s.max(held);
        }
        self.holder = None;
        self.last_holder = id;
        self.log(now, EventKind::Drop, id, id);
        if let Some(w) = self.waiters.pop_front() {
            self.acquire(w.id, now, Some(w.since));
        }
    }

    /// At a checkpoint with `drop_request` set: drop, let the waiter take the lock (forced
    /// switching), and queue for it again.
    fn answer_drop_request(&mut self, id: WorkerId, now: Instant) {
        self.stats[id as usize].requests_received += 1;
        self.release(id, now);
        self.take(id, now);
    }

    fn detach(&mut self, id: WorkerId, now: Instant) {
        self.release(id, now);
        self.log(now, EventKind::Exit, id, id);
    }

    /// Every waiter whose interval ended by `now` with the lock still held and no switch in
    /// between raises `drop_request` (once), dated when its interval ended.
    fn raise_requests(&mut self, now: Instant) {
        let interval = self.cfg.interval;
        let mut waiters = std::mem::take(&mut self.waiters);
        for w in &mut waiters {
            loop {
                let round_end = w.round_start + interval;
                if round_end > now {
                    break;
                }
                if let Some(holder) = self.holder {
                    if self.switch_number == w.saved_switch_number && !self.drop_request {
                        self.drop_request = true;
                        self.stats[w.id as usize].requests_raised += 1;
                        self.log(round_end, EventKind::Request, holder, w.id);
                    }
                }
                w.saved_switch_number = self.switch_number;
                w.round_start = round_end;
                if self.drop_request {
                    // Later rounds can only find the request already raised: skip them.
                    let rounds = (now - w.round_start).as_nanos() / interval.as_nanos().max(1);
                    w.round_start += interval * rounds.min(u128::from(u32::MAX)) as u32;
                }
            }
        }
        self.waiters = waiters;
    }
}

/// Whether a run of `scenario` needs its incrementer on a thread of its own: in an interpreter of
/// its own (a process), or lock-free beside the load (free threading runs threads in parallel).
pub fn needs_isolated_worker(scenario: Scenario) -> bool {
    scenario.isolated() || scenario.lock_mode() == LockMode::Free
}

/// The incrementer of an interpreter of its own (a process: a lock nobody else takes) or of a
/// free-threaded interpreter (no lock), counting on its own thread.
///
/// A process is stopped from outside ([`IsolatedIncrementer::stop`]) when its parent's controller
/// clears the flag. A free thread stops itself after `delay`: its controller needs no lock, so it
/// is never late, and it cannot be told in time from a thread that is inside a `z * z`.
pub struct IsolatedIncrementer {
    own_lock: bool,
    stop_after: Option<Duration>,
    epoch: Instant,
    running: AtomicBool,
    counter: AtomicU64,
    x: u64,
    started: Option<Instant>,
    elapsed: Option<Duration>,
    stats: LockStats,
    events: Vec<Event>,
}

impl IsolatedIncrementer {
    /// The incrementer of a run of `cfg`, at its start barrier.
    pub fn new(cfg: RunConfig) -> Self {
        let free = cfg.scenario.lock_mode() == LockMode::Free;
        Self {
            own_lock: !free,
            stop_after: free.then_some(cfg.delay),
            epoch: Instant::now(),
            running: AtomicBool::new(true),
            counter: AtomicU64::new(0),
            x: 0,
            started: None,
            elapsed: None,
            stats: LockStats::default(),
            events: Vec::new(),
        }
    }

    /// Microseconds since this incrementer was created: the time of its events.
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    fn log(&mut self, t: Instant, kind: EventKind) {
        self.events.push(Event {
            t_us: t.saturating_duration_since(self.epoch).as_micros() as u64,
            kind,
            worker: INCREMENTER,
            by: INCREMENTER,
        });
    }

    /// The start signal: takes its own lock (nobody else ever asks for it) and starts counting.
    pub fn go(&mut self) {
        if self.started.is_some() {
            return;
        }
        let now = Instant::now();
        self.started = Some(now);
        if self.own_lock {
            self.stats.takes = 1;
            self.stats.switches = 1;
            self.log(now, EventKind::Take);
        }
    }

    /// Clears its running flag: it stops at its next iteration.
    pub fn stop(&self) {
        self.running.store(false, Relaxed);
    }

    /// Counts for about `budget`; true once it has stopped.
    pub fn step(&mut self, budget: Duration) -> bool {
        let Some(started) = self.started else {
            return false;
        };
        if self.elapsed.is_some() {
            return true;
        }
        let mut until = Instant::now() + budget;
        if let Some(after) = self.stop_after {
            until = until.min(started + after);
        }
        let (x, mut alive) = count_until(&self.running, &self.counter, self.x, until);
        self.x = x;
        let now = Instant::now();
        if self.stop_after.is_some_and(|after| now >= started + after) {
            alive = false;
        }
        if alive {
            return false;
        }
        let elapsed = now - started;
        self.elapsed = Some(elapsed);
        if self.own_lock {
            self.stats.held_s = elapsed.as_secs_f64();
            self.stats.longest_hold_s = self.stats.held_s;
            self.log(now, EventKind::Drop);
            self.log(now, EventKind::Exit);
        }
        true
    }

    /// The count so far.
    pub fn count(&self) -> u64 {
        self.counter.load(Relaxed)
    }

    /// Seconds since the start signal (until it stopped).
    pub fn elapsed_s(&self) -> f64 {
        match (self.elapsed, self.started) {
            (Some(e), _) => e.as_secs_f64(),
            (None, Some(s)) => s.elapsed().as_secs_f64(),
            (None, None) => 0.0,
        }
    }

    /// Events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// What it reports when it has stopped.
    pub fn outcome(&self) -> IncrementerOutcome {
        IncrementerOutcome {
            count: self.count(),
            elapsed: self.elapsed.unwrap_or_default(),
            lock: self.own_lock.then(|| self.stats.clone()),
        }
    }
}

// ---- Plain numbers between threads that share no memory ----------------------------------------

/// Events as numbers: `t_us, kind, worker, by` for each.
pub fn encode_events(events: &[Event]) -> Vec<f64> {
    events
        .iter()
        .flat_map(|e| {
            [
                e.t_us as f64,
                f64::from(e.kind as u8),
                f64::from(e.worker),
                f64::from(e.by),
            ]
        })
        .collect()
}

/// The events of [`encode_events`], each moved by `offset_us` (never before 0).
pub fn decode_events(v: &[f64], offset_us: f64) -> Vec<Event> {
    v.chunks_exact(4)
        .filter_map(|c| {
            let kind = match c[1] as u8 {
                1 => EventKind::Wait,
                2 => EventKind::Take,
                3 => EventKind::Drop,
                4 => EventKind::Request,
                5 => EventKind::OpStart,
                6 => EventKind::Exit,
                _ => return None,
            };
            Some(Event {
                t_us: (c[0] + offset_us).max(0.0) as u64,
                kind,
                worker: c[2] as u8,
                by: c[3] as u8,
            })
        })
        .collect()
}

fn push_stats(out: &mut Vec<f64>, lock: Option<&LockStats>) {
    match lock {
        Some(s) => out.extend([
            1.0,
            s.takes as f64,
            s.switches as f64,
            s.requests_raised as f64,
            s.requests_received as f64,
            s.held_s,
            s.waited_s,
            s.longest_hold_s,
        ]),
        None => out.extend([0.0; 8]),
    }
}

/// Reads numbers in order.
struct Reader<'a>(std::slice::Iter<'a, f64>);

impl Reader<'_> {
    fn f(&mut self) -> Option<f64> {
        self.0.next().copied()
    }

    fn u(&mut self) -> Option<u64> {
        self.f().filter(|v| *v >= 0.0).map(|v| v as u64)
    }

    fn stats(&mut self) -> Option<Option<LockStats>> {
        let has = self.f()? != 0.0;
        let s = LockStats {
            takes: self.u()?,
            switches: self.u()?,
            requests_raised: self.u()?,
            requests_received: self.u()?,
            held_s: self.f()?,
            waited_s: self.f()?,
            longest_hold_s: self.f()?,
        };
        Some(has.then_some(s))
    }
}

/// An isolated incrementer's outcome as numbers.
pub fn encode_outcome(o: &IncrementerOutcome) -> Vec<f64> {
    let mut out = vec![o.count as f64, o.elapsed.as_secs_f64()];
    push_stats(&mut out, o.lock.as_ref());
    out
}

/// The outcome of [`encode_outcome`]; `None` if the numbers do not make one.
pub fn decode_outcome(v: &[f64]) -> Option<IncrementerOutcome> {
    let mut r = Reader(v.iter());
    Some(IncrementerOutcome {
        count: r.u()?,
        elapsed: Duration::try_from_secs_f64(r.f()?).ok()?,
        lock: r.stats()?,
    })
}

/// A run's result as numbers.
pub fn encode_result(res: &RunResult) -> Vec<f64> {
    let scenario = Scenario::ALL.iter().position(|s| *s == res.scenario);
    let mut out = vec![
        scenario.map_or(-1.0, |i| i as f64),
        res.delay_s,
        res.count as f64,
        res.elapsed_s,
        res.stop_lag_s,
        res.rate_per_s,
        res.switches as f64,
        res.workers.len() as f64,
    ];
    for w in &res.workers {
        out.extend([
            f64::from(w.worker),
            match w.role {
                Role::Controller => 0.0,
                Role::Incrementer => 1.0,
                Role::Load => 2.0,
            },
            if w.isolated { 1.0 } else { 0.0 },
        ]);
        push_stats(&mut out, w.lock.as_ref());
    }
    match &res.load {
        Some(l) => {
            out.extend([1.0, l.ops as f64, l.restarts as f64, l.op_s.len() as f64]);
            out.extend(&l.op_s);
        }
        None => out.push(0.0),
    }
    out
}

/// The result of [`encode_result`]; `None` if the numbers do not make one.
pub fn decode_result(v: &[f64]) -> Option<RunResult> {
    let mut r = Reader(v.iter());
    let scenario = *Scenario::ALL.get(r.u()? as usize)?;
    let delay_s = r.f()?;
    let count = r.u()?;
    let elapsed_s = r.f()?;
    let stop_lag_s = r.f()?;
    let rate_per_s = r.f()?;
    let switches = r.u()?;
    let n = r.u()?.min(8);
    let mut workers = Vec::new();
    for _ in 0..n {
        let worker = r.u()? as u8;
        let role = match r.u()? {
            0 => Role::Controller,
            1 => Role::Incrementer,
            _ => Role::Load,
        };
        let isolated = r.f()? != 0.0;
        workers.push(WorkerReport {
            worker,
            role,
            isolated,
            lock: r.stats()?,
        });
    }
    let load = if r.f()? != 0.0 {
        let ops = r.u()?;
        let restarts = r.u()?;
        let len = r.u()?.min(LoadReport::MAX_TIMED_OPS as u64);
        let op_s = (0..len).map(|_| r.f()).collect::<Option<Vec<_>>>()?;
        Some(LoadReport {
            ops,
            restarts,
            op_s,
        })
    } else {
        None
    };
    Some(RunResult {
        scenario,
        delay_s,
        count,
        elapsed_s,
        stop_lag_s,
        rate_per_s,
        switches,
        workers,
        load,
    })
}

/// The incrementer's loop ([`crate::workload::incrementer`]) in a slice of time: counts on from
/// `x` until `running` is cleared (`false`) or the clock passes `until` (`true`), looking at the
/// clock every [`CLOCK_EVERY`] iterations. Returns the next count and whether to go on.
fn count_until(
    running: &AtomicBool,
    counter: &AtomicU64,
    mut x: u64,
    until: Instant,
) -> (u64, bool) {
    let mut n: u32 = 0;
    loop {
        if !running.load(Relaxed) {
            return (x, false);
        }
        counter.store(x, Relaxed);
        x += 1;
        n = n.wrapping_add(1);
        if n & (CLOCK_EVERY - 1) == 0 && Instant::now() >= until {
            return (x, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(scenario: Scenario, delay_ms: u64, load: Load) -> RunConfig {
        RunConfig {
            scenario,
            delay: Duration::from_millis(delay_ms),
            load,
            interval: Duration::from_millis(5),
        }
    }

    /// Drives an interpreter (and its isolated incrementer, if any) to the end on this thread,
    /// the isolated one on a thread of its own as a worker would.
    fn drive(c: RunConfig) -> RunResult {
        let mut it = Interpreter::new(c);
        let iso = needs_isolated_worker(c.scenario).then(|| {
            let stop = std::sync::Arc::new(AtomicBool::new(false));
            let s = stop.clone();
            let handle = std::thread::spawn(move || {
                let mut inc = IsolatedIncrementer::new(c);
                inc.go();
                loop {
                    if s.load(Relaxed) {
                        inc.stop();
                    }
                    if inc.step(Duration::from_millis(2)) {
                        return inc.outcome();
                    }
                }
            });
            (stop, handle)
        });
        it.go();
        let mut iso = iso;
        loop {
            match it.step(Duration::from_millis(10)) {
                Step::Again => {}
                Step::Idle(d) => std::thread::sleep(d),
                Step::StopIsolated => {
                    if let Some((stop, _)) = &iso {
                        stop.store(true, Relaxed);
                    }
                }
                Step::WaitIsolated => {
                    let (_, handle) = iso.take().expect("an isolated incrementer");
                    it.isolated_finished(handle.join().unwrap());
                }
                Step::Done => return it.result(),
            }
        }
    }

    #[test]
    fn a_thread_alone_counts_and_stops_about_on_time() {
        let r = drive(cfg(Scenario::Thread, 100, Load::BIGNUM));
        assert!(r.count > 1000, "{r:?}");
        assert!(r.elapsed_s >= 0.1 && r.elapsed_s < 0.5, "{r:?}");
        // The controller waits one interval for the busy incrementer, then asks it to drop.
        assert!(r.stop_lag_s >= 0.004 && r.stop_lag_s < 0.1, "{r:?}");
        let ctl = r.workers[0].lock.as_ref().unwrap();
        assert_eq!(ctl.requests_raised, 1);
    }

    #[test]
    fn a_short_load_shares_the_lock_by_intervals() {
        let r = drive(cfg(Scenario::ThreadLoad, 200, Load::SHORT));
        let inc = r.workers[1].lock.as_ref().unwrap();
        let load = r.workers[2].lock.as_ref().unwrap();
        // About 40 hand-offs each way in 200 ms of 5 ms turns.
        assert!(r.switches > 20, "{r:?}");
        assert!(
            inc.requests_received > 5 && load.requests_received > 5,
            "{r:?}"
        );
        assert!(inc.held_s > 0.05 && load.held_s > 0.05, "{r:?}");
    }

    #[test]
    fn the_bignum_load_starves_the_thread_but_not_the_process() {
        let alone = drive(cfg(Scenario::Thread, 300, Load::BIGNUM));
        let loaded = drive(cfg(Scenario::ThreadLoad, 300, Load::BIGNUM));
        assert!(
            (loaded.count as f64) < alone.count as f64 * 0.5,
            "{} against {}",
            loaded.count,
            alone.count
        );
        let process = drive(cfg(Scenario::ProcessLoad, 300, Load::BIGNUM));
        assert!(process.count > loaded.count * 2, "{process:?}");
        assert!(process.workers[1].isolated);
        let free = drive(cfg(Scenario::FreeThreadLoad, 100, Load::BIGNUM));
        assert!(free.count > 1000 && free.stop_lag_s == 0.0, "{free:?}");
        assert!(free.workers.iter().all(|w| w.lock.is_none()));
    }

    #[test]
    fn results_outcomes_and_events_survive_the_numbers() {
        let r = drive(cfg(Scenario::ProcessLoad, 50, Load::BIGNUM));
        assert_eq!(decode_result(&encode_result(&r)), Some(r));
        let o = IncrementerOutcome {
            count: 12345,
            elapsed: Duration::from_millis(1500),
            lock: Some(LockStats {
                takes: 1,
                held_s: 1.5,
                ..LockStats::default()
            }),
        };
        assert_eq!(decode_outcome(&encode_outcome(&o)), Some(o));
        assert_eq!(decode_outcome(&[1.0]), None);
        let e = Event {
            t_us: 1_000,
            kind: EventKind::Request,
            worker: LOAD,
            by: INCREMENTER,
        };
        let back = decode_events(&encode_events(&[e]), 500.0);
        assert_eq!(back, [Event { t_us: 1_500, ..e }]);
    }
}
