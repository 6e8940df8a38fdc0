//! The cooperative executor: the experiment's interpreters run on one thread each, under the
//! lock's rules, as the page runs them where Web Workers share no memory.
//!
//! Every run here is on scripted clocks ([`ScriptedClock`]): a batch of counting lasts
//! [`BATCH`], one `z * z` [`OP`] (longer than the 5 ms interval, as the bignum load's late
//! operations are), a hash on the hashing worker [`HASH`], and waits last exactly as long as
//! asked. So the runs are exact and the same on every run, whatever the machine's load: the
//! bounds below are the phenomenon's, not slack for a busy machine.

use gil_lab::coop::{
    needs_isolated_worker, Clock, Interpreter, IsolatedIncrementer, RealClock, ScriptedClock, Step,
};
use gil_lab::gil::{Event, EventKind};
use gil_lab::workload::{Load, Victim};
use gil_lab::{RunConfig, RunResult, Scenario};
use std::time::{Duration, Instant};

/// A batch of counting (16384 iterations): about what it lasts on a desktop.
const BATCH: Duration = Duration::from_micros(50);
/// One operation of the bignum load.
const OP: Duration = Duration::from_millis(20);
/// One release operation, hashed beside the interpreter.
const HASH: Duration = Duration::from_millis(12);

fn cfg(scenario: Scenario, delay_ms: u64, load: Load) -> RunConfig {
    RunConfig {
        load,
        ..RunConfig::new(scenario, Duration::from_millis(delay_ms))
    }
}

/// Runs the isolated incrementer, beside the interpreter, up to `t` on its own clock.
fn catch_up(iso: &mut IsolatedIncrementer<ScriptedClock>, t: Instant) -> bool {
    loop {
        let left = t.saturating_duration_since(iso.clock().now());
        if left.is_zero() {
            return false;
        }
        match iso.step(left) {
            Step::Done => return true,
            Step::Idle(d) => iso.clock().sleep(d.min(left)),
            _ => {}
        }
    }
}

/// Drives an interpreter (and its isolated incrementer, if any) to the end on this thread, each
/// on a scripted clock of its own, as two workers run side by side; returns the result and every
/// event the interpreter handed its reader.
fn drive_events(c: RunConfig) -> (RunResult, Vec<Event>) {
    let t0 = RealClock.now();
    let clock = || ScriptedClock::new(t0, BATCH, OP);
    let mut it = Interpreter::new(c, clock());
    let mut iso = needs_isolated_worker(c.scenario).then(|| IsolatedIncrementer::new(c, clock()));
    let mut iso_done = false;
    // When the hashing worker finishes the release operation in progress.
    let mut hashed: Option<Instant> = None;
    let mut events = Vec::new();
    it.go();
    if let Some(i) = &mut iso {
        i.go();
    }
    loop {
        if let Some(i) = &mut iso {
            iso_done = iso_done || catch_up(i, it.clock().now());
        }
        if hashed.is_some_and(|t| t <= it.clock().now()) {
            hashed = None;
            it.offload_done();
        }
        let step = it.step(Duration::from_millis(10));
        events.extend(it.take_events());
        match step {
            Step::Again => {}
            Step::Idle(d) => {
                let wake = it.clock().now() + d;
                it.clock().advance_to(hashed.map_or(wake, |h| h.min(wake)));
            }
            Step::Offload(_) => hashed = Some(it.clock().now() + HASH),
            Step::StopIsolated => iso.as_ref().expect("an isolated incrementer").stop(),
            Step::WaitIsolated => {
                let i = iso.as_mut().expect("an isolated incrementer");
                while !iso_done {
                    let t = i.clock().now() + Duration::from_millis(10);
                    iso_done = catch_up(i, t);
                }
                it.clock().advance_to(i.clock().now());
                it.isolated_finished(i.outcome());
            }
            Step::Done => return (it.result(), events),
        }
    }
}

fn drive(c: RunConfig) -> RunResult {
    drive_events(c).0
}

#[test]
fn the_same_script_gives_the_same_run_every_time_and_each_event_once() {
    for c in [
        cfg(Scenario::ThreadLoad, 120, Load::BIGNUM),
        cfg(Scenario::ProcessLoad, 60, Load::SHORT),
        RunConfig {
            victim: Victim::IO,
            ..cfg(Scenario::ThreadLoad, 60, Load::RELEASE)
        },
    ] {
        let first = drive_events(c);
        assert_eq!(drive_events(c), first, "{c:?}");
        // What a run left, to compare across processes (`--nocapture`): the same on every run.
        let digest = first.1.iter().fold(0u64, |h, e| {
            h.rotate_left(5) ^ e.pack().wrapping_mul(0x9e37_79b9_7f4a_7c15)
        });
        println!(
            "cooperative run {c:?}: {:?}; {} events, digest {digest:016x}",
            first.0,
            first.1.len()
        );
        // The requests told ahead of a `z * z` reach the reader once.
        let (_, events) = &first;
        for (k, e) in events.iter().enumerate() {
            if e.kind == EventKind::Request || e.kind == EventKind::Wait {
                assert!(!events[..k].contains(e), "{e:?} twice: {c:?}");
            }
        }
    }
}

/// CPython's default switch interval, every run's here.
const INTERVAL_S: f64 = 0.005;

/// Sums of seconds as floats differ from their exact value in the last bits only.
const ROUNDING: f64 = 1e-12;

#[test]
fn a_thread_alone_counts_and_stops_one_interval_late() {
    let r = drive(cfg(Scenario::Thread, 100, Load::BIGNUM));
    assert!(r.count > 1000, "{r:?}");
    // The controller wakes at 100 ms, waits one interval for the busy incrementer, then asks it
    // to drop, which it does at its next look at the clock.
    assert_eq!(r.stop_lag_s, INTERVAL_S, "{r:?}");
    assert!((r.elapsed_s - (0.1 + INTERVAL_S)).abs() < ROUNDING, "{r:?}");
    let ctl = r.workers[0].lock.as_ref().unwrap();
    assert_eq!((ctl.requests_raised, ctl.waited_s), (1, INTERVAL_S));
}

#[test]
fn a_short_load_shares_the_lock_by_intervals() {
    let r = drive(cfg(Scenario::ThreadLoad, 200, Load::SHORT));
    let inc = r.workers[1].lock.as_ref().unwrap();
    let load = r.workers[2].lock.as_ref().unwrap();
    // 200 ms of 5 ms turns: 40 hand-offs, each asked for, and half the time each.
    assert!(r.switches >= 40, "{r:?}");
    assert!(
        inc.requests_received >= 19 && load.requests_received >= 19,
        "{r:?}"
    );
    for held in [inc.held_s, load.held_s] {
        assert!((held / r.elapsed_s - 0.5).abs() < 0.05, "{r:?}");
    }
}

#[test]
fn the_bignum_load_starves_the_thread_but_not_the_process() {
    let alone = drive(cfg(Scenario::Thread, 300, Load::BIGNUM));
    let loaded = drive(cfg(Scenario::ThreadLoad, 300, Load::BIGNUM));
    // Each `z * z` (20 ms) holds the lock four intervals past the incrementer's request: the
    // incrementer gets one interval in five.
    assert!(
        (loaded.count as f64) < alone.count as f64 * 0.3,
        "{} against {}",
        loaded.count,
        alone.count
    );
    let process = drive(cfg(Scenario::ProcessLoad, 300, Load::BIGNUM));
    assert!(process.count >= alone.count, "{process:?}\n{alone:?}");
    assert!(process.workers[1].isolated);
    let free = drive(cfg(Scenario::FreeThreadLoad, 100, Load::BIGNUM));
    assert!(free.count > 1000 && free.stop_lag_s == 0.0, "{free:?}");
    assert!(free.workers.iter().all(|w| w.lock.is_none()));
}

#[test]
fn the_controller_must_ask_for_the_lock_to_stop_the_run() {
    let r = drive(cfg(Scenario::ThreadLoad, 50, Load::BIGNUM));
    // Awake, the controller waits for a busy holder: at least one whole interval before it may
    // ask, then the rest of the operation in progress; all that time it waits for the lock.
    assert!(r.stop_lag_s >= INTERVAL_S, "{r:?}");
    let ctl = r.workers[0].lock.as_ref().unwrap();
    assert_eq!(ctl.waited_s, r.stop_lag_s, "{r:?}");
    // The incrementer ran until the flag was cleared: the delay plus the late stop.
    assert!(r.elapsed_s + ROUNDING >= r.delay_s + r.stop_lag_s, "{r:?}");
}

#[test]
fn an_io_thread_waits_behind_short_operations_but_not_in_a_process() {
    let io = |scenario| {
        drive(RunConfig {
            load: Load::SHORT,
            victim: Victim::IO,
            ..RunConfig::new(scenario, Duration::from_millis(300))
        })
    };
    let (alone, convoy) = (io(Scenario::Thread), io(Scenario::ThreadLoad));
    let (process_alone, process) = (io(Scenario::Process), io(Scenario::ProcessLoad));
    // Alone, one 100 us call after another; beside the short load, each call is followed by a
    // wait of one 5 ms interval for the lock: fifty times fewer.
    assert!(alone.count > 2900, "{alone:?}");
    assert!(
        (convoy.count as f64) < 0.05 * alone.count as f64,
        "convoy {} against {} alone",
        convoy.count,
        alone.count
    );
    assert!(
        process.count as f64 > 0.95 * process_alone.count as f64,
        "{process:?}\n{process_alone:?}"
    );
}

#[test]
fn code_that_releases_the_lock_runs_beside_the_interpreter() {
    let run = |scenario, victim| {
        drive(RunConfig {
            load: Load::RELEASE,
            victim,
            ..RunConfig::new(scenario, Duration::from_millis(400))
        })
    };
    for victim in [Victim::Incrementer, Victim::IO] {
        let alone = run(Scenario::Thread, victim);
        let with = run(Scenario::ThreadLoad, victim);
        // The hashing runs elsewhere while the lock is free: the victim keeps its speed (beside
        // the bignum load it keeps a fifth).
        assert!(
            with.rate_per_s > 0.9 * alone.rate_per_s,
            "{}: {:.0}/s beside the release load against {:.0}/s alone",
            victim.name(),
            with.rate_per_s,
            alone.rate_per_s
        );
        let load = with.load.as_ref().expect("a load report");
        assert!(load.ops >= 10, "{load:?}");
        // Each hash left the lock free: the load held it for a small part of the run.
        let held = with.workers[2]
            .lock
            .as_ref()
            .expect("the load's lock")
            .held_s;
        assert!(held < 0.1 * with.elapsed_s, "load held the lock {held} s");
    }
}

#[test]
fn a_request_waits_about_one_interval_beside_a_load_and_not_elsewhere() {
    let latency = |scenario: Scenario, loads: u8| {
        let r = drive(RunConfig {
            victim: Victim::LATENCY,
            loads,
            ..cfg(scenario, 300, Load::SHORT)
        });
        let l = r.latency_ms.expect("the latency victim reports its waits");
        assert!(
            l.n >= 25,
            "{scenario}: {} requests in 300 ms at one per 10 ms",
            l.n
        );
        assert_eq!(l.n, r.count, "every request answered is timed");
        l
    };
    // Alone, and in an interpreter of its own beside the load: the lock is free at arrival.
    for scenario in [
        Scenario::Thread,
        Scenario::ProcessLoad,
        Scenario::InterpreterLoad,
    ] {
        let l = latency(scenario, 1);
        assert!(
            l.max_ms < 0.5,
            "{scenario}: a request waited up to {} ms",
            l.max_ms
        );
    }
    // Beside one short-load thread: the victim asks after one whole interval and is answered at
    // the load's next checkpoint, so every wait is about 5 ms.
    let one = latency(Scenario::ThreadLoad, 1);
    assert!(
        (4.5..=6.0).contains(&one.mean_ms),
        "beside one load a request waited {} ms on average",
        one.mean_ms
    );
    // Beside two, a hand-off may go to the other load first: the tail grows.
    let two = latency(Scenario::ThreadLoad, 2);
    assert!(
        two.p99_ms > one.p99_ms * 1.5,
        "p99 {} ms beside two loads against {} ms beside one",
        two.p99_ms,
        one.p99_ms
    );
}

#[test]
fn several_load_threads_each_take_turns_with_their_own_lane_and_statistics() {
    let r = drive(RunConfig {
        loads: 3,
        ..cfg(Scenario::ThreadLoad, 200, Load::SHORT)
    });
    assert_eq!(r.loads, 3);
    let loads: Vec<_> = r
        .workers
        .iter()
        .filter(|w| w.role == gil_lab::scenario::Role::Load)
        .collect();
    assert_eq!(loads.len(), 3, "one report per load thread");
    for w in &loads {
        let held = w.lock.as_ref().expect("a load's lock statistics").held_s;
        // Four threads share the lock by intervals: each load holds it about a quarter.
        assert!(
            (0.03..=0.09).contains(&held),
            "load {} held it {held} s of 0.2",
            w.worker
        );
    }
    let ops = r.load.as_ref().expect("the loads' report").ops;
    assert!(
        ops > 3 * 6_000,
        "{ops} operations of 5 us by three loads in 200 ms"
    );
}
