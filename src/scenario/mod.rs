//! Scenario names, validated run and sweep configurations, and what a run reports.
//!
//! Parsing lives here (not in the CLI) so the command line and the web page's URL parameters
//! accept the same words and reject bad ones with the same sentences.

pub(crate) mod number;

use crate::gil::{LockStats, DEFAULT_INTERVAL, MAX_INTERVAL, MIN_INTERVAL};
use crate::workload::{
    LatencyStats, Load, LoadReport, Victim, DEFAULT_IO_OP, DEFAULT_PERIOD, DEFAULT_RELEASE_BYTES,
    DEFAULT_SHORT_OP,
};
use number::parse_number;
use serde::Serializer;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One of the experiment's set-ups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// The incrementer in a thread of the parent interpreter, sharing its lock.
    Thread,
    /// The incrementer in an interpreter of its own (a process): its own lock.
    Process,
    /// As `thread`, with the load in another thread of the parent interpreter.
    ThreadLoad,
    /// As `process`, with the load in a thread of the parent interpreter.
    ProcessLoad,
    /// As `thread` with no lock at all (free-threaded CPython).
    FreeThread,
    /// As `thread+load` with no lock at all.
    FreeThreadLoad,
    /// The incrementer in another interpreter of the same process (a subinterpreter with a GIL of
    /// its own, PEP 684): its own lock, the parent's memory.
    Interpreter,
    /// As `interpreter`, with the load in the parent interpreter.
    InterpreterLoad,
}

/// How the threads of the parent interpreter are locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    /// One lock shared by all the interpreter's threads (CPython's GIL).
    Shared,
    /// No lock (free-threaded CPython).
    Free,
}

impl Scenario {
    /// Every scenario, in display order.
    pub const ALL: [Scenario; 8] = [
        Scenario::Thread,
        Scenario::Process,
        Scenario::ThreadLoad,
        Scenario::ProcessLoad,
        Scenario::FreeThread,
        Scenario::FreeThreadLoad,
        Scenario::Interpreter,
        Scenario::InterpreterLoad,
    ];
    /// The seed's four columns.
    pub const SEED: [Scenario; 4] = [
        Scenario::Thread,
        Scenario::Process,
        Scenario::ThreadLoad,
        Scenario::ProcessLoad,
    ];

    /// The name used by the CLI, the page, exports and tests.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Thread => "thread",
            Scenario::Process => "process",
            Scenario::ThreadLoad => "thread+load",
            Scenario::ProcessLoad => "process+load",
            Scenario::FreeThread => "free-thread",
            Scenario::FreeThreadLoad => "free-thread+load",
            Scenario::Interpreter => "interpreter",
            Scenario::InterpreterLoad => "interpreter+load",
        }
    }

    /// Whether a load thread runs beside the incrementer.
    pub fn has_load(self) -> bool {
        matches!(
            self,
            Scenario::ThreadLoad
                | Scenario::ProcessLoad
                | Scenario::FreeThreadLoad
                | Scenario::InterpreterLoad
        )
    }

    /// Whether the incrementer runs in an interpreter of its own (a process or a subinterpreter),
    /// with a lock of its own.
    pub fn isolated(self) -> bool {
        self.in_process() || self.in_subinterpreter()
    }

    /// Whether the incrementer runs in a process of its own.
    pub fn in_process(self) -> bool {
        matches!(self, Scenario::Process | Scenario::ProcessLoad)
    }

    /// Whether the incrementer runs in another interpreter of the parent's process.
    pub fn in_subinterpreter(self) -> bool {
        matches!(self, Scenario::Interpreter | Scenario::InterpreterLoad)
    }

    /// How the parent interpreter's threads are locked.
    pub fn lock_mode(self) -> LockMode {
        match self {
            Scenario::FreeThread | Scenario::FreeThreadLoad => LockMode::Free,
            _ => LockMode::Shared,
        }
    }

    /// The same set-up without the load: what this scenario's count is compared with.
    pub fn alone(self) -> Scenario {
        match self {
            Scenario::ThreadLoad => Scenario::Thread,
            Scenario::ProcessLoad => Scenario::Process,
            Scenario::FreeThreadLoad => Scenario::FreeThread,
            Scenario::InterpreterLoad => Scenario::Interpreter,
            other => other,
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A configuration value a user gave that cannot be used; the message says what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn names_list() -> String {
    Scenario::ALL.map(Scenario::name).join(", ")
}

impl FromStr for Scenario {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let s = s.trim();
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                ConfigError(format!(
                    "unknown scenario '{s}'; use one or more of: {}",
                    names_list()
                ))
            })
    }
}

/// Parses a comma-separated list of scenario names, keeping the order given and dropping repeats.
pub fn parse_scenarios(list: &str) -> Result<Vec<Scenario>, ConfigError> {
    let mut out = Vec::new();
    for part in list.split(',') {
        if part.trim().is_empty() {
            return Err(ConfigError(format!(
                "the scenario list '{list}' has an empty entry; give names separated by commas, e.g. thread,thread+load"
            )));
        }
        let sc: Scenario = part.parse()?;
        if !out.contains(&sc) {
            out.push(sc);
        }
    }
    Ok(out)
}

/// The longest delay a run accepts, in seconds.
pub const MAX_DELAY_S: f64 = 3600.0;

/// Parses one delay in seconds: a finite number from 0 to [`MAX_DELAY_S`].
pub fn parse_delay(s: &str) -> Result<Duration, ConfigError> {
    let s = s.trim();
    let v = parse_number(s).ok_or_else(|| {
        ConfigError(format!(
            "the delay '{s}' is not a number of seconds; write e.g. 2 or 0.5"
        ))
    })?;
    if !v.is_finite() || v < 0.0 {
        return Err(ConfigError(format!(
            "the delay '{s}' must be zero or more seconds"
        )));
    }
    if v > MAX_DELAY_S {
        return Err(ConfigError(format!(
            "the delay '{s}' is longer than {MAX_DELAY_S} s; choose a shorter one"
        )));
    }
    Ok(Duration::from_secs_f64(v))
}

/// Parses a comma-separated list of delays in seconds.
pub fn parse_delays(list: &str) -> Result<Vec<Duration>, ConfigError> {
    if list.trim().is_empty() {
        return Err(ConfigError(
            "the delay list is empty; give seconds separated by commas, e.g. 1,2,5".into(),
        ));
    }
    list.split(',').map(parse_delay).collect()
}

/// Parses the switch interval in milliseconds (0.01 to 1000, as `sys.setswitchinterval` in ms).
pub fn parse_interval_ms(s: &str) -> Result<Duration, ConfigError> {
    let s = s.trim();
    let v = parse_number(s).ok_or_else(|| {
        ConfigError(format!(
            "the switch interval '{s}' is not a number of milliseconds; write e.g. 5 or 0.5"
        ))
    })?;
    let range = format!(
        "{} to {}",
        MIN_INTERVAL.as_secs_f64() * 1e3,
        MAX_INTERVAL.as_secs_f64() * 1e3
    );
    if !v.is_finite() {
        return Err(ConfigError(format!(
            "the switch interval '{s}' must be a number from {range} ms"
        )));
    }
    let d = Duration::from_secs_f64(v.max(0.0) / 1e3);
    if v < 0.0 || d < MIN_INTERVAL || d > MAX_INTERVAL {
        return Err(ConfigError(format!(
            "the switch interval {s} ms is out of range; choose from {range} ms (CPython's default is 5)"
        )));
    }
    Ok(d)
}

/// Parses a comma-separated list of switch intervals in milliseconds, keeping the order given.
pub fn parse_intervals(list: &str) -> Result<Vec<Duration>, ConfigError> {
    if list.trim().is_empty() {
        return Err(ConfigError(
            "the interval list is empty; give milliseconds separated by commas, e.g. 0.1,1,5,20"
                .into(),
        ));
    }
    list.split(',').map(parse_interval_ms).collect()
}

/// Parses a load name: `bignum`, `short` or `release`, with their default settings.
pub fn parse_load(s: &str) -> Result<Load, ConfigError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "bignum" => Ok(Load::BIGNUM),
        "short" => Ok(Load::SHORT),
        "release" => Ok(Load::RELEASE),
        other => Err(ConfigError(format!(
            "unknown load '{other}'; use bignum (the seed's z = z * z), short (operations of {} us) \
             or release (SHA-256 of {} MiB with the lock released, as hashlib does)",
            // As u64: formatting a u128 would add its own routine to the page's `.wasm`.
            DEFAULT_SHORT_OP.as_micros() as u64,
            DEFAULT_RELEASE_BYTES >> 20
        ))),
    }
}

/// Parses a victim name: `incrementer` (the seed's), `io` (a loop of short blocking calls),
/// `latency` (answers a client's periodic requests) or `server` (an echo server's handler).
pub fn parse_victim(s: &str) -> Result<Victim, ConfigError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "incrementer" => Ok(Victim::Incrementer),
        "io" => Ok(Victim::IO),
        "latency" => Ok(Victim::LATENCY),
        "server" => Ok(Victim::Server),
        other => Err(ConfigError(format!(
            "unknown victim '{other}'; use incrementer (counts as fast as it can), io (blocking \
             calls of {} us with the lock released, counted), latency (answers a request every \
             {} ms, timed) or server (an echo server answering a client, requests counted)",
            DEFAULT_IO_OP.as_micros() as u64,
            DEFAULT_PERIOD.as_millis() as u64
        ))),
    }
}

/// The load with its operation length set (`--op-us`): only the short load has one.
pub fn load_with_op(load: Load, op: Option<Duration>) -> Result<Load, ConfigError> {
    match (load, op) {
        (load, None) => Ok(load),
        (Load::Short { .. }, Some(op)) => Ok(Load::Short { op }),
        (other, Some(_)) => Err(ConfigError(format!(
            "the operation length sets the short load's operations, and the load is {}; choose \
             the short load (--load short) to say how long each operation holds the lock",
            other.name()
        ))),
    }
}

/// The victim with its settings: the I/O victim's blocking call (`--io-us`), the latency
/// victim's request period (`--period-ms`).
pub fn victim_with(
    victim: Victim,
    io: Option<Duration>,
    period: Option<Duration>,
) -> Result<Victim, ConfigError> {
    let victim = match (victim, io) {
        (v, None) => v,
        (Victim::Io { .. }, Some(op)) => Victim::Io { op },
        (other, Some(_)) => {
            return Err(ConfigError(format!(
                "the blocking call's length is the io victim's setting, and the victim is {}; \
                 choose the io victim (--victim io)",
                other.name()
            )))
        }
    };
    match (victim, period) {
        (v, None) => Ok(v),
        (Victim::Latency { .. }, Some(period)) => Ok(Victim::Latency { period }),
        (other, Some(_)) => Err(ConfigError(format!(
            "the request period is the latency victim's setting, and the victim is {}; choose \
             the latency victim (--victim latency)",
            other.name()
        ))),
    }
}

/// The most load threads a run has.
pub const MAX_LOADS: u8 = 4;

/// Parses a comma-separated list of load-thread counts, 1 to [`MAX_LOADS`] each, keeping the
/// order given and dropping repeats.
pub fn parse_loads(list: &str) -> Result<Vec<u8>, ConfigError> {
    let mut out = Vec::new();
    for part in list.split(',') {
        let part = part.trim();
        let n = match part.parse::<u8>() {
            Ok(n) if (1..=MAX_LOADS).contains(&n) => n,
            Ok(_) => {
                return Err(ConfigError(format!(
                    "{part} load threads is out of range; choose 1 to {MAX_LOADS}"
                )))
            }
            Err(_) => {
                return Err(ConfigError(format!(
                    "the number of load threads '{part}' is not a whole number; write e.g. 2, or \
                     a list such as 1,2,4"
                )))
            }
        };
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

/// Parses a length in microseconds from `min_us` to `max_us`; `what` names it in the sentence.
fn parse_micros(s: &str, what: &str, min_us: f64, max_us: f64) -> Result<Duration, ConfigError> {
    let s = s.trim();
    let v = parse_number(s).ok_or_else(|| {
        ConfigError(format!(
            "{what} '{s}' is not a number of microseconds; write e.g. 40000 for 40 ms"
        ))
    })?;
    if !(min_us..=max_us).contains(&v) {
        return Err(ConfigError(format!(
            "{what} {s} us is out of range; choose from {min_us} to {max_us} us"
        )));
    }
    Ok(Duration::from_nanos((v * 1e3).round() as u64))
}

/// Parses the short load's operation length in microseconds (1 us to 10 s): how long one C call
/// holds the lock.
pub fn parse_op_us(s: &str) -> Result<Duration, ConfigError> {
    parse_micros(s, "the operation length", 1.0, 10e6)
}

/// Parses the I/O victim's blocking call in microseconds (1 us to 1 s).
pub fn parse_io_us(s: &str) -> Result<Duration, ConfigError> {
    parse_micros(s, "the blocking call", 1.0, 1e6)
}

/// Parses the latency victim's request period in milliseconds (0.1 ms to 10 s).
pub fn parse_period_ms(s: &str) -> Result<Duration, ConfigError> {
    let s = s.trim();
    let v = parse_number(s).ok_or_else(|| {
        ConfigError(format!(
            "the request period '{s}' is not a number of milliseconds; write e.g. 10"
        ))
    })?;
    if !(0.1..=10_000.0).contains(&v) {
        return Err(ConfigError(format!(
            "the request period {s} ms is out of range; choose from 0.1 to 10000 ms (ccbench \
             sends one every 100 ms)"
        )));
    }
    Ok(Duration::from_nanos((v * 1e6).round() as u64))
}

/// Everything one run needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunConfig {
    /// The set-up.
    pub scenario: Scenario,
    /// How long the controller sleeps before it stops the incrementer.
    pub delay: Duration,
    /// The load, used when the scenario has one.
    pub load: Load,
    /// The thread being measured.
    pub victim: Victim,
    /// The switch interval of every lock in the run.
    pub interval: Duration,
    /// How many load threads run, when the scenario has a load (1 to [`MAX_LOADS`]).
    pub loads: u8,
}

impl RunConfig {
    /// A run with the seed's load and CPython's default interval.
    pub fn new(scenario: Scenario, delay: Duration) -> Self {
        Self {
            scenario,
            delay,
            load: Load::BIGNUM,
            victim: Victim::Incrementer,
            interval: DEFAULT_INTERVAL,
            loads: 1,
        }
    }

    /// How many load threads actually run: none without a load.
    pub fn load_threads(&self) -> u8 {
        if self.scenario.has_load() {
            self.loads
        } else {
            0
        }
    }
}

/// The delay of a sweep over switch intervals when no delay is given (see
/// [`SweepConfig::settled`]).
pub const INTERVAL_SWEEP_DELAY: Duration = Duration::from_secs(2);

/// A series of runs: every scenario at every delay, at every switch interval.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepConfig {
    /// The load.
    pub load: Load,
    /// The thread being measured.
    pub victim: Victim,
    /// Switch intervals, in run order: one, or several to sweep `sys.setswitchinterval` as the
    /// seed sweeps the delay. Never empty.
    pub intervals: Vec<Duration>,
    /// Delays in seconds, in run order.
    pub delays: Vec<Duration>,
    /// Scenarios, in column order.
    pub scenarios: Vec<Scenario>,
    /// Load-thread counts, in run order: one, or several to sweep at one delay (one table row
    /// per count). Never empty.
    pub loads: Vec<u8>,
}

impl Default for SweepConfig {
    /// The seed's sweep: delays 0 to 9 s, its four scenarios, the bignum load, a 5 ms interval.
    fn default() -> Self {
        Self {
            load: Load::BIGNUM,
            victim: Victim::Incrementer,
            intervals: vec![DEFAULT_INTERVAL],
            delays: (0..10).map(Duration::from_secs).collect(),
            scenarios: Scenario::SEED.to_vec(),
            loads: vec![1],
        }
    }
}

impl SweepConfig {
    /// The runs of the sweep in order: for each load count, for each interval, for each delay,
    /// each scenario (one table row at a time). A scenario with no load runs at the first load
    /// count only: the others would repeat it.
    pub fn runs(&self) -> std::vec::IntoIter<RunConfig> {
        // Plain loops: nested iterator adapters cost the page's `.wasm` a function each.
        let mut out = Vec::new();
        for &loads in &self.loads {
            for &interval in &self.intervals {
                for &delay in &self.delays {
                    for &scenario in &self.scenarios {
                        if loads == self.loads() || scenario.has_load() {
                            out.push(RunConfig {
                                scenario,
                                delay,
                                load: self.load,
                                victim: self.victim,
                                interval,
                                loads,
                            });
                        }
                    }
                }
            }
        }
        out.into_iter()
    }

    /// The settings taken together, after each was parsed on its own: the one place where the
    /// command line, the page's address and its form check how they combine.
    ///
    /// `delays_given` says whether the user gave the delays: a sweep over switch intervals with
    /// none runs at [`INTERVAL_SWEEP_DELAY`] instead of the default delays. Several intervals
    /// with several delays is an error saying what to change.
    pub fn settled(mut self, delays_given: bool) -> Result<Self, ConfigError> {
        if self.sweeps_intervals() && self.sweeps_loads() {
            return Err(ConfigError(
                "sweep either the switch interval or the number of load threads, not both: give \
                 one interval with several load counts, or one load count with several intervals"
                    .into(),
            ));
        }
        if self.sweeps_loads() && self.delays.len() > 1 {
            if !delays_given {
                self.delays = vec![INTERVAL_SWEEP_DELAY];
            } else {
                return Err(ConfigError(
                    "with several load-thread counts give one delay (e.g. 2 s): the table then \
                     has one row per count"
                        .into(),
                ));
            }
        }
        if self.sweeps_intervals() && self.delays.len() > 1 {
            if !delays_given {
                self.delays = vec![INTERVAL_SWEEP_DELAY];
            } else {
                return Err(ConfigError(
                    "with several switch intervals give one delay (e.g. 2 s): the table then has \
                     one row per switch interval"
                        .into(),
                ));
            }
        }
        Ok(self)
    }

    /// The switch interval (the first, when several are swept).
    pub fn interval(&self) -> Duration {
        self.intervals.first().copied().unwrap_or(DEFAULT_INTERVAL)
    }

    /// Whether the switch interval is the sweep's axis (several intervals, one delay).
    pub fn sweeps_intervals(&self) -> bool {
        self.intervals.len() > 1
    }

    /// Whether the number of load threads is the sweep's axis (several counts, one delay).
    pub fn sweeps_loads(&self) -> bool {
        self.loads.len() > 1
    }

    /// The number of load threads (the first, when several are swept).
    pub fn loads(&self) -> u8 {
        self.loads.first().copied().unwrap_or(1)
    }

    /// The sum of the delays over all runs: a lower bound on the sweep's duration.
    pub fn total_delay(&self) -> Duration {
        let mut total = Duration::ZERO;
        for run in self.runs() {
            total += run.delay;
        }
        total
    }
}

/// Who a worker is in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sleeps `delay`, then takes its interpreter's lock to clear the running flag.
    Controller,
    /// Counts.
    Incrementer,
    /// Squares (or runs short operations).
    Load,
}

impl Role {
    /// Every role, in the order of their worker ids.
    pub const ALL: [Role; 3] = [Role::Controller, Role::Incrementer, Role::Load];

    /// Its worker id in a run's event log: controller 1, incrementer 2, load 3 (the first load
    /// thread; the others are 4 to 6, see [`load_worker`]).
    pub const fn worker(self) -> u8 {
        match self {
            Role::Controller => 1,
            Role::Incrementer => 2,
            Role::Load => 3,
        }
    }

    /// The role of worker id `id`, if it is one.
    pub fn from_worker(id: u8) -> Option<Role> {
        match id {
            1 => Some(Role::Controller),
            2 => Some(Role::Incrementer),
            3..=6 => Some(Role::Load),
            _ => None,
        }
    }
}

/// The worker id of load thread `i` (from 0): 3, 4, 5, 6.
pub const fn load_worker(i: u8) -> u8 {
    Role::Load.worker() + i
}

/// Which load thread worker `id` is (from 0), if it is one.
pub fn load_index(id: u8) -> Option<u8> {
    (Role::from_worker(id) == Some(Role::Load)).then(|| id - Role::Load.worker())
}

/// One worker's part in a run.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerReport {
    /// Its id in the event log.
    pub worker: u8,
    /// What it does.
    pub role: Role,
    /// Whether it ran in an interpreter of its own.
    pub isolated: bool,
    /// What it did with its interpreter's lock (none in free mode).
    pub lock: Option<LockStats>,
}

/// What one run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    /// The set-up.
    pub scenario: Scenario,
    /// The controller's sleep, in seconds.
    pub delay_s: f64,
    /// The incrementer's final count.
    pub count: u64,
    /// Seconds from the start signal to the incrementer's exit.
    pub elapsed_s: f64,
    /// Seconds from the controller waking up to the running flag being cleared.
    pub stop_lag_s: f64,
    /// `count / elapsed_s`.
    pub rate_per_s: f64,
    /// Hand-offs of the parent interpreter's lock.
    pub switches: u64,
    /// The switch interval of the run, in milliseconds.
    pub switch_interval_ms: f64,
    /// Every worker, with its lock statistics.
    pub workers: Vec<WorkerReport>,
    /// What the load did, when there was one: the first load thread's report, with `ops` and
    /// `restarts` summed over every load thread.
    pub load: Option<LoadReport>,
    /// How many load threads ran (0 without a load).
    pub loads: u8,
    /// How long requests waited (latency and server victims).
    pub latency_ms: Option<LatencyStats>,
}

/// A finished sweep, as `gil-lab sweep --format json` prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepReport {
    /// What was run.
    pub config: SweepConfig,
    /// One result per scenario and delay, in run order.
    pub results: Vec<RunResult>,
}

impl SweepReport {
    /// The result for `scenario` at `delay_s` (at the first interval and load count, when
    /// several were swept), if it was run.
    pub fn get(&self, scenario: Scenario, delay_s: f64) -> Option<&RunResult> {
        self.get_at(scenario, delay_s, self.config.interval())
    }

    /// The result for `scenario` at `delay_s` and switch interval `interval`, if it was run.
    pub fn get_at(
        &self,
        scenario: Scenario,
        delay_s: f64,
        interval: Duration,
    ) -> Option<&RunResult> {
        self.find(scenario, delay_s, interval, self.config.loads())
    }

    /// The result for `scenario` at `delay_s`, switch interval `interval` and `loads` load
    /// threads (ignored for a scenario with no load), if it was run.
    pub fn find(
        &self,
        scenario: Scenario,
        delay_s: f64,
        interval: Duration,
        loads: u8,
    ) -> Option<&RunResult> {
        let interval_ms = interval.as_secs_f64() * 1e3;
        let loads = if scenario.has_load() { loads } else { 0 };
        self.results.iter().find(|r| {
            r.scenario == scenario
                && (r.delay_s - delay_s).abs() < 1e-9
                && (r.switch_interval_ms - interval_ms).abs() < 1e-9
                && r.loads == loads
        })
    }
}

/// Serialises a duration as milliseconds, for the `Serialize` impls of [`crate::workload`].
pub fn serialize_duration_ms<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_ids_and_roles_map_both_ways() {
        for role in Role::ALL {
            assert_eq!(Role::from_worker(role.worker()), Some(role));
        }
        assert_eq!(Role::Controller.worker(), 1);
        assert_eq!(Role::Load.worker(), 3);
        assert_eq!(Role::from_worker(0), None);
        assert_eq!(Role::from_worker(4), Some(Role::Load));
        assert_eq!(Role::from_worker(7), None);
        for i in 0..MAX_LOADS {
            assert_eq!(load_index(load_worker(i)), Some(i));
        }
        assert_eq!(load_index(Role::Incrementer.worker()), None);
    }

    #[test]
    fn every_scenario_name_parses_back() {
        for sc in Scenario::ALL {
            assert_eq!(sc.name().parse::<Scenario>(), Ok(sc));
        }
    }

    #[test]
    fn bad_values_get_sentences_that_say_what_to_change() {
        let e = parse_scenarios("thread,threads").unwrap_err().0;
        assert!(e.contains("'threads'") && e.contains("thread+load"), "{e}");
        assert!(parse_delays("1,-2").unwrap_err().0.contains("zero or more"));
        assert!(parse_delays("1,x").unwrap_err().0.contains("not a number"));
        assert!(parse_delays("inf").is_err());
        assert!(parse_delays("nan").unwrap_err().0.contains("zero or more"));
        assert!(parse_interval_ms("0.001")
            .unwrap_err()
            .0
            .contains("0.01 to 1000"));
        assert!(parse_interval_ms("1001").is_err());
        assert_eq!(parse_interval_ms("0.01"), Ok(Duration::from_micros(10)));
        assert!(parse_load("huge").unwrap_err().0.contains("bignum"));
    }

    #[test]
    fn several_intervals_run_at_one_delay_given_or_the_default() {
        let intervals = SweepConfig {
            intervals: vec![Duration::from_millis(1), Duration::from_millis(5)],
            ..SweepConfig::default()
        };
        let settled = intervals.clone().settled(false).expect("no delay given");
        assert_eq!(settled.delays, [INTERVAL_SWEEP_DELAY]);
        let e = intervals.clone().settled(true).unwrap_err().0;
        assert!(e.contains("give one delay"), "{e}");
        let one_delay = SweepConfig {
            delays: vec![Duration::from_secs(1)],
            ..intervals
        };
        assert_eq!(one_delay.clone().settled(true), Ok(one_delay));
        // One interval: the delays stay, given or not.
        let seed = SweepConfig::default();
        assert_eq!(seed.clone().settled(false), Ok(seed.clone()));
        assert_eq!(seed.clone().settled(true), Ok(seed));
    }

    #[test]
    fn sweep_runs_go_row_by_row() {
        let cfg = SweepConfig {
            delays: vec![Duration::ZERO, Duration::from_secs(1)],
            scenarios: vec![Scenario::Thread, Scenario::ThreadLoad],
            ..SweepConfig::default()
        };
        let order: Vec<(u64, &str)> = cfg
            .runs()
            .map(|r| (r.delay.as_secs(), r.scenario.name()))
            .collect();
        assert_eq!(
            order,
            [
                (0, "thread"),
                (0, "thread+load"),
                (1, "thread"),
                (1, "thread+load")
            ]
        );
        assert_eq!(cfg.total_delay(), Duration::from_secs(2));
    }
}
