//! The lock's timeline from real native runs: spans agree with the lock's own statistics, the
//! Chrome trace follows the format's rules, and the CLI writes `--trace` and `--timeline` files
//! (or refuses, with a sentence and no file).

mod common;

use common::{gil_lab, stderr};

use gil_lab::report::{chrome_trace, svg_timeline};
use gil_lab::runner::{CONTROLLER, INCREMENTER, LOAD};
use gil_lab::timeline::{Recorder, Timeline};
use gil_lab::workload::Load;
use gil_lab::{run, RunConfig, RunResult, Scenario};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One short run with a log big enough to keep every event.
fn recorded(scenario: Scenario, load: Load, delay: Duration) -> (RunConfig, RunResult, Timeline) {
    // Measuring: not beside another measuring test, in this binary or another.
    let _cores = common::two_cores();
    let cfg = RunConfig {
        load,
        ..RunConfig::new(scenario, delay)
    };
    let mut recorder = Recorder::new(&cfg);
    let platform = common::platform();
    let result = run(&platform, &cfg, Some(recorder.log()), &mut |p| {
        recorder.observe(&p)
    })
    .unwrap_or_else(|e| panic!("{scenario}: {e}"));
    let timeline = recorder.finish(scenario, &result);
    assert_eq!(timeline.lost, 0, "the log kept every event");
    (cfg, result, timeline)
}

/// Whether `from_spans` agrees with the lock's own `held_s` within 1 %, give or take the log's
/// resolution: each hold's two ends are stamped in whole microseconds.
fn agrees(from_spans: f64, held_s: f64, holds: usize) -> bool {
    (from_spans - held_s).abs() <= 0.01 * held_s + 2e-6 * holds as f64
}

#[test]
fn smoke_held_time_from_spans_agrees_with_the_lock_statistics() {
    let (_, result, t) = recorded(
        Scenario::ThreadLoad,
        Load::SHORT,
        Duration::from_millis(300),
    );
    let mut report = String::new();
    for worker in [CONTROLLER, INCREMENTER, LOAD] {
        let lane = t.lane(worker).expect("a lane per worker");
        let stats = Timeline::lock_stats(&result, worker).expect("a shared lock's statistics");
        let held = lane.shares(u64::MAX).held_s();
        report += &format!(
            "worker {worker}: spans {held:.6} s, lock {:.6} s, {} holds, {} takes\n",
            stats.held_s,
            lane.holds().len(),
            stats.takes
        );
        assert!(
            agrees(held, stats.held_s, lane.holds().len()),
            "held time disagrees:\n{report}"
        );
        // A drop and a re-take by the same thread within one microsecond read as one hold.
        let holds = lane.holds().len() as u64;
        assert!(holds <= stats.takes && holds >= 1, "{report}");
        assert_eq!(
            lane.requests.len() as u64,
            stats.requests_raised,
            "drop requests of worker {worker}"
        );
        assert!(lane.exited, "worker {worker} left");
    }
    eprintln!("{report}");
    // Both threads really took turns, and the controller's moments are in order.
    assert!(t.lanes[1].holds().len() >= 2 && t.lanes[2].holds().len() >= 2);
    let (go, woke, cleared) = (
        t.go_us,
        t.woke_us.expect("woke"),
        t.flag_cleared_us.expect("cleared"),
    );
    assert!(
        go > 0 && go < woke && woke <= cleared,
        "{go} {woke} {cleared}"
    );
    // The controller slept its 0.3 s (give or take its wake-up).
    let slept = (woke - go) as f64 / 1e6;
    assert!((0.29..0.6).contains(&slept), "slept {slept} s");
}

/// Every rule of the Chrome Trace Event Format that Perfetto and chrome://tracing rely on.
fn check_trace_rules(text: &str) -> Value {
    let v: Value = serde_json::from_str(text).expect("the trace parses as JSON");
    assert_eq!(v["displayTimeUnit"], "ms");
    let events = v["traceEvents"].as_array().expect("traceEvents is a list");
    let mut named_threads = BTreeSet::new();
    let mut named_processes = BTreeSet::new();
    let mut used = BTreeSet::new();
    let mut slices: BTreeMap<(u64, u64), Vec<(u64, u64)>> = BTreeMap::new();
    for e in events {
        for key in ["ph", "ts", "pid", "tid", "name"] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
        let (pid, tid) = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
        let ts = e["ts"]
            .as_u64()
            .expect("ts is a whole number of microseconds");
        match e["ph"].as_str().unwrap() {
            "M" => {
                let name = e["name"].as_str().unwrap();
                if name == "thread_name" {
                    assert!(e["args"]["name"].as_str().is_some_and(|n| !n.is_empty()));
                    named_threads.insert((pid, tid));
                }
                if name == "process_name" {
                    assert!(e["args"]["name"].as_str().is_some_and(|n| !n.is_empty()));
                    named_processes.insert(pid);
                }
            }
            "X" => {
                let dur = e["dur"].as_u64().expect("X has a dur >= 0");
                slices.entry((pid, tid)).or_default().push((ts, ts + dur));
                used.insert((pid, tid));
            }
            "i" => {
                assert!(
                    matches!(e["s"].as_str(), Some("t" | "p" | "g")),
                    "instant scope: {e}"
                );
                used.insert((pid, tid));
            }
            other => panic!("unexpected phase {other}: {e}"),
        }
    }
    for track in &used {
        assert!(named_threads.contains(track), "track {track:?} has no name");
        assert!(
            named_processes.contains(&track.0),
            "process {} unnamed",
            track.0
        );
    }
    // On one thread, slices either follow each other or nest entirely.
    for (track, mut list) in slices {
        list.sort_by_key(|&(s, e)| (s, std::cmp::Reverse(e)));
        let mut open: Vec<(u64, u64)> = Vec::new();
        for (s, e) in list {
            while open.last().is_some_and(|&(_, oe)| oe <= s) {
                open.pop();
            }
            if let Some(&(_, oe)) = open.last() {
                assert!(
                    e <= oe,
                    "{track:?}: [{s}, {e}] overlaps a slice ending at {oe}"
                );
            }
            open.push((s, e));
        }
    }
    v
}

/// Sum of `holding` slices per thread id, in seconds.
fn held_by_tid(v: &Value) -> BTreeMap<u64, f64> {
    let mut out = BTreeMap::new();
    for e in v["traceEvents"].as_array().unwrap() {
        if e["ph"] == "X" && e["name"] == "holding" {
            *out.entry(e["tid"].as_u64().unwrap()).or_default() +=
                e["dur"].as_u64().unwrap() as f64 / 1e6;
        }
    }
    out
}

#[test]
fn trace_of_a_real_run_follows_the_format_and_sums_to_the_lock_statistics() {
    let (cfg, result, t) = recorded(
        Scenario::ThreadLoad,
        Load::SHORT,
        Duration::from_millis(300),
    );
    let v = check_trace_rules(&chrome_trace(&t, &cfg, &result));
    let held = held_by_tid(&v);
    for w in &result.workers {
        let stats = w.lock.as_ref().expect("statistics");
        let lane = t.lane(w.worker).unwrap();
        let from_trace = held.get(&u64::from(w.worker)).copied().unwrap_or(0.0);
        assert!(
            agrees(from_trace, stats.held_s, lane.holds().len()),
            "worker {}: trace {from_trace} s, lock {} s",
            w.worker,
            stats.held_s
        );
    }
    let instants: Vec<&str> = v["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "i")
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(instants.contains(&"controller wakes") && instants.contains(&"flag cleared"));
}

#[test]
fn process_and_free_runs_give_their_own_tracks() {
    let (cfg, result, t) = recorded(
        Scenario::ProcessLoad,
        Load::BIGNUM,
        Duration::from_millis(200),
    );
    let v = check_trace_rules(&chrome_trace(&t, &cfg, &result));
    // The child's incrementer is a process of its own, drawn from its result.
    let inc = held_by_tid(&v)[&u64::from(INCREMENTER)];
    assert!(
        (inc - result.elapsed_s).abs() < 0.01 * result.elapsed_s + 1e-5,
        "{inc} vs {}",
        result.elapsed_s
    );
    assert!(v["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["pid"] == 2 && e["name"] == "holding"));
    // The load's operations are instants on its lane.
    assert!(!t.lanes[2].op_starts.is_empty());
    assert_eq!(
        t.lanes[2].op_starts.len() as u64,
        result.load.as_ref().unwrap().ops,
        "one start per operation (an operation, once started, always ends)"
    );

    let (cfg, result, t) = recorded(
        Scenario::FreeThreadLoad,
        Load::SHORT,
        Duration::from_millis(200),
    );
    let v = check_trace_rules(&chrome_trace(&t, &cfg, &result));
    let runs: Vec<&Value> = v["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "running, no lock")
        .collect();
    assert_eq!(runs.len(), 2, "incrementer and load run with no lock");
    let inc = runs.iter().find(|e| e["tid"] == 2).unwrap();
    let dur_s = inc["dur"].as_u64().unwrap() as f64 / 1e6;
    assert!(
        (dur_s - result.elapsed_s).abs() < 0.01 * result.elapsed_s,
        "{dur_s}"
    );
    assert!(
        t.go_us > 0,
        "the start signal is dated by the progress readings"
    );
    let svg = svg_timeline(&t, &cfg);
    assert_eq!(svg.matches("<g data-worker=").count(), 3);
}

// ---- The command line ----

fn scratch(name: &str) -> PathBuf {
    common::scratch("trace", name)
}

fn only_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn run_writes_a_trace_and_a_timeline() {
    let dir = scratch("run");
    let (json, svg) = (dir.join("t.json"), dir.join("t.svg"));
    let o = gil_lab(&[
        "run",
        "--scenario",
        "thread+load",
        "--load",
        "short",
        "--seconds",
        "0.2",
        "--quiet",
        "--trace",
        json.to_str().unwrap(),
        "--timeline",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    check_trace_rules(&std::fs::read_to_string(&json).unwrap());
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
    assert_eq!(svg.matches("<g data-worker=").count(), 3);
    assert_eq!(
        only_files(&dir),
        ["t.json", "t.svg"],
        "no temporary file left"
    );
}

#[test]
fn bad_trace_or_timeline_paths_exit_2_with_a_sentence_and_no_file() {
    let dir = scratch("bad");
    let missing = dir.join("no-such-folder").join("t.json");
    let o = gil_lab(&[
        "run",
        "--scenario",
        "thread",
        "--seconds",
        "0.1",
        "--trace",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    let o = gil_lab(&[
        "run",
        "--scenario",
        "thread",
        "--seconds",
        "0.1",
        "--timeline",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a folder"), "{}", stderr(&o));
    // A file where the sweep's trace folder should be.
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = gil_lab(&[
        "sweep",
        "--delays",
        "0.1",
        "--scenarios",
        "thread",
        "--quiet",
        "--trace",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is a file; --trace needs a folder"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty(), "nothing ran");
    assert_eq!(only_files(&dir), ["a-file"]);
}

#[test]
fn sweep_writes_one_trace_per_run_into_a_new_folder() {
    let dir = scratch("sweep").join("traces");
    let o = gil_lab(&[
        "sweep",
        "--delays",
        "0.05,0.1,0.1",
        "--scenarios",
        "thread,process",
        "--quiet",
        "--trace",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        only_files(&dir),
        [
            "process-0.05s.json",
            "process-0.1s-2.json",
            "process-0.1s.json",
            "thread-0.05s.json",
            "thread-0.1s-2.json",
            "thread-0.1s.json",
        ]
    );
    let v = check_trace_rules(&std::fs::read_to_string(dir.join("process-0.1s.json")).unwrap());
    assert_eq!(v["otherData"]["scenario"], "process");
    assert_eq!(v["otherData"]["delay_s"], 0.1);
}
