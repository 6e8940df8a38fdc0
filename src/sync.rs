//! The synchronisation primitives the lock is built from: std's, or loom's under `--cfg loom`.
//!
//! Only the lock's protocol state goes through here, so a loom model explores every interleaving of
//! it; counters, flags and the event log use plain `core` atomics, which loom does not need to see.

#[cfg(loom)]
pub(crate) use loom::sync::{atomic::AtomicBool, Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::{atomic::AtomicBool, Condvar, Mutex, MutexGuard};

use std::time::Duration;

/// Waits on `cond` for at most `interval`; returns the guard and whether the wait timed out.
///
/// This is the one place where the lock meets time. loom cannot model time (its timed waits never
/// time out), so under `--cfg loom` the policy is by step count instead: a waiter's first wait
/// (`round` 0) "times out" at once, after giving up the mutex so others can run in between, which
/// lets a model reach the drop-request path at every point of the holder's work; later waits block
/// until a drop signals, so a model never spins.
#[cfg(not(loom))]
pub(crate) fn wait_interval<'a, T>(
    cond: &Condvar,
    _mutex: &'a Mutex<T>,
    guard: MutexGuard<'a, T>,
    interval: Duration,
    _round: u32,
) -> (MutexGuard<'a, T>, bool) {
    let (guard, result) = cond
        .wait_timeout(guard, interval)
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    (guard, result.timed_out())
}

#[cfg(loom)]
pub(crate) fn wait_interval<'a, T>(
    cond: &Condvar,
    mutex: &'a Mutex<T>,
    guard: MutexGuard<'a, T>,
    _interval: Duration,
    round: u32,
) -> (MutexGuard<'a, T>, bool) {
    if round == 0 {
        drop(guard);
        (mutex.lock().unwrap_or_else(|p| p.into_inner()), true)
    } else {
        (cond.wait(guard).unwrap_or_else(|p| p.into_inner()), false)
    }
}
