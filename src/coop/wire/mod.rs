//! The messages of the cooperative mode, as text: what the page asks its Web Workers to run, what
//! a run's two workers say to each other, and what they tell the page.
//!
//! Workers of the cooperative mode share no memory with the page (that is why the mode exists), so
//! everything crosses as a message. The JavaScript on either side only carries these strings;
//! both ends are Rust ([`super::worker`] and the page's cooperative run source, through
//! [`super::reader`]). Target-independent, so the round trips are tested natively.
//!
//! The text is a row of words separated by spaces, in the order the [`Wire`] impls below put them
//! (no field names): a message's kind first (`live`, `go`...), then its fields in declaration
//! order. Numbers are decimal, floats their exact bits (`f64::to_bits`, so nothing is rounded and
//! no float is formatted or parsed), a string its length in bytes then its bytes, an `Option` `-`
//! or `+` then the value, a `Vec` its length then its items. Both ends are the same `.wasm`, so
//! the format needs no versions. Hand-written rather than serde_json: the page has a weight budget
//! and serde's generated code was a fifth of the `.wasm` (BENCHMARKS.md, "Page weight").
//!
//! The format is implemented here for the crate's own types that travel (a run's settings and
//! result, an outcome, a lock's statistics, an event as the log's packed word, a `Duration` as
//! its nanoseconds), so nothing is copied into a twin on the way.

#[macro_use]
mod codec;

use crate::gil::{Event, LockStats};
use crate::runner::IncrementerOutcome;
use crate::scenario::{ConfigError, Role, RunConfig, RunResult, Scenario, WorkerReport};
use crate::workload::{LatencyStats, Load, LoadReport, Victim};
pub use codec::{from_text, to_text, Reader, Wire, Writer};

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
    /// Its settings, as the page checked them (with the CLI's parsers): they cross exactly, so
    /// nothing is converted or checked again.
    pub config: RunConfig,
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
            config: *cfg,
            workers,
        }
    }

    /// Whether the run has an isolated incrementer beside its interpreter.
    pub fn has_isolated(&self) -> bool {
        self.workers.contains(&WorkerKind::Isolated)
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
        outcome: IncrementerOutcome,
    },
}

/// What a worker's entry point is told.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkerInput {
    /// The time slice it asked for ([`crate::coop::worker::Outbox::tick_ms`]) has come.
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
        events: Vec<Event>,
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
        result: RunResult,
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

wire_struct!(Job {
    run,
    config,
    workers
});
wire_struct!(RunConfig {
    scenario,
    delay,
    load,
    victim,
    interval,
    loads
});
wire_struct!(LockStats {
    takes,
    switches,
    requests_raised,
    requests_received,
    held_s,
    waited_s,
    longest_hold_s,
});
wire_struct!(IncrementerOutcome {
    count,
    elapsed,
    lock,
    latency
});
/// Request waits as their count, then the five figures in one loop: smaller code in the page's
/// `.wasm` than a field at a time.
impl Wire for LatencyStats {
    fn put(&self, w: &mut Writer) {
        self.n.put(w);
        for x in [
            self.mean_ms,
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.max_ms,
        ] {
            x.put(w);
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        let n = u64::take(r)?;
        let mut v = [0.0; 5];
        for x in &mut v {
            *x = f64::take(r)?;
        }
        let [mean_ms, p50_ms, p90_ms, p99_ms, max_ms] = v;
        Ok(Self {
            n,
            mean_ms,
            p50_ms,
            p90_ms,
            p99_ms,
            max_ms,
        })
    }
}
wire_struct!(LoadReport {
    ops,
    restarts,
    op_s,
    op_bits
});
wire_struct!(RunResult {
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
    loads,
    latency_ms,
});

/// A worker as its id (its role follows from it), whether it is isolated, and its lock.
impl Wire for WorkerReport {
    fn put(&self, w: &mut Writer) {
        self.worker.put(w);
        self.isolated.put(w);
        self.lock.put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        let worker = u8::take(r)?;
        let role = Role::from_worker(worker).ok_or_else(|| format!("no worker has id {worker}"))?;
        Ok(WorkerReport {
            worker,
            role,
            isolated: Wire::take(r)?,
            lock: Wire::take(r)?,
        })
    }
}

/// A role as its worker id.
impl Wire for Role {
    fn put(&self, w: &mut Writer) {
        self.worker().put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        let id = u8::take(r)?;
        Role::from_worker(id).ok_or_else(|| format!("no worker has the id {id}"))
    }
}

/// A scenario as its name.
impl Wire for Scenario {
    fn put(&self, w: &mut Writer) {
        w.word(self.name());
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        r.word()?.parse().map_err(|e: ConfigError| e.0)
    }
}

/// A load as its name, then its setting.
impl Wire for Load {
    fn put(&self, w: &mut Writer) {
        w.word(self.name());
        match self {
            Load::Bignum { cap_bits } => cap_bits.put(w),
            Load::Short { op } => op.put(w),
            Load::Release { bytes } => bytes.put(w),
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        Ok(match r.word()? {
            "bignum" => Load::Bignum {
                cap_bits: Wire::take(r)?,
            },
            "short" => Load::Short { op: Wire::take(r)? },
            "release" => Load::Release {
                bytes: Wire::take(r)?,
            },
            w => return Err(format!("no load is called '{w}'")),
        })
    }
}

/// A victim as its name, then its setting.
impl Wire for Victim {
    fn put(&self, w: &mut Writer) {
        w.word(self.name());
        if let Victim::Io { op: d } | Victim::Latency { period: d } = self {
            d.put(w);
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        Ok(match r.word()? {
            "incrementer" => Victim::Incrementer,
            "io" => Victim::Io { op: Wire::take(r)? },
            "latency" => Victim::Latency {
                period: Wire::take(r)?,
            },
            "server" => Victim::Server,
            w => return Err(format!("no victim is called '{w}'")),
        })
    }
}

/// An event as the log's packed word ([`Event::pack`]).
impl Wire for Event {
    fn put(&self, w: &mut Writer) {
        self.pack().put(w);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        let word = u64::take(r)?;
        Event::unpack(word).ok_or_else(|| format!("{word} is not an event of a known kind"))
    }
}

impl Wire for WorkerKind {
    fn put(&self, w: &mut Writer) {
        w.word(self.name());
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, String> {
        let w = r.word()?;
        WorkerKind::from_name(w).ok_or_else(|| format!("no worker kind is called '{w}'"))
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
