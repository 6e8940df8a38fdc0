//! Drawing: the counters, tables and chart (HTML from [`html`]) and the timeline canvas.

use super::super::canvas;
use super::super::html;
use super::super::timeline::Timeline;
use super::super::view::Figures;
use super::Page;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;

/// How often a live timeline is redrawn, in microseconds of its clock.
const FRAME_US: u64 = 33_000;

/// What the timeline canvas last showed: nothing to redraw while it is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct DrawKey {
    run: Option<usize>,
    compare: Option<usize>,
    now_us: u64,
    finished: bool,
    view: u32,
}

impl Page {
    /// Everything that depends on the results and the live count.
    pub(super) fn render_tables(&mut self) {
        self.render_live();
        self.render_results();
    }

    /// The counters and the seed's table: about ten times a second while a run goes on.
    pub(super) fn render_live(&self) {
        let config = self.runs.config(&self.form.config);
        let live = self.runs.live_cell();
        let counters = html::counters(&config, &self.runs.results, live);
        self.dom.set_html("counters", &counters);
        let table = html::seed_table(&config, &self.runs.results, live);
        self.dom.set_html("seed-table", &table);
    }

    /// The run list and the chart: when a run finishes or the layout changes.
    fn render_results(&mut self) {
        let config = self.runs.config(&self.form.config);
        let rows = html::results_rows(&self.runs.results, self.runs.pinned);
        self.dom.set_html("results-body", &rows);
        let width = self.dom.el("chart").map_or(560, |e| e.client_width());
        // The request victims' waits are a distribution, not a count: their own picture.
        let waits = config.victim.answers_requests();
        let chart = if waits {
            html::waits_svg(&self.runs.results, f64::from(width))
        } else {
            html::chart_svg(&config, &self.runs.results, f64::from(width))
        };
        self.dom.set_html("chart", &chart);
        self.dom
            .set_html("chart-legend", &html::chart_legend(&config));
        let heading = if waits {
            "How long requests waited"
        } else if config.sweeps_intervals() {
            "Count against switch interval"
        } else {
            "Count against delay"
        };
        self.dom.set_text("chart-heading", heading);
        self.dom.set_text(
            "chart-sub",
            if waits {
                "One row per run: a bar from the median to the 99th percentile, a dot at the mean."
            } else {
                "One line per scenario."
            },
        );
        self.dom.show("results-empty", self.runs.results.is_empty());
    }

    /// What the finished sweep means, in the CLI's words; a placeholder until a sweep ends.
    pub(super) fn show_verdict(&self) {
        let report = crate::scenario::SweepReport {
            config: self.runs.config(&self.form.config),
            results: self.runs.results.clone(),
        };
        let (items, cases) = html::verdict(&report);
        let done = !self.runs.results.is_empty() && self.state != super::PageState::Running;
        let (items, cases) = if done && !items.is_empty() {
            (items, cases)
        } else if done {
            (
                "<li data-case=\"none\">Nothing to compare: run a scenario both with and without \
                 the load (e.g. thread and thread+load).</li>"
                    .to_string(),
                "none".to_string(),
            )
        } else {
            // The live region stays in place (a region that appears is often not read out).
            (
                "<li class=\"hint\">When the sweep ends, what it means for a Python program \
                 appears here.</li>"
                    .to_string(),
                String::new(),
            )
        };
        self.dom.set_html("verdict-list", &items);
        self.dom.set_attr("verdict", "data-cases", &cases);
    }

    /// The list of runs whose timeline can be shown.
    pub(super) fn sync_run_picker(&self) {
        let Some(source) = &self.runs.source else {
            return;
        };
        let runs = source.shared().runs();
        let options = html::run_picker(
            &runs[..self.runs.started.len().min(runs.len())],
            self.runs.pinned,
        );
        self.dom.set_html("timeline-run", &options);
        self.dom.show("timeline-run", true);
        self.sync_compare_picker();
    }

    /// At a sweep's end, unless the reader picked a run: the lesson's two runs stacked on one time
    /// axis, the thread beside the load on top ([`crate::web::view::lesson_pair`]).
    pub(super) fn show_lesson(&mut self) {
        if self.story.is_some() || self.runs.pinned.is_some() || self.instrument.compare.is_some() {
            return;
        }
        let runs: Vec<_> = self
            .runs
            .results
            .iter()
            .map(|r| (r.scenario, r.delay_s))
            .collect();
        if let Some((top, under)) = crate::web::view::lesson_pair(&runs) {
            self.runs.pinned = Some(top);
            self.instrument.compare = Some(under);
            self.sync_run_picker();
            self.redraw_timeline();
        }
    }

    /// Forgets what the timeline last showed, so the next frame draws it again.
    pub(super) fn redraw_timeline(&mut self) {
        self.timeline_drawn_for = None;
    }

    pub(super) fn draw_timeline(&mut self, resized: bool) {
        let Some(canvas) = self
            .dom
            .el("timeline")
            .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok())
        else {
            return;
        };
        let dark = self.dark_query.as_ref().is_some_and(|m| m.matches());
        // Reading the canvas's width forces a layout: only after a resize.
        let width = if resized || self.canvas_width == 0 {
            canvas.client_width()
        } else {
            self.canvas_width
        };
        if self.dark != Some(dark) || self.canvas_width != width {
            self.palette = canvas::Palette::read(&self.window, &canvas);
            self.dark = Some(dark);
            self.canvas_width = width;
            self.timeline_drawn_for = None;
        }
        let shown = self.runs.shown();
        let drawn = self.runs.drawn(self.instrument.compare);
        // Reduced motion: no growing bars; the lanes are drawn once their runs have ended.
        if self.still && drawn.iter().any(|&i| i >= self.runs.results.len()) {
            self.dom.set_text(
                "timeline-title",
                "Drawn when the run ends: your system asks for reduced motion",
            );
            return;
        }
        let view = self.instrument.view;
        // The latest moment drawn: the live clock, or the pause.
        let now = drawn
            .iter()
            .map(|&i| view.clip_us(self.runs.started[i].timeline.now_us))
            .max()
            .unwrap_or(0);
        // A live timeline is redrawn about 30 times a second: smooth enough for a growing bar,
        // and half the painting of every frame. A paused one not at all.
        let key = DrawKey {
            run: shown,
            compare: drawn.get(1).copied(),
            now_us: now / FRAME_US * FRAME_US,
            finished: shown.is_some_and(|i| self.runs.results.get(i).is_some()),
            view: view.version,
        };
        if self.timeline_drawn_for == Some(key) {
            return;
        }
        let summary_due = self.timeline_drawn_for.is_none_or(|k| {
            k.run != key.run
                || k.finished != key.finished
                || key.now_us / 250_000 != k.now_us / 250_000
        });
        if self
            .timeline_drawn_for
            .is_none_or(|k| k.finished != key.finished || k.run != key.run)
        {
            self.dom.set_disabled("download-trace", !key.finished);
            self.dom.set_disabled("open-perfetto", !key.finished);
        }
        self.timeline_drawn_for = Some(key);
        let shared = self.runs.source.as_ref().map(|s| s.shared().clone());
        let configs = shared.as_ref().map_or(&[][..], |s| s.runs());
        let rows: Vec<canvas::Row> = drawn
            .iter()
            .filter_map(|&i| {
                let timeline = &self.runs.started[i].timeline;
                let result = self.runs.results.get(i);
                let end = view.clip_us(timeline.now_us);
                let figures = (0..timeline.lanes.len())
                    .map(|l| {
                        let lane = &timeline.lanes[l];
                        let mut f = Figures::of(lane, end);
                        // A finished run, seen whole: the lock's own statistics.
                        let stats = result
                            .filter(|_| view.paused_at_us().is_none())
                            .and_then(|r| Timeline::lock_stats(r, lane.worker));
                        if let Some(s) = stats {
                            f.held_s = s.held_s;
                            f.waiting_s = s.waited_s;
                            f.hand_offs = s.switches;
                            f.longest_hold_s = s.longest_hold_s;
                        }
                        f
                    })
                    .collect();
                Some(canvas::Row {
                    timeline,
                    run: configs.get(i)?,
                    figures,
                })
            })
            .collect();
        let whole_s = self.runs.whole_s(&drawn, &self.instrument.view);
        let range = view.range(whole_s);
        let picture = canvas::Picture {
            rows: &rows,
            range,
            clip_us: view.paused_at_us().unwrap_or(u64::MAX),
            selected: self.instrument.selected,
        };
        let laid_out = canvas::draw(
            &self.window,
            &canvas,
            self.canvas_width,
            &self.palette,
            &picture,
        );
        drop(rows);
        self.instrument.drawn = laid_out;
        self.instrument.whole_s = whole_s;
        // What the canvas shows, for scripts (tests/e2e reads it): the window, whether paused,
        // the runs stacked, and the latest moment drawn (the live clock, or the pause).
        let _ = canvas.set_attribute("data-view-start-s", &format!("{:.6}", range.0));
        let _ = canvas.set_attribute("data-view-end-s", &format!("{:.6}", range.1));
        let _ = canvas.set_attribute(
            "data-paused",
            if view.paused_at_us().is_some() {
                "true"
            } else {
                "false"
            },
        );
        let _ = canvas.set_attribute("data-rows", &drawn.len().to_string());
        let _ = canvas.set_attribute("data-drawn-until-s", &format!("{:.6}", now as f64 / 1e6));
        if self.instrument.selected.is_some() {
            self.update_readout();
        }
        let cfg = shown.and_then(|i| configs.get(i).copied());
        let data = shown
            .zip(cfg.as_ref())
            .map(|(i, c)| (&self.runs.started[i].timeline, c));
        let result = shown.and_then(|i| self.runs.results.get(i));
        if summary_due {
            let summary =
                data.map_or_else(String::new, |(t, c)| html::timeline_summary(c, t, result));
            self.dom.set_html("timeline-summary", &summary);
            let title = cfg.map_or_else(
                || "Nothing has run yet".to_string(),
                |c| {
                    let title = html::timeline_title(&c, result.is_some());
                    match shown.is_some_and(|i| self.runs.started[i].forgotten) {
                        true => format!("{title} · its lanes were let go to save memory"),
                        false => title,
                    }
                },
            );
            self.dom.set_text("timeline-title", &title);
        }
    }
}
