//! The messages of the cooperative mode, as JSON text: what the page asks its Web Workers to run,
//! what a run's two workers say to each other, and what they tell the page.
//!
//! Workers of the cooperative mode share no memory with the page (that is why the mode exists), so
//! everything crosses as a message. The JavaScript on either side only carries these strings;
//! both ends are Rust ([`super::worker`] and the page's cooperative run source). Target-independent,
//! so the round trips are tested natively.
//!
//! The crate's own result types are not `Deserialize`, so the few that travel have a wire twin
//! here with a conversion each way.

use crate::gil::{Event, EventKind, LockStats, MAX_INTERVAL, MIN_INTERVAL};
use crate::runner::IncrementerOutcome;
use crate::scenario::{
    parse_load, parse_victim, ConfigError, Role, RunConfig, RunResult, Scenario, WorkerReport,
};
use crate::workload::LoadReport;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which part of a run a cooperative worker plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerKind {
    /// The run's interpreter: controller, incrementer thread and load thread taking turns under
    /// its lock ([`crate::coop::Interpreter`]).
    Interpreter,
    /// The incrementer of an interpreter of its own (a process), or of a free-threaded one
    /// ([`crate::coop::IsolatedIncrementer`]).
    Isolated,
}

impl WorkerKind {
    /// Its name in a job: `interpreter`, `isolated`.
    pub fn name(self) -> &'static str {
        match self {
            WorkerKind::Interpreter => "interpreter",
            WorkerKind::Isolated => "isolated",
        }
    }

    /// The kind called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [WorkerKind::Interpreter, WorkerKind::Isolated]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// One run, as the page hands it to the workers that run it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The run's index in the sweep.
    pub run: usize,
    /// Scenario name (`thread+load`).
    pub scenario: String,
    /// The controller's sleep in seconds.
    pub delay_s: f64,
    /// Load name (`bignum`).
    pub load: String,
    /// The victim, by name.
    pub victim: String,
    /// The switch interval in milliseconds.
    pub interval_ms: f64,
    /// The workers to start, one per entry: the interpreter, and an isolated incrementer when the
    /// scenario's incrementer does not live in the interpreter.
    pub workers: Vec<WorkerKind>,
}

impl Job {
    /// The job of run `run`.
    pub fn new(run: usize, cfg: &RunConfig) -> Self {
        let mut workers = vec![WorkerKind::Interpreter];
        if crate::coop::needs_isolated_worker(cfg.scenario) {
            workers.push(WorkerKind::Isolated);
        }
        Self {
            run,
            scenario: cfg.scenario.name().to_string(),
            delay_s: cfg.delay.as_secs_f64(),
            load: cfg.load.name().to_string(),
            victim: cfg.victim.name().to_string(),
            interval_ms: cfg.interval.as_secs_f64() * 1e3,
            workers,
        }
    }

    /// Whether the run has an isolated incrementer beside its interpreter.
    pub fn has_isolated(&self) -> bool {
        self.workers.contains(&WorkerKind::Isolated)
    }

    /// The run's settings, checked again with the CLI's parsers (a worker trusts no message).
    pub fn config(&self) -> Result<RunConfig, ConfigError> {
        if !(self.delay_s.is_finite() && self.delay_s >= 0.0) {
            return Err(ConfigError(
                "a run needs a delay of zero or more seconds".into(),
            ));
        }
        let interval = Duration::from_nanos((self.interval_ms.max(0.0) * 1e6).round() as u64);
        if !(self.interval_ms.is_finite() && (MIN_INTERVAL..=MAX_INTERVAL).contains(&interval)) {
            return Err(ConfigError(format!(
                "a switch interval of {} ms is out of range",
                self.interval_ms
            )));
        }
        Ok(RunConfig {
            scenario: self.scenario.parse::<Scenario>()?,
            delay: Duration::from_secs_f64(self.delay_s),
            load: parse_load(&self.load)?,
            victim: parse_victim(&self.victim)?,
            interval,
        })
    }
}

/// Between the two workers of one run (over a `MessagePort`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerMessage {
    /// The isolated incrementer waits at its start barrier.
    Ready,
    /// The start signal, from the interpreter.
    Go,
    /// The controller cleared the running flag: stop counting.
    Stop,
    /// The isolated incrementer stopped; what it reports.
    Exit {
        /// Its outcome.
        outcome: WireOutcome,
    },
}

/// What a worker's entry point is told.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerInput {
    /// The time slice it asked for ([`super::worker::Outbox::tick_ms`]) has come.
    Tick,
    /// The other worker of the run said something.
    Peer {
        /// What it said.
        message: PeerMessage,
    },
}

/// From a worker to the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageMessage {
    /// Lock events of run `run`.
    Events {
        /// The run.
        run: usize,
        /// When the worker's log clock began, in ms on the performance clock
        /// (`timeOrigin + now()`).
        epoch_ms: f64,
        /// The worker's start signal, same clock (0 before it).
        go_ms: f64,
        /// The events, timed on the worker's log clock.
        events: Vec<WireEvent>,
    },
    /// The incrementer's count so far.
    Live {
        /// The run.
        run: usize,
        /// Its count.
        count: u64,
        /// Seconds since its start signal.
        elapsed_s: f64,
        /// The start signal, in ms on the performance clock.
        go_ms: f64,
    },
    /// The run finished.
    Result {
        /// The run.
        run: usize,
        /// What it measured.
        result: WireResult,
    },
    /// The worker failed and the run cannot go on.
    Failed {
        /// The run.
        run: usize,
        /// Why.
        message: String,
    },
}

impl PageMessage {
    /// The run it is about.
    pub fn run(&self) -> usize {
        match self {
            PageMessage::Events { run, .. }
            | PageMessage::Live { run, .. }
            | PageMessage::Result { run, .. }
            | PageMessage::Failed { run, .. } => *run,
        }
    }
}

/// An [`Event`] as `[t_us, kind, worker, by]`: compact, as a busy run logs about 1000 a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireEvent(pub u64, pub u8, pub u8, pub u8);

impl From<&Event> for WireEvent {
    fn from(e: &Event) -> Self {
        WireEvent(e.t_us, e.kind as u8, e.worker, e.by)
    }
}

impl WireEvent {
    /// The event, moved by `offset_us` on the clock (never before 0); `None` for an unknown kind.
    pub fn event(self, offset_us: f64) -> Option<Event> {
        let kind = match self.1 {
            1 => EventKind::Wait,
            2 => EventKind::Take,
            3 => EventKind::Drop,
            4 => EventKind::Request,
            5 => EventKind::OpStart,
            6 => EventKind::Exit,
            7 => EventKind::ReleaseStart,
            _ => return None,
        };
        Some(Event {
            t_us: (self.0 as f64 + offset_us).max(0.0) as u64,
            kind,
            worker: self.2,
            by: self.3,
        })
    }
}

/// [`LockStats`] on the wire.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WireLockStats {
    takes: u64,
    switches: u64,
    requests_raised: u64,
    requests_received: u64,
    held_s: f64,
    waited_s: f64,
    longest_hold_s: f64,
}

impl From<&LockStats> for WireLockStats {
    fn from(s: &LockStats) -> Self {
        Self {
            takes: s.takes,
            switches: s.switches,
            requests_raised: s.requests_raised,
            requests_received: s.requests_received,
            held_s: s.held_s,
            waited_s: s.waited_s,
            longest_hold_s: s.longest_hold_s,
        }
    }
}

impl From<WireLockStats> for LockStats {
    fn from(s: WireLockStats) -> Self {
        LockStats {
            takes: s.takes,
            switches: s.switches,
            requests_raised: s.requests_raised,
            requests_received: s.requests_received,
            held_s: s.held_s,
            waited_s: s.waited_s,
            longest_hold_s: s.longest_hold_s,
        }
    }
}

/// [`IncrementerOutcome`] on the wire.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WireOutcome {
    count: u64,
    elapsed_s: f64,
    lock: Option<WireLockStats>,
}

impl From<&IncrementerOutcome> for WireOutcome {
    fn from(o: &IncrementerOutcome) -> Self {
        Self {
            count: o.count,
            elapsed_s: o.elapsed.as_secs_f64(),
            lock: o.lock.as_ref().map(Into::into),
        }
    }
}

impl From<WireOutcome> for IncrementerOutcome {
    fn from(o: WireOutcome) -> Self {
        IncrementerOutcome {
            count: o.count,
            elapsed: Duration::try_from_secs_f64(o.elapsed_s).unwrap_or_default(),
            lock: o.lock.map(Into::into),
        }
    }
}

/// [`WorkerReport`] on the wire (its role as the worker id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireWorker {
    worker: u8,
    isolated: bool,
    lock: Option<WireLockStats>,
}

/// [`LoadReport`] on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireLoad {
    ops: u64,
    restarts: u64,
    op_s: Vec<f64>,
    #[serde(default)]
    op_bits: Vec<u64>,
}

/// [`RunResult`] on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireResult {
    scenario: String,
    delay_s: f64,
    count: u64,
    elapsed_s: f64,
    stop_lag_s: f64,
    rate_per_s: f64,
    switches: u64,
    switch_interval_ms: f64,
    workers: Vec<WireWorker>,
    load: Option<WireLoad>,
}

impl From<&RunResult> for WireResult {
    fn from(r: &RunResult) -> Self {
        Self {
            scenario: r.scenario.name().to_string(),
            delay_s: r.delay_s,
            count: r.count,
            elapsed_s: r.elapsed_s,
            stop_lag_s: r.stop_lag_s,
            rate_per_s: r.rate_per_s,
            switches: r.switches,
            switch_interval_ms: r.switch_interval_ms,
            workers: r
                .workers
                .iter()
                .map(|w| WireWorker {
                    worker: w.worker,
                    isolated: w.isolated,
                    lock: w.lock.as_ref().map(Into::into),
                })
                .collect(),
            load: r.load.as_ref().map(|l| WireLoad {
                ops: l.ops,
                restarts: l.restarts,
                op_s: l.op_s.clone(),
                op_bits: l.op_bits.clone(),
            }),
        }
    }
}

impl TryFrom<WireResult> for RunResult {
    type Error = ConfigError;

    fn try_from(r: WireResult) -> Result<Self, ConfigError> {
        let workers = r
            .workers
            .into_iter()
            .map(|w| {
                let role = Role::from_worker(w.worker)
                    .ok_or_else(|| ConfigError(format!("no worker has the id {}", w.worker)))?;
                Ok(WorkerReport {
                    worker: w.worker,
                    role,
                    isolated: w.isolated,
                    lock: w.lock.map(Into::into),
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(RunResult {
            scenario: r.scenario.parse()?,
            delay_s: r.delay_s,
            count: r.count,
            elapsed_s: r.elapsed_s,
            stop_lag_s: r.stop_lag_s,
            rate_per_s: r.rate_per_s,
            switches: r.switches,
            switch_interval_ms: r.switch_interval_ms,
            workers,
            load: r.load.map(|l| LoadReport {
                ops: l.ops,
                restarts: l.restarts,
                op_s: l.op_s,
                op_bits: l.op_bits,
            }),
        })
    }
}

/// A message as JSON text. The types here always serialize; an empty string would only come
/// from a bug, and every reader rejects it.
///
/// Pretty-printed, as the JSON export is: one serializer in the `.wasm` instead of two (the page
/// has a size budget; the few extra bytes per message cost nothing).
pub fn to_text<T: Serialize>(message: &T) -> String {
    serde_json::to_vec_pretty(message)
        .ok()
        .and_then(|v| String::from_utf8(v).ok())
        .unwrap_or_default()
}

/// A message read back from JSON text, or a sentence saying why it cannot be read.
pub fn from_text<'a, T: Deserialize<'a>>(text: &'a str, what: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("a {what} message cannot be read ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::SweepConfig;

    fn round_trip<T>(value: &T) -> T
    where
        T: Serialize + for<'a> Deserialize<'a>,
    {
        from_text(&to_text(value), "test").expect("reads back")
    }

    fn sample_result() -> RunResult {
        let lock = LockStats {
            takes: 3,
            switches: 2,
            requests_raised: 1,
            requests_received: 1,
            held_s: 0.25,
            waited_s: 0.5,
            longest_hold_s: 0.125,
        };
        RunResult {
            scenario: Scenario::ProcessLoad,
            delay_s: 0.5,
            count: 123_456_789,
            elapsed_s: 0.51,
            stop_lag_s: 0.01,
            rate_per_s: 2.4e8,
            switches: 7,
            switch_interval_ms: 5.0,
            workers: vec![
                WorkerReport {
                    worker: Role::Controller.worker(),
                    role: Role::Controller,
                    isolated: false,
                    lock: Some(lock.clone()),
                },
                WorkerReport {
                    worker: Role::Incrementer.worker(),
                    role: Role::Incrementer,
                    isolated: true,
                    lock: None,
                },
            ],
            load: Some(LoadReport {
                ops: 12,
                restarts: 0,
                op_s: vec![0.001, 0.003],
                op_bits: vec![7, 14],
            }),
        }
    }

    #[test]
    fn a_result_survives_the_wire() {
        let r = sample_result();
        let back: RunResult = round_trip(&WireResult::from(&r)).try_into().expect("valid");
        assert_eq!(back, r);
    }

    #[test]
    fn an_outcome_survives_the_wire() {
        let o = IncrementerOutcome {
            count: 42,
            elapsed: Duration::from_micros(1_500_000),
            lock: Some(LockStats {
                takes: 1,
                ..LockStats::default()
            }),
        };
        let msg = PeerMessage::Exit {
            outcome: (&o).into(),
        };
        let PeerMessage::Exit { outcome } = round_trip(&msg) else {
            panic!("an exit message reads back as one");
        };
        assert_eq!(IncrementerOutcome::from(outcome), o);
    }

    #[test]
    fn events_survive_the_wire_and_move_by_the_offset() {
        let e = Event {
            t_us: 1_000,
            kind: EventKind::Request,
            worker: 3,
            by: 2,
        };
        let msg = PageMessage::Events {
            run: 4,
            epoch_ms: 1.5,
            go_ms: 2.5,
            events: vec![WireEvent::from(&e)],
        };
        let back = round_trip(&msg);
        assert_eq!(back, msg);
        assert_eq!(back.run(), 4);
        let PageMessage::Events { events, .. } = back else {
            unreachable!()
        };
        assert_eq!(events[0].event(0.0), Some(e));
        assert_eq!(events[0].event(-400.0).map(|e| e.t_us), Some(600));
        assert_eq!(events[0].event(-5_000.0).map(|e| e.t_us), Some(0));
        assert_eq!(WireEvent(1, 99, 1, 1).event(0.0), None);
    }

    #[test]
    fn every_page_and_peer_message_reads_back() {
        for m in [
            PageMessage::Live {
                run: 1,
                count: 9,
                elapsed_s: 0.1,
                go_ms: 3.0,
            },
            PageMessage::Result {
                run: 2,
                result: (&sample_result()).into(),
            },
            PageMessage::Failed {
                run: 0,
                message: "it broke".into(),
            },
        ] {
            assert_eq!(round_trip(&m), m);
        }
        for m in [PeerMessage::Ready, PeerMessage::Go, PeerMessage::Stop] {
            assert_eq!(round_trip(&m), m);
        }
        let tick = WorkerInput::Tick;
        assert_eq!(to_text(&tick), r#""tick""#);
        assert_eq!(to_text(&PeerMessage::Go), r#""go""#);
        let peer = WorkerInput::Peer {
            message: PeerMessage::Go,
        };
        assert_eq!(round_trip(&peer), peer);
    }

    #[test]
    fn a_job_carries_a_run_and_the_workers_it_needs() {
        let cfg = SweepConfig {
            scenarios: vec![Scenario::ThreadLoad, Scenario::ProcessLoad],
            ..SweepConfig::default()
        };
        let runs: Vec<RunConfig> = cfg.runs().collect();
        let thread = Job::new(0, &runs[0]);
        assert!(!thread.has_isolated());
        let process = round_trip(&Job::new(1, &runs[1]));
        assert!(process.has_isolated());
        for k in &process.workers {
            assert_eq!(WorkerKind::from_name(k.name()), Some(*k));
            assert_eq!(to_text(k), format!("\"{}\"", k.name()));
        }
        assert_eq!(process.config(), Ok(runs[1]));
    }

    #[test]
    fn a_bad_job_or_message_gets_a_sentence() {
        let mut job = Job::new(0, &RunConfig::new(Scenario::Thread, Duration::ZERO));
        job.scenario = "threads".into();
        assert!(job.config().is_err());
        job.scenario = "thread".into();
        job.delay_s = f64::NAN;
        assert!(job.config().is_err());
        let e = from_text::<PageMessage>("{\"nope\":1}", "worker").unwrap_err();
        assert!(e.contains("worker message cannot be read"), "{e}");
    }
}
