//! One run's lanes as a standalone SVG: the page's "who holds the lock" figure for blog posts and
//! slides without JavaScript.
//!
//! One lane per worker, coloured as on the page (holding, asked to drop, waiting, no lock), the
//! load's operation starts, the controller's wake-up and the moment it cleared the flag as dashed
//! markers, a time axis in seconds and a legend. Like the sweep's chart, self-contained: no
//! scripts, fonts or styles from elsewhere.

use super::axis::NiceAxis;
use super::lanes::{LaneColours, LaneLayout, RunLayout, Scale, LANE_BAR, LANE_LABEL};
use super::numbers::trim_float;
use super::svg::{coord, escape};
use crate::scenario::{LockMode, RunConfig};
use crate::timeline::{lane_titles, palette, Lane, LaneState, Timeline};
use std::fmt::Write;

const WIDTH: f64 = 900.0;
/// The time axis runs from `LEFT` (0 s) to `RIGHT`.
const LEFT: f64 = 16.0;
const RIGHT: f64 = 884.0;
const LANES_TOP: f64 = 58.0;
const LANE_PITCH: f64 = 52.0;
const LEGEND_COLUMNS: usize = 4;
const LEGEND_COLUMN: f64 = 217.0;
const LEGEND_ROW: f64 = 22.0;
/// The bars' colours: the page's light scheme.
const COLOURS: LaneColours<&str> = LaneColours {
    hold: palette::HOLD,
    ask: palette::ASK,
    wait: palette::WAIT,
    no_lock: palette::NO_LOCK,
    runs_released: palette::RUNS_RELEASED,
};

/// The lanes of `timeline`, a run of `run`, as SVG text ending with a newline.
pub fn svg_timeline(timeline: &Timeline, run: &RunConfig) -> String {
    let sc = run.scenario;
    let lanes: Vec<&Lane> = timeline
        .lanes
        .iter()
        .filter(|l| crate::scenario::load_index(l.worker).is_none() || sc.has_load())
        .collect();
    let end_us = timeline
        .now_us
        .max(timeline.flag_cleared_us.unwrap_or(0))
        .max(1);
    let axis = NiceAxis::new(end_us as f64 / 1e6, false);
    let scale = Scale {
        start_s: 0.0,
        end_s: axis.max,
        left: LEFT,
        width: RIGHT - LEFT,
    };
    let layout = RunLayout::new(timeline, &scale, u64::MAX);
    let axis_y = LANES_TOP + lanes.len() as f64 * LANE_PITCH;
    let legend = legend_items(timeline, sc.lock_mode());
    let legend_top = axis_y + 62.0;
    let height = legend_top + (legend.len().div_ceil(LEGEND_COLUMNS)) as f64 * LEGEND_ROW + 4.0;

    let title = format!(
        "gil-lab: who holds the lock, {sc} for {} s",
        trim_float(run.delay.as_secs_f64(), 3)
    );
    let mut subtitle = format!(
        "switch interval {} ms",
        trim_float(run.interval.as_secs_f64() * 1e3, 3)
    );
    if sc.has_load() {
        let _ = write!(subtitle, ", load {}", run.load.name());
    }
    if timeline.lost > 0 {
        let _ = write!(
            subtitle,
            "; the {} earliest events were lost: lanes begin at {} s",
            timeline.lost,
            trim_float(timeline.first_event_us.unwrap_or(0) as f64 / 1e6, 3)
        );
    }

    let mut out = String::new();
    // Writing to a String cannot fail; the results are ignored.
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="system-ui, sans-serif" font-size="12" fill="{ink}">"#,
        w = WIDTH,
        h = coord(height),
        ink = palette::INK
    );
    let _ = writeln!(out, "<title>{}</title>", escape(&title));
    let _ = writeln!(
        out,
        r##"<rect width="{WIDTH}" height="{}" fill="#ffffff"/>"##,
        coord(height)
    );
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="24" font-size="15" font-weight="600">{}</text>"#,
        escape(&title)
    );
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="42" fill="{}">{}</text>"#,
        palette::MUTED,
        escape(&subtitle)
    );

    // Grid lines at the ticks, behind the lanes.
    let _ = writeln!(out, r#"<g stroke="{}">"#, palette::GRID);
    let (_, ticks) = scale.ticks(5);
    for &(_, tx) in &ticks {
        let tx = coord(tx);
        let _ = writeln!(
            out,
            r#"<line x1="{tx}" y1="{}" x2="{tx}" y2="{}"/>"#,
            coord(LANES_TOP),
            coord(axis_y)
        );
    }
    out.push_str("</g>\n");

    for (i, lane) in lanes.iter().enumerate() {
        if let Some(l) = layout.lanes.iter().find(|l| l.worker == lane.worker) {
            draw_lane(&mut out, l, LANES_TOP + i as f64 * LANE_PITCH);
        }
    }

    // The time axis.
    let _ = writeln!(
        out,
        r#"<g stroke="{}"><line x1="{}" y1="{ay}" x2="{}" y2="{ay}"/>"#,
        palette::MUTED,
        coord(LEFT),
        coord(RIGHT),
        ay = coord(axis_y)
    );
    for &(_, tx) in &ticks {
        let tx = coord(tx);
        let _ = writeln!(
            out,
            r#"<line x1="{tx}" y1="{}" x2="{tx}" y2="{}"/>"#,
            coord(axis_y),
            coord(axis_y + 4.0)
        );
    }
    out.push_str("</g>\n");
    let _ = writeln!(
        out,
        r#"<g font-size="11" fill="{}" text-anchor="middle">"#,
        palette::MUTED
    );
    for (i, &(t, tx)) in ticks.iter().enumerate() {
        let anchor = if i == 0 {
            r#" text-anchor="start""#
        } else if i + 1 == ticks.len() {
            r#" text-anchor="end""#
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}"{anchor}>{} s</text>"#,
            coord(tx),
            coord(axis_y + 17.0),
            escape(&trim_float(t, 6))
        );
    }
    out.push_str("</g>\n");
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" fill="{}">seconds since the run began (the creation of its event log)</text>"#,
        coord((LEFT + RIGHT) / 2.0),
        coord(axis_y + 36.0),
        palette::MUTED
    );

    // The controller's wake-up, and the moment it cleared the flag when that is visibly later.
    if let Some(woke) = layout.woke {
        marker(
            &mut out,
            woke,
            axis_y,
            palette::INK,
            "4 3",
            "controller-wakes",
        );
    }
    if let Some(cleared) = layout.cleared {
        marker(
            &mut out,
            cleared,
            axis_y,
            palette::ASK,
            "2 2",
            "flag-cleared",
        );
    }

    // Lane titles last, haloed, so the markers and grid lines crossing them leave them legible.
    let titles = lane_titles(run);
    let _ = writeln!(
        out,
        r##"<g class="lane-titles" stroke="#ffffff" stroke-width="4" stroke-linejoin="round" paint-order="stroke">"##
    );
    for (i, lane) in lanes.iter().enumerate() {
        let mut label = titles[usize::from(lane.worker - crate::runner::CONTROLLER)].clone();
        if lane.inferred {
            label.push_str(": drawn from its result (its lock logs in the child process)");
        }
        let _ = writeln!(
            out,
            r#"<text x="{LEFT}" y="{}">{}</text>"#,
            coord(LANES_TOP + i as f64 * LANE_PITCH + 12.0),
            escape(&label)
        );
    }
    out.push_str("</g>\n");

    out.push_str("<g class=\"legend\">\n");
    for (i, item) in legend.iter().enumerate() {
        let lx = LEFT + (i % LEGEND_COLUMNS) as f64 * LEGEND_COLUMN;
        let ly = legend_top + (i / LEGEND_COLUMNS) as f64 * LEGEND_ROW;
        let _ = writeln!(out, "{}", item.swatch(lx, ly));
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" dy=".32em">{}</text>"#,
            coord(lx + 26.0),
            coord(ly),
            escape(item.label)
        );
    }
    out.push_str("</g>\n</svg>\n");
    out
}

/// One lane: its track, its bars and the load's operation starts, as laid out.
fn draw_lane(out: &mut String, lane: &LaneLayout, top: f64) {
    let bar = top + LANE_LABEL;
    let _ = writeln!(out, r#"<g data-worker="{}" class="lane">"#, lane.worker);
    let _ = writeln!(
        out,
        r#"<rect x="{LEFT}" y="{}" width="{}" height="2" fill="{}"/>"#,
        coord(bar + LANE_BAR / 2.0 - 1.0),
        coord(lane.track_end - LEFT),
        palette::RELEASED
    );
    for rect in lane.bars() {
        let Some(colour) = COLOURS.of(rect.state) else {
            continue;
        };
        let (y, h) = rect.bar(bar);
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"/>"#,
            coord(rect.x0),
            coord(y),
            coord(rect.x1 - rect.x0),
            coord(h)
        );
    }
    if let Some(x0) = lane.capped_from {
        // Past the cap: too many switches to keep; say so rather than draw a wrong state.
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="6" fill="{}"/>"#,
            coord(x0),
            coord(bar + LANE_BAR / 2.0 - 3.0),
            coord(lane.track_end - x0),
            palette::MUTED
        );
    }
    let mut ticks = String::new();
    for &ox in &lane.ops {
        let _ = write!(ticks, "M{} {}v{}", coord(ox), coord(bar), coord(LANE_BAR));
    }
    if !ticks.is_empty() {
        let _ = writeln!(
            out,
            r#"<path class="op-starts" d="{ticks}" stroke="{}" stroke-width="1"/>"#,
            palette::OP
        );
    }
    out.push_str("</g>\n");
}

fn marker(out: &mut String, x: f64, axis_y: f64, colour: &str, dash: &str, class: &str) {
    let _ = writeln!(
        out,
        r#"<line class="{class}" x1="{xm}" y1="{}" x2="{xm}" y2="{}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}"/>"#,
        coord(LANES_TOP),
        coord(axis_y),
        xm = coord(x)
    );
}

/// One entry of the legend.
struct LegendItem {
    label: &'static str,
    kind: Swatch,
}

enum Swatch {
    Bar(&'static str, f64),
    Track,
    Op,
    Marker(&'static str, &'static str),
}

impl LegendItem {
    fn swatch(&self, x: f64, y: f64) -> String {
        match self.kind {
            Swatch::Bar(colour, h) => format!(
                r#"<rect x="{}" y="{}" width="20" height="{}" rx="2" fill="{colour}"/>"#,
                coord(x),
                coord(y - h / 2.0),
                coord(h)
            ),
            Swatch::Track => format!(
                r#"<rect x="{}" y="{}" width="20" height="2" fill="{}"/>"#,
                coord(x),
                coord(y - 1.0),
                palette::RELEASED
            ),
            Swatch::Op => format!(
                r#"<rect x="{}" y="{}" width="20" height="12" rx="2" fill="{}"/><path d="M{} {}v12" stroke="{}"/>"#,
                coord(x),
                coord(y - 6.0),
                palette::HOLD,
                coord(x + 10.0),
                coord(y - 6.0),
                palette::OP
            ),
            Swatch::Marker(colour, dash) => format!(
                r#"<line x1="{xm}" y1="{}" x2="{xm}" y2="{}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}"/>"#,
                coord(y - 8.0),
                coord(y + 8.0),
                xm = coord(x + 10.0)
            ),
        }
    }
}

/// The page's legend, with the states this run can show.
fn legend_items(timeline: &Timeline, mode: LockMode) -> Vec<LegendItem> {
    let mut items = Vec::new();
    let item = |label, kind| LegendItem { label, kind };
    if mode == LockMode::Shared || timeline.scenario.isolated() {
        items.push(item(
            "holds the lock, runs",
            Swatch::Bar(palette::HOLD, 12.0),
        ));
        items.push(item(
            "holds it, asked to drop",
            Swatch::Bar(palette::ASK, 12.0),
        ));
        items.push(item("waits for the lock", Swatch::Bar(palette::WAIT, 6.0)));
    }
    if mode == LockMode::Free {
        items.push(item("runs, no lock", Swatch::Bar(palette::NO_LOCK, 12.0)));
    }
    let runs_released = |l: &Lane| l.spans.iter().any(|s| s.state == LaneState::RunsReleased);
    if timeline.lanes.iter().any(runs_released) {
        items.push(item(
            "runs C code, lock released",
            Swatch::Bar(palette::RUNS_RELEASED, 12.0),
        ));
    }
    items.push(item("sleeping or done", Swatch::Track));
    if timeline.lanes.iter().any(|l| !l.op_starts.is_empty()) {
        items.push(item("a load operation begins", Swatch::Op));
    }
    items.push(item(
        "controller wakes",
        Swatch::Marker(palette::INK, "4 3"),
    ));
    items.push(item("flag cleared", Swatch::Marker(palette::ASK, "2 2")));
    items
}

#[cfg(test)]
mod tests {
    use super::super::lanes::tests::{ev, switching};
    use super::*;
    use crate::gil::EventKind::*;
    use crate::runner::{CONTROLLER, INCREMENTER, LOAD};
    use crate::scenario::{RunResult, Scenario};
    use std::time::Duration;

    fn result(scenario: Scenario) -> RunResult {
        RunResult {
            scenario,
            delay_s: 1.0,
            count: 0,
            elapsed_s: 1.5,
            stop_lag_s: 0.5,
            rate_per_s: 0.0,
            switches: 0,
            switch_interval_ms: 5.0,
            workers: Vec::new(),
            load: None,
            loads: 0,
            latency_ms: None,
        }
    }

    fn thread_load() -> (Timeline, RunConfig) {
        let mut t = Timeline::uncapped(Scenario::ThreadLoad);
        for e in [
            ev(0, Take, CONTROLLER),
            ev(1_000, Drop, CONTROLLER),
            ev(1_010, Take, INCREMENTER),
            ev(1_020, Wait, LOAD),
            ev(6_020, Request, INCREMENTER),
            ev(6_030, Drop, INCREMENTER),
            ev(6_040, Take, LOAD),
            ev(6_041, Wait, INCREMENTER),
            ev(6_050, OpStart, LOAD),
            ev(300_000, OpStart, LOAD),
            ev(1_001_000, Wait, CONTROLLER),
            ev(1_500_000, Drop, LOAD),
            ev(1_500_010, Take, CONTROLLER),
            ev(1_500_020, Drop, CONTROLLER),
            ev(1_500_030, Take, INCREMENTER),
            ev(1_500_040, Drop, INCREMENTER),
            ev(1_500_050, Exit, INCREMENTER),
            ev(1_500_060, Exit, LOAD),
            ev(1_500_070, Exit, CONTROLLER),
        ] {
            t.apply(&e);
        }
        t.finish(&result(Scenario::ThreadLoad));
        let run = RunConfig::new(Scenario::ThreadLoad, Duration::from_secs(1));
        (t, run)
    }

    /// Every element opened is closed, in order: a small check that the SVG is well formed.
    fn assert_well_formed(svg: &str) {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = svg;
        while let Some(i) = rest.find('<') {
            let tag_end = rest[i..].find('>').expect("every tag ends") + i;
            let tag = &rest[i + 1..tag_end];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "closing {name}");
            } else if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().unwrap_or(""));
            }
            assert_eq!(tag.matches('"').count() % 2, 0, "quotes in <{tag}>");
            rest = &rest[tag_end + 1..];
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        assert!(svg.ends_with("</svg>\n"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }

    /// The rectangles inside lane groups, as (x, width).
    fn lane_rects(svg: &str) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        let mut in_lane = false;
        for line in svg.lines() {
            if line.starts_with("<g data-worker=") {
                in_lane = true;
            } else if line == "</g>" {
                in_lane = false;
            } else if in_lane && line.starts_with("<rect ") {
                let attr = |name: &str| -> f64 {
                    let key = format!(" {name}=\"");
                    let start = line.find(&key).expect("attribute present") + key.len();
                    let len = line[start..].find('"').expect("attribute closed");
                    line[start..start + len].parse().expect("a number")
                };
                out.push((attr("x"), attr("width")));
            }
        }
        out
    }

    #[test]
    fn smoke_thread_load_has_three_lanes_a_legend_an_axis_and_markers() {
        let (t, run) = thread_load();
        let svg = svg_timeline(&t, &run);
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<g data-worker=").count(), 3, "{svg}");
        for label in [
            ">controller (main thread)</text>",
            ">incrementer (thread)</text>",
            ">load: z = z * z (thread)</text>",
            ">holds the lock, runs</text>",
            ">holds it, asked to drop</text>",
            ">waits for the lock</text>",
            ">a load operation begins</text>",
            ">controller wakes</text>",
            ">flag cleared</text>",
            ">0 s</text>",
            ">2 s</text>",
            ">gil-lab: who holds the lock, thread+load for 1 s</text>",
        ] {
            assert!(svg.contains(label), "{label} missing: {svg}");
        }
        assert!(!svg.contains(">runs, no lock</text>"), "{svg}");
        // Wake-up at 1.001 s and flag cleared at 1.50001 s on a 0..2 s axis 868 px wide.
        assert!(
            svg.contains(r#"<line class="controller-wakes" x1="450.4""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<line class="flag-cleared" x1="667""#),
            "{svg}"
        );
        // The load's two operation starts are far apart: both drawn, on the third lane's bar.
        assert!(svg.contains(r#"d="M18.6 178v22M146.2 178v22""#), "{svg}");
        for (x, w) in lane_rects(&svg) {
            assert!(
                x >= LEFT && x + w <= RIGHT + 0.05,
                "rect {x}+{w} outside the axis"
            );
            assert!(w > 0.0);
        }
        assert!(svg.contains(&format!(r#"fill="{}""#, palette::ASK)));
    }

    #[test]
    fn a_release_operation_has_its_own_colour_and_legend_entry() {
        let mut t = Timeline::uncapped(Scenario::ThreadLoad);
        for e in [
            ev(0, Take, LOAD),
            ev(10, ReleaseStart, LOAD),
            ev(20, Drop, LOAD),
            ev(900_000, Take, LOAD),
        ] {
            t.apply(&e);
        }
        t.advance(1_000_000);
        let run = RunConfig::new(Scenario::ThreadLoad, Duration::from_secs(1));
        let svg = svg_timeline(&t, &run);
        assert!(svg.contains(">runs C code, lock released</text>"), "{svg}");
        assert!(svg.contains(&format!(r#"fill="{}""#, palette::RUNS_RELEASED)));
        let (plain, run) = thread_load();
        assert!(!svg_timeline(&plain, &run).contains("runs C code"));
    }

    #[test]
    fn a_run_without_load_has_two_lanes() {
        let mut t = Timeline::uncapped(Scenario::Thread);
        t.apply(&ev(0, Take, CONTROLLER));
        t.apply(&ev(10, Drop, CONTROLLER));
        t.apply(&ev(20, Take, INCREMENTER));
        t.advance(2_000);
        let run = RunConfig::new(Scenario::Thread, Duration::from_millis(2));
        let svg = svg_timeline(&t, &run);
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<g data-worker=").count(), 2);
        assert!(!svg.contains("load operation"));
    }

    #[test]
    fn free_mode_shows_the_no_lock_colour_and_lost_events() {
        let mut t = Timeline::uncapped(Scenario::FreeThreadLoad);
        t.set_go(100);
        t.advance(500_000);
        t.lost = 12;
        t.first_event_us = Some(250_000);
        t.finish(&result(Scenario::FreeThreadLoad));
        let run = RunConfig::new(Scenario::FreeThreadLoad, Duration::from_millis(300));
        let svg = svg_timeline(&t, &run);
        assert_well_formed(&svg);
        assert!(svg.contains(">runs, no lock</text>"));
        assert!(!svg.contains(">waits for the lock</text>"));
        assert!(svg.contains(&format!(r#"fill="{}""#, palette::NO_LOCK)));
        assert!(svg.contains("the 12 earliest events were lost: lanes begin at 0.25 s"));
    }

    #[test]
    fn thousands_of_switches_become_a_few_rectangles_per_pixel_within_the_axis() {
        let t = switching();
        let run = RunConfig {
            load: crate::workload::Load::SHORT,
            ..RunConfig::new(Scenario::ThreadLoad, Duration::from_secs(1))
        };
        let svg = svg_timeline(&t, &run);
        assert_well_formed(&svg);
        let rects = lane_rects(&svg);
        assert!(rects.len() < 3 * 2 * 900, "{} rectangles", rects.len());
        for (x, w) in rects {
            assert!(
                x >= LEFT && x + w <= RIGHT + 0.05,
                "rect {x}+{w} outside the axis"
            );
        }
    }

    #[test]
    fn an_inferred_lane_says_where_it_comes_from() {
        let mut t = Timeline::uncapped(Scenario::Process);
        t.apply(&ev(0, Take, CONTROLLER));
        t.apply(&ev(100, Drop, CONTROLLER));
        t.advance(1_600_000);
        t.finish(&result(Scenario::Process));
        let run = RunConfig::new(Scenario::Process, Duration::from_secs(1));
        let svg = svg_timeline(&t, &run);
        assert!(svg.contains("incrementer (own process, own lock): drawn from its result"));
        assert!(svg.contains(&format!(r#"fill="{}""#, palette::HOLD)));
    }
}
