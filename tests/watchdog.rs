//! The lock's watchdog: with `GIL_LAB_WAIT_LIMIT_S` set, a thread that waits too long for the lock
//! panics with what it waited for and the lock's state, instead of hanging its test.
//!
//! This binary sets the variable itself, before its first lock: the limit is read once per process.

use gil_lab::gil::{Gil, WAIT_LIMIT_VAR};
use std::sync::{Arc, Barrier, Once};
use std::time::{Duration, Instant};

const LIMIT_S: f64 = 1.0;

fn with_limit() {
    static SET: Once = Once::new();
    SET.call_once(|| std::env::set_var(WAIT_LIMIT_VAR, LIMIT_S.to_string()));
}

#[test]
fn a_waiter_held_off_past_the_limit_panics_with_the_locks_state() {
    with_limit();
    let gil = Arc::new(Gil::new(Duration::from_millis(5)));
    let holder = gil.attach(1);
    let started = Instant::now();
    // The holder never reaches a checkpoint, so the drop requests of thread 2 go unanswered.
    let waiter = std::thread::spawn({
        let gil = gil.clone();
        move || drop(gil.attach(2))
    });
    let panic = waiter
        .join()
        .expect_err("thread 2 got a lock that thread 1 never dropped");
    let waited = started.elapsed();
    let message = panic
        .downcast_ref::<String>()
        .expect("the watchdog panics with a formatted message");
    for part in [
        "thread 2 waited",
        "to take the lock",
        WAIT_LIMIT_VAR,
        "holder Some(1)",
        "oldest waiter Some(2)",
        "drop_request true",
        "switch_number 1",
    ] {
        assert!(message.contains(part), "no `{part}` in: {message}");
    }
    assert!(
        waited >= Duration::from_secs_f64(LIMIT_S),
        "gave up after {waited:?}, before its limit of {LIMIT_S} s"
    );
    // The panic released the lock's mutex unpoisoned.
    assert_eq!(gil.switch_number(), 1);

    // The holder now leaves with thread 2's drop request still set: forced switching makes it wait
    // for thread 2 to take the lock, which a dead thread never will.
    let started = Instant::now();
    let leaving = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| holder.detach()));
    let waited = started.elapsed();
    let panic = leaving.expect_err("thread 1 left without the forced switch it owed");
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    for part in [
        "thread 1 waited",
        "for another thread to take the lock after its forced-switch drop",
        "holder None",
    ] {
        assert!(message.contains(part), "no `{part}` in: {message}");
    }
    assert!(
        waited >= Duration::from_secs_f64(LIMIT_S),
        "gave up after {waited:?}"
    );
}

#[test]
fn waits_within_the_limit_are_untouched() {
    with_limit();
    let gil = Arc::new(Gil::new(Duration::from_millis(5)));
    let start = Arc::new(Barrier::new(2));
    // Two threads handing the lock back and forth for twice the limit: every single wait is short.
    let threads: Vec<_> = (1..=2)
        .map(|id| {
            let (gil, start) = (gil.clone(), start.clone());
            std::thread::spawn(move || {
                use gil_lab::ThreadState;
                start.wait();
                let mut t = gil.attach(id);
                let end = Instant::now() + Duration::from_secs_f64(2.0 * LIMIT_S);
                t.eval_loop(|| Instant::now() < end);
                t.detach()
            })
        })
        .collect();
    for t in threads {
        let stats = t.join().expect("a short wait tripped the watchdog");
        assert!(stats.takes > 1, "no hand-off to measure: {stats:?}");
    }
}
