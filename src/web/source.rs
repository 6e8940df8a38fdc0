//! Where a sweep's runs come from, one source per mode behind [`RunSource`], so the page's frame
//! loop reads both the same way: from the [`SharedSweep`] a source fills.
//!
//! - [`Threaded`]: a controller task in the pool of Web Workers that share the wasm memory runs
//!   [`crate::sweep::run_sweep`], every Python thread on a worker of its own.
//! - [`Cooperative`]: no shared memory; the page walks a [`SweepPlan`] itself, hands each run to
//!   Web Workers of their own as a [`Job`] and reads back what they post ([`PageMessage`]), the
//!   clocks' arithmetic done by [`RunClock`].

use super::shared::{SharedSweep, Status};
use crate::coop::page_end::RunClock;
use crate::coop::wire::{Job, PageMessage};
use crate::gil::EventLog;
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

    /// The cooperative source, which the page also feeds with its workers' messages.
    fn cooperative(&mut self) -> Option<&mut Cooperative> {
        None
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
            let (_, end) = run_sweep(&platform, config, &mut SharedWriter(&writer));
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
struct SharedWriter<'a>(&'a SharedSweep);

impl SweepObserver for SharedWriter<'_> {
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
    /// Per started run: its clocks ([`RunClock`]).
    clocks: Vec<RunClock>,
}

impl Cooperative {
    /// A sweep of `config`; its runs start as the page asks for them ([`Cooperative::next_job`]).
    pub fn new(config: SweepConfig) -> Self {
        Self {
            shared: SharedSweep::new(config.clone()),
            plan: SweepPlan::new(config),
            in_flight: None,
            clocks: Vec::new(),
        }
    }

    /// Moves the events held back for run `run` into its log: those due by its clock, or all.
    fn release(&mut self, run: usize, all: bool) {
        let (Some(log), Some(clock)) = (self.shared.try_log(run), self.clocks.get_mut(run)) else {
            return;
        };
        let now = clock.run_time_us(log.now_us());
        for e in clock.due((!all).then_some(now)) {
            log.push_event(e);
        }
    }

    /// The next run for Web Workers to start; `None` if there is none now.
    pub fn next_job(&mut self, now_ms: f64) -> Option<Job> {
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
        self.clocks.truncate(i);
        self.clocks.push(RunClock::new(now_ms));
        self.in_flight = Some(i);
        Some(Job::new(i, &cfg))
    }

    /// A message from a run's worker. Returns whether that run is over (its workers may go).
    pub fn worker_message(&mut self, message: PageMessage) -> bool {
        let run = message.run();
        let current = self.in_flight == Some(run);
        match message {
            PageMessage::Events {
                epoch_ms,
                go_ms,
                events,
                ..
            } => {
                let (Some(log), Some(clock)) = (self.shared.try_log(run), self.clocks.get_mut(run))
                else {
                    return false;
                };
                let now = clock.run_time_us(log.now_us());
                for e in clock.events(epoch_ms, go_ms, events, now) {
                    log.push_event(e);
                }
                false
            }
            PageMessage::Live {
                count,
                elapsed_s,
                go_ms,
                ..
            } => {
                let clock = self.clocks.get_mut(run).filter(|_| current);
                if let Some(go_us) = clock.and_then(|c| {
                    c.zero(go_ms);
                    c.go_us(go_ms)
                }) {
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
                self.plan.finish_run(result.clone());
                self.shared.push_result(result);
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

    /// A worker of the run in progress failed outside the messages (it could not start), or
    /// posted what cannot be read.
    pub fn worker_failed(&mut self, message: &str) {
        self.in_flight = None;
        self.shared.fail(format!("a Web Worker stopped: {message}"));
    }
}

impl RunSource for Cooperative {
    fn shared(&self) -> &Arc<SharedSweep> {
        &self.shared
    }

    fn tick(&mut self, now_ms: f64) {
        let Some(run) = self.in_flight else { return };
        self.release(run, false);
        let (Some(live), Some(clock)) = (self.shared.live(), self.clocks.get(run)) else {
            return;
        };
        let delay_s = self.plan.runs()[run].delay.as_secs_f64();
        match clock.elapsed_s(now_ms, delay_s) {
            Some(here) if live.run == run && here > live.elapsed_s => {
                self.shared.set_live(live.count, (here * 1e6) as u64, 0);
            }
            _ => {}
        }
    }

    fn shift_us(&self, run: usize) -> Option<u64> {
        self.clocks.get(run)?.shift_us()
    }

    fn cooperative(&mut self) -> Option<&mut Cooperative> {
        Some(self)
    }
}
