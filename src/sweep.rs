//! A sweep: every (scenario, delay) run of a [`SweepConfig`], one at a time and in order, as the
//! seed does, collected into a [`SweepReport`].
//!
//! Two ways to drive one, with the same bookkeeping ([`SweepPlan`]):
//! - [`run_sweep`] runs the whole sweep on the calling thread through a [`Platform`], blocking
//!   (the CLI; the web page's controller task on a Web Worker);
//! - a caller that starts runs somewhere else and hears of their end later (the web page's
//!   cooperative mode, whose runs live in Web Workers without shared memory) asks the plan for
//!   [`SweepPlan::next_run`] and hands back each result with [`SweepPlan::finish_run`].

use crate::gil::EventLog;
use crate::runner::{run, Platform, Progress, RunError};
use crate::scenario::{RunConfig, RunResult, SweepConfig, SweepReport};
use std::sync::Arc;

/// Where a sweep is, and what it has measured so far.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    config: SweepConfig,
    runs: Vec<RunConfig>,
    results: Vec<RunResult>,
    /// Runs handed out by [`SweepPlan::next_run`].
    started: usize,
}

impl SweepPlan {
    /// Every run of `config`, in the order the seed runs them (row by row: one delay, every
    /// scenario).
    pub fn new(config: SweepConfig) -> Self {
        Self {
            runs: config.runs().collect(),
            config,
            results: Vec::new(),
            started: 0,
        }
    }

    /// What the sweep runs.
    pub fn config(&self) -> &SweepConfig {
        &self.config
    }

    /// Every run, in order.
    pub fn runs(&self) -> &[RunConfig] {
        &self.runs
    }

    /// The next run to start and its index, or `None` when every run has been started. A run
    /// must be finished before the next is asked for: runs never overlap (they would share the
    /// machine's cores and spoil each other's counts).
    pub fn next_run(&mut self) -> Option<(usize, RunConfig)> {
        if self.started > self.results.len() {
            return None;
        }
        let cfg = *self.runs.get(self.started)?;
        self.started += 1;
        Some((self.started - 1, cfg))
    }

    /// The run in progress ended with `result`.
    pub fn finish_run(&mut self, result: RunResult) {
        if self.results.len() < self.started {
            self.results.push(result);
        }
    }

    /// Runs started so far.
    pub fn started(&self) -> usize {
        self.started
    }

    /// Results so far, in run order.
    pub fn results(&self) -> &[RunResult] {
        &self.results
    }

    /// Whether every run has finished.
    pub fn is_complete(&self) -> bool {
        self.results.len() == self.runs.len()
    }

    /// The report of what has finished so far (every run once [`SweepPlan::is_complete`]).
    pub fn report(&self) -> SweepReport {
        SweepReport {
            config: self.config.clone(),
            results: self.results.clone(),
        }
    }
}

/// What a caller of [`run_sweep`] hears while the sweep goes on. Every method has a default that
/// does nothing, so an observer implements only what it shows.
pub trait SweepObserver {
    /// Run `index` is about to start; the event log it returns (if any) records the run's lock
    /// events, for a timeline.
    fn run_started(&mut self, index: usize, cfg: &RunConfig) -> Option<Arc<EventLog>> {
        let _ = (index, cfg);
        None
    }

    /// About every 100 ms during run `index`: its count so far.
    fn progress(&mut self, index: usize, progress: Progress) {
        let _ = (index, progress);
    }

    /// Run `index` finished.
    fn run_finished(&mut self, index: usize, result: &RunResult) {
        let _ = (index, result);
    }

    /// Checked before each run: `true` ends the sweep there (a run in progress always completes).
    fn stop_requested(&self) -> bool {
        false
    }
}

/// An observer that hears nothing.
impl SweepObserver for () {}

/// How a sweep run by [`run_sweep`] ended.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepEnd {
    /// Every run finished.
    Complete,
    /// The observer asked to stop; the report holds the runs before that.
    Stopped,
    /// A run failed: which one, and why. The report holds the runs before it.
    Failed {
        /// The failed run.
        run: RunConfig,
        /// Why it failed.
        error: RunError,
    },
}

/// Runs every run of `config` on `platform`, one after the other, telling `observer` about each.
/// Blocks until the sweep ends; returns what was measured and how it ended.
pub fn run_sweep(
    platform: &dyn Platform,
    config: SweepConfig,
    observer: &mut dyn SweepObserver,
) -> (SweepReport, SweepEnd) {
    let mut plan = SweepPlan::new(config);
    let end = loop {
        if observer.stop_requested() && !plan.is_complete() {
            break SweepEnd::Stopped;
        }
        let Some((i, cfg)) = plan.next_run() else {
            break SweepEnd::Complete;
        };
        let log = observer.run_started(i, &cfg);
        let mut progress = |p: Progress| observer.progress(i, p);
        match run(platform, &cfg, log, &mut progress) {
            Ok(result) => {
                observer.run_finished(i, &result);
                plan.finish_run(result);
            }
            Err(error) => break SweepEnd::Failed { run: cfg, error },
        }
    };
    (plan.report(), end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use std::time::Duration;

    fn config() -> SweepConfig {
        SweepConfig {
            scenarios: vec![Scenario::Thread, Scenario::ThreadLoad],
            delays: vec![Duration::ZERO, Duration::from_millis(10)],
            ..SweepConfig::default()
        }
    }

    fn fake_result(cfg: &RunConfig) -> RunResult {
        RunResult {
            scenario: cfg.scenario,
            delay_s: cfg.delay.as_secs_f64(),
            count: 1,
            elapsed_s: 0.0,
            stop_lag_s: 0.0,
            rate_per_s: 0.0,
            switches: 0,
            switch_interval_ms: 5.0,
            workers: Vec::new(),
            load: None,
            loads: 0,
            latency_ms: None,
        }
    }

    #[test]
    fn a_plan_hands_out_one_run_at_a_time_in_seed_order() {
        let mut plan = SweepPlan::new(config());
        let (i, first) = plan.next_run().expect("a first run");
        assert_eq!((i, first.scenario), (0, Scenario::Thread));
        assert_eq!(plan.next_run(), None, "runs never overlap");
        plan.finish_run(fake_result(&first));
        let mut order = vec![first.scenario.name()];
        while let Some((_, cfg)) = plan.next_run() {
            order.push(cfg.scenario.name());
            plan.finish_run(fake_result(&cfg));
        }
        assert_eq!(order, ["thread", "thread+load", "thread", "thread+load"]);
        assert!(plan.is_complete());
        assert_eq!(plan.report().results.len(), 4);
    }

    #[test]
    fn a_result_without_a_started_run_is_ignored() {
        let mut plan = SweepPlan::new(config());
        plan.finish_run(fake_result(&plan.runs()[0].clone()));
        assert!(plan.results().is_empty());
    }

    #[cfg(not(target_arch = "wasm32"))]
    struct Recorder {
        seen: Vec<String>,
        stop_after: usize,
    }

    #[cfg(not(target_arch = "wasm32"))]
    impl SweepObserver for Recorder {
        fn run_started(&mut self, index: usize, cfg: &RunConfig) -> Option<Arc<EventLog>> {
            self.seen.push(format!("start {index} {}", cfg.scenario));
            None
        }
        fn run_finished(&mut self, index: usize, result: &RunResult) {
            self.seen.push(format!("end {index} {}", result.scenario));
        }
        fn stop_requested(&self) -> bool {
            self.seen.len() >= 2 * self.stop_after
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn run_sweep_tells_its_observer_and_stops_when_asked() {
        let platform = crate::platform::native::NativePlatform::new().expect("a native platform");
        let mut observer = Recorder {
            seen: Vec::new(),
            stop_after: 1,
        };
        let config = SweepConfig {
            delays: vec![Duration::from_millis(20)],
            ..config()
        };
        let (report, end) = run_sweep(&platform, config, &mut observer);
        assert_eq!(end, SweepEnd::Stopped);
        assert_eq!(observer.seen, ["start 0 thread", "end 0 thread"]);
        assert_eq!(report.results.len(), 1);
        assert!(
            report.results[0].count > 0,
            "the incrementer really counted"
        );
    }
}
