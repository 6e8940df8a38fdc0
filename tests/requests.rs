//! The time-sensitive victims and the other answers, measured natively: a thread answering a
//! client's requests over real loopback sockets beside N CPU threads, in a thread of the
//! interpreter, in a process, in a subinterpreter. One test's runs are compared within that test;
//! the bounds are tolerant (a two-core machine is noisy) and say what the story is, not a speed.

mod common;

use gil_lab::gil::DEFAULT_INTERVAL;
use gil_lab::scenario::Role;
use gil_lab::workload::{Load, Victim};
use gil_lab::{run, RunConfig, RunResult, Scenario};
use std::time::Duration;

fn measure(
    victim: Victim,
    load: Load,
    runs: &[(Scenario, u8)],
    delay: Duration,
) -> (Vec<RunResult>, String) {
    let cores = common::two_cores();
    let results: Vec<RunResult> = runs
        .iter()
        .map(|&(scenario, loads)| {
            let cfg = RunConfig {
                load,
                victim,
                loads,
                ..RunConfig::new(scenario, delay)
            };
            run(&common::platform(), &cfg, None, &mut |_| {})
                .unwrap_or_else(|e| panic!("{scenario}: {e}"))
        })
        .collect();
    let mut table: String = results
        .iter()
        .map(|r| {
            let l = r.latency_ms.unwrap_or_default();
            format!(
                "{:>17} loads {} requests {:>6} ({:>8.1}/s) mean {:>7.3} ms p99 {:>7.3} ms max {:>7.3} ms\n",
                r.scenario.name(),
                r.loads,
                r.count,
                r.rate_per_s,
                l.mean_ms,
                l.p99_ms,
                l.max_ms
            )
        })
        .collect();
    table += &format!("({cores})\n");
    (results, table)
}

fn mean_ms(r: &RunResult) -> f64 {
    r.latency_ms
        .expect("a latency run reports its latency")
        .mean_ms
}

#[test]
fn a_request_waits_about_one_interval_beside_a_cpu_thread_more_beside_two_none_elsewhere() {
    let runs = [
        (Scenario::Thread, 1),
        (Scenario::ThreadLoad, 1),
        (Scenario::ThreadLoad, 2),
        (Scenario::ProcessLoad, 1),
        (Scenario::InterpreterLoad, 1),
    ];
    let (r, t) = measure(
        Victim::LATENCY,
        Load::SHORT,
        &runs,
        Duration::from_millis(1500),
    );
    eprintln!("{t}");
    let interval_ms = DEFAULT_INTERVAL.as_secs_f64() * 1e3;
    for x in &r {
        // A request every 10 ms for 1.5 s: about 150, fewer where each waits long.
        assert!(
            x.count >= 40,
            "{} answered too few requests\n{t}",
            x.scenario
        );
        assert_eq!(x.latency_ms.map(|l| l.n), Some(x.count), "{t}");
    }
    let (alone, one, two, process, interp) = (&r[0], &r[1], &r[2], &r[3], &r[4]);
    assert!(
        mean_ms(alone) < 1.0,
        "alone a request should wait well under a millisecond\n{t}"
    );
    let m1 = mean_ms(one);
    assert!(
        (0.5 * interval_ms..=2.0 * interval_ms).contains(&m1),
        "beside one CPU thread a request should wait about one switch interval ({interval_ms} ms): {m1:.3} ms\n{t}"
    );
    // Beside two the mean stays near one interval (the two loads hand the lock to each other
    // every interval too, and each hand-off may go to the victim: CPython's mean on this machine
    // is within 10 % of its one-load mean, FIDELITY.md), but the tail grows: a request may lose
    // a hand-off to the other load and wait another interval.
    let p99 = |r: &RunResult| r.latency_ms.map_or(0.0, |l| l.p99_ms);
    assert!(
        (0.5 * interval_ms..=3.0 * interval_ms).contains(&mean_ms(two)),
        "beside two CPU threads a request should wait about one to a few intervals\n{t}"
    );
    assert!(
        p99(two) > 1.5 * p99(one),
        "beside two CPU threads the slowest requests should wait longer than beside one\n{t}"
    );
    for x in [process, interp] {
        assert!(
            mean_ms(x) < 1.0,
            "with the CPU work in another interpreter ({}) a request should wait under 1 ms\n{t}",
            x.scenario
        );
    }
    // The two load threads each have their own worker and lock statistics.
    let loads: Vec<_> = two
        .workers
        .iter()
        .filter(|w| w.role == Role::Load)
        .collect();
    assert_eq!(loads.len(), 2, "{t}");
    assert_eq!(
        loads.iter().map(|w| w.worker).collect::<Vec<_>>(),
        [3, 4],
        "{t}"
    );
    assert!(
        loads
            .iter()
            .all(|w| w.lock.as_ref().is_some_and(|l| l.held_s > 0.1)),
        "both load threads held the lock: {loads:?}\n{t}"
    );
    assert!(two.load.as_ref().is_some_and(|l| l.ops > 0), "{t}");
}

#[test]
fn an_echo_server_thread_starves_beside_a_cpu_thread_but_not_beside_a_process() {
    let runs = [
        (Scenario::Thread, 1),
        (Scenario::ThreadLoad, 1),
        (Scenario::Process, 1),
        (Scenario::ProcessLoad, 1),
    ];
    // The seed's load: each multiplication holds the lock throughout. Beside the short load
    // (5 us operations) the server keeps about a tenth of its rate, in CPython as here
    // (FIDELITY.md), too close to a bound of 0.1 to test it on a noisy machine.
    let (r, t) = measure(
        Victim::Server,
        Load::BIGNUM,
        &runs,
        Duration::from_millis(1500),
    );
    eprintln!("{t}");
    let rate = |i: usize| r[i].rate_per_s;
    assert!(
        rate(0) > 1000.0,
        "alone the server answers thousands per second\n{t}"
    );
    let thread = rate(1) / rate(0);
    let process = rate(3) / rate(2);
    assert!(
        thread <= 0.1,
        "thread+load / thread = {thread:.4} requests/s, expected <= 0.1\n{t}"
    );
    assert!(
        process >= 0.5,
        "process+load / process = {process:.3} requests/s, expected >= 0.5\n{t}"
    );
}

#[test]
fn the_cli_validates_the_new_settings_with_sentences() {
    let cases: [(&[&str], &str); 8] = [
        (
            &["run", "--scenario", "thread+load", "--loads", "0"],
            "choose 1 to 4",
        ),
        (
            &["run", "--scenario", "thread+load", "--loads", "9"],
            "choose 1 to 4",
        ),
        (
            &[
                "run",
                "--scenario",
                "thread",
                "--victim",
                "latency",
                "--period-ms",
                "0",
            ],
            "0.1 to 10000 ms",
        ),
        (
            &["run", "--scenario", "thread+load", "--op-us", "40000"],
            "--load short",
        ),
        (
            &["run", "--scenario", "thread", "--io-us", "50"],
            "--victim io",
        ),
        (
            &["run", "--scenario", "thread", "--period-ms", "5"],
            "--victim latency",
        ),
        (
            &["sweep", "--loads", "1,2", "--intervals", "1,5"],
            "not both",
        ),
        (
            &["sweep", "--loads", "1,2", "--delays", "1,2"],
            "give one delay",
        ),
    ];
    for (args, says) in cases {
        let o = common::gil_lab(args);
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?} should say '{says}': {err}");
    }
}

#[test]
fn a_latency_run_prints_and_exports_its_wait() {
    let o = common::gil_lab(&[
        "run",
        "--scenario",
        "thread",
        "--victim",
        "latency",
        "--period-ms",
        "5",
        "--seconds",
        "0.5",
        "--json",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let l = &v["latency_ms"];
    for k in ["mean", "p50", "p90", "p99", "max"] {
        assert!(l[k].as_f64().is_some_and(|x| x >= 0.0), "{k}: {v}");
    }
    let n = l["n"].as_u64().expect("n");
    assert!(n >= 40 && n == v["count"].as_u64().unwrap(), "{v}");
    assert!(
        l["p50"].as_f64() <= l["p99"].as_f64() && l["p99"].as_f64() <= l["max"].as_f64(),
        "{v}"
    );

    let o = common::gil_lab(&[
        "sweep",
        "--scenarios",
        "thread,thread+load",
        "--load",
        "short",
        "--op-us",
        "200",
        "--loads",
        "1,2",
        "--delays",
        "0.3",
        "--format",
        "json",
        "-q",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["config"]["op_us"], serde_json::json!(200.0), "{v}");
    assert_eq!(v["config"]["load_counts"], serde_json::json!([1, 2]), "{v}");
    let loads: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["loads"].as_u64().unwrap())
        .collect();
    // `thread` has no load: it runs once, at the first count.
    assert_eq!(loads, [0, 1, 2], "{v}");
}
