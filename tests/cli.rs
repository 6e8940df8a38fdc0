//! The `gil-lab` command line as a user meets it: help, bad arguments, outputs, and child processes.

mod common;

use common::{descendants, gil_lab, running, spawn_job, stderr, still_running};

use std::path::PathBuf;
use std::process::Stdio;
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
    }
    // Each operation's own time, not a running total or a constant: every one took some time;
    // those before the last (which may end after the stop) together no longer than the run; the
    // last (thousands of bits or more) far longer than the first (a few).
    let seconds: Vec<f64> = ops.iter().map(|o| o["seconds"].as_f64().unwrap()).collect();
    assert!(seconds.iter().all(|&s| s > 0.0), "{seconds:?}");
    let before_last: f64 = seconds[..seconds.len() - 1].iter().sum();
    let run_s = json["elapsed_s"].as_f64().unwrap() + json["stop_lag_s"].as_f64().unwrap();
    assert!(
        before_last <= run_s,
        "operations took {before_last} s in a {run_s} s run: {seconds:?}"
    );
    let (first, last) = (seconds[0], seconds[seconds.len() - 1]);
    assert!(last > 100.0 * first, "first step {first} s, last {last} s");
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
    let parent =
        common::gil_lab_command(&["run", "--scenario", "process", "--seconds", "30", "--quiet"])
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
        let mut parent = common::gil_lab_command(&[
            "run",
            "--scenario",
            "process+load",
            "--seconds",
            "30",
            "--quiet",
        ])
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

/// The inode of the `gil-lab-shared` memfd that `pid` has mapped, if any (from its maps: the
/// fifth field is the inode, the sixth the name).
fn shared_memfd(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.contains("/memfd:gil-lab-shared"))
        .and_then(|l| l.split_whitespace().nth(4).map(str::to_string))
}

#[test]
fn parent_and_child_share_an_anonymous_memfd_and_nothing_named() {
    // A memfd has no name in any file system, so a killed run can leave nothing behind: no
    // /dev/shm entry (as shm_open would), no temporary file. Both processes map the same one.
    let mut parent =
        common::gil_lab_command(&["run", "--scenario", "process", "--seconds", "30", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
    let child = child_of(parent.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mine, its) = loop {
        if let (Some(a), Some(b)) = (shared_memfd(parent.id()), shared_memfd(child)) {
            break (a, b);
        }
        assert!(
            Instant::now() < deadline,
            "no gil-lab-shared memfd mapped by parent and child"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let open_files: Vec<String> = std::fs::read_dir(format!("/proc/{child}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    parent.kill().unwrap();
    parent.wait().unwrap();
    assert_eq!(mine, its, "parent and child map different memfds");
    assert_ne!(mine, "0", "an anonymous mapping, not a memfd");
    assert!(
        !open_files
            .iter()
            .any(|p| p.starts_with("/dev/shm") || p.starts_with("/tmp")),
        "the child holds a named file: {open_files:?}"
    );
    assert!(wait_gone(child), "child {child} outlived its killed parent");
}

#[test]
fn without_quiet_the_verdict_goes_to_stderr_and_stdout_stays_a_clean_table() {
    let o = gil_lab(&[
        "sweep",
        "--delays",
        "0.3",
        "--scenarios",
        "thread,thread+load",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    let err = stderr(&o);
    // stdout: the header, one row with the header's columns, a blank line and the stop lags;
    // nothing else.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "stdout:\n{out}");
    assert!(lines[0].starts_with("delay_s"), "{out}");
    let columns = lines[0].split_whitespace().count();
    assert_eq!(lines[1].split_whitespace().count(), columns, "{out}");
    assert!(lines[1].trim_start().starts_with("0.3 "), "{out}");
    assert_eq!(lines[2], "", "{out}");
    assert!(lines[3].starts_with("stop lag (max): thread "), "{out}");
    assert!(
        !out.contains("verdict"),
        "the verdict leaked into stdout:\n{out}"
    );
    assert!(!out.contains('\x1b'), "terminal codes in stdout:\n{out:?}");
    // stderr: the verdict, naming the starved thread.
    let verdict = err
        .split_once("verdict:")
        .unwrap_or_else(|| panic!("no verdict on stderr:\n{err}"))
        .1;
    assert!(verdict.contains("thread"), "{err}");
    assert!(verdict.lines().filter(|l| !l.trim().is_empty()).count() >= 1);
    // The same run with --quiet prints no verdict, and the same stdout shape.
    let q = gil_lab(&[
        "sweep",
        "--delays",
        "0.3",
        "--scenarios",
        "thread,thread+load",
        "-q",
    ]);
    assert!(!stderr(&q).contains("verdict"), "{}", stderr(&q));
    let quiet_out = String::from_utf8(q.stdout).unwrap();
    assert_eq!(quiet_out.lines().next(), lines.first().copied());
}

#[test]
fn an_interval_sweep_has_one_row_per_interval_and_no_single_interval() {
    let o = gil_lab(&[
        "sweep",
        "--intervals",
        "1,5",
        "--delays",
        "0.2",
        "--scenarios",
        "thread,thread+load",
        "--load",
        "short",
        "--format",
        "json",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let config = &json["config"];
    assert!(
        config["switch_interval_ms"].is_null(),
        "several intervals, so no single one: {config}"
    );
    assert_eq!(config["switch_intervals_ms"], serde_json::json!([1.0, 5.0]));
    assert_eq!(config["delays"], serde_json::json!([0.2]));
    let runs: Vec<(String, f64)> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["scenario"].as_str().unwrap().to_string(),
                r["switch_interval_ms"].as_f64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, f64)> = [
        ("thread", 1.0),
        ("thread+load", 1.0),
        ("thread", 5.0),
        ("thread+load", 5.0),
    ]
    .iter()
    .map(|(s, i)| (s.to_string(), *i))
    .collect();
    assert_eq!(runs, expected);
    // The table: a row per interval.
    let o = gil_lab(&[
        "sweep",
        "--intervals",
        "1,5",
        "--delays",
        "0.1",
        "--scenarios",
        "thread",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8(o.stdout).unwrap();
    let rows: Vec<&str> = table.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 3, "a header and a row per interval:\n{table}");
}

#[test]
fn ctrl_c_during_a_sweep_stops_it_with_no_child_and_no_output_file() {
    let dir = scratch("sigint-sweep");
    let out = dir.join("sweep.json");
    // Ctrl-C in a terminal signals the whole job; `kill -INT` signals only the parent.
    for to_group in [true, false] {
        let mut parent = spawn_job(&[
            "sweep",
            "--delays",
            "30",
            "--scenarios",
            "process+load",
            "--format",
            "json",
            "-q",
            "--output",
            out.to_str().unwrap(),
        ]);
        let pid = parent.id();
        let child = child_of(pid);
        std::thread::sleep(Duration::from_millis(300));
        assert!(running(child));
        let target = if to_group { -(pid as i32) } else { pid as i32 };
        // SAFETY: kill has no memory effects; the pid (or group) is this test's.
        assert_eq!(unsafe { libc::kill(target, libc::SIGINT) }, 0);
        let started = Instant::now();
        let status = parent.wait().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the sweep took {:?} to stop",
            started.elapsed()
        );
        assert!(!status.success(), "an interrupted sweep exited {status}");
        assert!(
            wait_gone(child),
            "child {child} outlived the interrupted sweep (group: {to_group})"
        );
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert!(left.is_empty(), "an interrupted sweep left {left:?}");
    }
}

#[test]
fn a_run_dying_part_way_writes_no_output_file() {
    let dir = scratch("died");
    let out = dir.join("sweep.json");
    let parent = common::gil_lab_command(&[
        "sweep",
        "--delays",
        "0.2,30",
        "--scenarios",
        "process",
        "--format",
        "json",
        "-q",
        "--output",
        out.to_str().unwrap(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // The first run (0.2 s) ends; the child of the second one is then killed.
    let first = child_of(parent.id());
    assert!(wait_gone(first), "the first run's child did not end");
    let deadline = Instant::now() + Duration::from_secs(10);
    let second = loop {
        if let Some(&c) = descendants(parent.id()).iter().find(|&&c| c != first) {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "the second run's child did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(300));
    signal(second, libc::SIGKILL);
    let o = parent.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("process at 30 s") && err.contains("child process died"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "with --output nothing goes to stdout");
    // Nothing at all: not the first run's result, not a temporary file.
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert!(left.is_empty(), "a failed sweep left {left:?}");
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn ctrl_c_during_the_cpython_reference_leaves_no_python_process() {
    // Ctrl-C in a terminal signals the whole job; `kill -INT` signals only gil-lab.
    for to_group in [true, false] {
        // gil-lab's own run first (3 s), then CPython's, whose `multiprocessing` starts the
        // incrementer's process: interrupt then.
        let mut parent = spawn_job(&[
            "sweep",
            "--delays",
            "3",
            "--scenarios",
            "process",
            "--reference",
            "python",
            "--python",
            "python3",
            "-q",
        ]);
        let pid = parent.id();
        let deadline = Instant::now() + Duration::from_secs(30);
        let pythons = loop {
            let pythons: Vec<u32> = descendants(pid)
                .into_iter()
                .filter(|&p| comm(p).starts_with("python"))
                .collect();
            // CPython's main process and at least one multiprocessing child.
            if pythons.len() >= 2 {
                break pythons;
            }
            assert!(
                Instant::now() < deadline,
                "CPython's processes did not appear: {:?}",
                descendants(pid)
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(300));
        let all = descendants(pid);
        let target = if to_group { -(pid as i32) } else { pid as i32 };
        // SAFETY: kill has no memory effects; the pid (or group) is this test's.
        assert_eq!(unsafe { libc::kill(target, libc::SIGINT) }, 0);
        let status = parent.wait().unwrap();
        assert!(!status.success(), "an interrupted sweep exited {status}");
        let left = still_running(&all, Duration::from_secs(10));
        assert!(
            left.is_empty(),
            "interrupted during CPython's run (group: {to_group}): {left:?} still run \
             (CPython's processes were {pythons:?}); {:?}",
            left.iter().map(|&p| comm(p)).collect::<Vec<_>>()
        );
    }
}
