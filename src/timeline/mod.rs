//! One run's timeline, built from its lock's event log: per worker, spans of "holding the lock
//! and running", "waiting for it", "asked to drop", "released" (sleeping, or gone), the way David
//! Beazley drew the GIL; and the moments in between: each drop request, the start of each
//! operation of a load, the controller waking up and the moment it cleared the running flag.
//!
//! Pure data, no drawing and no clock, the same on both targets: the CLI turns it into a Chrome
//! trace ([`crate::report::chrome_trace`]) and a static SVG ([`crate::report::svg_timeline`]); the
//! page paints the same lanes live. [`Recorder`] attaches a log to one native run and builds the
//! timeline when it ends.

use crate::gil::{Event, EventKind, EventLog, LockStats, WorkerId};
use crate::runner::{Progress, CONTROLLER, INCREMENTER};
use crate::scenario::{load_worker, LockMode, RunConfig, RunResult, Scenario};
use crate::workload::Load;
use std::sync::Arc;

/// What a worker is doing during a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneState {
    /// Not holding the lock and not asking for it: sleeping, joining, or not started.
    Released,
    /// Holding the lock and running.
    Holding,
    /// Waiting to take the lock.
    Waiting,
    /// Holding the lock after another thread asked it to drop (it will at its next checkpoint).
    AskedToDrop,
    /// Running in an interpreter with no lock at all (free-threaded).
    NoLock,
    /// Running C code with the lock released (an operation of the release load): it runs
    /// beside the interpreter's other threads.
    RunsReleased,
}

impl LaneState {
    /// Whether the worker holds a lock in this state (the lock's `held_s` counts it).
    pub fn holds_lock(self) -> bool {
        matches!(self, LaneState::Holding | LaneState::AskedToDrop)
    }
}

/// A stretch of one state, in microseconds since the run's log began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// What the worker was doing.
    pub state: LaneState,
    /// When it began.
    pub start_us: u64,
    /// When it ended (for the last span, when it was last seen).
    pub end_us: u64,
}

/// A drop request, kept on the lane of the worker that raised it (the waiter whose interval
/// passed without a switch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropRequest {
    /// When it was raised.
    pub t_us: u64,
    /// The worker that held the lock and was asked to drop it.
    pub holder: WorkerId,
}

/// Spans kept per lane by the page. A run that switches faster than a screen can show (a 10 µs
/// interval with the short load switches about 100 000 times a second) keeps its first spans
/// and marks the rest as not drawn, instead of growing without bound. Files use
/// [`Timeline::uncapped`]: their log is the bound.
pub const MAX_SPANS: usize = 50_000;

/// One worker's row of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// The worker's id in the event log.
    pub worker: WorkerId,
    /// Its spans in time order; the last one is still open while the run lasts.
    pub spans: Vec<Span>,
    /// When each operation of a load began.
    pub op_starts: Vec<u64>,
    /// The drop requests this worker raised while waiting.
    pub requests: Vec<DropRequest>,
    /// Whether the worker has left.
    pub exited: bool,
    /// An operation that releases the lock began: the next drop is around it.
    release_next: bool,
    /// When the lane reached its span limit; later changes are not recorded.
    pub capped_at_us: Option<u64>,
    /// Whether the spans come from the run's result rather than the log: a native child
    /// process's lock logs nowhere the parent can read, so its incrementer's lane is drawn from
    /// the start signal to its exit, holding its own lock throughout (nobody else takes it).
    pub inferred: bool,
    max_spans: usize,
}

impl Lane {
    fn new(worker: WorkerId, max_spans: usize) -> Self {
        Self {
            worker,
            spans: Vec::new(),
            op_starts: Vec::new(),
            requests: Vec::new(),
            exited: false,
            release_next: false,
            capped_at_us: None,
            inferred: false,
            max_spans,
        }
    }

    fn state(&self) -> LaneState {
        self.spans.last().map_or(LaneState::Released, |s| s.state)
    }

    /// Enters `state` at `t_us` (clamped so spans never go backwards: events of different
    /// workers may reach the log a little out of order).
    fn enter(&mut self, state: LaneState, t_us: u64) {
        if self.capped_at_us.is_some() {
            return;
        }
        if self.spans.len() >= self.max_spans {
            self.capped_at_us = Some(t_us);
            return;
        }
        let t = self.spans.last().map_or(t_us, |s| t_us.max(s.start_us));
        if let Some(last) = self.spans.last_mut() {
            if last.state == state {
                return;
            }
            last.end_us = t;
            if last.start_us == t {
                // A zero-length span carries nothing: replace it.
                self.spans.pop();
                if let Some(prev) = self.spans.last_mut() {
                    if prev.state == state {
                        prev.end_us = t;
                        return;
                    }
                }
            }
        }
        self.spans.push(Span {
            state,
            start_us: t,
            end_us: t,
        });
    }

    /// Seconds spent in each state over `[0, end_us]`.
    pub fn shares(&self, end_us: u64) -> Shares {
        let mut s = Shares::default();
        for span in &self.spans {
            let d = span.end_us.min(end_us).saturating_sub(span.start_us) as f64 / 1e6;
            match span.state {
                LaneState::Holding => s.holding_s += d,
                LaneState::Waiting => s.waiting_s += d,
                LaneState::AskedToDrop => s.asked_s += d,
                LaneState::NoLock => s.no_lock_s += d,
                LaneState::RunsReleased => s.runs_released_s += d,
                LaneState::Released => {}
            }
        }
        s
    }

    /// Holds of the lock: each run of holding and asked-to-drop spans, from take to drop, as
    /// `(start_us, end_us)`. The lock's `takes` counts the same holds.
    pub fn holds(&self) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        let mut prev_held = false;
        for span in &self.spans {
            let held = span.state.holds_lock();
            if held && prev_held {
                if let Some(last) = out.last_mut() {
                    last.1 = span.end_us;
                }
            } else if held {
                out.push((span.start_us, span.end_us));
            }
            prev_held = held;
        }
        out
    }
}

/// Time a lane spent in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Shares {
    /// Holding the lock and running, not yet asked to drop.
    pub holding_s: f64,
    /// Waiting for the lock.
    pub waiting_s: f64,
    /// Holding it after being asked to drop.
    pub asked_s: f64,
    /// Running with no lock.
    pub no_lock_s: f64,
    /// Running C code with the lock released.
    pub runs_released_s: f64,
}

impl Shares {
    /// All the time the lock was held: what [`LockStats::held_s`] measures.
    pub fn held_s(&self) -> f64 {
        self.holding_s + self.asked_s
    }
}

/// Where the controller is in the seed's sequence (take, sleep, take back, clear the flag), as
/// far as its events show; the moments it reveals are kept in [`Timeline`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ControllerPhase {
    /// Holding the lock while it starts the workers.
    #[default]
    Starting,
    /// Sleeping `delay`, lock released.
    Sleeping,
    /// Awake, taking the lock back to clear the flag.
    Waking,
    /// The flag is cleared.
    Stopped,
}

/// The lanes of one run, in drawing order: controller, incrementer, then each load thread.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// The run's scenario.
    pub scenario: Scenario,
    /// Controller, incrementer, and one lane per load thread, at least one (the load lane stays
    /// empty without a load).
    pub lanes: Vec<Lane>,
    /// The latest time seen (an event, or the clock while the run goes on).
    pub now_us: u64,
    /// Events lost because the reader fell a whole log behind (the oldest ones).
    pub lost: u64,
    /// Events applied.
    pub events: u64,
    /// The time of the first event applied: with events lost, nothing earlier is known.
    pub first_event_us: Option<u64>,
    /// Set once the run's result arrived: where the incrementer stopped.
    pub finished: bool,
    /// When the start signal was given (0 until known): where the lock-free lanes begin.
    pub go_us: u64,
    /// When the controller's `sleep(delay)` returned.
    pub woke_us: Option<u64>,
    /// When the controller, holding its lock again, cleared the running flag.
    pub flag_cleared_us: Option<u64>,
    /// The run's delay, when known ([`Timeline::set_delay`]): the controller cannot wake before
    /// half of it has passed, so a take earlier than that is not its wake-up.
    pub delay_us: Option<u64>,
    controller: ControllerPhase,
}

impl Timeline {
    /// An empty timeline for a run of `scenario`, keeping at most [`MAX_SPANS`] spans per lane.
    pub fn new(scenario: Scenario) -> Self {
        Self::with_max_spans(scenario, 1, MAX_SPANS)
    }

    /// As [`Timeline::new`], with a lane for each of `loads` load threads (at least one): the
    /// page's, live.
    pub fn with_loads(scenario: Scenario, loads: u8) -> Self {
        Self::with_max_spans(scenario, loads, MAX_SPANS)
    }

    /// An empty timeline that keeps every span: for files, whose event log bounds their size.
    pub fn uncapped(scenario: Scenario) -> Self {
        Self::with_max_spans(scenario, 1, usize::MAX)
    }

    /// As [`Timeline::uncapped`], with a lane for each of `loads` load threads (at least one).
    pub fn uncapped_with_loads(scenario: Scenario, loads: u8) -> Self {
        Self::with_max_spans(scenario, loads, usize::MAX)
    }

    fn with_max_spans(scenario: Scenario, loads: u8, max_spans: usize) -> Self {
        let mut lanes = vec![
            Lane::new(CONTROLLER, max_spans),
            Lane::new(INCREMENTER, max_spans),
        ];
        lanes.extend((0..loads.max(1)).map(|i| Lane::new(load_worker(i), max_spans)));
        let mut t = Self {
            scenario,
            lanes,
            now_us: 0,
            lost: 0,
            events: 0,
            first_event_us: None,
            finished: false,
            go_us: 0,
            woke_us: None,
            flag_cleared_us: None,
            delay_us: None,
            controller: ControllerPhase::default(),
        };
        if scenario.lock_mode() == LockMode::Free {
            // Nothing takes a lock, so nothing is logged but the load's operations: the workers
            // run from the start.
            t.lanes[1].enter(LaneState::NoLock, 0);
            if scenario.has_load() {
                t.lanes[2..]
                    .iter_mut()
                    .for_each(|l| l.enter(LaneState::NoLock, 0));
            }
        }
        t
    }

    /// The lane of `worker`, if it is one of the run's.
    pub fn lane(&self, worker: WorkerId) -> Option<&Lane> {
        self.lanes.iter().find(|l| l.worker == worker)
    }

    fn lane_mut(&mut self, worker: WorkerId) -> Option<&mut Lane> {
        self.lanes.iter_mut().find(|l| l.worker == worker)
    }

    /// Applies one logged event.
    pub fn apply(&mut self, e: &Event) {
        self.now_us = self.now_us.max(e.t_us);
        self.events += 1;
        self.first_event_us.get_or_insert(e.t_us);
        if e.worker == CONTROLLER {
            self.follow_controller(e);
        }
        if e.kind == EventKind::Request {
            if let Some(asker) = self.lane_mut(e.by) {
                if asker.requests.len() < asker.max_spans {
                    asker.requests.push(DropRequest {
                        t_us: e.t_us,
                        holder: e.worker,
                    });
                }
            }
        }
        let Some(lane) = self.lane_mut(e.worker) else {
            return;
        };
        match e.kind {
            EventKind::Take => lane.enter(LaneState::Holding, e.t_us),
            EventKind::Wait => lane.enter(LaneState::Waiting, e.t_us),
            EventKind::Drop if std::mem::take(&mut lane.release_next) => {
                lane.enter(LaneState::RunsReleased, e.t_us)
            }
            EventKind::Drop => lane.enter(LaneState::Released, e.t_us),
            EventKind::Request => {
                if lane.state() == LaneState::Holding {
                    lane.enter(LaneState::AskedToDrop, e.t_us);
                }
            }
            EventKind::OpStart if lane.op_starts.len() < lane.max_spans => {
                lane.op_starts.push(e.t_us)
            }
            EventKind::OpStart => {}
            EventKind::ReleaseStart => {
                lane.release_next = true;
                if lane.op_starts.len() < lane.max_spans {
                    lane.op_starts.push(e.t_us);
                }
            }
            EventKind::Exit => {
                lane.release_next = false;
                lane.enter(LaneState::Released, e.t_us);
                lane.exited = true;
            }
        }
    }

    /// The run's delay: with it, a controller that had to answer a drop request while it was
    /// still starting the workers (a slow start, as a browser's worker may have) and took the
    /// lock back before its sleep is not read as waking up.
    pub fn set_delay(&mut self, delay: std::time::Duration) {
        self.delay_us = Some(delay.as_micros() as u64);
    }

    /// Reads the controller's moments off its events: it holds the lock while it starts the
    /// workers and drops it to sleep right after the start signal; the next thing it does is
    /// wake up (a wait or a take), and its next take is when it clears the flag.
    fn follow_controller(&mut self, e: &Event) {
        use ControllerPhase::*;
        let before_wake = self
            .delay_us
            .is_some_and(|d| e.t_us < self.go_us.saturating_add(d / 2));
        self.controller = match (self.controller, e.kind) {
            // Not yet half the delay since the start: the lock taken back after a forced
            // switch during the start, before the sleep.
            (Sleeping, EventKind::Wait | EventKind::Take) if before_wake => Sleeping,
            (Starting, EventKind::Drop) => {
                if self.go_us == 0 {
                    self.go_us = e.t_us.max(1);
                }
                Sleeping
            }
            (Sleeping, EventKind::Wait) => {
                self.woke_us = Some(e.t_us);
                Waking
            }
            (Sleeping | Waking, EventKind::Take) => {
                self.woke_us.get_or_insert(e.t_us);
                self.flag_cleared_us = Some(e.t_us);
                Stopped
            }
            (phase, _) => phase,
        };
    }

    /// Extends every open span to `t_us`, the clock while the run goes on.
    pub fn advance(&mut self, t_us: u64) {
        self.now_us = self.now_us.max(t_us);
        let now = self.now_us;
        for lane in &mut self.lanes {
            let end = lane.capped_at_us.map_or(now, |c| c.min(now));
            if let Some(last) = lane.spans.last_mut() {
                last.end_us = last.end_us.max(end);
            }
        }
    }

    /// Records when the start signal was given. Nothing logs it in free mode, where it moves the
    /// start of the lock-free lanes from the log's creation to the real start. With a lock, the
    /// controller's first drop (its sleep) has already told it.
    pub fn set_go(&mut self, go_us: u64) {
        if self.go_us != 0 || go_us == 0 {
            return;
        }
        self.go_us = go_us;
        if self.scenario.lock_mode() == LockMode::Free {
            for lane in &mut self.lanes[1..] {
                if let Some(first) = lane.spans.first_mut() {
                    if first.state == LaneState::NoLock && first.start_us == 0 {
                        first.start_us = go_us;
                        first.end_us = first.end_us.max(go_us);
                    }
                }
            }
        }
    }

    /// Closes the timeline when the run's result arrives. In free mode the workers log nothing,
    /// so the result says when the incrementer stopped; the load stops later, at the end of the
    /// operation it was in (the run ends when it does). Moments the log did not show (free mode
    /// has no controller events) come from the result's delay and stop lag.
    pub fn finish(&mut self, result: &RunResult) {
        let end = self.now_us;
        let elapsed_us = (result.elapsed_s * 1e6) as u64;
        if self.scenario.lock_mode() == LockMode::Free {
            let inc_end = (self.go_us + elapsed_us).min(end);
            let incrementer = &mut self.lanes[1];
            incrementer.spans.retain(|s| s.start_us <= inc_end);
            if let Some(last) = incrementer.spans.last_mut() {
                last.end_us = inc_end;
            }
            incrementer.enter(LaneState::Released, inc_end);
            self.lanes[2..]
                .iter_mut()
                .for_each(|l| l.enter(LaneState::Released, end));
        }
        let incrementer = &mut self.lanes[1];
        if self.scenario.isolated() && incrementer.spans.is_empty() && self.go_us != 0 {
            incrementer.enter(LaneState::Holding, self.go_us);
            incrementer.enter(LaneState::Released, (self.go_us + elapsed_us).min(end));
            incrementer.exited = true;
            incrementer.inferred = true;
        }
        if self.woke_us.is_none() && self.go_us != 0 {
            let woke = self.go_us + (result.delay_s * 1e6) as u64;
            self.woke_us = Some(woke);
            self.flag_cleared_us
                .get_or_insert(woke + (result.stop_lag_s * 1e6) as u64);
        }
        self.finished = true;
    }

    /// Lock statistics of a worker in a finished run, for the text summary.
    pub fn lock_stats(result: &RunResult, worker: WorkerId) -> Option<&LockStats> {
        result
            .workers
            .iter()
            .find(|w| w.worker == worker)
            .and_then(|w| w.lock.as_ref())
    }
}

/// Lane titles for a run of this configuration: controller, incrementer, then each load thread
/// (one title when there is no load), indexed by worker id minus one.
pub fn lane_titles(run: &RunConfig) -> Vec<String> {
    let sc = run.scenario;
    let lock = match sc.lock_mode() {
        LockMode::Shared => "",
        LockMode::Free => ", no lock",
    };
    let mut titles = vec![
        format!("controller (main thread{lock})"),
        if sc.in_process() {
            "incrementer (own process, own lock)".into()
        } else if sc.in_subinterpreter() {
            "incrementer (subinterpreter: own lock, same process)".into()
        } else {
            format!("incrementer (thread{lock})")
        },
    ];
    match run.load_threads() {
        0 => titles.push("no load in this scenario".into()),
        1 => titles.push(format!("load: {} (thread{lock})", operation_name(run.load))),
        n => titles.extend(
            (1..=n).map(|i| format!("load {i}: {} (thread{lock})", operation_name(run.load))),
        ),
    }
    titles
}

/// What one uninterruptible operation of `load` is, in a few words.
pub fn operation_name(load: Load) -> &'static str {
    match load {
        Load::Bignum { .. } => "z = z * z",
        Load::Short { .. } => "short operations",
        Load::Release { .. } => "sha256 with the lock released",
    }
}

/// The colours of the lanes: the page's light scheme (its `--tl-*` CSS properties), so a file
/// looks like the live figure.
pub mod palette {
    /// Holding the lock and running.
    pub const HOLD: &str = "#2f9e44";
    /// Holding it, asked to drop; also the "flag cleared" marker.
    pub const ASK: &str = "#e03131";
    /// Waiting for the lock.
    pub const WAIT: &str = "#f08c00";
    /// Running with no lock.
    pub const NO_LOCK: &str = "#1c7ed6";
    /// Running C code with the lock released.
    pub const RUNS_RELEASED: &str = "#9c36b5";
    /// The track of a lane: sleeping, or done.
    pub const RELEASED: &str = "#c7ccd3";
    /// Where an operation of a load began, drawn over the holding colour.
    pub const OP: &str = "#ffffff";
    /// Text and the "controller wakes" marker.
    pub const INK: &str = "#1b1e23";
    /// Secondary text.
    pub const MUTED: &str = "#5b636e";
    /// Grid lines.
    pub const GRID: &str = "#e6e8ec";
}

/// How many events a run's log keeps: enough for every event of the run at its switch interval
/// (a switch logs a handful), with room for a load's operations, within 4 Mi events (32 MB).
pub fn log_capacity(run: &RunConfig) -> usize {
    let seconds = run.delay.as_secs_f64() + 2.0;
    let per_s = 8.0 / run.interval.as_secs_f64().max(1e-6) + 2_000.0;
    ((seconds * per_s) as usize).clamp(1 << 16, 1 << 22)
}

/// Records one run's timeline: give [`Recorder::log`] to [`crate::run`], pass each progress
/// reading to [`Recorder::observe`], then [`Recorder::finish`] with the result.
pub struct Recorder {
    log: Arc<EventLog>,
    capacity: usize,
    go_us: u64,
}

impl Recorder {
    /// A recorder with a log sized for `run` ([`log_capacity`]).
    pub fn new(run: &RunConfig) -> Self {
        Self::with_capacity(log_capacity(run))
    }

    /// A recorder whose log keeps the last `capacity` events.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            log: Arc::new(EventLog::new(capacity)),
            capacity: capacity.max(1),
            go_us: 0,
        }
    }

    /// The log to attach to the run.
    pub fn log(&self) -> Arc<EventLog> {
        self.log.clone()
    }

    /// How many events the log keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Notes a progress reading: the first one dates the start signal on the log's clock, which
    /// free mode logs nowhere else.
    pub fn observe(&mut self, p: &Progress) {
        if self.go_us == 0 {
            self.go_us = self
                .log
                .now_us()
                .saturating_sub(p.elapsed.as_micros() as u64)
                .max(1);
        }
    }

    /// The run's timeline, every span kept. Call once the run has returned: every worker has
    /// then stored its events, so none is read half-written.
    pub fn finish(&self, scenario: Scenario, result: &RunResult) -> Timeline {
        let end_us = self.log.now_us();
        let out = self.log.read_since(0);
        let mut t = Timeline::uncapped_with_loads(scenario, result.loads);
        t.lost = out.lost;
        t.set_delay(std::time::Duration::from_secs_f64(result.delay_s.max(0.0)));
        for e in &out.events {
            t.apply(e);
        }
        t.set_go(self.go_us);
        t.advance(end_us);
        t.finish(result);
        t
    }
}

#[cfg(test)]
mod tests;
