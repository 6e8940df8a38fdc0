//! The scaling test (`gil-lab scale`), CPython's `Tools/ccbench` throughput test: N workers all
//! run the load's operations as fast as they can for a few seconds, and their total throughput is
//! set against one worker's.
//!
//! Four ways to run the N workers ([`Mode`]): threads of one interpreter under one lock, child
//! processes, subinterpreters (threads of this process with a lock each, PEP 684) and free
//! threads (no lock). Under one lock the total stays near one worker's; with a lock each, or none,
//! it grows with the cores; with C code that releases the lock (the `release` load) threads grow
//! too.
//!
//! This module holds what a page could share with the CLI: the settings and their parsing, the
//! results and the verdict. Measuring needs threads and processes of this operating system:
//! [`measure`](crate::scale::measure), native only.

#[cfg(not(target_arch = "wasm32"))]
pub mod measure;

use crate::gil::DEFAULT_INTERVAL;
use crate::scenario::number::parse_number;
use crate::scenario::ConfigError;
use crate::workload::Load;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How the workers of one measurement are run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Threads of one interpreter, sharing its lock (CPython's threads under the GIL).
    Thread,
    /// Child processes, each an interpreter with a lock of its own (`multiprocessing`).
    Process,
    /// Threads of this process, each in an interpreter with a lock of its own (subinterpreters,
    /// PEP 684).
    Interpreter,
    /// Threads with no lock at all (free-threaded CPython).
    FreeThread,
}

impl Mode {
    /// Every mode, in display order.
    pub const ALL: [Mode; 4] = [
        Mode::Thread,
        Mode::Process,
        Mode::Interpreter,
        Mode::FreeThread,
    ];

    /// The name used by the CLI, exports and tests.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Thread => "thread",
            Mode::Process => "process",
            Mode::Interpreter => "interpreter",
            Mode::FreeThread => "free-thread",
        }
    }

    /// Whether its workers share one lock.
    pub fn shares_a_lock(self) -> bool {
        self == Mode::Thread
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Mode {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let s = s.trim();
        Mode::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                ConfigError(format!(
                    "unknown mode '{s}'; use one or more of: {}",
                    Mode::ALL.map(Mode::name).join(", ")
                ))
            })
    }
}

/// Parses a comma-separated list of modes, keeping the order given and dropping repeats.
pub fn parse_modes(list: &str) -> Result<Vec<Mode>, ConfigError> {
    let mut out = Vec::new();
    for part in list.split(',') {
        if part.trim().is_empty() {
            return Err(ConfigError(format!(
                "the mode list '{list}' has an empty entry; give modes separated by commas, e.g. thread,process"
            )));
        }
        let mode: Mode = part.parse()?;
        if !out.contains(&mode) {
            out.push(mode);
        }
    }
    Ok(out)
}

/// The most workers one measurement runs (ids 1 to 8 of one lock).
pub const MAX_WORKERS: usize = 8;

/// Parses a comma-separated list of worker counts, 1 to [`MAX_WORKERS`]; returned in increasing
/// order without repeats (the table's rows).
pub fn parse_workers(list: &str) -> Result<Vec<usize>, ConfigError> {
    let mut out = Vec::new();
    for part in list.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err(ConfigError(format!(
                "the worker list '{list}' has an empty entry; give counts separated by commas, e.g. 1,2,4"
            )));
        }
        let n: usize = part.parse().map_err(|_| {
            ConfigError(format!(
                "the worker count '{part}' is not a whole number; write e.g. 1,2,4"
            ))
        })?;
        if !(1..=MAX_WORKERS).contains(&n) {
            return Err(ConfigError(format!(
                "the worker count {n} is out of range; choose from 1 to {MAX_WORKERS}"
            )));
        }
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The longest measurement `--seconds` accepts.
pub const MAX_SECONDS: f64 = 600.0;

/// Parses how long each measurement runs: seconds above 0, at most [`MAX_SECONDS`].
pub fn parse_seconds(s: &str) -> Result<Duration, ConfigError> {
    let s = s.trim();
    let v = parse_number(s).ok_or_else(|| {
        ConfigError(format!(
            "--seconds '{s}' is not a number of seconds; write e.g. 2 or 0.5"
        ))
    })?;
    if !v.is_finite() || v <= 0.0 {
        return Err(ConfigError(format!(
            "--seconds {s} must be more than 0 seconds; write e.g. 2 or 0.5"
        )));
    }
    if v > MAX_SECONDS {
        return Err(ConfigError(format!(
            "--seconds {s} is longer than {MAX_SECONDS} s; choose a shorter measurement"
        )));
    }
    Ok(Duration::from_secs_f64(v))
}

/// Everything a scaling test needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleConfig {
    /// What every worker runs.
    pub load: Load,
    /// How long each measurement lasts (until the stop flag).
    pub seconds: Duration,
    /// The switch interval of every lock.
    pub interval: Duration,
    /// Worker counts, increasing.
    pub workers: Vec<usize>,
    /// Modes, in column order.
    pub modes: Vec<Mode>,
    /// The cores the machine offers (`std::thread::available_parallelism`), if known.
    pub cores: Option<usize>,
}

impl Default for ScaleConfig {
    /// Threads, processes, subinterpreters and free threads at 1, 2 and 4 workers, 2 s each, the
    /// short load.
    fn default() -> Self {
        Self {
            load: Load::SHORT,
            seconds: Duration::from_secs(2),
            interval: DEFAULT_INTERVAL,
            workers: vec![1, 2, 4],
            modes: Mode::ALL.to_vec(),
            cores: None,
        }
    }
}

impl ScaleConfig {
    /// The measurements, in run order: for each mode, each worker count.
    pub fn runs(&self) -> impl Iterator<Item = (Mode, usize)> + '_ {
        self.modes
            .iter()
            .flat_map(move |&m| self.workers.iter().map(move |&n| (m, n)))
    }

    /// The worker count every speedup is against: 1, or the smallest count when 1 is not run.
    pub fn base_workers(&self) -> usize {
        self.workers.iter().copied().min().unwrap_or(1)
    }

    /// The sum of the measurements' lengths: a lower bound on the test's duration.
    pub fn total(&self) -> Duration {
        self.seconds * (self.modes.len() * self.workers.len()) as u32
    }
}

/// One mode at one worker count.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleResult {
    /// How the workers ran.
    pub mode: Mode,
    /// How many ran.
    pub workers: usize,
    /// Operations all of them completed.
    pub ops: u64,
    /// Seconds from the start signal to the last worker's end (its operation in progress at the
    /// stop flag included).
    pub elapsed_s: f64,
    /// `ops / elapsed_s`.
    pub ops_per_s: f64,
    /// `ops_per_s` over the same mode's at [`ScaleConfig::base_workers`] (none before that one
    /// is measured, or when it did nothing).
    pub speedup: Option<f64>,
    /// Each worker's operations.
    pub worker_ops: Vec<u64>,
}

/// A finished (or partial) scaling test.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleReport {
    /// What was run.
    pub config: ScaleConfig,
    /// One result per mode and worker count, in run order.
    pub results: Vec<ScaleResult>,
}

impl ScaleReport {
    /// A report with no result yet.
    pub fn new(config: ScaleConfig) -> Self {
        Self {
            config,
            results: Vec::new(),
        }
    }

    /// Adds a result, setting its speedup against the base worker count of its mode (itself,
    /// when it is the base).
    pub fn push(&mut self, mut result: ScaleResult) {
        let base_n = self.config.base_workers();
        let base = if result.workers == base_n {
            Some(result.ops_per_s)
        } else {
            self.get(result.mode, base_n).map(|r| r.ops_per_s)
        };
        result.speedup = base.filter(|&b| b > 0.0).map(|b| result.ops_per_s / b);
        self.results.push(result);
    }

    /// The result of `mode` at `workers`, if measured.
    pub fn get(&self, mode: Mode, workers: usize) -> Option<&ScaleResult> {
        self.results
            .iter()
            .find(|r| r.mode == mode && r.workers == workers)
    }
}

/// Speedup, as the verdict and the table write it: `1.9x`.
pub fn times(speedup: f64) -> String {
    format!("{speedup:.1}x")
}

/// From this speedup on, more workers did more work.
const GROWS: f64 = 1.3;

/// The verdict: one plain sentence per mode, from its speedup at the most workers measured.
pub fn verdict(report: &ScaleReport) -> Vec<String> {
    let config = &report.config;
    let base_n = config.base_workers();
    let release = matches!(config.load, Load::Release { .. });
    let mut out = Vec::new();
    for &mode in &config.modes {
        let Some(best) = report
            .results
            .iter()
            .filter(|r| r.mode == mode && r.workers > base_n)
            .max_by_key(|r| r.workers)
        else {
            continue;
        };
        let Some(speedup) = best.speedup else {
            continue;
        };
        let n = best.workers;
        let one = if base_n == 1 {
            "one".to_string()
        } else {
            base_n.to_string()
        };
        let grew = speedup >= GROWS;
        let why = match (mode, grew, release) {
            (Mode::Thread, false, false) => "one lock lets one thread run at a time".to_string(),
            (Mode::Thread, true, true) => {
                "the C code releases the lock, so the threads run it side by side".to_string()
            }
            (Mode::Thread, true, false) => {
                "more than one lock allows, so other work must have slowed the smaller run; \
                 measure again on a quiet machine"
                    .to_string()
            }
            (Mode::Thread, false, true) => {
                cores_busy(config.cores, "the C code releases the lock, yet")
            }
            (Mode::Process, true, _) => "each process has a lock of its own".to_string(),
            (Mode::Interpreter, true, _) => {
                "each subinterpreter has a lock of its own (PEP 684)".to_string()
            }
            (Mode::FreeThread, true, _) => "no lock at all (a free-threaded build)".to_string(),
            (_, false, _) => cores_busy(config.cores, "no lock is shared, yet"),
        };
        let cores_note = match config.cores {
            Some(k) if grew && n > k => format!(" (only {k} cores: at most {k} run at once)"),
            _ => String::new(),
        };
        out.push(format!(
            "{mode}: {n} workers do {} the work of {one}: {why}{cores_note}.",
            times(speedup)
        ));
    }
    out
}

/// Why workers that share no lock did not grow: the cores.
fn cores_busy(cores: Option<usize>, lead: &str) -> String {
    match cores {
        Some(1) => format!("{lead} this machine has one core"),
        Some(k) => format!("{lead} the {k} cores were busy with other work"),
        None => format!("{lead} the cores were busy with other work"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(mode: Mode, workers: usize, ops_per_s: f64) -> ScaleResult {
        ScaleResult {
            mode,
            workers,
            ops: (ops_per_s * 2.0) as u64,
            elapsed_s: 2.0,
            ops_per_s,
            speedup: None,
            worker_ops: vec![0; workers],
        }
    }

    fn report(workers: &[usize], modes: &[Mode], cores: usize) -> ScaleReport {
        ScaleReport::new(ScaleConfig {
            workers: workers.to_vec(),
            modes: modes.to_vec(),
            cores: Some(cores),
            ..ScaleConfig::default()
        })
    }

    #[test]
    fn modes_parse_in_order_without_repeats_and_unknown_words_list_the_good_ones() {
        assert_eq!(
            parse_modes("process, Thread,process"),
            Ok(vec![Mode::Process, Mode::Thread])
        );
        assert_eq!(
            parse_modes("thread,threads"),
            Err(ConfigError(
                "unknown mode 'threads'; use one or more of: thread, process, interpreter, free-thread"
                    .into()
            ))
        );
        assert!(parse_modes("thread,,process")
            .unwrap_err()
            .0
            .contains("empty entry"));
        for m in Mode::ALL {
            assert_eq!(m.name().parse::<Mode>(), Ok(m));
        }
    }

    #[test]
    fn workers_are_whole_counts_from_1_to_8_sorted() {
        assert_eq!(parse_workers("4,1,2,2"), Ok(vec![1, 2, 4]));
        assert_eq!(parse_workers("8"), Ok(vec![8]));
        for bad in ["0", "9", "-1"] {
            assert!(
                parse_workers(bad).unwrap_err().0.contains("out of range")
                    || parse_workers(bad).unwrap_err().0.contains("whole number"),
                "{bad}"
            );
        }
        assert!(parse_workers("1.5").unwrap_err().0.contains("whole number"));
        assert!(parse_workers("1,").unwrap_err().0.contains("empty entry"));
    }

    #[test]
    fn seconds_are_above_zero_and_at_most_600() {
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("600"), Ok(Duration::from_secs(600)));
        for bad in ["0", "-1", "nan", "inf"] {
            assert!(
                parse_seconds(bad).unwrap_err().0.contains("more than 0"),
                "{bad}"
            );
        }
        assert!(parse_seconds("601").unwrap_err().0.contains("shorter"));
        assert!(parse_seconds("two").unwrap_err().0.contains("not a number"));
    }

    #[test]
    fn speedup_is_against_the_same_modes_smallest_count() {
        let mut r = report(&[2, 4], &[Mode::Thread, Mode::Process], 8);
        r.push(result(Mode::Thread, 2, 100.0));
        r.push(result(Mode::Process, 2, 50.0));
        r.push(result(Mode::Thread, 4, 110.0));
        r.push(result(Mode::Process, 4, 100.0));
        let s = |m, n| r.get(m, n).and_then(|r| r.speedup);
        assert_eq!(s(Mode::Thread, 2), Some(1.0));
        assert_eq!(s(Mode::Thread, 4), Some(1.1));
        assert_eq!(s(Mode::Process, 4), Some(2.0));
        assert_eq!(r.config.base_workers(), 2);
    }

    #[test]
    fn a_base_that_did_nothing_gives_no_speedup() {
        let mut r = report(&[1, 2], &[Mode::Thread], 2);
        r.push(result(Mode::Thread, 1, 0.0));
        r.push(result(Mode::Thread, 2, 10.0));
        assert_eq!(r.get(Mode::Thread, 2).unwrap().speedup, None);
        assert!(verdict(&r).is_empty());
    }

    #[test]
    fn the_verdict_reads_the_measured_speedups() {
        let mut r = report(&[1, 2], &Mode::ALL, 2);
        for (m, one, two) in [
            (Mode::Thread, 100.0, 98.0),
            (Mode::Process, 100.0, 190.0),
            (Mode::Interpreter, 100.0, 185.0),
            (Mode::FreeThread, 100.0, 105.0),
        ] {
            r.push(result(m, 1, one));
            r.push(result(m, 2, two));
        }
        assert_eq!(
            verdict(&r),
            [
                "thread: 2 workers do 1.0x the work of one: one lock lets one thread run at a time.",
                "process: 2 workers do 1.9x the work of one: each process has a lock of its own.",
                "interpreter: 2 workers do 1.9x the work of one: each subinterpreter has a lock of its own (PEP 684).",
                "free-thread: 2 workers do 1.1x the work of one: no lock is shared, yet the 2 cores were busy with other work.",
            ]
        );
    }

    #[test]
    fn with_the_release_load_threads_grow_and_the_verdict_says_why() {
        let mut r = report(&[1, 4], &[Mode::Thread], 2);
        r.config.load = Load::RELEASE;
        r.push(result(Mode::Thread, 1, 30.0));
        r.push(result(Mode::Thread, 4, 57.0));
        assert_eq!(
            verdict(&r),
            [
                "thread: 4 workers do 1.9x the work of one: the C code releases the lock, so the \
              threads run it side by side (only 2 cores: at most 2 run at once)."
            ]
        );
    }

    #[test]
    fn without_1_the_verdict_names_the_base_count() {
        let mut r = report(&[2, 4], &[Mode::Process], 4);
        r.push(result(Mode::Process, 2, 100.0));
        r.push(result(Mode::Process, 4, 196.0));
        assert_eq!(
            verdict(&r),
            ["process: 4 workers do 2.0x the work of 2: each process has a lock of its own."]
        );
    }

    #[test]
    fn runs_go_mode_by_mode_and_total_counts_every_measurement() {
        let c = ScaleConfig {
            workers: vec![1, 2],
            modes: vec![Mode::Thread, Mode::Process],
            seconds: Duration::from_millis(500),
            ..ScaleConfig::default()
        };
        assert_eq!(
            c.runs().collect::<Vec<_>>(),
            [
                (Mode::Thread, 1),
                (Mode::Thread, 2),
                (Mode::Process, 1),
                (Mode::Process, 2)
            ]
        );
        assert_eq!(c.total(), Duration::from_secs(2));
    }
}
