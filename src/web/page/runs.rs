//! The runs and results the page owns: the source the sweep's runs come from, what it has read
//! of each run (its log cursor and lanes), the results, and the run pinned on the timeline.

use super::super::html::{short_number, LiveCell};
use super::super::shared::SharedSweep;
use super::super::source::RunSource;
use super::super::timeline::{DropRequest, Span, Timeline};
use super::super::view::{whole_run_s, View};
use crate::gil::EventLog;
use crate::scenario::{RunResult, SweepConfig};
use std::sync::Arc;

/// Memory the page keeps for the lanes of a sweep's runs. Each run keeps at most
/// [`super::super::timeline::MAX_SPANS`] spans, operation starts and drop requests per lane
/// (about 7 MB at worst, far less at the default interval: a few hundred spans a second); past
/// this sum, the oldest finished runs not on screen let their lanes go and keep their results.
const KEPT_BYTES: usize = 48 << 20;

/// One started run as the page knows it.
pub(super) struct RunView {
    log: Arc<EventLog>,
    cursor: u64,
    pub(super) timeline: Timeline,
    /// Its spans were let go to keep the page's memory bounded ([`KEPT_BYTES`]).
    pub(super) forgotten: bool,
}

/// The sweep started, as far as the page has read it.
#[derive(Default)]
pub(super) struct Runs {
    /// Where runs come from; none before the first Run.
    pub(super) source: Option<Box<dyn RunSource>>,
    /// The runs started, in order.
    pub(super) started: Vec<RunView>,
    /// The results of the runs finished, in order.
    pub(super) results: Vec<RunResult>,
    /// The run whose timeline is shown; `None` follows the live run.
    pub(super) pinned: Option<usize>,
}

/// What [`Runs::poll`] found.
pub(super) struct Polled {
    /// A run started.
    pub(super) started: bool,
    /// A result arrived.
    pub(super) results: bool,
}

impl Runs {
    /// A new sweep from `source`: nothing read yet.
    pub(super) fn new(source: Box<dyn RunSource>) -> Self {
        Self {
            source: Some(source),
            ..Self::default()
        }
    }

    /// The run shown: the pinned one, or the latest.
    pub(super) fn shown(&self) -> Option<usize> {
        self.pinned
            .filter(|&i| i < self.started.len())
            .or_else(|| self.started.len().checked_sub(1))
    }

    /// The runs drawn, top to bottom: the shown one, then `compare` stacked under it.
    pub(super) fn drawn(&self, compare: Option<usize>) -> Vec<usize> {
        let shown = self.shown();
        let compare = compare.filter(|&c| c < self.started.len() && Some(c) != shown);
        shown.into_iter().chain(compare).collect()
    }

    /// The settings of the sweep started, or `form`'s before any.
    pub(super) fn config(&self, form: &SweepConfig) -> SweepConfig {
        self.source
            .as_ref()
            .map_or_else(|| form.clone(), |s| s.shared().config.clone())
    }

    /// The extent of the time axis: the longest of the runs `drawn`, up to `view`'s pause.
    pub(super) fn whole_s(&self, drawn: &[usize], view: &View) -> f64 {
        let Some(source) = &self.source else {
            return 0.2;
        };
        let configs = source.shared().runs();
        drawn
            .iter()
            .filter_map(|&i| {
                let now = view.clip_us(self.started.get(i)?.timeline.now_us);
                Some(whole_run_s(configs.get(i)?.delay.as_secs_f64(), now))
            })
            .fold(0.2, f64::max)
    }

    /// Reads new logs, events and results from `shared`; `compare` is the run stacked on the
    /// timeline, whose lanes are kept.
    pub(super) fn poll(&mut self, shared: &Arc<SharedSweep>, compare: Option<usize>) -> Polled {
        let mut polled = Polled {
            started: false,
            results: false,
        };
        while self.started.len() < shared.started() {
            let i = self.started.len();
            let Some(log) = shared.try_log(i) else { break };
            let cfg = shared.runs()[i];
            let mut timeline = Timeline::with_loads(cfg.scenario, cfg.load_threads());
            timeline.set_delay(shared.runs()[i].delay);
            self.started.push(RunView {
                log,
                cursor: 0,
                timeline,
                forgotten: false,
            });
            polled.started = true;
        }
        for run in self.started.iter_mut().filter(|r| !r.timeline.finished) {
            read_events(run);
        }
        if shared.results_len() > self.results.len() {
            if let Some(new) = shared.try_results_since(self.results.len()) {
                for r in new {
                    let i = self.results.len();
                    if let Some(run) = self.started.get_mut(i) {
                        read_events(run);
                        run.timeline.finish(&r);
                    }
                    self.results.push(r);
                    polled.results = true;
                }
            }
        }
        if polled.results {
            self.bound_memory(&self.drawn(compare));
        }
        if let Some(live) = shared.live() {
            // A run's time axis starts at its start signal: in cooperative mode that is a while
            // after its log began (the workers load first).
            let shift = self.source.as_ref().and_then(|s| s.shift_us(live.run));
            if let (Some(run), Some(shift)) = (self.started.get_mut(live.run), shift) {
                let now = run.log.now_us().saturating_sub(shift);
                run.timeline.set_go(live.go_us);
                run.timeline.advance(now);
            }
        }
        polled
    }

    /// Lets the lanes of the oldest finished runs go, keeping their results and moments, until
    /// the lanes kept fit in [`KEPT_BYTES`]. The runs `on_screen` keep theirs.
    fn bound_memory(&mut self, on_screen: &[usize]) {
        let mut total: usize = self.started.iter().map(|r| lane_bytes(&r.timeline)).sum();
        for i in 0..self.started.len() {
            if total <= KEPT_BYTES {
                break;
            }
            let run = &mut self.started[i];
            if run.forgotten || !run.timeline.finished || on_screen.contains(&i) {
                continue;
            }
            total -= lane_bytes(&run.timeline);
            let old = &run.timeline;
            let loads = old.lanes.len().saturating_sub(2) as u8;
            let mut kept = Timeline::with_loads(old.scenario, loads);
            kept.lanes.iter_mut().for_each(|l| l.spans.clear());
            kept.now_us = old.now_us;
            kept.go_us = old.go_us;
            kept.woke_us = old.woke_us;
            kept.delay_us = old.delay_us;
            kept.flag_cleared_us = old.flag_cleared_us;
            kept.finished = true;
            run.timeline = kept;
            run.forgotten = true;
        }
    }

    /// How far the sweep is, from 0 to 1, by the delays it has run through.
    pub(super) fn progress(&self, shared: &SharedSweep) -> f64 {
        let runs = shared.runs();
        let total: f64 = runs
            .iter()
            .map(|r| r.delay.as_secs_f64())
            .sum::<f64>()
            .max(1e-9);
        let done: f64 = runs[..self.results.len().min(runs.len())]
            .iter()
            .map(|r| r.delay.as_secs_f64())
            .sum();
        let live = shared
            .live()
            .map_or(0.0, |l| l.elapsed_s.min(runs[l.run].delay.as_secs_f64()));
        ((done + live) / total).min(1.0)
    }

    /// The count in progress, if a run is going on.
    pub(super) fn live_cell(&self) -> Option<LiveCell> {
        let shared = self.source.as_ref()?.shared();
        let live = shared.live()?;
        let cfg = shared.runs().get(live.run)?;
        Some(LiveCell {
            scenario: cfg.scenario,
            delay_s: cfg.delay.as_secs_f64(),
            count: live.count,
            elapsed_s: live.elapsed_s,
            interval_ms: cfg.interval.as_secs_f64() * 1e3,
            loads: cfg.load_threads(),
        })
    }

    /// The Chrome trace of the shown run, once it has finished.
    pub(super) fn trace_json(&self) -> Option<String> {
        let i = self.shown()?;
        let result = self.results.get(i)?;
        let cfg = *self.source.as_ref()?.shared().runs().get(i)?;
        Some(crate::report::chrome_trace(
            &self.started[i].timeline,
            &cfg,
            result,
        ))
    }

    /// A file name for the shown run's trace: `gil-lab-thread-load-2s.json`.
    pub(super) fn trace_name(&self) -> String {
        let cfg = self
            .shown()
            .and_then(|i| self.source.as_ref()?.shared().runs().get(i).copied());
        cfg.map_or_else(
            || "gil-lab-trace.json".into(),
            |c| {
                format!(
                    "gil-lab-{}-{}s.json",
                    c.scenario.name().replace('+', "-"),
                    short_number(c.delay.as_secs_f64())
                )
            },
        )
    }
}

/// Bytes the lanes of `t` hold.
fn lane_bytes(t: &Timeline) -> usize {
    t.lanes
        .iter()
        .map(|l| {
            l.spans.len() * std::mem::size_of::<Span>()
                + l.op_starts.len() * 8
                + l.requests.len() * std::mem::size_of::<DropRequest>()
        })
        .sum()
}

fn read_events(run: &mut RunView) {
    let out = run.log.read_since(run.cursor);
    run.cursor = out.cursor;
    run.timeline.lost += out.lost;
    for e in &out.events {
        run.timeline.apply(e);
    }
}
