//! The animation-frame loop: read what the run source produced, update the page. The same for
//! both modes: it only reads the [`SharedSweep`] of the current [`super::RunSource`].

use super::super::html::{self, LiveCell};
use super::super::shared::{SharedSweep, Status};
use super::super::timeline::Timeline;
use super::{Page, PageState, RunView};
use std::sync::Arc;

impl Page {
    /// Called every animation frame: read what the workers did, update the page.
    pub fn frame(&mut self) {
        let mut results_changed = false;
        let now_ms = self.now_ms();
        if let Some(source) = &mut self.source {
            source.tick(now_ms);
            let shared = source.shared().clone();
            results_changed = self.poll(&shared);
            self.update_status(&shared);
        }
        // Read first, while the layout of the last frame is still clean (cheap); the canvas and
        // the chart are measured again only when this changed (a resize, a scroll bar).
        let window_width = self.dom.width();
        let resized = window_width != self.window_width;
        self.window_width = window_width;
        let live_key = self.live_cell().map(|l| (self.runs.len(), l.count));
        if results_changed || resized {
            self.render_tables();
        } else if live_key != self.last_live {
            self.render_live();
        }
        self.last_live = live_key;
        self.draw_timeline(resized);
    }

    /// Reads new logs, events and results. Returns whether the results changed.
    fn poll(&mut self, shared: &Arc<SharedSweep>) -> bool {
        while self.runs.len() < shared.started() {
            let i = self.runs.len();
            let Some(log) = shared.try_log(i) else { break };
            let mut timeline = Timeline::new(shared.runs()[i].scenario);
            timeline.set_delay(shared.runs()[i].delay);
            self.runs.push(RunView {
                log,
                cursor: 0,
                timeline,
                forgotten: false,
            });
            self.sync_run_picker();
        }
        for run in self.runs.iter_mut().filter(|r| !r.timeline.finished) {
            read_events(run);
        }
        let mut changed = false;
        if shared.results_len() > self.results.len() {
            if let Some(new) = shared.try_results_since(self.results.len()) {
                for r in new {
                    let i = self.results.len();
                    if let Some(run) = self.runs.get_mut(i) {
                        read_events(run);
                        run.timeline.finish(&r);
                    }
                    self.results.push(r);
                    changed = true;
                }
            }
        }
        if changed {
            self.bound_memory();
        }
        if let Some(live) = shared.live() {
            // A run's time axis starts at its start signal: in cooperative mode that is a while
            // after its log began (the workers load first).
            let shift = self.source.as_ref().and_then(|s| s.shift_us(live.run));
            if let (Some(run), Some(shift)) = (self.runs.get_mut(live.run), shift) {
                let now = run.log.now_us().saturating_sub(shift);
                run.timeline.set_go(live.go_us);
                run.timeline.advance(now);
            }
        }
        changed
    }

    fn update_status(&mut self, shared: &SharedSweep) {
        let total = shared.runs().len();
        match shared.status() {
            Status::Running => {
                let text = match shared.live() {
                    Some(l) => {
                        let cfg = &shared.runs()[l.run];
                        let delay = cfg.delay.as_secs_f64();
                        format!(
                            "Run {} of {total}: {} with a {} s delay{}, {}.",
                            l.run + 1,
                            cfg.scenario,
                            html::short_number(delay),
                            if shared.config.sweeps_intervals() {
                                format!(
                                    " and a {} ms switch interval",
                                    html::short_number(cfg.interval.as_secs_f64() * 1e3)
                                )
                            } else {
                                String::new()
                            },
                            if l.elapsed_s > delay {
                                "waiting for the controller to stop it".to_string()
                            } else {
                                format!("{:.1} s", l.elapsed_s)
                            }
                        )
                    }
                    None => "Starting the next run…".into(),
                };
                self.dom.set_text("status", &text);
                self.dom.set_progress(self.progress(shared));
            }
            Status::Failed => {
                if self.state != PageState::Error {
                    let msg = shared
                        .error()
                        .unwrap_or_else(|| "a run failed for an unknown reason".into());
                    self.fail(&format!("The sweep stopped: {msg}"));
                }
            }
            status @ (Status::Done | Status::Stopped) => {
                // Done only once every result has been read and shown.
                if self.state == PageState::Running && self.results.len() == shared.results_len() {
                    self.dom.set_progress(self.progress(shared));
                    let text = match (status, self.embed) {
                        (Status::Done, true) => {
                            format!("Done: {total} runs. The full demo has more settings.")
                        }
                        (Status::Done, false) => format!(
                            "Done: {total} runs. Download the results or change the settings \
                             and run again."
                        ),
                        _ => format!("Stopped after {} of {total} runs.", self.results.len()),
                    };
                    self.dom.set_text("status", &text);
                    self.render_tables();
                    self.set_state(PageState::Done);
                    self.show_verdict();
                    self.update_buttons();
                }
            }
        }
    }

    /// How far the sweep is, from 0 to 1, by the delays it has run through.
    fn progress(&self, shared: &SharedSweep) -> f64 {
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
        })
    }
}

fn read_events(run: &mut RunView) {
    let out = run.log.read_since(run.cursor);
    run.cursor = out.cursor;
    run.timeline.lost += out.lost;
    for e in &out.events {
        run.timeline.apply(e);
    }
}
