//! The lock's rules as plain code: state, transitions, statistics and events; no clock of its own
//! and no blocking.
//!
//! [`Protocol`] is CPython's `struct _gil_runtime_state` plus the bookkeeping gil-lab reports. Each
//! method is one transition of `Python/ceval_gil.c`, given the time it happens at. Two executors
//! drive it:
//!
//! - the threaded one ([`super::Gil`]): real threads, a mutex around the `Protocol`, a condition
//!   variable for waiters and one for forced switching; the time is the thread's clock;
//! - the cooperative one ([`crate::coop`]): the threads of one interpreter taking turns on one
//!   thread, where a waiter's interval ends when the scheduler's clock passes it.
//!
//! The protocol's table, the one place it is written (`Python/ceval_gil.c`'s names: `take`,
//! `drop`, `interval`, `drop_request`, `switch_number`, `last_holder`, forced switching):
//!
//! | transition | state change |
//! |---|---|
//! | [`take`](Protocol::take), lock free | acquire: `locked`; if `last_holder != me` { `last_holder = me`; `switch_number += 1` }; clear `drop_request`; the executor wakes every forced-switch dropper |
//! | [`take`](Protocol::take), lock held | become a waiter: note `switch_number`, start a round of `interval` |
//! | [`retry`](Protocol::retry) (woken or timed out) | lock free: acquire. Timed out, still held, `switch_number` unchanged, no request yet: set `drop_request`. Start a new round |
//! | checkpoint (the executor's) | if `drop_request`: drop, then take (one relaxed load when not set) |
//! | [`drop_gil`](Protocol::drop_gil) | unlock; `last_holder = me`; the executor wakes one waiter; [`Dropped::ForcedSwitch`] if `drop_request` is set |
//! | [`begin_forced_switch`](Protocol::begin_forced_switch) | if nobody took it yet: clear `drop_request`, and the dropper must wait for [`switched_from`](Protocol::switched_from) |
//! | blocking call (`allow_threads`) | drop before, take after |
//!
//! Two small departures from CPython, both in forced switching:
//!
//! - the dropper waits in a loop until [`switched_from`](Protocol::switched_from) holds, where
//!   CPython's `drop_gil` waits on `switch_cond` once (an `if`): a spurious wake-up there lets the
//!   dropper take the lock straight back; here it cannot;
//! - a take wakes every thread waiting on `switch_cond` (a broadcast, `notify_all`), where
//!   CPython signals one (`COND_SIGNAL`): each woken dropper checks its own condition, so none is
//!   left asleep after the take it was waiting for.
//!
//! Who takes the lock after a drop is not part of the rules: CPython signals its condition
//! variable once and the OS wakes a waiter, which takes the lock if it is still free when it runs.
//! The threaded executor leaves that choice to the OS (Linux futexes wake the longest waiter
//! first); the cooperative one wakes [`Protocol::oldest_waiter`], the same choice made
//! deterministic.

use super::log::{EventKind, EventLog};
use super::{LockStats, WorkerId};
use std::sync::Arc;
use std::time::Duration;
use web_time::Instant;

/// Worker ids a lock keeps statistics for: `1..MAX_WORKERS`, so up to eight threads of one
/// interpreter (`gil-lab scale` runs eight workers under one lock).
pub const MAX_WORKERS: usize = 9;

/// What [`Protocol::take`] and [`Protocol::retry`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taken {
    /// The caller holds the lock now.
    Acquired,
    /// The lock is held by another thread: wait one `interval` (or until a drop wakes you), then
    /// [`Protocol::retry`].
    MustWait,
}

/// What [`Protocol::drop_gil`] asks of the dropper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// Nothing more: go on.
    Free,
    /// The drop answered a drop request: call [`Protocol::begin_forced_switch`] and, if it says
    /// so, wait until [`Protocol::switched_from`] before taking the lock again.
    ForcedSwitch,
}

/// Why a holder drops the lock (only the statistics differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// At a checkpoint, answering a drop request.
    Request,
    /// Around a blocking call or work done without the lock (`Py_BEGIN_ALLOW_THREADS`).
    AllowThreads,
    /// The thread is leaving.
    Exit,
}

/// A thread waiting in `take`.
#[derive(Clone, Copy, Debug)]
struct Waiter {
    /// Arrival order: the oldest waiter has the smallest ticket.
    ticket: u64,
    since: Instant,
    round_start: Instant,
    saved_switch_number: u64,
}

/// One interpreter's lock: CPython's state and transitions, and what each thread did with it.
#[derive(Debug)]
pub struct Protocol {
    interval: Duration,
    /// `Some` while locked: CPython's `locked` and, then, `last_holder`.
    holder: Option<WorkerId>,
    last_holder: WorkerId,
    /// Counts real hand-offs: takes by a thread other than the last holder.
    switch_number: u64,
    /// The eval breaker's drop-request bit.
    drop_request: bool,
    waiters: [Option<Waiter>; MAX_WORKERS],
    next_ticket: u64,
    held_since: Option<Instant>,
    stats: [LockStats; MAX_WORKERS],
    log: Option<Arc<EventLog>>,
}

fn slot(id: WorkerId) -> usize {
    assert!(
        id != 0 && usize::from(id) < MAX_WORKERS,
        "worker ids are 1..{MAX_WORKERS}, got {id}"
    );
    usize::from(id)
}

impl Protocol {
    /// A free lock with switch interval `interval`, logging into `log` if given.
    pub fn new(interval: Duration, log: Option<Arc<EventLog>>) -> Self {
        Self {
            interval,
            holder: None,
            last_holder: 0,
            switch_number: 0,
            drop_request: false,
            waiters: [None; MAX_WORKERS],
            next_ticket: 0,
            held_since: None,
            stats: Default::default(),
            log,
        }
    }

    /// The switch interval (`sys.getswitchinterval()`).
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Who holds the lock.
    pub fn holder(&self) -> Option<WorkerId> {
        self.holder
    }

    /// Hand-offs so far (CPython's `switch_number`).
    pub fn switch_number(&self) -> u64 {
        self.switch_number
    }

    /// The drop-request bit the holder reads at its checkpoints.
    pub fn drop_request(&self) -> bool {
        self.drop_request
    }

    /// The event log, if any.
    pub fn log(&self) -> Option<&Arc<EventLog>> {
        self.log.as_ref()
    }

    fn event(&self, at: Instant, kind: EventKind, worker: WorkerId, by: WorkerId) {
        if let Some(log) = &self.log {
            log.push_at(at, kind, worker, by);
        }
    }

    /// `take_gil`'s first step: the lock if it is free, else a place among the waiters.
    pub fn take(&mut self, id: WorkerId, now: Instant) -> Taken {
        let i = slot(id);
        if self.holder.is_none() {
            self.acquire(id, now);
            return Taken::Acquired;
        }
        if self.waiters[i].is_none() {
            self.waiters[i] = Some(Waiter {
                ticket: self.next_ticket,
                since: now,
                round_start: now,
                saved_switch_number: self.switch_number,
            });
            self.next_ticket += 1;
            self.event(now, EventKind::Wait, id, id);
        }
        Taken::MustWait
    }

    /// A waiter is back from waiting on the condition, at `now`: woken by a drop
    /// (`timed_out == false`) or after a whole `interval`. Takes the lock if it is free. Otherwise,
    /// if the wait timed out while the lock stayed held and `switch_number` did not move (nobody
    /// got a turn during a whole interval), sets `drop_request`; then starts a new round.
    pub fn retry(&mut self, id: WorkerId, now: Instant, timed_out: bool) -> Taken {
        if self.holder.is_none() {
            self.acquire(id, now);
            return Taken::Acquired;
        }
        let Some(w) = self.waiters[slot(id)].as_mut() else {
            // Not waiting yet: the first step of `take`.
            return self.take(id, now);
        };
        let ask = timed_out && w.saved_switch_number == self.switch_number;
        w.round_start = now;
        w.saved_switch_number = self.switch_number;
        if ask && !self.drop_request {
            self.drop_request = true;
            self.stats[slot(id)].requests_raised += 1;
            let holder = self.holder.unwrap_or(0);
            self.event(now, EventKind::Request, holder, id);
        }
        Taken::MustWait
    }

    fn acquire(&mut self, id: WorkerId, now: Instant) {
        let i = slot(id);
        self.holder = Some(id);
        if self.last_holder != id {
            self.last_holder = id;
            self.switch_number += 1;
            self.stats[i].switches += 1;
        }
        // Any pending request was aimed at the previous holder.
        self.drop_request = false;
        self.stats[i].takes += 1;
        if let Some(w) = self.waiters[i].take() {
            self.stats[i].waited_s += now.saturating_duration_since(w.since).as_secs_f64();
        }
        self.held_since = Some(now);
        self.event(now, EventKind::Take, id, id);
    }

    /// `drop_gil`: the holder `id` lets go at `now`. Does nothing if `id` does not hold the lock
    /// (a thread unwinding after it already dropped). (Named after CPython's function: a method
    /// called `drop` would be shadowed by `Drop::drop` on a mutex guard.)
    pub fn drop_gil(&mut self, id: WorkerId, now: Instant, reason: DropReason) -> Dropped {
        if self.holder != Some(id) {
            return Dropped::Free;
        }
        let stats = &mut self.stats[slot(id)];
        if let Some(since) = self.held_since.take() {
            let held = now.saturating_duration_since(since).as_secs_f64();
            stats.held_s += held;
            stats.longest_hold_s = stats.longest_hold_s.max(held);
        }
        if reason == DropReason::Request {
            stats.requests_received += 1;
        }
        self.holder = None;
        self.last_holder = id;
        self.event(now, EventKind::Drop, id, id);
        if self.drop_request {
            Dropped::ForcedSwitch
        } else {
            Dropped::Free
        }
    }

    /// Forced switching, after a drop that answered a request: if no other thread has taken the
    /// lock yet, clears `drop_request` and returns true: the dropper must now wait until
    /// [`Protocol::switched_from`] before it may take the lock again.
    pub fn begin_forced_switch(&mut self, id: WorkerId) -> bool {
        if self.last_holder == id {
            self.drop_request = false;
            true
        } else {
            false
        }
    }

    /// Whether another thread has taken the lock since `id` dropped it.
    pub fn switched_from(&self, id: WorkerId) -> bool {
        self.last_holder != id
    }

    /// `id` leaves the interpreter (after its last drop).
    pub fn exit(&mut self, id: WorkerId, now: Instant) {
        self.event(now, EventKind::Exit, id, id);
    }

    /// The waiter that has waited longest: the one a drop wakes in the cooperative executor.
    pub fn oldest_waiter(&self) -> Option<WorkerId> {
        (0..MAX_WORKERS)
            .filter_map(|i| self.waiters[i].map(|w| (w.ticket, i as WorkerId)))
            .min()
            .map(|(_, id)| id)
    }

    /// The earliest end of a waiter's round, and whose: when a cooperative scheduler must next
    /// call [`Protocol::retry`] with `timed_out`.
    pub fn next_round_end(&self) -> Option<(Instant, WorkerId)> {
        (0..MAX_WORKERS)
            .filter_map(|i| {
                self.waiters[i].map(|w| (w.round_start + self.interval, w.ticket, i as WorkerId))
            })
            .min()
            .map(|(t, _, id)| (t, id))
    }

    /// When, and by whom, the next drop request will be raised if the holder keeps the lock and
    /// nobody else takes it: a waiter whose current round saw no switch asks at its end, one whose
    /// round saw a switch asks one round later. `None` if a request is already pending.
    pub fn next_request(&self) -> Option<(Instant, WorkerId)> {
        if self.drop_request || self.holder.is_none() {
            return None;
        }
        (0..MAX_WORKERS)
            .filter_map(|i| {
                self.waiters[i].map(|w| {
                    let rounds = if w.saved_switch_number == self.switch_number {
                        1
                    } else {
                        2
                    };
                    (
                        w.round_start + self.interval * rounds,
                        w.ticket,
                        i as WorkerId,
                    )
                })
            })
            .min()
            .map(|(t, _, id)| (t, id))
    }

    /// What `id` did with the lock so far; a hold in progress counts up to `now`.
    pub fn stats(&self, id: WorkerId, now: Instant) -> LockStats {
        let mut stats = self.stats[slot(id)].clone();
        if let (Some(since), true) = (self.held_since, self.holder == Some(id)) {
            let held = now.saturating_duration_since(since).as_secs_f64();
            stats.held_s += held;
            stats.longest_hold_s = stats.longest_hold_s.max(held);
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_millis(n)
    }

    #[test]
    fn a_free_lock_is_taken_at_once_and_counts_one_switch() {
        let t0 = Instant::now();
        let mut p = Protocol::new(Duration::from_millis(5), None);
        assert_eq!(p.take(1, t0), Taken::Acquired);
        assert_eq!(p.holder(), Some(1));
        assert_eq!(p.switch_number(), 1);
        assert_eq!(p.drop_gil(1, ms(t0, 3), DropReason::Exit), Dropped::Free);
        let s = p.stats(1, ms(t0, 3));
        assert_eq!((s.takes, s.switches), (1, 1));
        assert!((s.held_s - 0.003).abs() < 1e-9);
        // Taking it back without anybody in between is not a switch.
        p.take(1, ms(t0, 4));
        assert_eq!(p.switch_number(), 1);
    }

    #[test]
    fn a_waiter_asks_only_after_a_whole_interval_without_a_switch() {
        let t0 = Instant::now();
        let mut p = Protocol::new(Duration::from_millis(5), None);
        p.take(1, t0);
        assert_eq!(p.take(2, ms(t0, 1)), Taken::MustWait);
        assert_eq!(p.next_round_end(), Some((ms(t0, 6), 2)));
        // Woken early (not a timeout): no request.
        assert_eq!(p.retry(2, ms(t0, 2), false), Taken::MustWait);
        assert!(!p.drop_request());
        assert_eq!(p.retry(2, ms(t0, 7), true), Taken::MustWait);
        assert!(p.drop_request());
        assert_eq!(p.stats(2, ms(t0, 7)).requests_raised, 1);
        // The holder answers: forced switching until the waiter has taken it.
        assert_eq!(
            p.drop_gil(1, ms(t0, 8), DropReason::Request),
            Dropped::ForcedSwitch
        );
        assert!(p.begin_forced_switch(1));
        assert!(!p.drop_request() && !p.switched_from(1));
        assert_eq!(p.retry(2, ms(t0, 8), false), Taken::Acquired);
        assert!(p.switched_from(1));
        let s = p.stats(2, ms(t0, 8));
        assert_eq!((s.takes, s.switches), (1, 1));
        assert!((s.waited_s - 0.007).abs() < 1e-9);
        assert_eq!(p.stats(1, ms(t0, 8)).requests_received, 1);
    }

    #[test]
    fn a_round_that_saw_a_switch_does_not_ask() {
        let t0 = Instant::now();
        let mut p = Protocol::new(Duration::from_millis(5), None);
        p.take(1, t0);
        p.take(3, t0);
        p.take(2, ms(t0, 1));
        // 3 gets a turn while 2 waits.
        p.drop_gil(1, ms(t0, 2), DropReason::AllowThreads);
        p.retry(3, ms(t0, 2), false);
        assert_eq!(p.next_request(), Some((ms(t0, 11), 2)));
        assert_eq!(p.retry(2, ms(t0, 6), true), Taken::MustWait);
        assert!(!p.drop_request(), "the switch to 3 happened in 2's round");
        assert_eq!(p.retry(2, ms(t0, 11), true), Taken::MustWait);
        assert!(p.drop_request());
        assert_eq!(p.next_request(), None);
    }

    #[test]
    fn the_oldest_waiter_is_first_in_line() {
        let t0 = Instant::now();
        let mut p = Protocol::new(Duration::from_millis(5), None);
        p.take(2, t0);
        p.take(3, ms(t0, 1));
        p.take(1, ms(t0, 2));
        assert_eq!(p.oldest_waiter(), Some(3));
        p.drop_gil(2, ms(t0, 3), DropReason::Exit);
        p.retry(3, ms(t0, 3), false);
        assert_eq!(p.oldest_waiter(), Some(1));
    }

    #[test]
    fn events_are_logged_at_the_times_given() {
        let log = Arc::new(EventLog::new(16));
        let t0 = Instant::now();
        let mut p = Protocol::new(Duration::from_millis(5), Some(log.clone()));
        p.take(1, t0);
        p.take(2, ms(t0, 1));
        p.retry(2, ms(t0, 6), true);
        p.drop_gil(1, ms(t0, 7), DropReason::Request);
        p.retry(2, ms(t0, 7), false);
        p.drop_gil(2, ms(t0, 8), DropReason::Exit);
        p.exit(2, ms(t0, 8));
        let kinds: Vec<_> = log
            .read_since(0)
            .events
            .iter()
            .map(|e| (e.kind, e.worker, e.by))
            .collect();
        assert_eq!(
            kinds,
            [
                (EventKind::Take, 1, 1),
                (EventKind::Wait, 2, 2),
                (EventKind::Request, 1, 2),
                (EventKind::Drop, 1, 1),
                (EventKind::Take, 2, 2),
                (EventKind::Drop, 2, 2),
                (EventKind::Exit, 2, 2),
            ]
        );
        let times: Vec<u64> = log.read_since(0).events.iter().map(|e| e.t_us).collect();
        let t = |n: u64| times[0] + n * 1000;
        assert_eq!(times, [t(0), t(1), t(6), t(7), t(7), t(8), t(8)]);
    }

    #[test]
    fn the_accessors_read_the_state() {
        let log = Arc::new(EventLog::new(4));
        let mut p = Protocol::new(Duration::from_millis(7), Some(log.clone()));
        assert_eq!(p.interval(), Duration::from_millis(7));
        assert!(Arc::ptr_eq(p.log().expect("the log given"), &log));
        assert!(Protocol::new(Duration::from_millis(7), None)
            .log()
            .is_none());
        let t0 = Instant::now();
        assert_eq!(p.holder(), None);
        assert_eq!(p.oldest_waiter(), None);
        assert_eq!(p.next_round_end(), None);
        assert_eq!(p.next_request(), None, "nobody holds it");
        p.take(2, t0);
        assert_eq!(p.holder(), Some(2));
        assert_eq!(p.next_request(), None, "nobody waits");
        p.drop_gil(2, ms(t0, 1), DropReason::AllowThreads);
        assert_eq!(p.holder(), None);
        p.take(3, ms(t0, 1));
        assert_eq!((p.holder(), p.switch_number()), (Some(3), 2));
    }

    #[test]
    fn a_hold_in_progress_counts_up_to_now_for_the_holder_only() {
        let t0 = Instant::now();
        let mut p = Protocol::new(Duration::from_millis(5), None);
        p.take(1, t0);
        p.take(2, ms(t0, 1));
        let s = p.stats(1, ms(t0, 4));
        assert!((s.held_s - 0.004).abs() < 1e-9, "{s:?}");
        assert!((s.longest_hold_s - 0.004).abs() < 1e-9, "{s:?}");
        let w = p.stats(2, ms(t0, 4));
        assert_eq!((w.held_s, w.longest_hold_s, w.takes), (0.0, 0.0, 0));
        // Two holds of 4 and 2 ms: held 6 ms, longest 4 ms; a hold in progress longer than the
        // longest so far becomes the longest.
        p.drop_gil(1, ms(t0, 4), DropReason::AllowThreads);
        p.retry(2, ms(t0, 4), false);
        p.drop_gil(2, ms(t0, 5), DropReason::AllowThreads);
        p.take(1, ms(t0, 6));
        p.drop_gil(1, ms(t0, 8), DropReason::AllowThreads);
        let s = p.stats(1, ms(t0, 8));
        assert!((s.held_s - 0.006).abs() < 1e-9, "{s:?}");
        assert!((s.longest_hold_s - 0.004).abs() < 1e-9, "{s:?}");
        assert_eq!(s.requests_received, 0, "no drop answered a request");
        p.take(1, ms(t0, 9));
        let s = p.stats(1, ms(t0, 14));
        assert!((s.held_s - 0.011).abs() < 1e-9, "{s:?}");
        assert!((s.longest_hold_s - 0.005).abs() < 1e-9, "{s:?}");
        // Each thread's own: waiting 3 ms (1 to 4) is thread 2's, once.
        let w = p.stats(2, ms(t0, 14));
        assert!((w.waited_s - 0.003).abs() < 1e-9, "{w:?}");
        assert!((w.held_s - 0.001).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn a_drop_by_a_thread_not_holding_the_lock_changes_nothing() {
        let t0 = Instant::now();
        let mut p = Protocol::new(Duration::from_millis(5), None);
        p.take(1, t0);
        assert_eq!(p.drop_gil(2, ms(t0, 1), DropReason::Request), Dropped::Free);
        assert_eq!(p.holder(), Some(1));
        assert_eq!(p.stats(2, ms(t0, 1)).requests_received, 0);
        assert!(!p.switched_from(1), "1 still holds it");
    }

    #[test]
    fn a_forced_switch_already_done_needs_no_wait() {
        let t0 = Instant::now();
        let mut p = Protocol::new(Duration::from_millis(5), None);
        p.take(1, t0);
        p.take(2, t0);
        p.retry(2, ms(t0, 5), true);
        assert!(p.drop_request());
        assert_eq!(
            p.drop_gil(1, ms(t0, 6), DropReason::Request),
            Dropped::ForcedSwitch
        );
        // 2 takes the lock before the dropper gets to `begin_forced_switch`.
        assert_eq!(p.retry(2, ms(t0, 6), false), Taken::Acquired);
        assert!(!p.drop_request(), "the take cleared the request");
        assert!(p.switched_from(1));
        assert!(!p.begin_forced_switch(1), "nothing to wait for");
        // A waiter that retries without having taken `take` first becomes a waiter.
        assert_eq!(p.retry(3, ms(t0, 7), true), Taken::MustWait);
        assert_eq!(p.oldest_waiter(), Some(3));
        assert!(!p.drop_request(), "a first wait never asks");
    }

    #[test]
    fn a_waiter_keeps_its_place_and_its_round_when_it_takes_again() {
        let t0 = Instant::now();
        let mut p = Protocol::new(Duration::from_millis(5), None);
        p.take(1, t0);
        p.take(2, ms(t0, 1));
        p.take(3, ms(t0, 2));
        // 2 calls `take` again while waiting: still the oldest, its round unchanged.
        assert_eq!(p.take(2, ms(t0, 3)), Taken::MustWait);
        assert_eq!(p.oldest_waiter(), Some(2));
        assert_eq!(p.next_round_end(), Some((ms(t0, 6), 2)));
        assert_eq!(p.next_request(), Some((ms(t0, 6), 2)));
        // A new round starts where the retry happened.
        p.retry(2, ms(t0, 4), false);
        assert_eq!(p.next_round_end(), Some((ms(t0, 7), 3)));
        assert_eq!(p.next_request(), Some((ms(t0, 7), 3)));
        // Tickets go on increasing: a thread that waits again is last in line.
        p.drop_gil(1, ms(t0, 8), DropReason::AllowThreads);
        assert_eq!(p.next_request(), None, "the lock is free: nobody asks");
        p.retry(2, ms(t0, 8), false);
        p.take(1, ms(t0, 9));
        assert_eq!(p.oldest_waiter(), Some(3));
        p.drop_gil(2, ms(t0, 10), DropReason::AllowThreads);
        p.retry(3, ms(t0, 10), false);
        assert_eq!(p.oldest_waiter(), Some(1));
    }

    #[test]
    #[should_panic(expected = "worker ids are 1..9, got 0")]
    fn worker_id_zero_is_refused() {
        Protocol::new(Duration::from_millis(5), None).take(0, Instant::now());
    }

    #[test]
    #[should_panic(expected = "worker ids are 1..9, got 9")]
    fn worker_ids_past_the_last_are_refused() {
        Protocol::new(Duration::from_millis(5), None).take(9, Instant::now());
    }

    #[test]
    fn the_last_worker_id_is_accepted() {
        let mut p = Protocol::new(Duration::from_millis(5), None);
        assert_eq!(p.take(8, Instant::now()), Taken::Acquired);
    }
}
