//! Real CPython beside the emulation: runs `reference/gil_experiment.py` (embedded in the binary)
//! with the same settings as a sweep and reads back its JSON, which has the same shape as
//! `gil-lab sweep --format json`.

use crate::report::Json;
use crate::scenario::{Scenario, SweepConfig, SweepReport};
use crate::workload::{Load, Victim};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The reference experiment, as it is in `reference/gil_experiment.py`.
pub const SCRIPT: &str = include_str!("../reference/gil_experiment.py");

/// The scenarios CPython can run with a GIL (the free ones need a free-threaded build).
pub fn supported(scenario: Scenario) -> bool {
    Scenario::SEED.contains(&scenario) || scenario.in_subinterpreter()
}

/// How the reference shares its counter and flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// `multiprocessing.Value` with its own lock, as the seed.
    Synchronized,
    /// `multiprocessing.Value(lock=False)`: plain shared memory.
    Raw,
}

impl Values {
    /// The name the script takes.
    pub fn name(self) -> &'static str {
        match self {
            Values::Synchronized => "synchronized",
            Values::Raw => "raw",
        }
    }
}

impl std::str::FromStr for Values {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "synchronized" => Ok(Values::Synchronized),
            "raw" => Ok(Values::Raw),
            other => Err(format!(
                "unknown kind of values '{other}'; use synchronized (the seed's multiprocessing.Value) or raw (lock=False)"
            )),
        }
    }
}

/// One result of the reference run.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ReferenceResult {
    /// Scenario name.
    pub scenario: String,
    /// The controller's sleep, in seconds.
    pub delay_s: f64,
    /// The incrementer's final count.
    pub count: u64,
    /// From the start signal to the incrementer's exit.
    pub elapsed_s: f64,
    /// From the controller waking up to the flag being cleared.
    pub stop_lag_s: f64,
    /// How long requests waited (latency and server victims), in milliseconds.
    #[serde(default)]
    pub latency_ms: Option<ReferenceLatency>,
}

/// The reference's `latency_ms`: the fields the comparison shows.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct ReferenceLatency {
    /// The mean wait.
    pub mean: f64,
    /// Its 99th percentile.
    pub p99: f64,
}

/// What the reference printed: its configuration (kept whole) and its results.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ReferenceReport {
    /// As printed by the script, including `python.version`.
    pub config: serde_json::Value,
    /// One per scenario and delay.
    pub results: Vec<ReferenceResult>,
}

impl ReferenceReport {
    /// The Python version that ran it, e.g. `3.11.7`.
    pub fn python_version(&self) -> &str {
        self.config["python"]["version"].as_str().unwrap_or("?")
    }

    /// The result for `scenario` at `delay_s`.
    pub fn get(&self, scenario: Scenario, delay_s: f64) -> Option<&ReferenceResult> {
        self.results
            .iter()
            .find(|r| r.scenario == scenario.name() && (r.delay_s - delay_s).abs() < 1e-9)
    }
}

/// What `gil-lab sweep --reference --format json` prints: the sweep's `config` and `results`
/// and, as `reference`, what CPython printed (its `config` kept whole, and its `results`).
pub fn reference_json(report: &SweepReport, cpython: &ReferenceReport) -> Vec<u8> {
    let mut j = Json::default();
    j.open('{');
    j.key("config").config(&report.config);
    j.key("results").results(&report.results);
    j.key("reference").open('{');
    j.key("config");
    write_value(&mut j, &cpython.config);
    j.key("results").open('[');
    for r in &cpython.results {
        j.item().open('{');
        j.key("scenario").str(&r.scenario);
        j.key("delay_s").f64(r.delay_s);
        j.key("count").u64(r.count);
        j.key("elapsed_s").f64(r.elapsed_s);
        j.key("stop_lag_s").f64(r.stop_lag_s);
        j.close('}');
    }
    j.close(']');
    j.close('}');
    j.close('}');
    j.finish_file()
}

/// Writes JSON read from the reference back out, as it was read.
fn write_value(j: &mut Json, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Null => j.null(),
        Value::Bool(b) => j.bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => j.u64(u),
            (None, Some(i)) => j.i64(i),
            (None, None) => j.opt_f64(n.as_f64()),
        },
        Value::String(s) => j.str(s),
        Value::Array(items) => {
            j.open('[');
            for item in items {
                j.item();
                write_value(j, item);
            }
            j.close(']')
        }
        Value::Object(members) => {
            j.open('{');
            for (key, member) in members {
                j.key(key);
                write_value(j, member);
            }
            j.close('}')
        }
    };
}

/// Why the reference could not run. `Usage` means the user must change `--python`.
#[derive(Debug)]
pub enum ReferenceError {
    /// No usable Python at that path.
    Usage(String),
    /// Python ran but the experiment failed.
    Failed(String),
}

impl std::fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReferenceError::Usage(m) | ReferenceError::Failed(m) => f.write_str(m),
        }
    }
}

/// Checks that `python` is a CPython 3.8 or later; returns its version line.
pub fn check_python(python: &Path) -> Result<String, ReferenceError> {
    let shown = python.display();
    let out = Command::new(python)
        .args(["-c", "import sys, platform; print(platform.python_implementation(), platform.python_version()); sys.exit(0 if sys.version_info >= (3, 8) else 3)"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            ReferenceError::Usage(format!(
                "cannot run Python '{shown}' ({e}); install python3 or pass --python /path/to/python3"
            ))
        })?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() {
        return Err(ReferenceError::Usage(format!(
            "'{shown}' is not a usable Python 3.8 or later ({}); pass --python /path/to/python3",
            if version.is_empty() {
                out.status.to_string()
            } else {
                version
            }
        )));
    }
    Ok(version)
}

/// Where the interpreter for `--reference python` came from, shown beside its path so that the
/// user knows which Python ran and how to pick another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PythonSource {
    /// `--python PATH`.
    Flag,
    /// The environment gil-lab was installed into (`pip install`, `pipx install`, `uv tool
    /// install`): the interpreter in the same directory as the `gil-lab` executable.
    InstalledWith,
    /// The activated virtual environment (`VIRTUAL_ENV`).
    ActiveVirtualEnv,
    /// `python3` looked up on PATH.
    SearchPath,
}

impl PythonSource {
    /// A few words for messages, e.g. `the environment gil-lab is installed in`.
    pub fn describe(self) -> &'static str {
        match self {
            PythonSource::Flag => "given with --python",
            PythonSource::InstalledWith => "the environment gil-lab is installed in",
            PythonSource::ActiveVirtualEnv => "the active virtual environment, VIRTUAL_ENV",
            PythonSource::SearchPath => "python3 on PATH",
        }
    }
}

/// The interpreter for `--reference python`, and why it was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChosenPython {
    /// What gil-lab runs: a path, or a bare name looked up on PATH.
    pub path: PathBuf,
    /// Why this one.
    pub source: PythonSource,
}

/// Where an environment keeps its interpreter and scripts (PEP 405's layout).
const SCRIPTS_DIR: &str = if cfg!(windows) { "Scripts" } else { "bin" };

/// An environment's interpreter, by the names it has in its scripts directory. `python3` before
/// `python`: outside a virtual environment `python` can still be Python 2.
const INTERPRETER_NAMES: &[&str] = if cfg!(windows) {
    &["python.exe"]
} else {
    &["python3", "python"]
};

/// Chooses the interpreter for `--reference python`, first match wins:
///
/// 1. `flag`, the user's `--python`;
/// 2. the interpreter beside `exe`, the running gil-lab: installed with pip, pipx or uv into an
///    environment, gil-lab sits in that environment's `bin/` next to the Python that installed
///    it, which is the one its user means by "Python" (pipx's link in `~/.local/bin` resolves to
///    there, as `exe` is the resolved path);
/// 3. the interpreter of `virtual_env`, the activated environment (`VIRTUAL_ENV`), for a gil-lab
///    built with cargo;
/// 4. `python3` on PATH.
///
/// `is_file` says whether a path is an existing file (following links); a parameter so that the
/// choice can be tested without a file system.
pub fn choose_python(
    flag: Option<&Path>,
    exe: Option<&Path>,
    virtual_env: Option<&Path>,
    is_file: impl Fn(&Path) -> bool,
) -> ChosenPython {
    let chosen = |path: PathBuf, source| ChosenPython { path, source };
    if let Some(flag) = flag {
        return chosen(flag.to_path_buf(), PythonSource::Flag);
    }
    let interpreter_in = |dir: &Path| {
        INTERPRETER_NAMES
            .iter()
            .map(|name| dir.join(name))
            .find(|path| is_file(path))
    };
    if let Some(path) = exe.and_then(Path::parent).and_then(interpreter_in) {
        return chosen(path, PythonSource::InstalledWith);
    }
    let active = virtual_env.filter(|dir| !dir.as_os_str().is_empty());
    if let Some(path) = active.and_then(|dir| interpreter_in(&dir.join(SCRIPTS_DIR))) {
        return chosen(path, PythonSource::ActiveVirtualEnv);
    }
    chosen(PathBuf::from("python3"), PythonSource::SearchPath)
}

/// [`choose_python`] for this process: its own executable, `VIRTUAL_ENV` and the file system.
pub fn find_python(flag: Option<&Path>) -> ChosenPython {
    let exe = std::env::current_exe().ok();
    let virtual_env = std::env::var_os("VIRTUAL_ENV").map(PathBuf::from);
    choose_python(flag, exe.as_deref(), virtual_env.as_deref(), Path::is_file)
}

impl ReferenceError {
    /// Adds how gil-lab came to `python`, when the user did not name it: they may not know
    /// which interpreter was tried.
    pub fn chosen_as(self, python: &ChosenPython) -> Self {
        if python.source == PythonSource::Flag {
            return self;
        }
        let why = |m: String| format!("{m} (gil-lab used {})", python.source.describe());
        match self {
            ReferenceError::Usage(m) => ReferenceError::Usage(why(m)),
            ReferenceError::Failed(m) => ReferenceError::Failed(why(m)),
        }
    }
}

/// Runs the reference experiment for the seed scenarios of `config`.
pub fn run_reference(
    python: &Path,
    config: &SweepConfig,
    values: Values,
    quiet: bool,
) -> Result<ReferenceReport, ReferenceError> {
    let scenarios: Vec<&str> = config
        .scenarios
        .iter()
        .filter(|s| supported(**s))
        .map(|s| s.name())
        .collect();
    if scenarios.is_empty() {
        return Err(ReferenceError::Usage(
            "CPython with a GIL runs only thread, process, thread+load, process+load, interpreter \
             and interpreter+load; add one of them to --scenarios"
                .into(),
        ));
    }
    if config.scenarios.iter().any(|s| s.in_subinterpreter()) && values == Values::Synchronized {
        return Err(ReferenceError::Usage(
            "a subinterpreter cannot share a multiprocessing.Value with its lock (the seed's \
             synchronized values); add --values raw to run the interpreter scenarios on CPython"
                .into(),
        ));
    }
    if config.sweeps_loads() {
        return Err(ReferenceError::Usage(
            "--reference compares one number of load threads at a time; give one with --loads"
                .into(),
        ));
    }
    let script = ScriptFile::write()?;
    let delays: Vec<String> = config
        .delays
        .iter()
        .map(|d| d.as_secs_f64().to_string())
        .collect();
    let mut cmd = Command::new(python);
    cmd.arg(&script.0)
        .args(["--format", "json"])
        .args(["--delays", &delays.join(",")])
        .args(["--scenarios", &scenarios.join(",")])
        .args(["--load", config.load.name()])
        .args(["--victim", config.victim.name()])
        .args([
            "--interval-ms",
            &(config.interval().as_secs_f64() * 1e3).to_string(),
        ])
        .args(["--values", values.name()])
        .args(["--loads", &config.loads().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(if quiet {
            Stdio::piped()
        } else {
            Stdio::inherit()
        });
    if quiet {
        cmd.arg("--quiet");
    }
    // The same work per operation on both sides.
    match config.load {
        Load::Release { bytes } => {
            cmd.args(["--release-op-bytes", &bytes.to_string()]);
        }
        Load::Bignum { cap_bits } => {
            cmd.args(["--bignum-cap-bits", &cap_bits.to_string()]);
        }
        Load::Short { op } => {
            cmd.args(["--op-us", &(op.as_secs_f64() * 1e6).to_string()]);
        }
    }
    match config.victim {
        Victim::Io { op } => {
            cmd.args(["--io-us", &(op.as_secs_f64() * 1e6).to_string()]);
        }
        Victim::Latency { period } => {
            cmd.args(["--period-ms", &(period.as_secs_f64() * 1e3).to_string()]);
        }
        Victim::Incrementer | Victim::Server => {}
    }
    let out = cmd
        .output()
        .map_err(|e| ReferenceError::Usage(format!("cannot run '{}': {e}", python.display())))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(ReferenceError::Failed(format!(
            "the CPython reference failed ({}): {}",
            out.status,
            err.trim()
        )));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| {
        ReferenceError::Failed(format!(
            "the CPython reference printed JSON gil-lab cannot read: {e}"
        ))
    })
}

/// The embedded script written to a temporary file, removed when dropped. A file, not standard
/// input, so that `multiprocessing` can start children with any start method.
struct ScriptFile(PathBuf);

impl ScriptFile {
    fn write() -> Result<Self, ReferenceError> {
        let path =
            std::env::temp_dir().join(format!("gil-lab-reference-{}.py", std::process::id()));
        std::fs::write(&path, SCRIPT).map_err(|e| {
            ReferenceError::Failed(format!(
                "cannot write the reference script to {}: {e}",
                path.display()
            ))
        })?;
        Ok(Self(path))
    }
}

impl Drop for ScriptFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The emulation and CPython side by side: one row per delay and scenario, each with its count,
/// its ratio to the same set-up without the load, and its stop lag. Plain text, or Markdown.
pub fn side_by_side(
    report: &crate::scenario::SweepReport,
    reference: &ReferenceReport,
    values: Values,
    markdown: bool,
) -> String {
    use crate::report::numbers::with_thousands_separators;
    let cfg = &report.config;
    let mut rows: Vec<[String; 8]> = Vec::new();
    let ratio = |count: Option<f64>, alone: Option<f64>| match (count, alone) {
        (Some(c), Some(a)) if a > 0.0 => format!("{:.3}", c / a),
        _ => "-".into(),
    };
    // What is compared: the count; for the latency victim the mean wait in ms; for the server
    // its requests per second (the count's rate).
    let latency = matches!(cfg.victim, Victim::Latency { .. });
    let server = cfg.victim == Victim::Server;
    let ours_value = |r: &crate::scenario::RunResult| match (latency, server) {
        (true, _) => r.latency_ms.map(|l| l.mean_ms),
        (_, true) => Some(r.rate_per_s),
        _ => Some(r.count as f64),
    };
    let theirs_value = |r: &ReferenceResult| match (latency, server) {
        (true, _) => r.latency_ms.map(|l| l.mean),
        (_, true) => Some(r.count as f64 / r.elapsed_s.max(f64::MIN_POSITIVE)),
        _ => Some(r.count as f64),
    };
    let show = |v: Option<f64>| match v {
        Some(v) if latency => format!("{v:.3}"),
        Some(v) => with_thousands_separators(v.round() as u64),
        None => "-".into(),
    };
    for delay in &cfg.delays {
        let d = delay.as_secs_f64();
        for &s in &cfg.scenarios {
            let ours = report.get(s, d);
            let theirs = reference.get(s, d);
            let ours_alone = report.get(s.alone(), d).and_then(ours_value);
            let theirs_alone = reference.get(s.alone(), d).and_then(theirs_value);
            rows.push([
                format!("{d}"),
                s.name().into(),
                show(ours.and_then(ours_value)),
                ratio(ours.and_then(ours_value), ours_alone),
                ours.map_or("-".into(), |r| format!("{:.3}", r.stop_lag_s)),
                show(theirs.and_then(theirs_value)),
                ratio(theirs.and_then(theirs_value), theirs_alone),
                theirs.map_or("-".into(), |r| format!("{:.3}", r.stop_lag_s)),
            ]);
        }
    }
    let (ours_head, theirs_head, of) = match (latency, server) {
        (true, _) => ("gil-lab wait ms", "CPython wait ms", "mean wait"),
        (_, true) => ("gil-lab req/s", "CPython req/s", "requests/s"),
        _ => ("gil-lab count", "CPython count", "count"),
    };
    let header = [
        "delay_s",
        "scenario",
        ours_head,
        "ratio",
        "stop lag s",
        theirs_head,
        "ratio",
        "stop lag s",
    ];
    let mut out = format!(
        "gil-lab (emulated GIL) beside CPython {} (reference/gil_experiment.py, values: {})\n\
         victim {}, load {} ({} thread{}), switch interval {} ms; ratio = {of} / the same set-up without the load\n\n",
        reference.python_version(),
        values.name(),
        cfg.victim.name(),
        cfg.load.name(),
        cfg.loads(),
        if cfg.loads() == 1 { "" } else { "s" },
        cfg.interval().as_secs_f64() * 1e3
    );
    if markdown {
        out.push_str(&format!("| {} |\n", header.join(" | ")));
        out.push_str("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for r in &rows {
            out.push_str(&format!("| {} |\n", r.join(" | ")));
        }
    } else {
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].len())
                    .chain([header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>| {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate() {
                let w = widths[i];
                if i == 1 {
                    l.push_str(&format!("  {c:<w$}"));
                } else if i == 0 {
                    l.push_str(&format!("{c:>w$}"));
                } else {
                    l.push_str(&format!("  {c:>w$}"));
                }
            }
            l.push('\n');
            l
        };
        out.push_str(&line(header.to_vec()));
        for r in &rows {
            out.push_str(&line(r.iter().map(String::as_str).collect()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{RunResult, SweepReport};
    use std::time::Duration;

    /// A 2 s run of ours, stopped `lag` late.
    fn ours(scenario: Scenario, count: u64, lag: f64) -> RunResult {
        RunResult {
            elapsed_s: 2.0 + lag,
            stop_lag_s: lag,
            rate_per_s: 0.0,
            ..crate::report::grid::fixtures::result(scenario, 2.0, count)
        }
    }

    fn theirs(scenario: &str, count: u64, lag: f64) -> ReferenceResult {
        ReferenceResult {
            scenario: scenario.into(),
            delay_s: 2.0,
            count,
            elapsed_s: 2.0 + lag,
            stop_lag_s: lag,
            latency_ms: None,
        }
    }

    #[test]
    fn side_by_side_puts_ratios_to_the_alone_run_next_to_each_count() {
        let report = SweepReport {
            config: SweepConfig {
                delays: vec![Duration::from_secs(2)],
                scenarios: vec![Scenario::Thread, Scenario::ThreadLoad, Scenario::FreeThread],
                ..SweepConfig::default()
            },
            results: vec![
                ours(Scenario::Thread, 1_000_000, 0.005),
                ours(Scenario::ThreadLoad, 20_000, 1.5),
                ours(Scenario::FreeThread, 990_000, 0.0),
            ],
        };
        let reference = ReferenceReport {
            config: serde_json::json!({"python": {"version": "3.11.7"}}),
            results: vec![
                theirs("thread", 5_000, 0.005),
                theirs("thread+load", 150, 2.0),
            ],
        };
        let text = side_by_side(&report, &reference, Values::Raw, false);
        assert_eq!(
            text,
            "gil-lab (emulated GIL) beside CPython 3.11.7 (reference/gil_experiment.py, values: raw)\n\
             victim incrementer, load bignum (1 thread), switch interval 5 ms; ratio = count / the same set-up without the load\n\
             \n\
             delay_s  scenario     gil-lab count  ratio  stop lag s  CPython count  ratio  stop lag s\n      \
             2  thread           1,000,000  1.000       0.005          5,000  1.000       0.005\n      \
             2  thread+load         20,000  0.020       1.500            150  0.030       2.000\n      \
             2  free-thread        990,000  1.000       0.000              -      -           -\n"
        );
        let md = side_by_side(&report, &reference, Values::Raw, true);
        assert!(
            md.contains("| 2 | thread+load | 20,000 | 0.020 | 1.500 | 150 | 0.030 | 2.000 |"),
            "{md}"
        );
    }

    #[test]
    fn the_json_comparison_is_the_sweep_beside_what_cpython_printed_as_it_was() {
        use crate::report::{Exporter, JsonExporter};
        use serde_json::{json, Value};
        let report = SweepReport {
            config: SweepConfig {
                delays: vec![Duration::from_secs(2)],
                scenarios: vec![Scenario::Thread],
                ..SweepConfig::default()
            },
            results: vec![ours(Scenario::Thread, 1_000, 0.5)],
        };
        // Every kind of JSON value the script could print, nested.
        let printed = json!({
            "python": {"version": "3.12.1", "free_threaded": false},
            "delays": [2.0, 0.5],
            "offset": -3,
            "note": "tab\t\"quoted\"",
            "missing": null,
            "empty": {},
        });
        let reference = ReferenceReport {
            config: printed.clone(),
            results: vec![theirs("thread", 7, 0.25)],
        };
        let bytes = reference_json(&report, &reference);
        assert!(bytes.ends_with(b"}\n"));
        let both: Value = serde_json::from_slice(&bytes).expect("valid JSON");
        let sweep: Value =
            serde_json::from_slice(&JsonExporter.serialize(&report)).expect("valid JSON");
        assert_eq!(both["config"], sweep["config"]);
        assert_eq!(both["results"], sweep["results"]);
        assert_eq!(both["reference"]["config"], printed);
        assert_eq!(
            both["reference"]["results"],
            json!([{"scenario": "thread", "delay_s": 2.0, "count": 7, "elapsed_s": 2.25,
                    "stop_lag_s": 0.25}])
        );
        // And it reads back as a reference report would.
        let back: ReferenceReport =
            serde_json::from_value(both["reference"].clone()).expect("a reference report");
        assert_eq!(back, reference);
    }

    #[test]
    fn a_missing_python_is_a_usage_error_naming_the_flag() {
        match check_python(Path::new("/no/such/python3")) {
            Err(ReferenceError::Usage(m)) => assert!(m.contains("--python"), "{m}"),
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    /// A file system holding exactly `files`.
    fn files(files: &'static [&'static str]) -> impl Fn(&Path) -> bool {
        move |path| files.iter().any(|f| Path::new(f) == path)
    }

    #[test]
    fn python_beside_the_installed_gil_lab_is_chosen_over_the_active_one_and_path() {
        let fs = files(&[
            "/home/u/.local/share/pipx/venvs/gil-lab/bin/python",
            "/home/u/.local/share/pipx/venvs/gil-lab/bin/python3",
            "/home/u/project/.venv/bin/python3",
        ]);
        let chosen = choose_python(
            None,
            Some(Path::new(
                "/home/u/.local/share/pipx/venvs/gil-lab/bin/gil-lab",
            )),
            Some(Path::new("/home/u/project/.venv")),
            &fs,
        );
        assert_eq!(
            chosen,
            ChosenPython {
                path: "/home/u/.local/share/pipx/venvs/gil-lab/bin/python3".into(),
                source: PythonSource::InstalledWith,
            }
        );
    }

    #[test]
    fn python_is_taken_when_an_environment_has_no_python3() {
        let chosen = choose_python(
            None,
            Some(Path::new("/opt/env/bin/gil-lab")),
            None,
            files(&["/opt/env/bin/python"]),
        );
        assert_eq!(chosen.path, Path::new("/opt/env/bin/python"));
        assert_eq!(chosen.source, PythonSource::InstalledWith);
    }

    #[test]
    fn the_flag_wins_over_every_environment() {
        let chosen = choose_python(
            Some(Path::new("/usr/bin/python3.12")),
            Some(Path::new("/venv/bin/gil-lab")),
            Some(Path::new("/venv")),
            files(&["/venv/bin/python3"]),
        );
        assert_eq!(chosen.path, Path::new("/usr/bin/python3.12"));
        assert_eq!(chosen.source, PythonSource::Flag);
    }

    #[test]
    fn a_cargo_built_gil_lab_uses_the_active_environment_then_path() {
        let exe = Some(Path::new("/home/u/.cargo/bin/gil-lab"));
        let fs = files(&["/home/u/project/.venv/bin/python3"]);
        let active = choose_python(None, exe, Some(Path::new("/home/u/project/.venv")), &fs);
        assert_eq!(active.path, Path::new("/home/u/project/.venv/bin/python3"));
        assert_eq!(active.source, PythonSource::ActiveVirtualEnv);

        // A VIRTUAL_ENV left over from a deleted environment, or set but empty, is passed over.
        for stale in ["/home/u/gone", ""] {
            let chosen = choose_python(None, exe, Some(Path::new(stale)), &fs);
            assert_eq!(chosen.path, Path::new("python3"), "VIRTUAL_ENV={stale:?}");
            assert_eq!(chosen.source, PythonSource::SearchPath);
        }
        let unknown_exe = choose_python(None, None, None, &fs);
        assert_eq!(unknown_exe.source, PythonSource::SearchPath);
    }

    #[test]
    fn an_unusable_chosen_python_says_how_it_was_chosen() {
        let python = choose_python(None, None, None, files(&[]));
        match check_python(Path::new("/no/such/python3")).map_err(|e| e.chosen_as(&python)) {
            Err(ReferenceError::Usage(m)) => {
                assert!(m.contains("--python"), "{m}");
                assert!(m.ends_with("(gil-lab used python3 on PATH)"), "{m}");
            }
            other => panic!("expected a usage error, got {other:?}"),
        }
        let flag = ChosenPython {
            path: "/no/such/python3".into(),
            source: PythonSource::Flag,
        };
        let error = ReferenceError::Usage("m".into()).chosen_as(&flag);
        assert_eq!(error.to_string(), "m");
    }

    #[test]
    fn the_seed_scenarios_and_the_subinterpreters_run_on_cpython() {
        let supported: Vec<_> = Scenario::ALL
            .into_iter()
            .filter(|s| supported(*s))
            .collect();
        let mut expected = Scenario::SEED.to_vec();
        expected.extend([Scenario::Interpreter, Scenario::InterpreterLoad]);
        assert_eq!(supported, expected);
    }
}
