//! `gil-lab scale`, ccbench's throughput test, as a user runs it: bad arguments, the JSON, and the
//! phenomenon (threads under one lock stay near one worker's throughput; processes and free
//! threads grow with the cores; C code that releases the lock lets threads grow too).

mod common;

use common::{gil_lab, stderr};
use serde_json::Value;
use std::time::{Duration, Instant};

/// `gil-lab scale ARGS --format json -q`, parsed; panics with stderr on failure.
fn scale_json(args: &[&str]) -> Value {
    let mut all = vec!["scale"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json", "-q"]);
    let o = gil_lab(&all);
    assert!(o.status.success(), "scale {args:?} failed: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("scale prints JSON")
}

/// The result of `mode` at `workers`.
fn result<'a>(v: &'a Value, mode: &str, workers: u64) -> &'a Value {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == mode && r["workers"] == workers)
        .unwrap_or_else(|| panic!("no {mode} at {workers} in {v}"))
}

fn speedup(v: &Value, mode: &str, workers: u64) -> f64 {
    result(v, mode, workers)["speedup"]
        .as_f64()
        .unwrap_or_else(|| panic!("{mode} at {workers} has no speedup: {v}"))
}

#[test]
fn help_names_scale_and_its_options_and_hides_the_worker_subcommand() {
    let o = gil_lab(&["--help"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("scale"), "{text}");
    assert!(!text.contains("__scale-worker"), "{text}");
    let o = gil_lab(&["scale", "--help"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for opt in [
        "--workers",
        "--modes",
        "--load",
        "--seconds",
        "--interval",
        "--format",
        "--output",
        "--plot",
        "--quiet",
    ] {
        assert!(text.contains(opt), "scale --help lacks {opt}:\n{text}");
    }
}

#[test]
fn bad_arguments_exit_2_with_a_sentence_and_measure_nothing() {
    let dir = common::scratch("scale", "bad");
    let missing = dir.join("no/such/folder/out.json");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--workers", "0"],
            "the worker count 0 is out of range; choose from 1 to 8",
        ),
        (&["--workers", "1,9"], "the worker count 9 is out of range"),
        (&["--workers", "1,,2"], "empty entry"),
        (&["--workers", "two"], "not a whole number"),
        (
            &["--modes", "thread,threads"],
            "unknown mode 'threads'; use one or more of: thread, process, interpreter, free-thread",
        ),
        (&["--seconds", "0"], "must be more than 0 seconds"),
        (&["--seconds", "-1"], "must be more than 0 seconds"),
        (&["--seconds", "601"], "longer than 600 s"),
        (&["--seconds", "soon"], "not a number of seconds"),
        (&["--load", "hashing"], "unknown load 'hashing'"),
        (&["--format", "xml"], "unknown format 'xml'"),
        (&["--interval", "0"], "out of range"),
        (&["-o", missing.to_str().unwrap()], "does not exist"),
    ];
    for (args, expected) in cases {
        let started = Instant::now();
        let mut all = vec!["scale"];
        all.extend_from_slice(args);
        let o = gil_lab(&all);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(expected),
            "{args:?}: expected '{expected}' in: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?} printed a result");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{args:?} took {:?}: it measured before checking",
            started.elapsed()
        );
    }
}

#[test]
fn the_json_has_config_and_one_result_per_mode_and_count_and_the_plot_is_written() {
    let _cores = common::two_cores();
    let dir = common::scratch("scale", "json");
    let out = dir.join("scale.json");
    let plot = dir.join("scale.svg");
    let o = gil_lab(&[
        "scale",
        "--workers",
        "2,1",
        "--modes",
        "thread,process,interpreter,free-thread",
        "--seconds",
        "0.2",
        "--format",
        "json",
        "-q",
        "-o",
        out.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "with -o nothing goes to stdout");
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let c = &v["config"];
    assert_eq!(c["load"], "short");
    assert_eq!(c["seconds"], 0.2);
    assert_eq!(c["op_us"], 5.0);
    assert_eq!(c["interval_ms"], 5.0);
    assert_eq!(c["workers"], serde_json::json!([1, 2]));
    assert_eq!(
        c["modes"],
        serde_json::json!(["thread", "process", "interpreter", "free-thread"])
    );
    assert_eq!(c["speedup_base_workers"], 1);
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(c["cores"], cores as u64);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 8, "{v}");
    for r in results {
        let ops = r["ops"].as_u64().unwrap();
        let elapsed = r["elapsed_s"].as_f64().unwrap();
        let rate = r["ops_per_s"].as_f64().unwrap();
        let worker_ops: Vec<u64> = r["worker_ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_u64().unwrap())
            .collect();
        assert_eq!(
            worker_ops.len() as u64,
            r["workers"].as_u64().unwrap(),
            "{r}"
        );
        assert_eq!(worker_ops.iter().sum::<u64>(), ops, "{r}");
        assert!(
            worker_ops.iter().all(|&w| w > 0),
            "every worker worked: {r}"
        );
        // From the start to the last worker's end: at least the 0.2 s, at most a few seconds.
        assert!((0.2..5.0).contains(&elapsed), "{r}");
        assert!((rate - ops as f64 / elapsed).abs() <= 1e-6 * rate, "{r}");
        let s = r["speedup"].as_f64().unwrap();
        if r["workers"] == 1 {
            assert_eq!(s, 1.0, "{r}");
        }
    }
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.starts_with("<svg ") && svg.ends_with("</svg>\n"),
        "{svg}"
    );
    for mode in ["thread", "process", "interpreter", "free-thread", "ideal"] {
        assert!(
            svg.contains(&format!("data-mode=\"{mode}\"")),
            "{mode}: {svg}"
        );
    }
}

/// The short load's operation: the most one worker on a free core can do is about one per this.
const SHORT_OP_S: f64 = 5e-6;

/// Says on stderr, past the test harness's capture (which hides a passing test's `eprintln!`),
/// that a bound was not checked and why.
fn skipped(bound: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "!!! SKIPPED the bound {bound}: it needs two free cores, and {why}"
    );
}

/// Why a bound that needs two free cores cannot be checked now, if it cannot.
fn two_cores_missing(cores: &common::Cores, one_worker_rate: Option<f64>) -> Option<String> {
    let k = std::thread::available_parallelism().map_or(1, |n| n.get());
    if k < 2 {
        return Some(format!("this machine offers {k} core"));
    }
    if cores.free < 1.7 {
        return Some(cores.to_string());
    }
    if let Some(rate) = one_worker_rate {
        // One worker alone on a free core does about 1 / 5 us; far less means it did not get one.
        if rate < 0.6 / SHORT_OP_S {
            return Some(format!(
                "one worker did only {rate:.0} ops/s of the short load (a free core does about {:.0})",
                1.0 / SHORT_OP_S
            ));
        }
    }
    None
}

#[test]
fn threads_stay_near_one_worker_while_processes_and_free_threads_grow() {
    let cores = common::two_cores();
    let v = scale_json(&[
        "--workers",
        "1,2",
        "--modes",
        "thread,process,free-thread",
        "--load",
        "short",
        "--seconds",
        "0.5",
    ]);
    // One lock: two threads do no more than one, whatever the cores (the switches cost a little).
    let thread = speedup(&v, "thread", 2);
    assert!(
        thread <= 1.3,
        "two threads under one lock did {thread:.2}x one thread's work ({cores}): {v}"
    );
    // Nor much less, where the two measurements had the cores to themselves: the hand-offs every
    // 5 ms cost little.
    let one = result(&v, "thread", 1)["ops_per_s"].as_f64().unwrap();
    match two_cores_missing(&cores, Some(one)) {
        Some(why) => skipped(
            &format!("thread speedup >= 0.7 at 2 workers (measured {thread:.2}x)"),
            &why,
        ),
        None => assert!(
            thread >= 0.7,
            "two threads under one lock did only {thread:.2}x one thread's work ({cores}): {v}"
        ),
    }
    for mode in ["process", "free-thread"] {
        let one = result(&v, mode, 1)["ops_per_s"].as_f64().unwrap();
        let s = speedup(&v, mode, 2);
        match two_cores_missing(&cores, Some(one)) {
            Some(why) => skipped(
                &format!("{mode} speedup >= 1.5 at 2 workers (measured {s:.2}x)"),
                &why,
            ),
            None => assert!(
                s >= 1.5,
                "two {mode} workers did only {s:.2}x one's work ({cores}): {v}"
            ),
        }
    }
}

#[test]
fn with_c_code_that_releases_the_lock_threads_grow_too() {
    let cores = common::two_cores();
    let v = scale_json(&[
        "--workers",
        "1,2",
        "--modes",
        "thread",
        "--load",
        "release",
        "--seconds",
        "1",
    ]);
    let s = speedup(&v, "thread", 2);
    match two_cores_missing(&cores, None) {
        Some(why) => skipped(
            &format!("release-load thread speedup >= 1.3 at 2 workers (measured {s:.2}x)"),
            &why,
        ),
        None => assert!(
            s >= 1.3,
            "two threads hashing with the lock released did only {s:.2}x one's work ({cores}): {v}"
        ),
    }
}

#[test]
fn without_quiet_the_table_goes_to_stdout_and_the_verdict_to_stderr() {
    let _cores = common::two_cores();
    let o = gil_lab(&[
        "scale",
        "--workers",
        "1,2",
        "--modes",
        "thread",
        "--seconds",
        "0.2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8(o.stdout.clone()).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0].trim(), "thread", "{table}");
    assert!(
        lines[1].starts_with("workers") && lines[1].contains("ops/s"),
        "{table}"
    );
    assert!(lines[2].trim_start().starts_with('1') && lines[3].trim_start().starts_with('2'));
    let cores = std::thread::available_parallelism().unwrap().get();
    assert!(table.contains(&format!("cores: {cores};")), "{table}");
    assert!(!table.contains("verdict"), "{table}");
    let err = stderr(&o);
    assert!(
        err.contains("verdict:") && err.contains("thread: 2 workers do "),
        "{err}"
    );
}

#[test]
fn ctrl_c_stops_the_worker_processes_and_writes_no_output_file() {
    let dir = common::scratch("scale", "sigint");
    let out = dir.join("scale.json");
    // Ctrl-C in a terminal signals the whole job; `kill -INT` signals only the parent.
    for to_group in [true, false] {
        let mut parent = common::spawn_job(&[
            "scale",
            "--workers",
            "2",
            "--modes",
            "process",
            "--seconds",
            "30",
            "-q",
            "-o",
            out.to_str().unwrap(),
        ]);
        let pid = parent.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        let children = loop {
            let found = common::descendants(pid);
            if found.len() >= 2 {
                break found;
            }
            assert!(
                Instant::now() < deadline,
                "the worker processes did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(200));
        let target = if to_group { -(pid as i32) } else { pid as i32 };
        // SAFETY: kill has no memory effects; the pid (or group) is this test's.
        assert_eq!(unsafe { libc::kill(target, libc::SIGINT) }, 0);
        let status = parent.wait().unwrap();
        assert!(!status.success(), "an interrupted scale exited {status}");
        let left = common::still_running(&children, Duration::from_secs(5));
        assert!(
            left.is_empty(),
            "worker processes {left:?} outlived the interrupted scale (group: {to_group})"
        );
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert!(files.is_empty(), "an interrupted scale left {files:?}");
    }
}
