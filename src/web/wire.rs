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

use crate::gil::{Event, EventKind, LockStats, MAX_INTERVAL, MIN_INTERVAL};
use crate::runner::IncrementerOutcome;
use crate::scenario::{
    parse_load, parse_victim, ConfigError, Role, RunConfig, RunResult, Scenario, WorkerReport,
};
use crate::workload::LoadReport;
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

/// A message as text ([the format](self)).
pub fn to_text<T: Wire>(message: &T) -> String {
    let mut w = Writer::default();
    message.put(&mut w);
    w.0
}

/// A message read back from text, or a sentence saying why it cannot be read.
pub fn from_text<T: Wire>(text: &str, what: &str) -> Result<T, String> {
    let mut r = Reader { rest: text };
    T::take(&mut r)
        .and_then(|m| match r.rest {
            "" => Ok(m),
            _ => Err("it goes on past its end".into()),
        })
        .map_err(|e| format!("a {what} message cannot be read ({e})"))
}

/// A message being written: words separated by spaces.
#[derive(Debug, Default)]
pub struct Writer(String);

impl Writer {
    /// Appends one word (which holds no space).
    pub fn word(&mut self, word: &str) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(word);
    }
}

/// A message being read, word by word.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a str,
}

impl<'a> Reader<'a> {
    /// The next word.
    pub fn word(&mut self) -> Result<&'a str, String> {
        let rest = self.rest.strip_prefix(' ').unwrap_or(self.rest);
        let end = rest.find(' ').unwrap_or(rest.len());
        let (word, rest) = rest.split_at(end);
        self.rest = rest;
        if word.is_empty() {
            return Err("it ends too early".into());
        }
        Ok(word)
    }

    /// The next word as a number.
    fn number(&mut self) -> Result<u64, String> {
        let w = self.word()?;
        w.parse().map_err(|_| format!("'{w}' is not a number"))
    }
}

/// A value that can be written as words and read back ([the format](self)).
pub trait Wire: Sized {
    /// Appends the value.
    fn put(&self, w: &mut Writer);
    /// Reads the value back.
    fn take(r: &mut Reader<'_>) -> Result<Self, String>;
}

impl Wire for u64 {
    fn put(&self, w: &mut Writer) {
        w.word(&self.to_string());
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        r.number()
    }
}

impl Wire for usize {
    fn put(&self, w: &mut Writer) {
        (*self as u64).put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        r.number()?
            .try_into()
            .map_err(|_| "a number is too large".into())
    }
}

impl Wire for u8 {
    fn put(&self, w: &mut Writer) {
        u64::from(*self).put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        r.number()?
            .try_into()
            .map_err(|_| "a number is too large".into())
    }
}

impl Wire for bool {
    fn put(&self, w: &mut Writer) {
        u8::from(*self).put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        match u8::take(r)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err("a flag is neither 0 nor 1".into()),
        }
    }
}

impl Wire for f64 {
    fn put(&self, w: &mut Writer) {
        self.to_bits().put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        r.number().map(f64::from_bits)
    }
}

impl Wire for String {
    fn put(&self, w: &mut Writer) {
        self.len().put(w);
        w.0.push(' ');
        w.0.push_str(self);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        let len = usize::take(r)?;
        let text = r.rest.strip_prefix(' ').unwrap_or_default();
        let s = text.get(..len).ok_or("a string is cut short")?;
        r.rest = &text[len..];
        Ok(s.to_string())
    }
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, w: &mut Writer) {
        match self {
            None => w.word("-"),
            Some(v) => {
                w.word("+");
                v.put(w);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        match r.word()? {
            "-" => Ok(None),
            "+" => T::take(r).map(Some),
            w => Err(format!("'{w}' is neither - nor +")),
        }
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn put(&self, w: &mut Writer) {
        self.len().put(w);
        for v in self {
            v.put(w);
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        let len = usize::take(r)?;
        // Never trust a length for the allocation: each item takes at least two bytes.
        let mut items = Vec::with_capacity(len.min(r.rest.len() / 2));
        for _ in 0..len {
            items.push(T::take(r)?);
        }
        Ok(items)
    }
}

/// A struct as its fields in order: adding a field to the struct means adding it here too.
macro_rules! wire_struct {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl Wire for $name {
            fn put(&self, w: &mut Writer) {
                $(self.$field.put(w);)*
            }
            fn take(r: &mut Reader<'_>) -> Result<Self, String> {
                Ok(Self { $($field: Wire::take(r)?),* })
            }
        }
    };
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
mod tests {
    use super::*;
    use crate::scenario::SweepConfig;

    fn round_trip<T: Wire>(value: &T) -> T {
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
        assert_eq!(to_text(&tick), "tick");
        assert_eq!(to_text(&PeerMessage::Go), "go");
        let peer = WorkerInput::Peer {
            message: PeerMessage::Go,
        };
        assert_eq!(round_trip(&peer), peer);
    }

    #[test]
    fn strings_floats_and_options_cross_exactly() {
        let failed = PageMessage::Failed {
            run: 7,
            message: "a panic: 'x' ≠ y, at  two  spaces ".into(),
        };
        assert_eq!(round_trip(&failed), failed);
        let live = PageMessage::Live {
            run: 0,
            count: u64::MAX,
            elapsed_s: 0.1 + 0.2,
            go_ms: -0.0,
        };
        let PageMessage::Live {
            elapsed_s, go_ms, ..
        } = round_trip(&live)
        else {
            panic!("a live message reads back as one");
        };
        assert_eq!(elapsed_s.to_bits(), (0.1f64 + 0.2).to_bits());
        assert_eq!(go_ms.to_bits(), (-0.0f64).to_bits());
        assert_eq!(
            to_text(&PageMessage::Live {
                run: 1,
                count: 2,
                elapsed_s: 1.0,
                go_ms: 0.0
            }),
            format!("live 1 2 {} 0", 1.0f64.to_bits())
        );
        assert_eq!(round_trip(&Some(String::new())), Some(String::new()));
        assert_eq!(round_trip(&None::<u8>), None);
    }

    #[test]
    fn a_cut_short_or_overlong_message_gets_a_sentence() {
        let text = to_text(&PageMessage::Failed {
            run: 1,
            message: "why".into(),
        });
        for bad in [
            &text[..text.len() - 1],
            "failed 1 9 why",
            "failed 1",
            "live 1 2 3",
            "live x 2 3 4",
            "nope",
            "",
        ] {
            let e = from_text::<PageMessage>(bad, "worker").unwrap_err();
            assert!(
                e.starts_with("a worker message cannot be read ("),
                "{bad}: {e}"
            );
        }
        let e = from_text::<PeerMessage>("go go", "peer").unwrap_err();
        assert!(e.contains("past its end"), "{e}");
        // A huge length is read item by item, never allocated up front.
        assert!(from_text::<Vec<u64>>("18446744073709551615 1", "test").is_err());
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
            assert_eq!(to_text(k), k.name());
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
