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
//! - time: a waiter's round of `interval` ends when the scheduler's [`Clock`] passes it
//!   ([`Protocol::next_round_end`]), and the scheduler then calls [`Protocol::retry`] for it, dated
//!   when the round ended. Every time comes from that clock: the real one in the browser, a
//!   scripted one in tests ([`clock`]);
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
//!
//! Before a long turn the scheduler tells the timeline what will surely happen meanwhile
//! ([`ahead`]): the one place that knows of events announced ahead of their time.
//!
//! In the browser each interpreter runs in a Web Worker of its own ([`worker`]), which talks to
//! the page in the messages of [`wire`]; the page's end of them, with no browser in it, is
//! [`page_end`]. All of it is target-independent and tested natively.

pub mod ahead;
pub mod clock;
mod interpreter;
pub mod page_end;
pub mod wire;
pub mod worker;

pub use clock::{Clock, RealClock, ScriptedClock};
pub use interpreter::{needs_isolated_worker, Interpreter, IsolatedIncrementer, Step};

use crate::gil::{DropReason, Dropped, Event, EventLog, LockStats, Protocol, Taken, WorkerId};
use std::sync::Arc;
use std::time::Duration;
use web_time::Instant;

/// What the cooperative executor cannot run yet, as a sentence a reader can act on; `None` when it
/// can run all of `config`. The echo server's client answers each reply with the next request,
/// which needs a transport between workers this mode does not have; and one release load
/// at most hands its hashing to another worker at a time.
pub fn unsupported(config: &crate::scenario::SweepConfig) -> Option<String> {
    let why = if matches!(config.victim, crate::workload::Victim::Server) {
        "the server victim runs"
    } else if config.loads.iter().any(|&n| n > 1)
        && matches!(config.load, crate::workload::Load::Release { .. })
    {
        "several threads of the release load run"
    } else {
        return None;
    };
    Some(format!(
        "{why} only in the threads mode, on a page with shared memory (open the full demo, or use \
         gil-lab on the command line)"
    ))
}

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
    /// It drops the lock around work that runs elsewhere, beside this interpreter's threads (C
    /// code that releases the GIL, on another worker): it takes the lock back once the driver
    /// calls [`Scheduler::offload_done`].
    Offload,
}

/// One thread of a cooperatively run interpreter, on a scheduler whose clock is a `C`.
pub trait CoopThread<C: Clock> {
    /// Runs one turn: the thread holds the lock (or the interpreter has none). `at` is when the
    /// turn starts: now, or, for a free thread back from blocking, when its block ended (free
    /// threads would have run in parallel). A thread that can stop at any checkpoint should stop by
    /// `until`; one operation may run past it. Time passes on `clock` as the thread computes.
    fn run(&mut self, clock: &C, at: Instant, until: Instant) -> Next;

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
    /// Without the lock while its work runs elsewhere.
    Offloaded,
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

/// The threads of one interpreter, taking turns under its lock (or with none: free-threaded), on
/// the time of its clock.
pub struct Scheduler<T, C> {
    clock: C,
    lock: Option<Protocol>,
    log: Arc<EventLog>,
    /// Where [`Scheduler::take_events`] goes on reading the log.
    cursor: u64,
    threads: Vec<Entry<T>>,
    /// Round robin among free threads.
    next_free: usize,
    /// When the scheduler last woke threads and ended rounds: everything due by then is logged.
    looked: Instant,
    /// Events told ahead of their time.
    ahead: ahead::Announced,
}

impl<T: CoopThread<C>, C: Clock> Scheduler<T, C> {
    /// A scheduler on `clock` for threads under a lock with `interval` (`None`: free-threaded),
    /// logging into `log`.
    pub fn new(clock: C, interval: Option<Duration>, log: Arc<EventLog>) -> Self {
        Self {
            looked: clock.now(),
            clock,
            lock: interval.map(|i| Protocol::new(i, Some(log.clone()))),
            log,
            cursor: 0,
            threads: Vec::new(),
            next_free: 0,
            ahead: ahead::Announced::default(),
        }
    }

    /// Its clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The time now on its log, in microseconds.
    pub fn now_us(&self) -> u64 {
        self.log_us(self.clock.now())
    }

    fn log_us(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.log.epoch()).as_micros() as u64
    }

    /// The events logged since the last call, oldest first, for a reader that draws them: those
    /// told ahead of time come once, when told ([`ahead`]).
    pub fn take_events(&mut self) -> Vec<Event> {
        let out = self.log.read_since(self.cursor);
        self.cursor = out.cursor;
        self.ahead.pass(out.events, self.log_us(self.looked))
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

    /// Whether thread `id` waits for work it handed elsewhere ([`Next::Offload`]).
    pub fn is_offloaded(&self, id: WorkerId) -> bool {
        self.entry(id).is_some_and(|e| e.place == Place::Offloaded)
    }

    /// The work thread `id` handed elsewhere has finished at `at`: it takes the lock back (or
    /// waits for it).
    pub fn offload_done(&mut self, id: WorkerId, at: Instant) {
        if self.is_offloaded(id) {
            self.take(id, at);
        }
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

    /// Runs the threads for about `budget` of its clock (one operation may take longer).
    pub fn run_for(&mut self, budget: Duration) -> Turn {
        let end = self.clock.now() + budget;
        loop {
            let now = self.clock.now();
            // Wake first: a thread that woke before a round ended must see that round end.
            self.wake(now);
            self.end_rounds(now);
            self.looked = now;
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
            let next = self.threads[i].thread.run(&self.clock, at, until);
            let after = self.clock.now();
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
                Next::Offload => {
                    self.release(id, after, DropReason::AllowThreads);
                    *self.place_mut(id) = Place::Offloaded;
                    // The driver must start the work now.
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

#[cfg(test)]
mod tests {
    use super::unsupported;
    use crate::scenario::{Scenario, SweepConfig};
    use crate::workload::Victim;

    #[test]
    fn the_cooperative_mode_says_which_settings_need_threads() {
        let runs = [
            SweepConfig::default(),
            SweepConfig {
                loads: vec![1, 2, 4],
                victim: Victim::LATENCY,
                scenarios: vec![Scenario::ThreadLoad, Scenario::InterpreterLoad],
                ..SweepConfig::default()
            },
        ];
        for config in runs {
            assert_eq!(unsupported(&config), None);
        }
        let server = SweepConfig {
            victim: Victim::Server,
            ..SweepConfig::default()
        };
        let release = SweepConfig {
            loads: vec![2],
            load: crate::workload::Load::RELEASE,
            ..SweepConfig::default()
        };
        for (config, named) in [(server, "server victim"), (release, "release load")] {
            let why = unsupported(&config).expect("a sentence");
            assert!(why.contains(named) && why.contains("threads mode"), "{why}");
        }
    }
}
