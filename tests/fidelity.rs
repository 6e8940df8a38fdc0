//! The emulation beside real CPython (`reference/gil_experiment.py`), in one test run.
//!
//! Both must tell the same story: with the bignum load the thread starves and the process does
//! not; with the short load the thread's share under the lock is about the same. Where they
//! disagree, the failure prints both tables side by side. Needs `python3` (CPython 3.8+) on PATH,
//! which `cargo xtask test` checks for; a missing Python fails here rather than skipping.

use gil_lab::platform::native::NativePlatform;
use gil_lab::reference::{check_python, run_reference, side_by_side, ReferenceReport, Values};
use gil_lab::scenario::{Scenario, SweepConfig, SweepReport};
use gil_lab::workload::Load;
use gil_lab::{run, RunConfig};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

static SERIAL: Mutex<()> = Mutex::new(());

fn both(load: Load, scenarios: &[Scenario]) -> (SweepReport, ReferenceReport, String) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let python = Path::new("python3");
    check_python(python).unwrap_or_else(|e| panic!("{e}"));
    let config = SweepConfig {
        load,
        delays: vec![Duration::from_secs(2)],
        scenarios: scenarios.to_vec(),
        ..SweepConfig::default()
    };
    let platform = NativePlatform::with_child_exe(env!("CARGO_BIN_EXE_gil-lab"));
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

fn ratios(ours: &SweepReport, theirs: &ReferenceReport, s: Scenario) -> (f64, f64) {
    let r = |count: u64, alone: u64| count as f64 / alone.max(1) as f64;
    let o = r(
        ours.get(s, 2.0).unwrap().count,
        ours.get(s.alone(), 2.0).unwrap().count,
    );
    let t = r(
        theirs.get(s, 2.0).unwrap().count,
        theirs.get(s.alone(), 2.0).unwrap().count,
    );
    (o, t)
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
    let (ours, theirs, table) = both(Load::SHORT, &[Scenario::Thread, Scenario::ThreadLoad]);
    let (o, t) = ratios(&ours, &theirs, Scenario::ThreadLoad);
    assert!(
        (o - t).abs() <= 0.25,
        "short load: thread+load/thread is {o:.3} emulated but {t:.3} in CPython\n{table}"
    );
}
