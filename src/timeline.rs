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
use crate::runner::{Progress, CONTROLLER, INCREMENTER, LOAD};
use crate::scenario::{LockMode, RunConfig, RunResult, Scenario};
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

/// The three lanes of one run, in drawing order: controller, incrementer, load.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// The run's scenario.
    pub scenario: Scenario,
    /// Controller, incrementer, load (the load lane stays empty without a load).
    pub lanes: [Lane; 3],
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
    controller: ControllerPhase,
}

impl Timeline {
    /// An empty timeline for a run of `scenario`, keeping at most [`MAX_SPANS`] spans per lane.
    pub fn new(scenario: Scenario) -> Self {
        Self::with_max_spans(scenario, MAX_SPANS)
    }

    /// An empty timeline that keeps every span: for files, whose event log bounds their size.
    pub fn uncapped(scenario: Scenario) -> Self {
        Self::with_max_spans(scenario, usize::MAX)
    }

    fn with_max_spans(scenario: Scenario, max_spans: usize) -> Self {
        let mut t = Self {
            scenario,
            lanes: [
                Lane::new(CONTROLLER, max_spans),
                Lane::new(INCREMENTER, max_spans),
                Lane::new(LOAD, max_spans),
            ],
            now_us: 0,
            lost: 0,
            events: 0,
            first_event_us: None,
            finished: false,
            go_us: 0,
            woke_us: None,
            flag_cleared_us: None,
            controller: ControllerPhase::default(),
        };
        if scenario.lock_mode() == LockMode::Free {
            // Nothing takes a lock, so nothing is logged but the load's operations: the workers
            // run from the start.
            t.lanes[1].enter(LaneState::NoLock, 0);
            if scenario.has_load() {
                t.lanes[2].enter(LaneState::NoLock, 0);
            }
        }
        t
    }

    /// The lane of `worker`, if it is one of the run's three.
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
            EventKind::Exit => {
                lane.enter(LaneState::Released, e.t_us);
                lane.exited = true;
            }
        }
    }

    /// Reads the controller's moments off its events: it holds the lock while it starts the
    /// workers and drops it to sleep right after the start signal; the next thing it does is
    /// wake up (a wait or a take), and its next take is when it clears the flag.
    fn follow_controller(&mut self, e: &Event) {
        use ControllerPhase::*;
        self.controller = match (self.controller, e.kind) {
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
            self.lanes[2].enter(LaneState::Released, end);
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

/// Lane titles for a run of this configuration: controller, incrementer, load.
pub fn lane_titles(run: &RunConfig) -> [String; 3] {
    let sc = run.scenario;
    let lock = match sc.lock_mode() {
        LockMode::Shared => "",
        LockMode::Free => ", no lock",
    };
    [
        format!("controller (main thread{lock})"),
        if sc.isolated() {
            "incrementer (own process, own lock)".into()
        } else {
            format!("incrementer (thread{lock})")
        },
        if sc.has_load() {
            format!("load: {} (thread{lock})", operation_name(run.load))
        } else {
            "no load in this scenario".into()
        },
    ]
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
        let mut t = Timeline::uncapped(scenario);
        t.lost = out.lost;
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
mod tests {
    use super::*;
    use crate::gil::EventKind::*;
    use crate::scenario::{Role, WorkerReport};

    fn ev(t_us: u64, kind: EventKind, worker: WorkerId, by: WorkerId) -> Event {
        Event {
            t_us,
            kind,
            worker,
            by,
        }
    }

    fn span(state: LaneState, start_us: u64, end_us: u64) -> Span {
        Span {
            state,
            start_us,
            end_us,
        }
    }

    fn timeline(scenario: Scenario, events: &[Event]) -> Timeline {
        let mut t = Timeline::uncapped(scenario);
        for e in events {
            t.apply(e);
        }
        t
    }

    fn result(scenario: Scenario, delay_s: f64, elapsed_s: f64, stop_lag_s: f64) -> RunResult {
        RunResult {
            scenario,
            delay_s,
            count: 0,
            elapsed_s,
            stop_lag_s,
            rate_per_s: 0.0,
            switches: 0,
            workers: vec![WorkerReport {
                worker: INCREMENTER,
                role: Role::Incrementer,
                isolated: scenario.isolated(),
                lock: None,
            }],
            load: None,
        }
    }

    /// A shared-lock run in the seed's order: the controller starts the workers and sleeps; the
    /// incrementer and the load take turns (one drop request answered); the controller wakes,
    /// waits for the load, clears the flag and everybody leaves.
    fn seed_events() -> Vec<Event> {
        vec![
            ev(0, Take, CONTROLLER, CONTROLLER),
            ev(100, Drop, CONTROLLER, CONTROLLER),
            ev(110, Take, INCREMENTER, INCREMENTER),
            ev(120, Wait, LOAD, LOAD),
            ev(5_120, Request, INCREMENTER, LOAD),
            ev(5_130, Drop, INCREMENTER, INCREMENTER),
            ev(5_131, Take, LOAD, LOAD),
            ev(5_132, Wait, INCREMENTER, INCREMENTER),
            ev(5_140, OpStart, LOAD, LOAD),
            ev(1_000_100, Wait, CONTROLLER, CONTROLLER),
            ev(1_005_100, Request, LOAD, CONTROLLER),
            ev(2_000_000, Drop, LOAD, LOAD),
            ev(2_000_010, Take, CONTROLLER, CONTROLLER),
            ev(2_000_020, Drop, CONTROLLER, CONTROLLER),
            ev(2_000_030, Take, INCREMENTER, INCREMENTER),
            ev(2_000_040, Drop, INCREMENTER, INCREMENTER),
            ev(2_000_041, Exit, INCREMENTER, INCREMENTER),
            ev(2_000_050, Take, LOAD, LOAD),
            ev(2_000_060, Drop, LOAD, LOAD),
            ev(2_000_061, Exit, LOAD, LOAD),
            ev(2_000_070, Take, CONTROLLER, CONTROLLER),
            ev(2_000_080, Drop, CONTROLLER, CONTROLLER),
            ev(2_000_081, Exit, CONTROLLER, CONTROLLER),
        ]
    }

    #[test]
    fn smoke_seed_run_gives_holding_waiting_and_asked_spans() {
        let t = timeline(Scenario::ThreadLoad, &seed_events());
        use LaneState::*;
        assert_eq!(
            t.lanes[1].spans,
            [
                span(Holding, 110, 5_120),
                span(AskedToDrop, 5_120, 5_130),
                span(Released, 5_130, 5_132),
                span(Waiting, 5_132, 2_000_030),
                span(Holding, 2_000_030, 2_000_040),
                span(Released, 2_000_040, 2_000_040),
            ]
        );
        assert_eq!(
            t.lanes[2].spans,
            [
                span(Waiting, 120, 5_131),
                span(Holding, 5_131, 1_005_100),
                span(AskedToDrop, 1_005_100, 2_000_000),
                span(Released, 2_000_000, 2_000_050),
                span(Holding, 2_000_050, 2_000_060),
                span(Released, 2_000_060, 2_000_060),
            ]
        );
        assert_eq!(t.lanes[2].op_starts, [5_140]);
        assert!(t.lanes.iter().all(|l| l.exited));
        assert_eq!(t.now_us, 2_000_081);
        assert_eq!(t.events, 23);
        assert_eq!(t.first_event_us, Some(0));
    }

    #[test]
    fn drop_requests_are_instants_on_the_lane_of_the_waiter_that_raised_them() {
        let t = timeline(Scenario::ThreadLoad, &seed_events());
        let at = |w: WorkerId| t.lane(w).map(|l| l.requests.clone()).unwrap_or_default();
        assert_eq!(
            at(LOAD),
            [DropRequest {
                t_us: 5_120,
                holder: INCREMENTER
            }]
        );
        assert_eq!(
            at(CONTROLLER),
            [DropRequest {
                t_us: 1_005_100,
                holder: LOAD
            }]
        );
        assert!(at(INCREMENTER).is_empty());
    }

    #[test]
    fn controller_events_date_the_start_the_wake_up_and_the_cleared_flag() {
        let t = timeline(Scenario::ThreadLoad, &seed_events());
        assert_eq!(t.go_us, 100);
        assert_eq!(t.woke_us, Some(1_000_100));
        assert_eq!(t.flag_cleared_us, Some(2_000_010));
    }

    #[test]
    fn a_controller_that_takes_the_lock_at_once_wakes_and_clears_the_flag_together() {
        let t = timeline(
            Scenario::Thread,
            &[
                ev(0, Take, CONTROLLER, CONTROLLER),
                ev(50, Drop, CONTROLLER, CONTROLLER),
                ev(1_000_050, Take, CONTROLLER, CONTROLLER),
                ev(1_000_060, Drop, CONTROLLER, CONTROLLER),
                ev(1_000_200, Take, CONTROLLER, CONTROLLER),
            ],
        );
        assert_eq!(t.woke_us, Some(1_000_050));
        assert_eq!(t.flag_cleared_us, Some(1_000_050));
    }

    #[test]
    fn held_time_sums_holding_and_asked_spans_and_holds_join_them() {
        let t = timeline(Scenario::ThreadLoad, &seed_events());
        let load = t.lanes[2].shares(u64::MAX);
        assert!((load.held_s() - (1_994_869.0 + 10.0) / 1e6).abs() < 1e-12);
        assert!((load.asked_s - 994_900.0 / 1e6).abs() < 1e-12);
        assert!((load.waiting_s - 5_011.0 / 1e6).abs() < 1e-12);
        assert_eq!(
            t.lanes[2].holds(),
            [(5_131, 2_000_000), (2_000_050, 2_000_060)]
        );
        assert_eq!(t.lanes[1].holds(), [(110, 5_130), (2_000_030, 2_000_040)]);
        // Clipping at an end time counts only what came before it.
        assert!((t.lanes[1].shares(1_110).holding_s - 1_000.0 / 1e6).abs() < 1e-12);
    }

    #[test]
    fn a_request_to_a_thread_not_holding_changes_nothing_on_its_lane() {
        let t = timeline(
            Scenario::ThreadLoad,
            &[
                ev(10, Wait, INCREMENTER, INCREMENTER),
                ev(20, Request, INCREMENTER, LOAD),
            ],
        );
        assert_eq!(t.lanes[1].spans, [span(LaneState::Waiting, 10, 10)]);
        assert_eq!(t.lanes[2].requests.len(), 1);
    }

    #[test]
    fn events_out_of_order_never_make_a_span_go_backwards() {
        let t = timeline(
            Scenario::Thread,
            &[
                ev(100, Take, INCREMENTER, INCREMENTER),
                ev(90, Drop, INCREMENTER, INCREMENTER),
            ],
        );
        assert_eq!(t.lanes[1].spans, [span(LaneState::Released, 100, 100)]);
        assert!(t.lanes[1].spans.iter().all(|s| s.end_us >= s.start_us));
    }

    #[test]
    fn unknown_workers_are_ignored() {
        let t = timeline(Scenario::Thread, &[ev(5, Take, 9, 9)]);
        assert!(t.lanes.iter().all(|l| l.spans.is_empty()));
        assert_eq!(t.now_us, 5);
    }

    #[test]
    fn the_page_cap_stops_a_lane_and_says_where() {
        let mut t = Timeline::new(Scenario::Thread);
        for i in 0..(MAX_SPANS as u64 + 10) {
            t.apply(&ev(2 * i, Take, INCREMENTER, INCREMENTER));
            t.apply(&ev(2 * i + 1, Drop, INCREMENTER, INCREMENTER));
        }
        assert_eq!(t.lanes[1].spans.len(), MAX_SPANS);
        assert_eq!(t.lanes[1].capped_at_us, Some(MAX_SPANS as u64));
        let mut all = Timeline::uncapped(Scenario::Thread);
        for i in 0..(MAX_SPANS as u64 + 10) {
            all.apply(&ev(2 * i, Take, INCREMENTER, INCREMENTER));
            all.apply(&ev(2 * i + 1, Drop, INCREMENTER, INCREMENTER));
        }
        assert_eq!(all.lanes[1].capped_at_us, None);
        assert_eq!(all.lanes[1].holds().len(), MAX_SPANS + 10);
    }

    #[test]
    fn free_mode_lanes_run_from_the_start_signal_to_the_result() {
        let mut t = timeline(
            Scenario::FreeThreadLoad,
            &[ev(300, OpStart, LOAD, LOAD), ev(900, OpStart, LOAD, LOAD)],
        );
        t.set_go(200);
        t.advance(1_500_000);
        t.finish(&result(Scenario::FreeThreadLoad, 1.0, 1.25, 0.25));
        use LaneState::*;
        assert_eq!(
            t.lanes[1].spans,
            [
                span(NoLock, 200, 1_250_200),
                span(Released, 1_250_200, 1_250_200)
            ]
        );
        assert_eq!(
            t.lanes[2].spans,
            [
                span(NoLock, 200, 1_500_000),
                span(Released, 1_500_000, 1_500_000)
            ]
        );
        assert!(t.lanes[0].spans.is_empty());
        // No controller events: the moments come from the result.
        assert_eq!(t.woke_us, Some(1_000_200));
        assert_eq!(t.flag_cleared_us, Some(1_250_200));
    }

    #[test]
    fn an_isolated_incrementer_that_logged_nothing_is_drawn_from_its_result() {
        let mut t = timeline(
            Scenario::ProcessLoad,
            &[
                ev(0, Take, CONTROLLER, CONTROLLER),
                ev(1_000, Drop, CONTROLLER, CONTROLLER),
            ],
        );
        t.advance(3_000_000);
        t.finish(&result(Scenario::ProcessLoad, 2.0, 2.5, 0.5));
        let inc = &t.lanes[1];
        assert!(inc.inferred && inc.exited);
        assert_eq!(
            inc.spans,
            [
                span(LaneState::Holding, 1_000, 2_501_000),
                span(LaneState::Released, 2_501_000, 2_501_000)
            ]
        );
    }

    #[test]
    fn an_isolated_incrementer_that_logged_keeps_its_own_spans() {
        let mut t = timeline(
            Scenario::Process,
            &[
                ev(0, Take, CONTROLLER, CONTROLLER),
                ev(10, Drop, CONTROLLER, CONTROLLER),
                ev(20, Take, INCREMENTER, INCREMENTER),
                ev(90, Drop, INCREMENTER, INCREMENTER),
            ],
        );
        t.finish(&result(Scenario::Process, 0.0, 0.5, 0.0));
        assert!(!t.lanes[1].inferred);
        assert_eq!(t.lanes[1].holds(), [(20, 90)]);
    }

    #[test]
    fn log_capacity_grows_with_the_run_and_the_switch_rate_within_bounds() {
        use std::time::Duration;
        let mut run = RunConfig::new(Scenario::ThreadLoad, Duration::from_secs(2));
        assert_eq!(log_capacity(&run), 1 << 16);
        run.interval = Duration::from_micros(100);
        // 4 s of 80 000 lock events and 2 000 operations a second.
        assert!((4 * 82_000 - 2..=4 * 82_000 + 2).contains(&log_capacity(&run)));
        run.interval = Duration::from_micros(10);
        run.delay = Duration::from_secs(60);
        assert_eq!(log_capacity(&run), 1 << 22);
    }

    #[test]
    fn a_recorder_whose_log_overflowed_says_how_many_events_it_lost() {
        let recorder = Recorder::with_capacity(4);
        let log = recorder.log();
        for t in 0..5u64 {
            log.push_event(ev(10 * t, Take, INCREMENTER, INCREMENTER));
            log.push_event(ev(10 * t + 5, Drop, INCREMENTER, INCREMENTER));
        }
        let t = recorder.finish(Scenario::Thread, &result(Scenario::Thread, 0.0, 0.0, 0.0));
        assert_eq!((t.lost, t.events, t.first_event_us), (6, 4, Some(30)));
        assert_eq!(t.lanes[1].holds(), [(30, 35), (40, 45)]);
        assert!(t.finished);
    }

    #[test]
    fn lane_titles_name_the_interpreter_of_each_worker() {
        use std::time::Duration;
        let run = RunConfig::new(Scenario::ProcessLoad, Duration::from_secs(1));
        assert_eq!(
            lane_titles(&run),
            [
                "controller (main thread)",
                "incrementer (own process, own lock)",
                "load: z = z * z (thread)"
            ]
        );
        let free = RunConfig {
            load: Load::SHORT,
            ..RunConfig::new(Scenario::FreeThreadLoad, Duration::from_secs(1))
        };
        assert_eq!(
            lane_titles(&free)[2],
            "load: short operations (thread, no lock)"
        );
    }
}
