//! The messages of the cooperative mode, as text: what the page asks its Web Workers to run, what
//! a run's two workers say to each other, and what they tell the page.
//!
//! Workers of the cooperative mode share no memory with the page (that is why the mode exists), so
//! everything crosses as a message. The JavaScript on either side only carries these strings;
//! both ends are Rust ([`super::worker`] and the page's cooperative run source). Target-independent,
//! so the round trips are tested natively.
//!
//! The text is a row of words separated by spaces, in the order the [`Wire`] impls below put them
//! (no field names): a message's kind first (`live`, `go`...), then its fields in declaration
//! order. Numbers are decimal, floats their exact bits (`f64::to_bits`, so nothing is rounded and
//! no float is formatted or parsed), a string its length in bytes then its bytes, an `Option` `-`
//! or `+` then the value, a `Vec` its length then its items. Both ends are the same `.wasm`, so
//! the format needs no versions. Hand-written rather than serde_json: the page has a weight budget
//! and serde's generated code was a fifth of the `.wasm` (BENCHMARKS.md, "Page weight").
//!
//! The crate's own result types do not know this format, so the few that travel have a wire twin
//! here with a conversion each way.

#[macro_use]
mod codec;

use crate::gil::{Event, EventKind, LockStats, MAX_INTERVAL, MIN_INTERVAL};
use crate::runner::IncrementerOutcome;
use crate::scenario::{
    parse_load, parse_victim, ConfigError, Role, RunConfig, RunResult, Scenario, WorkerReport,
};
use crate::workload::LoadReport;
pub use codec::{from_text, to_text, Reader, Wire, Writer};
use std::time::Duration;

/// Which part of a run a cooperative worker plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq)]
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
#[derive(Clone, Debug, PartialEq)]
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
#[derive(Clone, Debug, PartialEq)]
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
#[derive(Clone, Debug, PartialEq)]
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

/// An [`Event`] as `t_us kind worker by`: compact, as a busy run logs about 1000 a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, Default, PartialEq)]
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
#[derive(Clone, Debug, Default, PartialEq)]
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
#[derive(Clone, Debug, PartialEq)]
pub struct WireWorker {
    worker: u8,
    isolated: bool,
    lock: Option<WireLockStats>,
}

/// [`LoadReport`] on the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct WireLoad {
    ops: u64,
    restarts: u64,
    op_s: Vec<f64>,
    op_bits: Vec<u64>,
}

/// [`RunResult`] on the wire.
#[derive(Clone, Debug, PartialEq)]
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

wire_struct!(Job {
    run,
    scenario,
    delay_s,
    load,
    victim,
    interval_ms,
    workers
});
wire_struct!(WireLockStats {
    takes,
    switches,
    requests_raised,
    requests_received,
    held_s,
    waited_s,
    longest_hold_s,
});
wire_struct!(WireOutcome {
    count,
    elapsed_s,
    lock
});
wire_struct!(WireWorker {
    worker,
    isolated,
    lock
});
wire_struct!(WireLoad {
    ops,
    restarts,
    op_s,
    op_bits
});
wire_struct!(WireResult {
    scenario,
    delay_s,
    count,
    elapsed_s,
    stop_lag_s,
    rate_per_s,
    switches,
    switch_interval_ms,
    workers,
    load,
});

impl Wire for WorkerKind {
    fn put(&self, w: &mut Writer) {
        w.word(self.name());
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        let w = r.word()?;
        WorkerKind::from_name(w).ok_or_else(|| format!("no worker kind is called '{w}'"))
    }
}

impl Wire for WireEvent {
    fn put(&self, w: &mut Writer) {
        self.0.put(w);
        self.1.put(w);
        self.2.put(w);
        self.3.put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        Ok(WireEvent(
            Wire::take(r)?,
            Wire::take(r)?,
            Wire::take(r)?,
            Wire::take(r)?,
        ))
    }
}

/// The word that starts a message of an enum, for an error naming it.
fn unknown(kind: &str) -> String {
    format!("'{kind}' is not a kind of message here")
}

impl Wire for PeerMessage {
    fn put(&self, w: &mut Writer) {
        match self {
            PeerMessage::Ready => w.word("ready"),
            PeerMessage::Go => w.word("go"),
            PeerMessage::Stop => w.word("stop"),
            PeerMessage::Exit { outcome } => {
                w.word("exit");
                outcome.put(w);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        Ok(match r.word()? {
            "ready" => PeerMessage::Ready,
            "go" => PeerMessage::Go,
            "stop" => PeerMessage::Stop,
            "exit" => PeerMessage::Exit {
                outcome: Wire::take(r)?,
            },
            w => return Err(unknown(w)),
        })
    }
}

impl Wire for WorkerInput {
    fn put(&self, w: &mut Writer) {
        match self {
            WorkerInput::Tick => w.word("tick"),
            WorkerInput::Peer { message } => {
                w.word("peer");
                message.put(w);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        Ok(match r.word()? {
            "tick" => WorkerInput::Tick,
            "peer" => WorkerInput::Peer {
                message: Wire::take(r)?,
            },
            w => return Err(unknown(w)),
        })
    }
}

impl Wire for PageMessage {
    fn put(&self, w: &mut Writer) {
        match self {
            PageMessage::Events {
                run,
                epoch_ms,
                go_ms,
                events,
            } => {
                w.word("events");
                run.put(w);
                epoch_ms.put(w);
                go_ms.put(w);
                events.put(w);
            }
            PageMessage::Live {
                run,
                count,
                elapsed_s,
                go_ms,
            } => {
                w.word("live");
                run.put(w);
                count.put(w);
                elapsed_s.put(w);
                go_ms.put(w);
            }
            PageMessage::Result { run, result } => {
                w.word("result");
                run.put(w);
                result.put(w);
            }
            PageMessage::Failed { run, message } => {
                w.word("failed");
                run.put(w);
                message.put(w);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        Ok(match r.word()? {
            "events" => PageMessage::Events {
                run: Wire::take(r)?,
                epoch_ms: Wire::take(r)?,
                go_ms: Wire::take(r)?,
                events: Wire::take(r)?,
            },
            "live" => PageMessage::Live {
                run: Wire::take(r)?,
                count: Wire::take(r)?,
                elapsed_s: Wire::take(r)?,
                go_ms: Wire::take(r)?,
            },
            "result" => PageMessage::Result {
                run: Wire::take(r)?,
                result: Wire::take(r)?,
            },
            "failed" => PageMessage::Failed {
                run: Wire::take(r)?,
                message: Wire::take(r)?,
            },
            w => return Err(unknown(w)),
        })
    }
}

#[cfg(test)]
mod tests;
