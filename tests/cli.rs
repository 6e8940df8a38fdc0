//! The `gil-lab` command line as a user meets it: help, bad arguments, outputs, and child processes.

mod common;

use common::{gil_lab, stderr};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    common::scratch("cli", name)
}

#[test]
fn smoke() {
    let o = gil_lab(&[
        "sweep",
        "--delays",
        "0.1",
        "--scenarios",
        "thread",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.starts_with("delay_s"), "{out}");
    assert!(out.contains("thread"), "{out}");
}

#[test]
fn help_names_the_commands_and_options() {
    let o = gil_lab(&["--help"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for word in ["sweep", "run", "process"] {
        assert!(text.contains(word), "--help lacks '{word}':\n{text}");
    }
    assert!(
        !text.contains("__isolated"),
        "the internal subcommand is hidden"
    );
    let o = gil_lab(&["sweep", "--help"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for opt in [
        "--delays",
        "--max-delay",
        "--scenarios",
        "--load",
        "--interval-ms",
        "--intervals",
        "--victim",
        "--format",
        "--output",
        "--plot",
        "--quiet",
    ] {
        assert!(text.contains(opt), "sweep --help lacks {opt}");
    }
}

#[test]
fn bad_arguments_exit_2_with_one_sentence_and_write_nothing() {
    let dir = scratch("bad");
    let out = dir.join("out.json");
    let out_s = out.to_str().unwrap();
    let missing_dir = dir.join("no/such/folder/out.json");
    let cases: &[(&[&str], &str)] = &[
        (
            &["sweep", "--scenarios", "thread,threads"],
            "unknown scenario 'threads'",
        ),
        (&["sweep", "--scenarios", "thread,,process"], "empty entry"),
        (&["sweep", "--delays", "1,-2"], "zero or more"),
        (&["sweep", "--victim", "disk"], "unknown victim 'disk'"),
        (&["sweep", "--load", "hashing"], "release"),
        (
            &["sweep", "--intervals", "1,x"],
            "not a number of milliseconds",
        ),
        (
            &["sweep", "--intervals", "1,5", "--delays", "1,2"],
            "give one delay",
        ),
        (
            &["sweep", "--intervals", "1,5", "--interval-ms", "2"],
            "cannot be used with",
        ),
        (&["sweep", "--delays", "one"], "not a number"),
        (&["sweep", "--delays", ""], "empty"),
        (&["sweep", "--delays", "nan"], "zero or more"),
        (&["sweep", "--max-delay", "-1"], "0 to 3600"),
        (&["sweep", "--max-delay", "2.5"], "whole number"),
        (
            &["sweep", "--delays", "1", "--max-delay", "2"],
            "cannot be used with",
        ),
        (&["sweep", "--interval-ms", "0"], "0.01 to 1000"),
        (&["sweep", "--interval-ms", "5000"], "0.01 to 1000"),
        (&["sweep", "--interval-ms", "fast"], "not a number"),
        (&["sweep", "--load", "huge"], "unknown load 'huge'"),
        (&["sweep", "--format", "xml"], "unknown format 'xml'"),
        (&["sweep", "--frobnicate"], "unexpected argument"),
        (&["run", "--scenario", "threads"], "unknown scenario"),
        (&["run"], "--scenario"),
        (
            &["run", "--scenario", "thread", "--seconds", "-1"],
            "zero or more",
        ),
        (
            &[
                "sweep",
                "--delays",
                "0.1",
                "--output",
                dir.to_str().unwrap(),
            ],
            "is a folder",
        ),
        (
            &[
                "sweep",
                "--delays",
                "0.1",
                "--output",
                missing_dir.to_str().unwrap(),
            ],
            "does not exist",
        ),
        (
            &[
                "sweep",
                "--delays",
                "0.1",
                "--plot",
                missing_dir.to_str().unwrap(),
            ],
            "does not exist",
        ),
        (
            &["sweep", "--delays", "0.1", "--output", "/proc/version"],
            "cannot write",
        ),
        (
            &["sweep", "--delays", "oops", "--output", out_s],
            "not a number",
        ),
    ];
    for (args, expected) in cases {
        let o = gil_lab(args);
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?} exited {:?}: {err}",
            o.status
        );
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(
            err.contains(expected),
            "{args:?}: expected '{expected}' in: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?} printed to stdout");
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "bad runs left files behind: {left:?}");
}

#[test]
fn json_has_the_contract_fields() {
    let dir = scratch("json");
    let out = dir.join("sweep.json");
    let plot = dir.join("sweep.svg");
    let o = gil_lab(&[
        "sweep",
        "--delays",
        "0.2,0.4",
        "--scenarios",
        "thread,thread+load,free-thread",
        "--load",
        "short",
        "--interval-ms",
        "2",
        "--format",
        "json",
        "--quiet",
        "--output",
        out.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "with --output nothing goes to stdout");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let config = &json["config"];
    assert_eq!(config["load"], "short");
    assert_eq!(config["switch_interval_ms"], 2.0);
    assert_eq!(config["delays"], serde_json::json!([0.2, 0.4]));
    assert_eq!(
        config["scenarios"],
        serde_json::json!(["thread", "thread+load", "free-thread"])
    );
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    for r in results {
        for field in ["scenario", "delay_s", "count", "elapsed_s", "stop_lag_s"] {
            assert!(!r[field].is_null(), "result lacks {field}: {r}");
        }
        assert!(r["count"].as_u64().unwrap() > 0, "{r}");
        assert!(r["elapsed_s"].as_f64().unwrap() >= r["delay_s"].as_f64().unwrap() * 0.95);
    }
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("thread+load"));
    // Only the two files: no temporary left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
}

#[test]
fn csv_and_markdown_formats() {
    let o = gil_lab(&[
        "sweep",
        "--delays",
        "0.1",
        "--scenarios",
        "thread,process",
        "--format",
        "csv",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("scenario,delay_s,count,elapsed_s,stop_lag_s"),
        "{csv}"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[2].starts_with("process,0.1,"), "{csv}");

    let o = gil_lab(&[
        "sweep",
        "--delays",
        "0.1",
        "--scenarios",
        "thread",
        "--format",
        "markdown",
        "-q",
    ]);
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(md.starts_with("| delay (s) | thread |"), "{md}");
}

#[test]
fn run_prints_the_lock_statistics() {
    let o = gil_lab(&[
        "run",
        "--scenario",
        "thread+load",
        "--seconds",
        "0.5",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    for word in [
        "count",
        "stop lag",
        "controller",
        "incrementer",
        "load",
        "takes",
        "longest",
    ] {
        assert!(out.contains(word), "run output lacks '{word}':\n{out}");
    }
    let o = gil_lab(&["run", "--scenario", "process", "--seconds", "0.2", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["scenario"], "process");
    assert!(json["count"].as_u64().unwrap() > 0);
    // The load's operations one by one: each bignum step's result twice as wide as the last.
    let o = gil_lab(&[
        "run",
        "--scenario",
        "free-thread+load",
        "--seconds",
        "0.2",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ops = json["load_ops"].as_array().expect("load_ops");
    assert!(ops.len() >= 10, "{ops:?}");
    for w in ops.windows(2) {
        let (a, b) = (
            w[0]["bits"].as_u64().unwrap(),
            w[1]["bits"].as_u64().unwrap(),
        );
        assert!(b == 2 * a || b == 2 * a - 1, "{a} then {b}");
        assert!(w[1]["seconds"].as_f64().unwrap() >= 0.0);
    }
}

/// The pid of `parent`'s first child, waiting up to 10 s for it to appear.
fn child_of(parent: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for task in std::fs::read_dir(format!("/proc/{parent}/task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            if let Some(pid) = children.split_whitespace().next() {
                return pid.parse().unwrap();
            }
        }
        assert!(Instant::now() < deadline, "no child process appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `pid` still runs (a zombie waiting to be reaped does not count).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

fn wait_gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill has no memory effects; the pid belongs to a process this test started.
    assert_eq!(unsafe { libc::kill(pid as i32, sig) }, 0);
}

#[test]
fn a_killed_child_fails_the_run_at_once_with_a_message() {
    let parent = Command::new(env!("CARGO_BIN_EXE_gil-lab"))
        .args(["run", "--scenario", "process", "--seconds", "30", "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let child = child_of(parent.id());
    std::thread::sleep(Duration::from_millis(300));
    signal(child, libc::SIGKILL);
    let started = Instant::now();
    let o = parent.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the parent noticed late"
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("child process died"), "{}", stderr(&o));
}

#[test]
fn an_interrupted_parent_leaves_no_child_behind() {
    for sig in [libc::SIGINT, libc::SIGKILL] {
        let mut parent = Command::new(env!("CARGO_BIN_EXE_gil-lab"))
            .args([
                "run",
                "--scenario",
                "process+load",
                "--seconds",
                "30",
                "--quiet",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let child = child_of(parent.id());
        std::thread::sleep(Duration::from_millis(300));
        assert!(running(child));
        signal(parent.id(), sig);
        parent.wait().unwrap();
        assert!(
            wait_gone(child),
            "child {child} outlived its parent (signal {sig})"
        );
    }
}

#[test]
fn no_shared_memory_files_are_left() {
    let before = shm_entries();
    let o = gil_lab(&[
        "run",
        "--scenario",
        "process",
        "--seconds",
        "0.1",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(shm_entries(), before);
}

fn shm_entries() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new("/dev/shm"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}
