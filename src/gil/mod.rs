//! The lock: a cooperative lock that behaves like CPython's GIL (`Python/ceval_gil.c`, 3.2 and later).
//!
//! [`Gil`] holds only the protocol state; [`GilThread`] is one thread's attachment to it, a guard
//! that holds the lock while it exists except inside [`ThreadState::allow_threads`]. Workloads are
//! written against the [`ThreadState`] trait, so the same loop runs under a shared lock
//! ([`GilThread`]) or none at all ([`FreeThread`], the free-threaded build). `README.md` beside this
//! file walks through the protocol.
//!
//! The protocol, in CPython's words (`take`, `drop`, `interval`, `drop_request`, `switch_number`,
//! `last_holder`, forced switching):
//!
//! | event | what the lock does |
//! |---|---|
//! | take, lock free | `locked = true`; if `last_holder != me` { `last_holder = me`; `switch_number += 1` }; wake a forced-switch waiter; clear `drop_request` |
//! | take, lock held | wait on `cond` for `interval`; on a timeout with the lock still held and `switch_number` unchanged, set `drop_request`; repeat |
//! | checkpoint | if `drop_request`: drop, then take (one relaxed load when not set) |
//! | drop | `locked = false`; `last_holder = me`; wake one waiter; if `drop_request` was set, wait until `last_holder != me` (forced switching) |
//! | blocking call | drop before, take after |

mod log;

pub use log::{Event, EventKind, EventLog, ReadOut};

use crate::padded::CachePadded;
use crate::sync::{wait_interval, AtomicBool, AtomicU32, Condvar, Mutex, MutexGuard};
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

/// Names a thread to the lock and in its event log. `0` means "nobody".
pub type WorkerId = u8;

/// The part of the state that only changes under `Gil::state`.
#[derive(Debug)]
struct State {
    locked: bool,
    /// Counts real hand-offs: takes by a thread other than the last holder.
    switch_number: u64,
}

/// One interpreter's lock.
pub struct Gil {
    /// The "eval breaker" bit: set by a waiter whose interval passed without a switch, read by the
    /// holder at every checkpoint. The only field the fast path touches.
    drop_request: CachePadded<AtomicBool>,
    /// Who took the lock last (still holds it while it is locked). Written under both `state` and
    /// `switch_mutex`, read under `switch_mutex` by a forced switch.
    last_holder: AtomicU32,
    state: Mutex<State>,
    /// Signalled on every drop: wakes one waiter of `take`.
    cond: Condvar,
    switch_mutex: Mutex<()>,
    /// Signalled on every take: wakes a dropper waiting for its forced switch.
    switch_cond: Condvar,
    interval: Duration,
    log: Option<Arc<EventLog>>,
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
            last_holder: AtomicU32::new(0),
            state: Mutex::new(State {
                locked: false,
                switch_number: 0,
            }),
            cond: Condvar::new(),
            switch_mutex: Mutex::new(()),
            switch_cond: Condvar::new(),
            interval,
            log,
        }
    }

    /// The switch interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Hand-offs so far (CPython's `switch_number`).
    pub fn switch_number(&self) -> u64 {
        lock(&self.state).switch_number
    }

    /// Attaches thread `id` (1..=255) and takes the lock; the returned guard drops it when dropped.
    pub fn attach(&self, id: WorkerId) -> GilThread<'_> {
        assert_ne!(id, 0, "worker id 0 means nobody");
        let mut thread = GilThread {
            gil: self,
            id,
            held_since: None,
            stats: LockStats::default(),
        };
        thread.take();
        thread
    }

    fn log(&self, kind: EventKind, worker: WorkerId, by: WorkerId) {
        if let Some(log) = &self.log {
            log.push(kind, worker, by);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these mutexes cannot leave `State` half-updated (every update is a
    // single field store), so a poisoned mutex is still consistent.
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
    held_since: Option<Instant>,
    stats: LockStats,
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
        self.drop_lock();
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

    /// What this thread did with the lock so far (a hold in progress counts up to now).
    pub fn stats(&self) -> LockStats {
        let mut stats = self.stats.clone();
        if let Some(since) = self.held_since {
            let held = since.elapsed().as_secs_f64();
            stats.held_s += held;
            stats.longest_hold_s = stats.longest_hold_s.max(held);
        }
        stats
    }

    /// Drops the lock for good and returns this thread's statistics.
    pub fn detach(mut self) -> LockStats {
        self.drop_lock();
        self.gil.log(EventKind::Exit, self.id, self.id);
        std::mem::take(&mut self.stats)
    }

    #[cold]
    #[inline(never)]
    fn answer_drop_request(&mut self) {
        self.stats.requests_received += 1;
        self.drop_lock();
        // Other threads run here.
        self.take();
    }

    fn take(&mut self) {
        let gil = self.gil;
        let mut state = lock(&gil.state);
        if state.locked {
            state = self.take_slow(state);
        }
        {
            let _switch = lock(&gil.switch_mutex);
            state.locked = true;
            if gil.last_holder.load(Relaxed) != u32::from(self.id) {
                gil.last_holder.store(u32::from(self.id), Relaxed);
                state.switch_number += 1;
                self.stats.switches += 1;
            }
            gil.switch_cond.notify_all();
        }
        // Any pending request was aimed at the previous holder.
        gil.drop_request.store(false, Relaxed);
        // Logged under `state`, so the log orders takes and drops as the lock did.
        gil.log(EventKind::Take, self.id, self.id);
        // Stamped under `state` too, beside the log's stamp: a thread preempted once it lets go
        // of `state` (likely on a busy machine, as its notify wakes another) has not held longer.
        self.held_since = Some(Instant::now());
        drop(state);
        self.stats.takes += 1;
    }

    #[cold]
    #[inline(never)]
    fn take_slow(&mut self, mut state: MutexGuard<'g, State>) -> MutexGuard<'g, State> {
        let gil = self.gil;
        let started = Instant::now();
        gil.log(EventKind::Wait, self.id, self.id);
        let mut round = 0;
        while state.locked {
            let saved_switch_number = state.switch_number;
            let (s, timed_out) = wait_interval(&gil.cond, &gil.state, state, gil.interval, round);
            round += 1;
            state = s;
            if timed_out
                && state.locked
                && state.switch_number == saved_switch_number
                && !gil.drop_request.swap(true, Relaxed)
            {
                self.stats.requests_raised += 1;
                let holder = gil.last_holder.load(Relaxed) as WorkerId;
                gil.log(EventKind::Request, holder, self.id);
            }
        }
        self.stats.waited_s += started.elapsed().as_secs_f64();
        state
    }

    fn drop_lock(&mut self) {
        let gil = self.gil;
        let Some(since) = self.held_since.take() else {
            return;
        };
        let held = {
            let mut state = lock(&gil.state);
            state.locked = false;
            gil.last_holder.store(u32::from(self.id), Relaxed);
            gil.log(EventKind::Drop, self.id, self.id);
            // The hold ends here, where the log says it does, not once this thread runs again
            // after the wake-up below.
            let held = since.elapsed().as_secs_f64();
            gil.cond.notify_one();
            held
        };
        self.stats.held_s += held;
        self.stats.longest_hold_s = self.stats.longest_hold_s.max(held);
        if gil.drop_request.load(Relaxed) {
            self.forced_switch();
        }
    }

    /// Having dropped on request, wait until another thread has really taken the lock, so this
    /// one cannot grab it straight back.
    #[cold]
    #[inline(never)]
    fn forced_switch(&mut self) {
        let gil = self.gil;
        let me = u32::from(self.id);
        let mut switch = lock(&gil.switch_mutex);
        if gil.last_holder.load(Relaxed) == me {
            gil.drop_request.store(false, Relaxed);
            while gil.last_holder.load(Relaxed) == me {
                switch = gil
                    .switch_cond
                    .wait(switch)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        }
    }
}

impl Drop for GilThread<'_> {
    fn drop(&mut self) {
        // Also reached when a worker panics: the lock must not stay taken by a dead thread.
        self.drop_lock();
    }
}
