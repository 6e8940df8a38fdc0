//! The cooperative executor: the threads of one interpreter taking turns on one thread, under the
//! lock's rules ([`crate::gil::Protocol`]), where Web Workers cannot share memory.
//!
//! In an iframe of a page that is not cross-origin isolated there is no shared memory, so the
//! threads of [`crate::gil::Gil`] cannot run side by side in a pool of workers. Under the GIL they
//! do not run side by side anyway: only the holder runs. [`Scheduler`] runs the threads of one
//! interpreter on the calling thread and switches between them exactly where the lock hands over.
//! It adds no rule of its own to the [`Protocol`]; it only plays the parts that real threads and
//! the OS play for the threaded executor:
//!
//! - time: a waiter's round of `interval` ends when the scheduler's clock passes it
//!   ([`Protocol::next_round_end`]), and the scheduler then calls [`Protocol::retry`] for it, dated
//!   when the round ended;
//! - the condition variable: a drop wakes the longest waiter ([`Protocol::oldest_waiter`]), which
//!   takes the lock at once (the OS's usual choice, made deterministic);
//! - the holder runs until its next checkpoint; one operation (one `z * z`) is never cut.
//!
//! A thread is a [`CoopThread`]: it runs one turn at a time and says what it does next
//! ([`Next`]). [`Interpreter`] is the experiment's interpreter on this scheduler (controller,
//! incrementer, load), built from the same workloads as the threaded runner
//! ([`crate::workload::Counting`], [`crate::workload::LoadThread`]) and assembling its result the
//! same way ([`crate::runner::assemble`]). [`IsolatedIncrementer`] is the incrementer of an
//! interpreter of its own (a process) or of a free-threaded one, run on another worker.

use crate::gil::{
    DropReason, Dropped, Event, EventKind, EventLog, LockStats, Protocol, Taken, WorkerId,
};
use crate::padded::CachePadded;
use crate::runner::{
    assemble, IncrementerOutcome, RunParts, RunShared, CONTROLLER, INCREMENTER, LOAD,
};
use crate::scenario::{LockMode, Role, RunConfig, RunResult, Scenario, WorkerReport};
use crate::workload::{Counting, IoLoop, LoadReport, LoadThread, Victim};
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use web_time::Instant;

/// Events an interpreter keeps between two reads of [`Interpreter::take_events`].
const LOG_CAPACITY: usize = 1 << 14;

/// What a thread does after a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// It reached a checkpoint and wants to go on.
    Checkpoint,
    /// It drops the lock around a blocking call (`time.sleep`, I/O) that ends at this time, then
    /// takes it back.
    BlockUntil(Instant),
    /// It drops the lock and waits until every other thread of the interpreter has left (a
    /// `join`), then takes it back.
    Join,
    /// It drops the lock and leaves.
    Exit,
}

/// One thread of a cooperatively run interpreter.
pub trait CoopThread {
    /// Runs one turn: the thread holds the lock (or the interpreter has none). `at` is when the
    /// turn starts: now, or, for a free thread back from blocking, when its block ended (free
    /// threads would have run in parallel). A thread that can stop at any checkpoint should stop by
    /// `until`; one operation may run past it.
    fn run(&mut self, at: Instant, until: Instant) -> Next;

    /// Whether the next turn is one operation that may last long (one `z * z`): the scheduler then
    /// logs ahead of time what will surely happen meanwhile, so that a timeline drawn while the
    /// turn runs shows it.
    fn long_turn(&self) -> bool {
        false
    }
}

/// Where a thread is, seen from the scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Holding the lock, or ready to run (free-threaded).
    Running,
    /// In `take`, waiting for the lock (only with a lock).
    Waiting,
    /// Without the lock until then.
    Blocked(Instant),
    /// Without the lock until the other threads have left.
    Joining,
    /// Left.
    Gone,
}

struct Entry<T> {
    id: WorkerId,
    thread: T,
    place: Place,
    /// When a free thread's block ended (its next turn's `at`: free threads run in parallel, so
    /// it would have run then). A thread under the lock runs when it gets the lock.
    resumed: Option<Instant>,
}

/// What [`Scheduler::run_for`] tells its driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Turn {
    /// More to do: call again (after yielding to the event loop, if there is one).
    Again,
    /// Every thread is blocked: call again after this long.
    Idle(Duration),
    /// Every thread has left.
    Done,
}

/// The threads of one interpreter, taking turns under its lock (or with none: free-threaded).
pub struct Scheduler<T> {
    lock: Option<Protocol>,
    log: Arc<EventLog>,
    threads: Vec<Entry<T>>,
    /// Round robin among free threads.
    next_free: usize,
    /// The last drop request and block ends logged ahead of time.
    announced: Vec<(Instant, EventKind, WorkerId)>,
}

impl<T: CoopThread> Scheduler<T> {
    /// A scheduler for threads under a lock with `interval` (`None`: free-threaded), logging into
    /// `log`.
    pub fn new(interval: Option<Duration>, log: Arc<EventLog>) -> Self {
        Self {
            lock: interval.map(|i| Protocol::new(i, Some(log.clone()))),
            log,
            threads: Vec::new(),
            next_free: 0,
            announced: Vec::new(),
        }
    }

    /// Starts `thread` as `id` at `at`: it takes the lock (or waits for it).
    pub fn spawn(&mut self, id: WorkerId, thread: T, at: Instant) {
        self.threads.push(Entry {
            id,
            thread,
            place: Place::Running,
            resumed: None,
        });
        self.take(id, at);
    }

    /// The lock's state, if the interpreter has one.
    pub fn protocol(&self) -> Option<&Protocol> {
        self.lock.as_ref()
    }

    /// Thread `id`.
    pub fn thread(&self, id: WorkerId) -> Option<&T> {
        self.entry(id).map(|e| &e.thread)
    }

    /// Whether every thread other than `id` has left.
    pub fn others_gone(&self, id: WorkerId) -> bool {
        self.threads
            .iter()
            .all(|e| e.id == id || e.place == Place::Gone)
    }

    /// Whether thread `id` has left (or never was).
    pub fn is_gone(&self, id: WorkerId) -> bool {
        self.entry(id).is_none_or(|e| e.place == Place::Gone)
    }

    /// What thread `id` did with the lock, up to `now` (none without a lock).
    pub fn stats(&self, id: WorkerId, now: Instant) -> Option<LockStats> {
        self.lock.as_ref().map(|p| p.stats(id, now))
    }

    fn entry(&self, id: WorkerId) -> Option<&Entry<T>> {
        self.threads.iter().find(|e| e.id == id)
    }

    fn place_mut(&mut self, id: WorkerId) -> &mut Place {
        let e = self.threads.iter_mut().find(|e| e.id == id);
        &mut e.expect("a spawned thread").place
    }

    /// `take`: the lock if free, else a place among the waiters.
    fn take(&mut self, id: WorkerId, at: Instant) {
        let taken = self.lock.as_mut().map(|p| p.take(id, at));
        let place = match taken {
            Some(Taken::MustWait) => Place::Waiting,
            _ => Place::Running,
        };
        *self.place_mut(id) = place;
    }

    /// `drop`: the holder lets go; the longest waiter wakes and takes the lock. A drop that
    /// answered a request is a forced switch: the waiter has taken the lock before the dropper can
    /// ask again, which here is at once.
    fn release(&mut self, id: WorkerId, at: Instant, reason: DropReason) {
        let Some(p) = &mut self.lock else { return };
        if p.drop_gil(id, at, reason) == Dropped::ForcedSwitch {
            p.begin_forced_switch(id);
        }
        if let Some(w) = p.oldest_waiter() {
            p.retry(w, at, false);
            *self.place_mut(w) = Place::Running;
        }
    }

    /// Every waiter's round that ended by `now` ends, in time order, dated when it ended.
    fn end_rounds(&mut self, now: Instant) {
        let Some(p) = &mut self.lock else { return };
        while let Some((t, id)) = p.next_round_end().filter(|(t, _)| *t <= now) {
            p.retry(id, t, true);
        }
    }

    /// Blocked threads whose time has come, and joiners whose threads have all left, take the
    /// lock back (or, free-threaded, run again).
    fn wake(&mut self, now: Instant) {
        for i in 0..self.threads.len() {
            let e = &self.threads[i];
            let at = match e.place {
                Place::Blocked(t) if t <= now => t,
                Place::Joining if self.others_gone(e.id) => now,
                _ => continue,
            };
            let id = e.id;
            if self.lock.is_none() {
                self.threads[i].resumed = Some(at);
            }
            self.take(id, at);
        }
    }

    /// When the running thread must stop at a checkpoint to let the scheduler look: a round ends
    /// or a blocked thread wakes, or `end`.
    fn next_deadline(&self, end: Instant) -> Instant {
        let rounds = self.lock.as_ref().and_then(|p| p.next_round_end());
        let blocks = self.threads.iter().filter_map(|e| match e.place {
            Place::Blocked(t) => Some(t),
            _ => None,
        });
        blocks.chain(rounds.map(|(t, _)| t)).fold(end, Instant::min)
    }

    /// Before a long turn of `holder`: logs what will surely happen while it runs. Blocked
    /// threads wake and wait for the lock, and the first of the waiters whose round sees no switch
    /// asks for a drop. The lock's state changes only when the clock gets there; a copy of an
    /// event, logged again when it happens, changes nothing on a timeline.
    fn announce(&mut self, holder: WorkerId) {
        let Some(p) = &self.lock else { return };
        let interval = p.interval();
        let mut ahead = Vec::new();
        let mut first_request = p.next_request();
        for e in &self.threads {
            if let Place::Blocked(t) = e.place {
                ahead.push((t, EventKind::Wait, e.id));
                if !p.drop_request() && first_request.is_none_or(|(r, _)| t + interval < r) {
                    first_request = Some((t + interval, e.id));
                }
            }
        }
        for (t, kind, id) in ahead {
            if !self.announced.contains(&(t, kind, id)) {
                self.log.push_at(t, kind, id, id);
                self.announced.push((t, kind, id));
            }
        }
        if let Some((t, by)) = first_request {
            if !self.announced.contains(&(t, EventKind::Request, by)) {
                self.log.push_at(t, EventKind::Request, holder, by);
                self.announced.push((t, EventKind::Request, by));
            }
        }
        self.announced.retain(|(t, _, _)| *t >= Instant::now());
    }

    /// Runs the threads for about `budget` (one operation may take longer).
    pub fn run_for(&mut self, budget: Duration) -> Turn {
        let end = Instant::now() + budget;
        loop {
            let now = Instant::now();
            // Wake first: a thread that woke before a round ended must see that round end.
            self.wake(now);
            self.end_rounds(now);
            let Some(i) = self.pick() else {
                if self.threads.iter().all(|e| e.place == Place::Gone) {
                    return Turn::Done;
                }
                let wake = self.next_deadline(now + Duration::from_millis(10));
                return Turn::Idle(wake.saturating_duration_since(now));
            };
            let id = self.threads[i].id;
            if self.lock.as_ref().is_some_and(Protocol::drop_request) {
                // The checkpoint's slow path: drop, let the waiter take the lock, queue again.
                self.release(id, now, DropReason::Request);
                self.take(id, now);
                continue;
            }
            if self.threads[i].thread.long_turn() {
                self.announce(id);
            }
            let at = self.threads[i].resumed.take().unwrap_or(now);
            let until = self.next_deadline(end);
            let next = self.threads[i].thread.run(at, until);
            let after = Instant::now();
            match next {
                Next::Checkpoint => {}
                Next::BlockUntil(t) => {
                    self.release(id, after, DropReason::AllowThreads);
                    *self.place_mut(id) = Place::Blocked(t);
                }
                Next::Join => {
                    self.release(id, after, DropReason::AllowThreads);
                    *self.place_mut(id) = Place::Joining;
                    // The driver may have something to do now (stop a process).
                    return Turn::Again;
                }
                Next::Exit => {
                    self.release(id, after, DropReason::Exit);
                    if let Some(p) = &mut self.lock {
                        p.exit(id, after);
                    }
                    *self.place_mut(id) = Place::Gone;
                }
            }
            if after >= end {
                return Turn::Again;
            }
        }
    }

    /// The thread to run: the holder, or (free-threaded) the next running thread in turn.
    fn pick(&mut self) -> Option<usize> {
        if let Some(p) = &self.lock {
            let holder = p.holder()?;
            return self.threads.iter().position(|e| e.id == holder);
        }
        let n = self.threads.len();
        let i = (0..n)
            .map(|k| (self.next_free + k) % n)
            .find(|&i| self.threads[i].place == Place::Running)?;
        self.next_free = (i + 1) % n;
        Some(i)
    }
}

// ---- The experiment's interpreter on the scheduler ----------------------------------------------

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
    /// An I/O call is in progress: count it when the thread runs again.
    in_call: bool,
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
            started,
            stop_at: stop_after.map(|d| started + d),
            elapsed: None,
        }
    }

    fn run(&mut self, at: Instant, until: Instant) -> Next {
        let until = self.stop_at.map_or(until, |s| s.min(until));
        let s = &self.shared;
        let alive = match self.victim {
            Victim::Incrementer => self.counting.count_until(&s.running, &s.counter, until),
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
        };
        let now = Instant::now();
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
        }
    }
}

/// The load thread: one operation per turn.
struct LoadWorker {
    shared: Arc<RunShared>,
    thread: LoadThread,
    log: Arc<EventLog>,
}

/// The threads of the experiment's interpreters.
enum Thread {
    Controller(Controller),
    Incrementer(Incrementer),
    Load(LoadWorker),
}

impl CoopThread for Thread {
    fn run(&mut self, at: Instant, until: Instant) -> Next {
        match self {
            Thread::Controller(c) => c.run(at),
            Thread::Incrementer(i) => i.run(at, until),
            Thread::Load(l) => {
                if !l.shared.running.load(Relaxed) {
                    return Next::Exit;
                }
                l.thread.op(Some(&l.log), LOAD);
                Next::Checkpoint
            }
        }
    }

    fn long_turn(&self) -> bool {
        matches!(self, Thread::Load(_))
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
    /// The run is over: [`Interpreter::result`].
    Done,
}

/// The parent interpreter of one run (controller; incrementer thread unless the scenario puts it
/// in an interpreter of its own; load thread if the scenario has one), run on the calling thread.
pub struct Interpreter {
    cfg: RunConfig,
    log: Arc<EventLog>,
    cursor: u64,
    shared: Arc<RunShared>,
    sched: Scheduler<Thread>,
    local_incrementer: bool,
    started: Option<Instant>,
    isolated: Option<IncrementerOutcome>,
    stop_sent: bool,
}

impl Interpreter {
    /// The interpreter of one run, its controller holding the lock, the workers not started.
    pub fn new(cfg: RunConfig) -> Self {
        let log = Arc::new(EventLog::new(LOG_CAPACITY));
        let shared = Arc::new(RunShared {
            running: CachePadded::new(AtomicBool::new(true)),
            ..RunShared::default()
        });
        let interval = (cfg.scenario.lock_mode() == LockMode::Shared).then_some(cfg.interval);
        let mut sched = Scheduler::new(interval, log.clone());
        let controller = Controller {
            shared: shared.clone(),
            delay: cfg.delay,
            wakes: None,
            stop_lag: Duration::ZERO,
            joined: false,
        };
        sched.spawn(CONTROLLER, Thread::Controller(controller), Instant::now());
        Self {
            cfg,
            log,
            cursor: 0,
            shared,
            sched,
            local_incrementer: !needs_isolated_worker(cfg.scenario),
            started: None,
            isolated: None,
            stop_sent: false,
        }
    }

    /// Microseconds since this interpreter was created: the time of its events.
    pub fn now_us(&self) -> u64 {
        self.log.now_us()
    }

    /// The start signal: the workers start (and wait for the lock); the controller goes to sleep
    /// at its next turn.
    pub fn go(&mut self) {
        if self.started.is_some() {
            return;
        }
        let now = Instant::now();
        self.started = Some(now);
        if self.local_incrementer {
            let inc = Incrementer::new(self.shared.clone(), self.cfg.victim, now, None);
            self.sched.spawn(INCREMENTER, Thread::Incrementer(inc), now);
        }
        if self.cfg.scenario.has_load() {
            let load = LoadWorker {
                shared: self.shared.clone(),
                thread: LoadThread::new(self.cfg.load),
                log: self.log.clone(),
            };
            self.sched.spawn(LOAD, Thread::Load(load), now);
        }
    }

    /// The incrementer's count so far (0 when it runs elsewhere).
    pub fn count(&self) -> u64 {
        self.shared.counter.load(Relaxed)
    }

    /// Seconds since the start signal.
    pub fn elapsed_s(&self) -> f64 {
        self.started.map_or(0.0, |s| s.elapsed().as_secs_f64())
    }

    /// Events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        let out = self.log.read_since(self.cursor);
        self.cursor = out.cursor;
        out.events
    }

    /// The isolated incrementer has ended with `outcome`.
    pub fn isolated_finished(&mut self, outcome: IncrementerOutcome) {
        self.isolated = Some(outcome);
    }

    /// Runs the interpreter's threads for about `budget` (one `z * z` may take longer).
    pub fn step(&mut self, budget: Duration) -> Step {
        if self.started.is_none() {
            return Step::Idle(Duration::from_millis(1));
        }
        let turn = self.sched.run_for(budget);
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
        let now = Instant::now();
        let sched = &self.sched;
        let incrementer = match sched.thread(INCREMENTER) {
            Some(Thread::Incrementer(i)) => i.outcome(sched.stats(INCREMENTER, now)),
            _ => self.isolated.clone().unwrap_or_default(),
        };
        let stop_lag = match sched.thread(CONTROLLER) {
            Some(Thread::Controller(c)) => c.stop_lag,
            _ => Duration::ZERO,
        };
        let load = match sched.thread(LOAD) {
            Some(Thread::Load(l)) => Some((l.thread.report().clone(), sched.stats(LOAD, now))),
            _ => None,
        };
        assemble(
            &self.cfg,
            RunParts {
                incrementer,
                stop_lag,
                controller: sched.stats(CONTROLLER, now),
                load,
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
pub struct IsolatedIncrementer {
    cfg: RunConfig,
    log: Arc<EventLog>,
    cursor: u64,
    shared: Arc<RunShared>,
    sched: Scheduler<Thread>,
    started: Option<Instant>,
    done: bool,
}

impl IsolatedIncrementer {
    /// The incrementer of a run of `cfg`, at its start barrier.
    pub fn new(cfg: RunConfig) -> Self {
        let log = Arc::new(EventLog::new(LOG_CAPACITY));
        let own_lock = cfg.scenario.lock_mode() == LockMode::Shared;
        Self {
            cfg,
            sched: Scheduler::new(own_lock.then_some(cfg.interval), log.clone()),
            log,
            cursor: 0,
            shared: Arc::new(RunShared {
                running: CachePadded::new(AtomicBool::new(true)),
                ..RunShared::default()
            }),
            started: None,
            done: false,
        }
    }

    /// Microseconds since this incrementer was created: the time of its events.
    pub fn now_us(&self) -> u64 {
        self.log.now_us()
    }

    /// The start signal: takes its own lock (nobody else ever asks for it) and starts counting.
    pub fn go(&mut self) {
        if self.started.is_some() {
            return;
        }
        let now = Instant::now();
        self.started = Some(now);
        let free = self.sched.protocol().is_none();
        let stop_after = free.then_some(self.cfg.delay);
        let inc = Incrementer::new(self.shared.clone(), self.cfg.victim, now, stop_after);
        self.sched.spawn(INCREMENTER, Thread::Incrementer(inc), now);
    }

    /// Clears its running flag: it stops at its next iteration.
    pub fn stop(&self) {
        self.shared.running.store(false, Relaxed);
    }

    /// Counts for about `budget`; true once it has stopped.
    pub fn step(&mut self, budget: Duration) -> bool {
        if self.started.is_none() {
            return false;
        }
        if !self.done {
            self.done = self.sched.run_for(budget) == Turn::Done;
        }
        self.done
    }

    /// The count so far.
    pub fn count(&self) -> u64 {
        self.shared.counter.load(Relaxed)
    }

    /// Seconds since the start signal (until it stopped).
    pub fn elapsed_s(&self) -> f64 {
        match (self.sched.thread(INCREMENTER), self.started) {
            (Some(Thread::Incrementer(i)), _) if i.elapsed.is_some() => {
                i.elapsed.unwrap_or_default().as_secs_f64()
            }
            (_, Some(s)) => s.elapsed().as_secs_f64(),
            _ => 0.0,
        }
    }

    /// Events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        let out = self.log.read_since(self.cursor);
        self.cursor = out.cursor;
        out.events
    }

    /// What it reports when it has stopped.
    pub fn outcome(&self) -> IncrementerOutcome {
        match self.sched.thread(INCREMENTER) {
            Some(Thread::Incrementer(i)) => {
                i.outcome(self.sched.stats(INCREMENTER, Instant::now()))
            }
            _ => IncrementerOutcome::default(),
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
            let kind = EventKind::from_u8(c[1] as u8)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_outcomes_and_events_survive_the_numbers() {
        let cfg = RunConfig::new(Scenario::ProcessLoad, Duration::from_millis(50));
        let r = assemble(
            &cfg,
            RunParts {
                incrementer: IncrementerOutcome {
                    count: 7,
                    elapsed: Duration::from_millis(51),
                    lock: Some(LockStats::default()),
                },
                load: Some((LoadReport::default(), Some(LockStats::default()))),
                ..RunParts::default()
            },
        );
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
