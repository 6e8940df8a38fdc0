//! One protocol, two executors: the same scripted threads run on real threads ([`Gil`]) and on
//! the cooperative scheduler ([`Scheduler`]) must leave the same events and the same statistics.
//!
//! The script makes every hand-off certain whatever the machine's load: each operation is far
//! longer than the switch interval, so a waiter always asks, and a holder always answers at its
//! next checkpoint. The threads compute for real; the scheduler runs on a scripted clock
//! ([`ScriptedClock`]), where an operation lasts exactly its length, so its side is exact and the
//! same on every run.

use gil_lab::coop::{Clock, CoopThread, Next, RealClock, Scheduler, ScriptedClock, Turn};
use gil_lab::gil::{Event, EventKind, EventLog, Gil, LockStats, ThreadState, WorkerId};
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

impl CoopThread<ScriptedClock> for Scripted {
    fn run(&mut self, clock: &ScriptedClock, at: Instant, _until: Instant) -> Next {
        match self.0.pop_front() {
            Some(Act::Op(d)) => {
                clock.busy(d);
                Next::Checkpoint
            }
            Some(Act::Sleep(d)) => Next::BlockUntil(at + d),
            None => Next::Exit,
        }
    }
}

/// The cooperative run of the script, and every event with its time as its reader gets them.
fn cooperative() -> (Outcome, Vec<Event>) {
    let t0 = RealClock.now();
    let clock = ScriptedClock::new(t0, Duration::ZERO, Duration::ZERO);
    let log = Arc::new(EventLog::starting_at(1024, t0));
    let mut sched = Scheduler::new(clock, Some(INTERVAL), log.clone());
    for (id, acts) in scripts() {
        sched.spawn(id, Scripted(acts.into()), t0);
    }
    let mut read = Vec::new();
    loop {
        let turn = sched.run_for(Duration::from_millis(10));
        read.extend(sched.take_events());
        match turn {
            Turn::Again => {}
            Turn::Idle(d) => sched.clock().sleep(d),
            Turn::Done => break,
        }
    }
    let now = sched.clock().now();
    let stats = [1, 2].map(|id| sched.stats(id, now).expect("a lock"));
    let switches = sched.protocol().expect("a lock").switch_number();
    ((per_worker(&log), stats.to_vec(), switches), read)
}

#[test]
fn the_same_script_leaves_the_same_events_and_statistics_in_both_executors() {
    let (t_events, t_stats, t_switches) = threaded();
    let ((c_events, c_stats, c_switches), _) = cooperative();
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

#[test]
fn the_cooperative_side_is_exact_and_the_same_on_every_run() {
    let first = cooperative();
    let ((_, stats, switches), events) = &first;
    let times = |id: u8| -> Vec<(u64, EventKind)> {
        let mine = events.iter().filter(|e| e.worker == id);
        mine.map(|e| (e.t_us, e.kind)).collect()
    };
    use EventKind::*;
    // Thread 1 computes 0-150 ms; thread 2 asks at 50 and takes the lock at 150; thread 1 asks at
    // 200 and takes it back at 250, computes to 350, where thread 2 (waiting since 250, its 25 ms
    // operation to go) takes it; thread 2 leaves at 375; thread 1 sleeps 375-385 and leaves.
    assert_eq!(
        times(1),
        [
            (0, Take),
            (50_000, Request),
            (150_000, Drop),
            (150_000, Wait),
            (250_000, Take),
            (300_000, Request),
            (350_000, Drop),
            (350_000, Wait),
            (375_000, Take),
            (375_000, Drop),
            (385_000, Take),
            (385_000, Drop),
            (385_000, Exit),
        ]
    );
    assert_eq!(
        times(2),
        [
            (0, Wait),
            (150_000, Take),
            (200_000, Request),
            (250_000, Drop),
            (250_000, Wait),
            (350_000, Take),
            (375_000, Drop),
            (375_000, Exit),
        ]
    );
    assert_eq!(*switches, 5);
    assert_eq!((stats[0].held_s, stats[0].waited_s), (0.25, 0.125));
    assert_eq!((stats[1].held_s, stats[1].waited_s), (0.125, 0.25));
    for _ in 0..3 {
        assert_eq!(cooperative(), first);
    }
    // To compare across processes (`--nocapture`): the same on every run.
    println!("cooperative script: {first:?}");
}
