//! The timeline as an instrument: pause, zoom, pan, pointing at spans (pointer and keyboard),
//! a second run stacked on the same axis, and the shown run's trace for download or Perfetto.
//! The view's arithmetic lives in [`crate::web::view`]; this is what the page does with it.

use super::super::canvas;
use super::super::html::{escape, short_number};
use super::super::view::{describe, span_at, View};
use super::{Page, PageState};
use std::fmt::Write;

/// What the reader set on the timeline.
#[derive(Default)]
pub(super) struct Instrument {
    pub(super) view: View,
    /// A run drawn under the shown one, on the same time axis.
    pub(super) compare: Option<usize>,
    /// The span picked, as (row, lane, span index).
    pub(super) selected: Option<(usize, usize, usize)>,
    /// What the last drawing laid out (its scale, each run's lanes in pixels), to turn pixels
    /// into times and spans; and the whole-run extent it showed.
    pub(super) drawn: Option<canvas::Drawn>,
    pub(super) whole_s: f64,
}

impl Page {
    /// Keeps the shown run on screen while the reader zooms, pans or pauses: without this, the
    /// next run of the sweep would replace it.
    fn hold_run(&mut self) {
        if self.runs.pinned.is_none() && self.state == PageState::Running {
            self.runs.pinned = self.runs.shown();
            self.sync_run_picker();
        }
    }

    /// Zooms by `factor` around the pixel `x` (negative: the middle).
    pub fn timeline_zoom(&mut self, factor: f64, x: f64) {
        self.hold_run();
        let anchor = match (&self.instrument.drawn, x >= 0.0) {
            (Some(d), true) => d.scale.fraction(x),
            _ => 0.5,
        };
        let whole = self.instrument.whole_s;
        self.instrument.view.zoom(factor, anchor, whole);
    }

    /// Pans by `dx` CSS pixels, as a drag does (dragging right shows earlier times).
    pub fn timeline_pan(&mut self, dx: f64) {
        self.hold_run();
        let width = self
            .instrument
            .drawn
            .as_ref()
            .map_or(1.0, |d| d.scale.width);
        let whole = self.instrument.whole_s;
        self.instrument.view.pan(-dx / width.max(1.0), whole);
    }

    /// Picks the span drawn under the pixel (`x`, `y`) and says what it is.
    pub fn timeline_point(&mut self, x: f64, y: f64) {
        // The layout of the view as it is now: after a zoom or a pan no frame may have been drawn
        // yet (WebKit under a virtual screen draws few), and the last layout would be stale.
        self.draw_timeline(false);
        let runs = self.runs.drawn(self.instrument.compare);
        let Some(drawn) = &self.instrument.drawn else {
            return;
        };
        let counts: Vec<usize> = drawn.rows.iter().map(|r| r.lanes.len()).collect();
        let lane = canvas::lane_at(y, &counts);
        let picked = lane.and_then(|(row, lane)| {
            let tl = &self.runs.started.get(*runs.get(row)?)?.timeline;
            let laid_out = drawn.rows.get(row)?.lanes.get(lane)?;
            Some((
                row,
                lane,
                laid_out.span_at(&tl.lanes[lane], &drawn.scale, x)?,
            ))
        });
        // What the pointer found, for a test that reads the canvas: "row lane span", a dash for
        // what is not there (no lane at that height; no span drawn at that x).
        let found = match (lane, picked) {
            (_, Some((row, lane, k))) => format!("{row} {lane} {k}"),
            (Some((row, lane)), None) => format!("{row} {lane} -"),
            (None, _) => "-".to_string(),
        };
        self.dom.set_attr("timeline", "data-pointed", &found);
        self.select(picked);
    }

    /// A key pressed on the focused canvas. Returns whether it was the timeline's.
    pub fn timeline_key(&mut self, key: &str) -> bool {
        if matches!(
            key,
            "+" | "=" | "-" | "_" | "ArrowLeft" | "ArrowRight" | "Home" | "End"
        ) {
            self.hold_run();
        }
        let whole = self.instrument.whole_s;
        let view = &mut self.instrument.view;
        match key {
            "+" | "=" => view.zoom(0.5, 0.5, whole),
            "-" | "_" => view.zoom(2.0, 0.5, whole),
            "0" => view.whole(),
            "ArrowLeft" => view.pan(-0.2, whole),
            "ArrowRight" => view.pan(0.2, whole),
            "Home" => view.pan(-1e9, whole),
            "End" => view.pan(1e9, whole),
            " " | "p" | "k" => self.toggle_pause(),
            "ArrowUp" => self.step_lane(-1),
            "ArrowDown" => self.step_lane(1),
            "," | "[" => self.step_span(-1),
            "." | "]" => self.step_span(1),
            "Escape" => self.select(None),
            _ => return false,
        }
        true
    }

    /// Another run is shown: from its start, whole, not paused.
    pub(super) fn reset_view(&mut self) {
        self.instrument.view.resume();
        self.instrument.selected = None;
        self.dom.set_text("tl-pause", "Pause");
        self.dom.set_attr("tl-pause", "aria-pressed", "false");
        self.update_readout();
    }

    /// Pauses the picture, or resumes: back to the whole run, following the live one.
    pub(super) fn toggle_pause(&mut self) {
        if self.instrument.view.paused_at_us().is_some() {
            self.instrument.view.resume();
            if self.state == PageState::Running && self.runs.pinned.is_some() {
                self.runs.pinned = None;
                self.sync_run_picker();
            }
        } else {
            self.hold_run();
            let now = self
                .runs
                .drawn(self.instrument.compare)
                .iter()
                .map(|&i| self.runs.started[i].timeline.now_us)
                .max()
                .unwrap_or(0);
            self.instrument.view.pause(now);
        }
        let paused = self.instrument.view.paused_at_us().is_some();
        self.dom
            .set_text("tl-pause", if paused { "Resume" } else { "Pause" });
        self.dom.set_attr(
            "tl-pause",
            "aria-pressed",
            if paused { "true" } else { "false" },
        );
    }

    /// The next lane up or down (over the stacked runs too), at the span in the middle of view.
    fn step_lane(&mut self, by: i64) {
        let runs = self.runs.drawn(self.instrument.compare);
        // Every lane of every run drawn, top to bottom, as (run, lane).
        let all: Vec<(usize, usize)> = runs
            .iter()
            .enumerate()
            .flat_map(|(row, &i)| {
                (0..self.runs.started[i].timeline.lanes.len()).map(move |lane| (row, lane))
            })
            .collect();
        let lanes = all.len() as i64;
        if lanes == 0 {
            return;
        }
        let (r, l, _) = self.instrument.selected.unwrap_or((0, 0, 0));
        let mut at = all.iter().position(|&x| x == (r, l)).unwrap_or(0) as i64;
        let (a, b) = self.instrument.view.range(self.instrument.whole_s);
        let mid_us = ((a + b) / 2.0 * 1e6) as u64;
        for _ in 0..lanes {
            at = (at + by).rem_euclid(lanes);
            let (row, lane) = all[at as usize];
            let tl = &self.runs.started[runs[row]].timeline;
            let mid = mid_us.min(self.instrument.view.clip_us(tl.now_us));
            let found = span_at(&tl.lanes[lane], mid).or_else(|| {
                // Nothing there yet: the lane's last span before it.
                let spans = &tl.lanes[lane].spans;
                spans.partition_point(|s| s.start_us <= mid).checked_sub(1)
            });
            if let Some(k) = found {
                return self.select(Some((row, lane, k)));
            }
        }
    }

    /// The previous or next span of the picked lane, brought into view.
    fn step_span(&mut self, by: i64) {
        let Some((row, lane, k)) = self.instrument.selected else {
            return self.step_lane(1);
        };
        let runs = self.runs.drawn(self.instrument.compare);
        let Some(tl) = runs.get(row).map(|&i| &self.runs.started[i].timeline) else {
            return;
        };
        let clip = self.instrument.view.clip_us(tl.now_us);
        let n = tl.lanes[lane].spans.partition_point(|s| s.start_us < clip);
        let k = (k as i64 + by).clamp(0, n.max(1) as i64 - 1) as usize;
        if let Some(s) = tl.lanes[lane].spans.get(k) {
            let (t0, t1) = (s.start_us as f64 / 1e6, s.end_us.min(clip) as f64 / 1e6);
            let whole = self.instrument.whole_s;
            self.instrument.view.reveal(t0, t1, whole);
        }
        self.select(Some((row, lane, k)));
    }

    fn select(&mut self, picked: Option<(usize, usize, usize)>) {
        self.instrument.selected = picked;
        self.instrument.view.version += 1;
        self.update_readout();
    }

    /// Writes what the picked span is into the live region the screen reader announces.
    pub(super) fn update_readout(&self) {
        let runs = self.runs.drawn(self.instrument.compare);
        let text = self.instrument.selected.and_then(|(row, lane, k)| {
            let tl = &self.runs.started.get(*runs.get(row)?)?.timeline;
            let mut text = describe(tl, lane, k, self.instrument.view.clip_us(tl.now_us))?;
            if runs.len() > 1 {
                text = format!(
                    "{} ({}): {text}",
                    tl.scenario,
                    if row == 0 { "top" } else { "bottom" }
                );
            }
            Some(text + ".")
        });
        self.dom.set_text(
            "timeline-readout",
            text.as_deref()
                .unwrap_or("Point at a span, or focus the timeline and use the arrow keys."),
        );
    }

    /// The list of runs that can be stacked under the shown one.
    pub(super) fn sync_compare_picker(&self) {
        let Some(source) = &self.runs.source else {
            return;
        };
        let runs = source.shared().runs();
        let selected = |on: bool| if on { " selected" } else { "" };
        let mut out = format!(
            "<option value=\"none\"{}>No second run</option>",
            selected(self.instrument.compare.is_none())
        );
        for (i, cfg) in runs[..self.runs.started.len().min(runs.len())]
            .iter()
            .enumerate()
        {
            let _ = write!(
                out,
                "<option value=\"{i}\"{}>{}: {} at {} s</option>",
                selected(self.instrument.compare == Some(i)),
                i + 1,
                escape(cfg.scenario.name()),
                short_number(cfg.delay.as_secs_f64())
            );
        }
        self.dom.set_html("timeline-compare", &out);
    }

    /// The Chrome trace of the shown run, once it has finished.
    pub fn trace_json(&self) -> Option<String> {
        self.runs.trace_json()
    }

    /// A file name for the shown run's trace: `gil-lab-thread-load-2s.json`.
    pub fn trace_name(&self) -> String {
        self.runs.trace_name()
    }

    pub(super) fn download_trace(&self) {
        if let Some(text) = self.trace_json() {
            let _ = self.save(&text, &self.trace_name(), "application/json");
        }
    }
}
