//! One run's timeline, built from its lock's event log: per worker, spans of "holding the lock
//! and running", "waiting for it", "asked to drop", "released" (sleeping, or gone), the way David
//! Beazley drew the GIL; and on the load's lane, where each uninterruptible operation began.
//!
//! Pure data, no drawing: the page's canvas paints it.

use crate::gil::{Event, EventKind};
use crate::scenario::{LockMode, Role, RunConfig, RunResult, Scenario};

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

/// Events kept per run: enough for a 10 s run of the busiest scenario (about 1000 events/s with
/// a 5 ms interval) with room to spare; 16 bytes each.
pub const LOG_CAPACITY: usize = 1 << 15;

/// Spans kept per lane. A run that switches faster than this can show (a 10 µs interval with the
/// short load switches about 100 000 times a second) keeps its first spans and marks the rest as
/// not drawn, instead of growing without bound.
pub const MAX_SPANS: usize = 50_000;

/// One worker's row of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// The worker's id in the event log.
    pub worker: u8,
    /// Its spans in time order; the last one is still open while the run lasts.
    pub spans: Vec<Span>,
    /// When each operation of a load began.
    pub op_starts: Vec<u64>,
    /// Whether the worker has left.
    pub exited: bool,
    /// When the lane reached [`MAX_SPANS`]; later changes are not recorded.
    pub capped_at_us: Option<u64>,
}

impl Lane {
    fn new(worker: u8) -> Self {
        Self {
            worker,
            spans: Vec::new(),
            op_starts: Vec::new(),
            exited: false,
            capped_at_us: None,
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
        if self.spans.len() >= MAX_SPANS {
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

    /// Seconds spent in each state over `[0, end_us]`: (holding, waiting, asked to drop, no lock).
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
}

/// Time a lane spent in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Shares {
    /// Holding the lock and running (including while asked to drop).
    pub holding_s: f64,
    /// Waiting for the lock.
    pub waiting_s: f64,
    /// Holding it after being asked to drop.
    pub asked_s: f64,
    /// Running with no lock.
    pub no_lock_s: f64,
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
    /// Events lost because the page fell a whole log behind.
    pub lost: u64,
    /// Set once the run's result arrived: where the incrementer stopped.
    pub finished: bool,
    /// When the start signal was given (0 until known): where the lock-free lanes begin.
    pub go_us: u64,
}

impl Timeline {
    /// An empty timeline for a run of `scenario`.
    pub fn new(scenario: Scenario) -> Self {
        let mut t = Self {
            scenario,
            lanes: Role::ALL.map(|role| Lane::new(role.worker())),
            now_us: 0,
            lost: 0,
            finished: false,
            go_us: 0,
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

    fn lane(&mut self, worker: u8) -> Option<&mut Lane> {
        self.lanes.iter_mut().find(|l| l.worker == worker)
    }

    /// Applies one logged event.
    pub fn apply(&mut self, e: &Event) {
        self.now_us = self.now_us.max(e.t_us);
        let Some(lane) = self.lane(e.worker) else {
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
            EventKind::OpStart if lane.op_starts.len() < MAX_SPANS => lane.op_starts.push(e.t_us),
            EventKind::OpStart => {}
            EventKind::Exit => {
                lane.enter(LaneState::Released, e.t_us);
                lane.exited = true;
            }
        }
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
    /// start of the lock-free lanes from the log's creation to the real start.
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
    /// operation it was in (the run ends when it does).
    pub fn finish(&mut self, result: &RunResult) {
        if self.scenario.lock_mode() == LockMode::Free {
            let end = self.now_us;
            let inc_end = (self.go_us + (result.elapsed_s * 1e6) as u64).min(end);
            let incrementer = &mut self.lanes[1];
            incrementer.spans.retain(|s| s.start_us <= inc_end);
            if let Some(last) = incrementer.spans.last_mut() {
                last.end_us = inc_end;
            }
            incrementer.enter(LaneState::Released, inc_end);
            self.lanes[2].enter(LaneState::Released, end);
        }
        self.finished = true;
    }
}

/// Lane titles for a run of this scenario.
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
            format!("load: {} (thread{lock})", load_label(run))
        } else {
            "no load in this scenario".into()
        },
    ]
}

fn load_label(run: &RunConfig) -> &'static str {
    crate::timeline::operation_name(run.load)
}
