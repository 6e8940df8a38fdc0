//! The animation-frame loop: read what the run source produced, update the page. The same for
//! both modes: it only reads the [`SharedSweep`] of the current [`super::RunSource`].

use super::super::html;
use super::super::shared::{SharedSweep, Status};
use super::{Page, PageState};

impl Page {
    /// Called every animation frame: read what the workers did, update the page.
    pub fn frame(&mut self) {
        let mut results_changed = false;
        let now_ms = self.now_ms();
        if let Some(source) = &mut self.runs.source {
            source.tick(now_ms);
            let shared = source.shared().clone();
            let polled = self.runs.poll(&shared, self.instrument.compare);
            if polled.started {
                self.sync_run_picker();
            }
            results_changed = polled.results;
            self.update_status(&shared);
            if polled.started || polled.results {
                self.show_story();
            }
        }
        // Read first, while the layout of the last frame is still clean (cheap); the canvas and
        // the chart are measured again only when this changed (a resize, a scroll bar).
        let window_width = self.dom.width();
        let resized = window_width != self.window_width;
        self.window_width = window_width;
        let live_key = self
            .runs
            .live_cell()
            .map(|l| (self.runs.started.len(), l.count));
        if results_changed || resized {
            self.render_tables();
        } else if live_key != self.last_live {
            self.render_live();
        }
        self.last_live = live_key;
        self.draw_timeline(resized);
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
                self.dom.set_progress(self.runs.progress(shared));
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
                if self.state == PageState::Running
                    && self.runs.results.len() == shared.results_len()
                {
                    self.dom.set_progress(self.runs.progress(shared));
                    let runs = if total == 1 { "run" } else { "runs" };
                    let text = match (status, self.embed) {
                        (Status::Done, true) => {
                            format!("Done: {total} {runs}. The full demo has more settings.")
                        }
                        (Status::Done, false) => format!(
                            "Done: {total} {runs}. Download the results or change the settings \
                             and run again."
                        ),
                        _ => format!("Stopped after {} of {total} runs.", self.runs.results.len()),
                    };
                    self.dom.set_text("status", &text);
                    self.show_lesson();
                    self.render_tables();
                    self.set_state(PageState::Done);
                    self.show_verdict();
                    self.show_story();
                    self.update_buttons();
                }
            }
        }
    }
}
