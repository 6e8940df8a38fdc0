//! The lock: a cooperative lock that behaves like CPython's GIL (`Python/ceval_gil.c`, 3.2 and later).
//!
//! The rules are written once, in [`Protocol`] ([`protocol`]): plain state and transitions, no
//! clock and no blocking. Two executors drive them: [`Gil`], for real threads (a mutex and two
//! condition variables; native threads and Web Workers over shared memory), and the cooperative
//! scheduler of [`crate::coop`] (the threads of one interpreter taking turns on one worker).
//! [`GilThread`] is one thread's attachment to a `Gil`, a guard that holds the lock while it exists
//! except inside [`ThreadState::allow_threads`]. Workloads are written against the
//! [`ThreadState`] trait, so the same loop runs under a shared lock ([`GilThread`]) or none at all
//! ([`FreeThread`], the free-threaded build). `README.md` beside this file walks through the
//! protocol and why each rule is there.
//!
//! The protocol's transitions are tabled once, in [`protocol`], with CPython's two small
//! departures named there.

mod log;
pub mod protocol;

pub use log::{Event, EventKind, EventLog, ReadOut};
pub use protocol::{DropReason, Dropped, Protocol, Taken};

use crate::padded::CachePadded;
use crate::sync::{wait_interval, AtomicBool, Condvar, Mutex, MutexGuard};
use core::sync::atomic::Ordering::Relaxed;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use web_time::Instant;

/// CPython's default switch interval (`sys.getswitchinterval()` = 0.005).
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(5);
/// The shortest switch interval gil-lab accepts.
pub const MIN_INTERVAL: Duration = Duration::from_micros(10);
/// The longest switch interval gil-lab accepts.
pub const MAX_INTERVAL: Duration = Duration::from_millis(1000);

/// Names a thread to the lock and in its event log: `1..protocol::MAX_WORKERS`; `0` means
/// "nobody".
pub type WorkerId = u8;

/// One interpreter's lock, for real threads: the threaded executor of [`Protocol`].
///
/// The rules live in the `Protocol` behind `state`; this type only adds blocking: a waiter sleeps
/// on `cond` for one interval at a time, a forced-switch dropper sleeps on `switch_cond` until
/// somebody else has taken the lock. CPython guards `last_holder` with a second mutex
/// (`switch_mutex`); here it lives in the `Protocol`, so one mutex serves both conditions.
pub struct Gil {
    /// A copy of the protocol's drop-request bit (the eval breaker) that holders read at every
    /// checkpoint without taking `state`: the only field the fast path touches. Written only
    /// under `state`, right after a transition, by [`Gil::publish`].
    drop_request: CachePadded<AtomicBool>,
    state: Mutex<Protocol>,
    /// Signalled on every drop: wakes one waiter of `take`.
    cond: Condvar,
    /// Signalled on every take: wakes a dropper waiting for its forced switch.
    switch_cond: Condvar,
}

impl Gil {
    /// A free lock with the given switch interval and no event log.
    pub fn new(interval: Duration) -> Self {
        Self::with_log(interval, None)
    }

    /// A free lock that records takes, drops and drop requests into `log`.
    pub fn with_log(interval: Duration, log: Option<Arc<EventLog>>) -> Self {
        Self {
            drop_request: CachePadded::new(AtomicBool::new(false)),
            state: Mutex::new(Protocol::new(interval, log)),
            cond: Condvar::new(),
            switch_cond: Condvar::new(),
        }
    }

    /// The switch interval.
    pub fn interval(&self) -> Duration {
        lock(&self.state).interval()
    }

    /// Hand-offs so far (CPython's `switch_number`).
    pub fn switch_number(&self) -> u64 {
        lock(&self.state).switch_number()
    }

    /// Attaches thread `id` (`1..protocol::MAX_WORKERS`) and takes the lock; the returned guard
    /// drops it when dropped.
    pub fn attach(&self, id: WorkerId) -> GilThread<'_> {
        assert!(
            id != 0 && usize::from(id) < protocol::MAX_WORKERS,
            "worker ids are 1..{}",
            protocol::MAX_WORKERS
        );
        let mut thread = GilThread {
            gil: self,
            id,
            holding: false,
            answered: 0,
        };
        thread.take();
        thread
    }

    /// Mirrors the protocol's drop-request bit into the atomic the fast path reads. Called with
    /// `state` locked after every transition that may change it.
    fn publish(&self, p: &Protocol) {
        self.drop_request.store(p.drop_request(), Relaxed);
    }
}

/// The environment variable that bounds how long a thread may wait for the lock, in seconds (e.g.
/// `60`): set by `cargo xtask test` for the tests, so that a lock that never wakes a waiter fails
/// the test with the lock's state instead of hanging it. Unset, a thread waits as long as it takes.
pub const WAIT_LIMIT_VAR: &str = "GIL_LAB_WAIT_LIMIT_S";

/// The limit set by [`WAIT_LIMIT_VAR`], read once. Only the slow paths (waiting to take the lock,
/// waiting for a forced switch) read it, never a checkpoint. None under loom (no clock there) and
/// in a browser (no environment).
fn wait_limit() -> Option<Duration> {
    // Not in the browser: parsing an f64 there would link the float parser's tables (10 KB of
    // the page's weight) for a limit nobody sets.
    #[cfg(any(loom, target_arch = "wasm32"))]
    return None;
    #[cfg(not(any(loom, target_arch = "wasm32")))]
    {
        static LIMIT: std::sync::OnceLock<Option<Duration>> = std::sync::OnceLock::new();
        *LIMIT.get_or_init(|| {
            let value = std::env::var(WAIT_LIMIT_VAR).ok()?;
            match value.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
                _ => {
                    eprintln!(
                        "gil-lab: ignoring {WAIT_LIMIT_VAR}={value:?}: it must be a number of \
                         seconds above 0; waits for the lock have no limit"
                    );
                    None
                }
            }
        })
    }
}

/// The watchdog's verdict: thread `id` waited `waited` (over `limit`) `what`. Panics with the
/// lock's state, released first so that the other threads' own checks still see it unpoisoned.
#[cold]
#[inline(never)]
fn waited_too_long(
    p: MutexGuard<'_, Protocol>,
    id: WorkerId,
    what: &str,
    waited: Duration,
    limit: Duration,
) -> ! {
    let state = format!(
        "holder {:?}, oldest waiter {:?}, drop_request {}, switch_number {}, next request {:?}; \
         in full: {p:?}",
        p.holder(),
        p.oldest_waiter(),
        p.drop_request(),
        p.switch_number(),
        p.next_request().map(|(_, by)| by),
    );
    drop(p);
    panic!(
        "thread {id} waited {:.1} s {what}, over the {:.1} s of {WAIT_LIMIT_VAR}; the lock: {state}",
        waited.as_secs_f64(),
        limit.as_secs_f64()
    );
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every transition of `Protocol` completes before the mutex is released and none of them
    // panics halfway on valid ids, so a poisoned mutex still holds a consistent state.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What one thread did with the lock.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LockStats {
    /// Times it took the lock.
    pub takes: u64,
    /// Takes that were a real hand-off from another thread.
    pub switches: u64,
    /// Drop requests it raised while waiting.
    pub requests_raised: u64,
    /// Drop requests it answered at a checkpoint.
    pub requests_received: u64,
    /// Seconds spent holding the lock.
    pub held_s: f64,
    /// Seconds spent waiting for it.
    pub waited_s: f64,
    /// The longest single hold, in seconds.
    pub longest_hold_s: f64,
}

/// What a workload needs from its interpreter: checkpoints and a way to block without the lock.
pub trait ThreadState {
    /// The eval breaker: between two operations, give the lock up if another thread asked for it.
    fn checkpoint(&mut self);
    /// The eval loop: runs `step` (one operation) until it returns `false`, passing a checkpoint
    /// after each step.
    ///
    /// Same as `while step() { self.checkpoint() }`, but the eval breaker's address is kept in a
    /// register: with `checkpoint` the compiler must reload it from `self` every iteration (the
    /// cold path may write `self`), and that extra load halves a tight loop's rate on this
    /// machine. The incrementer and the loads run through here.
    fn eval_loop(&mut self, step: impl FnMut() -> bool);
    /// Runs a blocking call (sleep, join, I/O) without the lock, like `Py_BEGIN_ALLOW_THREADS`.
    fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R;
}

/// A thread of an interpreter with no lock (free-threaded CPython).
///
/// Free-threaded CPython still checks its eval breaker at every back edge (for signals, the GC and
/// stop-the-world pauses); only the GIL's drop requests are gone. So a free checkpoint is the same
/// single relaxed load as an uncontended [`GilThread`] checkpoint, and the two modes pay the same
/// per-iteration cost: what differs between them is only the lock.
#[derive(Clone, Copy, Debug)]
pub struct FreeThread {
    eval_breaker: &'static core::sync::atomic::AtomicBool,
}

/// Nothing in gil-lab asks a free thread to pause, so this stays clear.
static FREE_EVAL_BREAKER: CachePadded<core::sync::atomic::AtomicBool> =
    CachePadded::new(core::sync::atomic::AtomicBool::new(false));

impl Default for FreeThread {
    fn default() -> Self {
        Self {
            eval_breaker: &FREE_EVAL_BREAKER,
        }
    }
}

impl ThreadState for FreeThread {
    #[inline(always)]
    fn checkpoint(&mut self) {
        if self.eval_breaker.load(Relaxed) {
            handle_pending(self.eval_breaker);
        }
    }

    #[inline(always)]
    fn eval_loop(&mut self, mut step: impl FnMut() -> bool) {
        let breaker = self.eval_breaker;
        while step() {
            if breaker.load(Relaxed) {
                handle_pending(breaker);
            }
        }
    }

    fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// What a free thread does when its eval breaker is set (a signal, a GC or stop-the-world pause):
/// nothing in gil-lab raises one, so handling it is clearing it.
#[cold]
#[inline(never)]
fn handle_pending(eval_breaker: &core::sync::atomic::AtomicBool) {
    eval_breaker.store(false, Relaxed);
}

/// One thread's attachment to a [`Gil`]: holds the lock from [`Gil::attach`] until dropped.
pub struct GilThread<'g> {
    gil: &'g Gil,
    id: WorkerId,
    holding: bool,
    /// Drop requests this thread answered: also in the lock's statistics, but readable here
    /// without taking the lock's mutex (a model check counts every mutex operation).
    answered: u64,
}

impl ThreadState for GilThread<'_> {
    #[inline(always)]
    fn checkpoint(&mut self) {
        if self.gil.drop_request.load(Relaxed) {
            self.answer_drop_request();
        }
    }

    #[inline(always)]
    fn eval_loop(&mut self, mut step: impl FnMut() -> bool) {
        let drop_request = &self.gil.drop_request;
        while step() {
            if drop_request.load(Relaxed) {
                self.answer_drop_request();
            }
        }
    }

    fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.drop_lock(DropReason::AllowThreads);
        let out = f();
        self.take();
        out
    }
}

impl<'g> GilThread<'g> {
    /// This thread's id.
    pub fn id(&self) -> WorkerId {
        self.id
    }

    /// Drop requests this thread has answered at its checkpoints so far.
    pub fn requests_answered(&self) -> u64 {
        self.answered
    }

    /// What this thread did with the lock so far (a hold in progress counts up to now).
    pub fn stats(&self) -> LockStats {
        lock(&self.gil.state).stats(self.id, Instant::now())
    }

    /// Drops the lock for good and returns this thread's statistics.
    pub fn detach(mut self) -> LockStats {
        self.drop_lock(DropReason::Exit);
        let now = Instant::now();
        let mut p = lock(&self.gil.state);
        p.exit(self.id, now);
        p.stats(self.id, now)
    }

    #[cold]
    #[inline(never)]
    fn answer_drop_request(&mut self) {
        self.answered += 1;
        self.drop_lock(DropReason::Request);
        // Other threads run here.
        self.take();
    }

    fn take(&mut self) {
        let gil = self.gil;
        let mut p = lock(&gil.state);
        if p.take(self.id, Instant::now()) == Taken::MustWait {
            p = self.take_slow(p);
        }
        gil.publish(&p);
        // A forced-switch dropper may be waiting for exactly this take.
        gil.switch_cond.notify_all();
        drop(p);
        self.holding = true;
    }

    #[cold]
    #[inline(never)]
    fn take_slow(&mut self, mut p: MutexGuard<'g, Protocol>) -> MutexGuard<'g, Protocol> {
        let gil = self.gil;
        let interval = p.interval();
        let limit = wait_limit();
        let started = Instant::now();
        let mut round = 0;
        loop {
            let (guard, timed_out) = wait_interval(&gil.cond, &gil.state, p, interval, round);
            round += 1;
            p = guard;
            let now = Instant::now();
            if p.retry(self.id, now, timed_out) == Taken::Acquired {
                return p;
            }
            gil.publish(&p);
            if let Some(limit) = limit.filter(|&limit| now - started > limit) {
                waited_too_long(p, self.id, "to take the lock", now - started, limit);
            }
        }
    }

    fn drop_lock(&mut self, reason: DropReason) {
        if !std::mem::take(&mut self.holding) {
            return;
        }
        let gil = self.gil;
        let mut p = lock(&gil.state);
        let dropped = p.drop_gil(self.id, Instant::now(), reason);
        gil.cond.notify_one();
        if dropped == Dropped::ForcedSwitch && p.begin_forced_switch(self.id) {
            gil.publish(&p);
            // Wait until another thread has really taken the lock, so this one cannot grab it
            // straight back.
            let limit = wait_limit();
            let started = Instant::now();
            while !p.switched_from(self.id) {
                let Some(limit) = limit else {
                    p = gil
                        .switch_cond
                        .wait(p)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    continue;
                };
                // A take signals `switch_cond`: a wait that times out was never woken, even if
                // another thread has taken the lock by now (the wake is what is missing).
                let rest = limit.saturating_sub(Instant::now() - started);
                let (guard, timed_out) = wait_interval(&gil.switch_cond, &gil.state, p, rest, 1);
                p = guard;
                if timed_out {
                    let what = "for another thread to take the lock after its forced-switch \
                                drop (switch_cond never signalled)";
                    waited_too_long(p, self.id, what, Instant::now() - started, limit);
                }
            }
        }
    }
}

impl Drop for GilThread<'_> {
    fn drop(&mut self) {
        // Also reached when a worker panics: the lock must not stay taken by a dead thread.
        self.drop_lock(DropReason::Exit);
    }
}
