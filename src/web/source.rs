//! Where a sweep's runs come from, one source per mode behind [`RunSource`], so the page's frame
//! loop reads both the same way: from the [`SharedSweep`] a source fills.
//!
//! - [`Threaded`]: a controller task in the pool of Web Workers that share the wasm memory runs
//!   [`crate::sweep::run_sweep`], every Python thread on a worker of its own.
//! - [`Cooperative`]: no shared memory; the page walks a [`SweepPlan`] itself, hands each run to
//!   Web Workers of their own as a [`Job`] and reads back what they post ([`PageMessage`]).

use super::shared::{SharedSweep, Status};
use super::wire::{self, Job, PageMessage};
use crate::gil::{Event, EventLog};
use crate::platform::web::WebPlatform;
use crate::runner::Progress;
use crate::scenario::{RunConfig, RunResult, SweepConfig};
use crate::sweep::{run_sweep, SweepEnd, SweepObserver, SweepPlan};
use std::sync::Arc;

/// One mode's way of running a sweep. `now_ms` is the performance clock (`timeOrigin + now()`).
pub trait RunSource {
    /// What the runs have produced so far.
    fn shared(&self) -> &Arc<SharedSweep>;

    /// Once per animation frame, before the page reads [`RunSource::shared`].
    fn tick(&mut self, now_ms: f64);

    /// How far run `run`'s time 0 (its start signal) is after the start of its log, in
    /// microseconds; `None` while unknown.
    fn shift_us(&self, run: usize) -> Option<u64>;

    /// The next run for Web Workers to start, as the text of a [`Job`]; `None` if there is
    /// none now (and always in threads mode, whose runs start themselves).
    fn next_job(&mut self, now_ms: f64) -> Option<String> {
        let _ = now_ms;
        None
    }

    /// A message from a run's worker. Returns whether that run is over (its workers may go).
    fn worker_message(&mut self, message: PageMessage, now_ms: f64) -> bool {
        let _ = (message, now_ms);
        false
    }

    /// A worker of the run in progress failed outside the messages (it could not start).
    fn worker_failed(&mut self, message: &str) {
        self.shared()
            .fail(format!("a Web Worker stopped: {message}"));
    }
}

// ---- Threads ------------------------------------------------------------------------------------

/// A sweep run by a controller task of the pool.
pub struct Threaded(Arc<SharedSweep>);

impl Threaded {
    /// Starts `config` in the pool (which must be running).
    pub fn start(config: SweepConfig) -> Self {
        let shared = SharedSweep::new(config.clone());
        let writer = shared.clone();
        rayon::spawn(move || {
            let platform = WebPlatform::new();
            let (_, end) = run_sweep(&platform, config, &mut Writer(&writer));
            match end {
                SweepEnd::Complete => writer.end(Status::Done),
                SweepEnd::Stopped => writer.end(Status::Stopped),
                SweepEnd::Failed { run, error } => writer.fail(format!(
                    "the run '{}' at {} s failed: {}",
                    run.scenario,
                    run.delay.as_secs_f64(),
                    error.0
                )),
            }
        });
        Self(shared)
    }
}

impl RunSource for Threaded {
    fn shared(&self) -> &Arc<SharedSweep> {
        &self.0
    }

    fn tick(&mut self, _now_ms: f64) {}

    fn shift_us(&self, _run: usize) -> Option<u64> {
        Some(0)
    }
}

/// The controller task's observer: writes what it hears into the shared state.
struct Writer<'a>(&'a SharedSweep);

impl SweepObserver for Writer<'_> {
    fn run_started(&mut self, index: usize, _cfg: &RunConfig) -> Option<Arc<EventLog>> {
        Some(self.0.open_run(index))
    }

    fn progress(&mut self, index: usize, p: Progress) {
        let elapsed_us = p.elapsed.as_micros() as u64;
        let go_us = self
            .0
            .try_log(index)
            .map_or(1, |log| log.now_us().saturating_sub(elapsed_us).max(1));
        self.0.set_live(p.count, elapsed_us, go_us);
    }

    fn run_finished(&mut self, _index: usize, result: &RunResult) {
        self.0.push_result(result.clone());
    }

    fn stop_requested(&self) -> bool {
        self.0.stop_requested()
    }
}

// ---- Cooperative ----------------------------------------------------------------------------------

/// A sweep run one run at a time by Web Workers that share no memory with the page.
pub struct Cooperative {
    shared: Arc<SharedSweep>,
    plan: SweepPlan,
    in_flight: Option<usize>,
    /// Per started run: when its log began, in ms on the performance clock.
    epochs: Vec<f64>,
    /// Per started run: its start signal on the same clock, once a worker said; time 0 of the
    /// run's timeline, as in threads mode, where the signal follows the log's start at once.
    zeros: Vec<Option<f64>>,
    /// Events a worker logged ahead of time (an interpreter announces what it will do in its
    /// time slice), held back until the run's clock reaches them: (run, event).
    pending: Vec<(usize, Event)>,
}

impl Cooperative {
    /// A sweep of `config`; its runs start as the page asks for them ([`RunSource::next_job`]).
    pub fn new(config: SweepConfig) -> Self {
        Self {
            shared: SharedSweep::new(config.clone()),
            plan: SweepPlan::new(config),
            in_flight: None,
            epochs: Vec::new(),
            zeros: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// The start signal of run `run` (the first a worker reports), on the performance clock.
    fn zero(&mut self, run: usize, go_ms: f64) -> Option<f64> {
        let z = self.zeros.get_mut(run)?;
        if go_ms <= 0.0 {
            return *z;
        }
        Some(*z.get_or_insert(go_ms))
    }

    /// Run `run`'s event log and the time now on its clock.
    fn log(&self, run: usize) -> Option<(Arc<EventLog>, u64)> {
        let log = self.shared.try_log(run)?;
        let now = log.now_us().saturating_sub(self.shift_us(run).unwrap_or(0));
        Some((log, now))
    }

    /// Moves the events held back for run `run` into its log: those due by its clock, or all.
    fn release(&mut self, run: usize, all: bool) {
        if self.pending.is_empty() {
            return;
        }
        let Some((log, now)) = self.log(run) else {
            return;
        };
        self.pending.retain(|(r, e)| {
            let due = *r == run && (all || e.t_us <= now);
            if due {
                log.push_event(*e);
            }
            !due
        });
    }
}

impl RunSource for Cooperative {
    fn shared(&self) -> &Arc<SharedSweep> {
        &self.shared
    }

    fn tick(&mut self, now_ms: f64) {
        let Some(run) = self.in_flight else { return };
        self.release(run, false);
        // An interpreter cannot report while it is inside a `z * z`: the run's clock goes on
        // here, up to the controller's wake-up, as the pool's controller reports it.
        let (Some(live), Some(Some(zero))) = (self.shared.live(), self.zeros.get(run)) else {
            return;
        };
        let delay = self.plan.runs()[run].delay.as_secs_f64();
        let here = ((now_ms - zero) / 1e3).min(delay + 1e-3);
        if live.run == run && here > live.elapsed_s {
            self.shared.set_live(live.count, (here * 1e6) as u64, 0);
        }
    }

    fn shift_us(&self, run: usize) -> Option<u64> {
        let zero = (*self.zeros.get(run)?)?;
        Some(((zero - self.epochs.get(run)?) * 1e3).max(0.0) as u64)
    }

    fn next_job(&mut self, now_ms: f64) -> Option<String> {
        if self.in_flight.is_some() || self.shared.status() != Status::Running {
            return None;
        }
        if self.shared.stop_requested() && !self.plan.is_complete() {
            self.shared.end(Status::Stopped);
            return None;
        }
        let Some((i, cfg)) = self.plan.next_run() else {
            self.shared.end(Status::Done);
            return None;
        };
        self.shared.open_run(i);
        self.epochs.truncate(i);
        self.epochs.push(now_ms);
        self.zeros.truncate(i);
        self.zeros.push(None);
        self.in_flight = Some(i);
        Some(wire::to_text(&Job::new(i, &cfg)))
    }

    fn worker_message(&mut self, message: PageMessage, _now_ms: f64) -> bool {
        let run = message.run();
        let current = self.in_flight == Some(run);
        match message {
            PageMessage::Events {
                epoch_ms,
                go_ms,
                events,
                ..
            } => {
                let (Some(zero), Some((log, now))) = (self.zero(run, go_ms), self.log(run)) else {
                    return false;
                };
                let offset_us = (epoch_ms - zero) * 1e3;
                for e in events.into_iter().filter_map(|e| e.event(offset_us)) {
                    if e.t_us > now {
                        self.pending.push((run, e));
                    } else {
                        log.push_event(e);
                    }
                }
                false
            }
            PageMessage::Live {
                count,
                elapsed_s,
                go_ms,
                ..
            } => {
                if let (true, Some(zero)) = (current, self.zero(run, go_ms)) {
                    let go_us = ((go_ms - zero) * 1e3).max(1.0) as u64;
                    self.shared.set_live(count, (elapsed_s * 1e6) as u64, go_us);
                }
                false
            }
            PageMessage::Result { result, .. } => {
                if !current {
                    return false;
                }
                self.release(run, true);
                self.in_flight = None;
                match RunResult::try_from(result) {
                    Ok(r) => {
                        self.plan.finish_run(r.clone());
                        self.shared.push_result(r);
                    }
                    Err(e) => self.shared.fail(format!(
                        "run {} sent a result that cannot be read: {}",
                        run + 1,
                        e.0
                    )),
                }
                true
            }
            PageMessage::Failed { message, .. } => {
                if current {
                    self.worker_failed(&message);
                }
                current
            }
        }
    }

    fn worker_failed(&mut self, message: &str) {
        self.in_flight = None;
        self.shared.fail(format!("a Web Worker stopped: {message}"));
    }
}
