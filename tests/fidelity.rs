//! The emulation beside real CPython (`reference/gil_experiment.py`), in one test run.
//!
//! Both must tell the same story: with the bignum load the thread starves and the process does
//! not; with the short load the thread's share under the lock is about the same. Where they
//! disagree, the failure prints both tables side by side. Needs `python3` (CPython 3.8+) on PATH,
//! which `cargo xtask test` checks for; a missing Python fails here rather than skipping.

mod common;

use gil_lab::pylong::PyLong;
use gil_lab::reference::{check_python, run_reference, side_by_side, ReferenceReport, Values};
use gil_lab::scenario::{Role, Scenario, SweepConfig, SweepReport};
use gil_lab::workload::{Load, Victim};
use gil_lab::{run, RunConfig};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use std::time::Instant;

/// One round: the emulation, then CPython, each running `scenarios` once at `delay`.
fn round(
    load: Load,
    victim: Victim,
    scenarios: &[Scenario],
    delay: Duration,
) -> (SweepReport, ReferenceReport, String) {
    round_of(SweepConfig {
        load,
        victim,
        delays: vec![delay],
        scenarios: scenarios.to_vec(),
        ..SweepConfig::default()
    })
}

/// One round of `config`: the emulation, then CPython.
fn round_of(config: SweepConfig) -> (SweepReport, ReferenceReport, String) {
    let python = Path::new("python3");
    check_python(python).unwrap_or_else(|e| panic!("{e}"));
    let platform = common::platform();
    let results = config
        .runs()
        .map(|cfg: RunConfig| run(&platform, &cfg, None, &mut |_| {}).expect("emulation run"))
        .collect();
    let ours = SweepReport { config, results };
    // The emulation shares plain atomics, so CPython's counter and flag are raw shared memory too.
    let theirs =
        run_reference(python, &ours.config, Values::Raw, true).unwrap_or_else(|e| panic!("{e}"));
    let table = side_by_side(&ours, &theirs, Values::Raw, false);
    eprintln!("{table}");
    (ours, theirs, table)
}

fn both(load: Load, scenarios: &[Scenario]) -> (SweepReport, ReferenceReport, String) {
    both_with(load, Victim::Incrementer, scenarios)
}

/// One round at 2 s, with the cores to itself; the text ends with how many were free.
fn both_with(
    load: Load,
    victim: Victim,
    scenarios: &[Scenario],
) -> (SweepReport, ReferenceReport, String) {
    let cores = common::two_cores();
    let (ours, theirs, table) = round(load, victim, scenarios, DELAY);
    (ours, theirs, format!("{table}({cores})"))
}

const DELAY: Duration = Duration::from_secs(2);

/// `s`'s rate over the rate of the same set-up without the load, emulated and in CPython.
fn ratios(ours: &SweepReport, theirs: &ReferenceReport, s: Scenario) -> (f64, f64) {
    let d = ours.config.delays[0].as_secs_f64();
    let rate = |count: u64, elapsed_s: f64| count as f64 / elapsed_s.max(1e-9);
    let (o, o_alone) = (ours.get(s, d).unwrap(), ours.get(s.alone(), d).unwrap());
    let (t, t_alone) = (theirs.get(s, d).unwrap(), theirs.get(s.alone(), d).unwrap());
    (
        rate(o.count, o.elapsed_s) / rate(o_alone.count, o_alone.elapsed_s).max(1e-9),
        rate(t.count, t.elapsed_s) / rate(t_alone.count, t_alone.elapsed_s).max(1e-9),
    )
}

/// How many rounds [`medians`] runs: CPython's own ratio moves by a factor of three from one run
/// to the next on a busy two-core machine, and the median of three is not moved by one outlier.
const ROUNDS: usize = 3;

/// `thread+load / thread` by rate, emulated and in CPython: each the median of [`ROUNDS`]
/// interleaved rounds (emulation, CPython, emulation, ...) of 1 s runs, so that a busy spell of
/// the machine falls on both sides. Also the incrementer's share of the lock's held time in each
/// emulated `thread+load` run (from the lock's own statistics). The text lists every round.
fn medians(load: Load, victim: Victim) -> (f64, f64, Vec<f64>, String) {
    let cores = common::two_cores();
    let (mut ours, mut theirs, mut shares, mut text) = (vec![], vec![], vec![], String::new());
    for k in 1..=ROUNDS {
        let (o, t, table) = round(
            load,
            victim,
            &[Scenario::Thread, Scenario::ThreadLoad],
            Duration::from_secs(1),
        );
        let (ro, rt) = ratios(&o, &t, Scenario::ThreadLoad);
        let share = held_share(&o);
        text += &format!(
            "round {k}: emulated {ro:.3} (incrementer's share of held time {share:.3}), CPython {rt:.3}\n{table}\n"
        );
        ours.push(ro);
        theirs.push(rt);
        shares.push(share);
    }
    text += &format!("({cores})");
    (median(ours), median(theirs), shares, text)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// In the emulated `thread+load` run: the incrementer's held seconds over the incrementer's and
/// the load's together.
fn held_share(ours: &SweepReport) -> f64 {
    let d = ours.config.delays[0].as_secs_f64();
    let r = ours.get(Scenario::ThreadLoad, d).unwrap();
    let held = |role: Role| {
        r.workers
            .iter()
            .find(|w| w.role == role)
            .and_then(|w| w.lock.as_ref())
            .map_or(0.0, |l| l.held_s)
    };
    let (inc, load) = (held(Role::Incrementer), held(Role::Load));
    inc / (inc + load).max(1e-9)
}

#[test]
fn bignum_both_starve_the_thread_and_spare_the_process() {
    let (ours, theirs, table) = both(Load::BIGNUM, &Scenario::SEED);
    let (thread_ours, thread_cpython) = ratios(&ours, &theirs, Scenario::ThreadLoad);
    let (process_ours, process_cpython) = ratios(&ours, &theirs, Scenario::ProcessLoad);
    assert!(
        thread_ours <= 0.1,
        "emulation: thread+load/thread = {thread_ours:.3}\n{table}"
    );
    assert!(
        thread_cpython <= 0.1,
        "CPython: thread+load/thread = {thread_cpython:.3}\n{table}"
    );
    assert!(
        process_ours >= 0.6,
        "emulation: process+load/process = {process_ours:.3}\n{table}"
    );
    assert!(
        process_cpython >= 0.6,
        "CPython: process+load/process = {process_cpython:.3}\n{table}"
    );
}

#[test]
fn short_load_both_give_the_thread_about_the_same_share() {
    let (o, t, shares, text) = medians(Load::SHORT, Victim::Incrementer);
    assert!(
        (o - t).abs() <= 0.25,
        "short load: median thread+load/thread is {o:.3} emulated but {t:.3} in CPython\n{text}"
    );
    // Whatever the machine's load, the lock alternates every interval: each thread holds it about
    // half the time. Noise moves how fast each counts, not how long each holds.
    for share in shares {
        assert!(
            (0.35..=0.65).contains(&share),
            "short load: the incrementer held the lock {share:.3} of the held time\n{text}"
        );
    }
}

#[test]
fn io_beside_short_operations_is_a_convoy_in_both() {
    let (ours, theirs, table) = both_with(
        Load::SHORT,
        Victim::IO,
        &[Scenario::Thread, Scenario::ThreadLoad],
    );
    let (o, t) = ratios(&ours, &theirs, Scenario::ThreadLoad);
    assert!(
        o <= 0.2 && t <= 0.2,
        "io thread+load/thread: {o:.3} emulated, {t:.3} in CPython (convoy expected in both)\n{table}"
    );
}

#[test]
fn io_beside_code_that_releases_the_lock_is_fine_in_both() {
    let (o, t, _, text) = medians(Load::RELEASE, Victim::IO);
    assert!(
        o >= 0.4 && t >= 0.4,
        "io thread+load/thread beside hashing, medians: {o:.3} emulated, {t:.3} in CPython\n{text}"
    );
}

/// The mean wait of a request in `thread+load` with `loads` short-load threads: emulated and in
/// CPython, one round each, with the table.
fn latency_round(loads: u8) -> (f64, f64, String) {
    let (ours, theirs, table) = round_of(SweepConfig {
        load: Load::SHORT,
        victim: Victim::LATENCY,
        delays: vec![Duration::from_millis(1500)],
        scenarios: vec![Scenario::Thread, Scenario::ThreadLoad],
        loads: vec![loads],
        ..SweepConfig::default()
    });
    let d = 1.5;
    let o = ours.get(Scenario::ThreadLoad, d).and_then(|r| r.latency_ms);
    let t = theirs
        .get(Scenario::ThreadLoad, d)
        .and_then(|r| r.latency_ms);
    match (o, t) {
        (Some(o), Some(t)) => (o.mean_ms, t.mean, table),
        _ => panic!("both sides report the wait of thread+load\n{table}"),
    }
}

#[test]
fn a_request_waits_as_long_beside_one_and_two_cpu_threads_in_both() {
    let cores = common::two_cores();
    let (o1, t1, table1) = latency_round(1);
    let (o2, t2, table2) = latency_round(2);
    let text = format!("{table1}\n{table2}({cores})");
    eprintln!("{text}");
    // Beside two loads the emulated wait is shorter than CPython's: 0.55 to 0.9 of it in the runs
    // of FIDELITY.md (the victim wins more of the loads' own hand-offs), hence the wider bound.
    for (loads, o, t, low) in [(1, o1, t1, 0.6), (2, o2, t2, 0.4)] {
        let r = o / t.max(1e-9);
        assert!(
            (low..=1.6).contains(&r),
            "beside {loads} CPU thread(s) a request waited {o:.3} ms emulated and {t:.3} ms in \
             CPython (ratio {r:.2}, expected {low} to 1.6)\n{text}"
        );
    }
}

#[test]
fn an_echo_server_thread_keeps_a_small_share_beside_a_cpu_thread_in_both() {
    let (ours, theirs, table) = both_with(
        Load::SHORT,
        Victim::Server,
        &[Scenario::Thread, Scenario::ThreadLoad],
    );
    let (o, t) = ratios(&ours, &theirs, Scenario::ThreadLoad);
    assert!(
        o <= 0.3 && t <= 0.3,
        "server thread+load/thread by requests/s: {o:.3} emulated, {t:.3} in CPython (both \
         expected small)\n{table}"
    );
}

/// Seconds of the `k`-th squaring of 10 (the bignum load's step `k`) in CPython and here,
/// alternating, the median of three of each.
fn step_seconds(k: u32) -> (f64, f64) {
    let code = format!(
        "import time\nz = 10\nfor _ in range({}): z = z * z\nts = []\nfor _ in range(3):\n    t = time.perf_counter(); y = z * z; ts.append(time.perf_counter() - t)\nprint(sorted(ts)[1])",
        k - 1
    );
    let mut z = PyLong::from_u32(10);
    for _ in 1..k {
        z = z.square();
    }
    let out = Command::new("python3")
        .args(["-c", &code])
        .output()
        .expect("python3 runs");
    let cpython: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("CPython printed seconds");
    let mut ours = [0.0; 3];
    for t in &mut ours {
        let started = Instant::now();
        std::hint::black_box(z.square());
        *t = started.elapsed().as_secs_f64();
    }
    ours.sort_by(f64::total_cmp);
    (cpython, ours[1])
}

#[test]
fn one_bignum_step_lasts_about_as_long_as_in_cpython() {
    let cores = common::two_cores();
    // Steps 19 and 20 square numbers of 0.9 and 1.7 M bits: long enough to time, short enough for
    // a test. The bounds are wide (a test build, a busy machine); `cargo bench --bench pylong`
    // measures the figure itself (FIDELITY.md).
    for k in [19, 20] {
        let (cpython, ours) = step_seconds(k);
        let ratio = ours / cpython;
        eprintln!("step {k}: CPython {cpython:.4} s, gil-lab {ours:.4} s, ratio {ratio:.2}");
        assert!(
            (0.33..=3.0).contains(&ratio),
            "step {k}: z * z took {ours:.4} s here against {cpython:.4} s in CPython ({ratio:.2}x)\n({cores})"
        );
    }
}
