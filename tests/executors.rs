//! One protocol, two executors: the same scripted threads run on real threads ([`Gil`]) and on
//! the cooperative scheduler ([`Scheduler`]) must leave the same events and the same statistics.
//!
//! The script makes every hand-off certain whatever the machine's load: each operation is far
//! longer than the switch interval, so a waiter always asks, and a holder always answers at its
//! next checkpoint.

use gil_lab::coop::{CoopThread, Next, Scheduler, Turn};
use gil_lab::gil::{EventKind, EventLog, Gil, LockStats, ThreadState, WorkerId};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Long enough that a thread woken by a condition variable is running again well within it,
/// even on a crowded machine.
const INTERVAL: Duration = Duration::from_millis(50);

/// One step of a scripted thread.
#[derive(Clone, Copy, Debug)]
enum Act {
    /// Compute for this long without a checkpoint: one uninterruptible operation.
    Op(Duration),
    /// A blocking call of this length, with the lock released around it.
    Sleep(Duration),
}

fn busy(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

/// Each long operation (longer than the interval) has the other thread waiting behind it: the
/// waiter asks after one interval, and the holder answers at the checkpoint that ends the
/// operation, with a forced switch. Thread 2's last operation is shorter than the interval, so
/// thread 1 waits without asking; thread 2 leaves, and thread 1 sleeps once (dropping and taking
/// the lock with nobody waiting) and leaves.
fn scripts() -> [(WorkerId, Vec<Act>); 2] {
    let ms = Duration::from_millis;
    [
        (
            1,
            vec![Act::Op(ms(150)), Act::Op(ms(100)), Act::Sleep(ms(10))],
        ),
        (2, vec![Act::Op(ms(100)), Act::Op(ms(25))]),
    ]
}

/// What a run leaves: each worker's events as (kind, worker, by), in log order, and statistics.
type Outcome = (Vec<Vec<(EventKind, u8, u8)>>, Vec<LockStats>, u64);

fn per_worker(log: &EventLog) -> Vec<Vec<(EventKind, u8, u8)>> {
    let events = log.read_since(0).events;
    (1..=2)
        .map(|id| {
            events
                .iter()
                .filter(|e| e.worker == id)
                .map(|e| (e.kind, e.worker, e.by))
                .collect()
        })
        .collect()
}

fn threaded() -> Outcome {
    let log = Arc::new(EventLog::new(1024));
    let gil = Arc::new(Gil::with_log(INTERVAL, Some(log.clone())));
    let first_holds = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = scripts()
        .into_iter()
        .map(|(id, acts)| {
            let (gil, first_holds) = (gil.clone(), first_holds.clone());
            std::thread::spawn(move || {
                if id != 1 {
                    while !first_holds.load(SeqCst) {
                        std::thread::yield_now();
                    }
                }
                let mut t = gil.attach(id);
                first_holds.store(true, SeqCst);
                for act in acts {
                    match act {
                        Act::Op(d) => busy(d),
                        Act::Sleep(d) => t.allow_threads(|| std::thread::sleep(d)),
                    }
                    t.checkpoint();
                }
                t.detach()
            })
        })
        .collect();
    let stats = handles.into_iter().map(|h| h.join().unwrap()).collect();
    (per_worker(&log), stats, gil.switch_number())
}

struct Scripted(VecDeque<Act>);

impl CoopThread for Scripted {
    fn run(&mut self, _at: Instant, _until: Instant) -> Next {
        match self.0.pop_front() {
            Some(Act::Op(d)) => {
                busy(d);
                Next::Checkpoint
            }
            Some(Act::Sleep(d)) => Next::BlockUntil(Instant::now() + d),
            None => Next::Exit,
        }
    }
}

fn cooperative() -> Outcome {
    let log = Arc::new(EventLog::new(1024));
    let mut sched = Scheduler::new(Some(INTERVAL), log.clone());
    let t0 = Instant::now();
    for (id, acts) in scripts() {
        sched.spawn(id, Scripted(acts.into()), t0);
    }
    loop {
        match sched.run_for(Duration::from_millis(10)) {
            Turn::Again => {}
            Turn::Idle(d) => std::thread::sleep(d),
            Turn::Done => break,
        }
    }
    let now = Instant::now();
    let stats = [1, 2].map(|id| sched.stats(id, now).expect("a lock"));
    let switches = sched.protocol().expect("a lock").switch_number();
    (per_worker(&log), stats.to_vec(), switches)
}

#[test]
fn the_same_script_leaves_the_same_events_and_statistics_in_both_executors() {
    let (t_events, t_stats, t_switches) = threaded();
    let (c_events, c_stats, c_switches) = cooperative();
    use EventKind::*;
    let expected = vec![
        vec![
            (Take, 1, 1),
            (Request, 1, 2),
            (Drop, 1, 1),
            (Wait, 1, 1),
            (Take, 1, 1),
            (Request, 1, 2),
            (Drop, 1, 1),
            (Wait, 1, 1),
            (Take, 1, 1),
            (Drop, 1, 1),
            (Take, 1, 1),
            (Drop, 1, 1),
            (Exit, 1, 1),
        ],
        vec![
            (Wait, 2, 2),
            (Take, 2, 2),
            (Request, 2, 1),
            (Drop, 2, 2),
            (Wait, 2, 2),
            (Take, 2, 2),
            (Drop, 2, 2),
            (Exit, 2, 2),
        ],
    ];
    assert_eq!(t_events, expected, "threaded");
    assert_eq!(c_events, expected, "cooperative");
    assert_eq!((t_switches, c_switches), (5, 5));
    for (t, c) in t_stats.iter().zip(&c_stats) {
        let counts = |s: &LockStats| (s.takes, s.switches, s.requests_raised, s.requests_received);
        assert_eq!(counts(t), counts(c), "threaded {t:?}\ncooperative {c:?}");
        // Times differ by scheduling delays only: a few ms on a quiet machine, tens of ms on a
        // crowded one (a threaded dropper starts its next wait only once its forced switch has
        // woken it up; the cooperative one queues at once).
        for (a, b) in [(t.held_s, c.held_s), (t.waited_s, c.waited_s)] {
            assert!((a - b).abs() < 0.06, "threaded {t:?}\ncooperative {c:?}");
        }
    }
    // Thread 1 answered two requests, thread 2 one; thread 2 waited through thread 1's first
    // operation, although it asked after one interval: one operation is never cut.
    assert_eq!(
        (c_stats[0].requests_received, c_stats[1].requests_raised),
        (2, 2)
    );
    assert_eq!(
        (c_stats[1].requests_received, c_stats[0].requests_raised),
        (1, 1)
    );
    assert!(c_stats[1].waited_s >= 0.15, "{:?}", c_stats[1]);
}
