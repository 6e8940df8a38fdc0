//! The seed's chart as a standalone SVG: incrementer count against delay, one line per scenario.
//!
//! Self-contained (no scripts, no external fonts or styles) so the file renders the same in a
//! browser, an image viewer or a README. Axes and legend come from the configuration, so a
//! partial sweep keeps its layout while points arrive.

use super::chart::{AxisRule, Chart, Frame};
use super::grid::{delay_label, RowAxis};
pub(super) use super::markup::escape;
use super::numbers::{abbreviate, trim_float};
use crate::scenario::{Scenario, SweepReport};
use crate::workload::Victim;
use std::fmt::Write;
use std::time::Duration;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 420.0;
/// The plot area; the legend sits to its right.
const LEFT: f64 = 72.0;
const RIGHT: f64 = 556.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 356.0;
const LEGEND_X: f64 = 576.0;
const LEGEND_TOP: f64 = 60.0;
const LEGEND_STEP: f64 = 22.0;
const TICK: f64 = 5.0;
const MARKER_R: &str = "3.5";
const LOAD_DASH: &str = "6 4";
const INK: &str = "#222222";
const AXIS_INK: &str = "#444444";
const GRID_INK: &str = "#e6e6e6";
const NOTE_INK: &str = "#777777";

/// A fixed colour per scenario (Okabe-Ito, safe for colour-blind readers), so a scenario looks
/// the same in every chart. Each `+load` scenario takes a hue near its alone-run's and is drawn
/// dashed with hollow markers.
fn colour(sc: Scenario) -> &'static str {
    match sc {
        Scenario::Thread => "#0072B2",
        Scenario::ThreadLoad => "#56B4E9",
        Scenario::Process => "#E69F00",
        Scenario::ProcessLoad => "#D55E00",
        Scenario::FreeThread => "#009E73",
        Scenario::FreeThreadLoad => "#CC79A7",
        Scenario::Interpreter => "#555555",
        Scenario::InterpreterLoad => "#999999",
    }
}

/// The chart for `report`, as SVG text ending with a newline.
pub fn svg_chart(report: &SweepReport) -> String {
    let config = &report.config;
    let axis = RowAxis::of(config);
    let victim = match config.victim {
        Victim::Incrementer => "incrementer count",
        Victim::Io { .. } => "I/O calls",
        Victim::Latency { .. } | Victim::Server => "requests answered",
    };
    let title = match axis {
        RowAxis::Delay => format!(
            "gil-lab: {victim} against delay (load: {}, interval {} ms)",
            config.load.name(),
            trim_float(config.interval().as_secs_f64() * 1e3, 3)
        ),
        RowAxis::Interval => format!(
            "gil-lab: {victim} against switch interval (load: {}, delay {} s)",
            config.load.name(),
            delay_label(config.delays.first().map_or(0.0, Duration::as_secs_f64))
        ),
        RowAxis::Loads => format!(
            "gil-lab: {victim} against load threads (load: {}, delay {} s)",
            config.load.name(),
            delay_label(config.delays.first().map_or(0.0, Duration::as_secs_f64))
        ),
    };
    let frame = Frame {
        left: LEFT,
        right: RIGHT,
        top: TOP,
        bottom: BOTTOM,
    };
    let chart = Chart::new(report, frame, AxisRule::FILE_X, AxisRule::FILE_Y);
    let (x_axis, y_axis) = (&chart.x, &chart.y);
    let x = |v: f64| chart.px(v);
    let y = |count: f64| chart.py(count);

    let mut out = String::new();
    // Writing to a String cannot fail; the results are ignored.
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="system-ui, sans-serif" font-size="12" fill="{INK}">"#,
        w = WIDTH,
        h = HEIGHT
    );
    let _ = writeln!(out, "<title>{}</title>", escape(&title));
    let _ = writeln!(
        out,
        r##"<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="28" text-anchor="middle" font-size="15" font-weight="600">{}</text>"#,
        n(WIDTH / 2.0),
        escape(&title)
    );

    // Grid lines behind everything, one per count tick above zero.
    let _ = writeln!(out, r#"<g stroke="{GRID_INK}">"#);
    for &t in &y_axis.ticks[1..] {
        let _ = writeln!(
            out,
            r#"<line x1="{}" y1="{yt}" x2="{}" y2="{yt}"/>"#,
            n(LEFT),
            n(RIGHT),
            yt = n(y(t))
        );
    }
    out.push_str("</g>\n");

    // Axes and tick marks.
    let _ = writeln!(out, r#"<g stroke="{AXIS_INK}" fill="none">"#);
    let _ = writeln!(
        out,
        r#"<path d="M{} {}V{}H{}"/>"#,
        n(LEFT),
        n(TOP),
        n(BOTTOM),
        n(RIGHT)
    );
    for &t in &x_axis.ticks {
        let _ = writeln!(
            out,
            r#"<line x1="{xt}" y1="{}" x2="{xt}" y2="{}"/>"#,
            n(BOTTOM),
            n(BOTTOM + TICK),
            xt = n(x(t))
        );
    }
    for &t in &y_axis.ticks {
        let _ = writeln!(
            out,
            r#"<line x1="{}" y1="{yt}" x2="{}" y2="{yt}"/>"#,
            n(LEFT - TICK),
            n(LEFT),
            yt = n(y(t))
        );
    }
    out.push_str("</g>\n");

    // Tick labels and axis titles.
    out.push_str("<g font-size=\"11\" text-anchor=\"middle\">\n");
    for &t in &x_axis.ticks {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}">{}</text>"#,
            n(x(t)),
            n(BOTTOM + 18.0),
            escape(&delay_label(t))
        );
    }
    out.push_str("</g>\n<g font-size=\"11\" text-anchor=\"end\">\n");
    for &t in &y_axis.ticks {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" dy=".32em">{}</text>"#,
            n(LEFT - TICK - 3.0),
            n(y(t)),
            escape(&abbreviate(t))
        );
    }
    out.push_str("</g>\n");
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        n((LEFT + RIGHT) / 2.0),
        n(BOTTOM + 42.0),
        axis.title()
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate(20 {}) rotate(-90)" text-anchor="middle">{victim}</text>"#,
        n((TOP + BOTTOM) / 2.0)
    );

    // One line and its markers per scenario.
    for (sc, points) in &chart.series {
        if points.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            r#"<g data-scenario="{}" stroke="{}" stroke-width="2">"#,
            escape(sc.name()),
            colour(*sc)
        );
        if points.len() > 1 {
            let coords: Vec<String> = points
                .iter()
                .map(|&(px, py)| format!("{},{}", n(px), n(py)))
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline points="{}" fill="none" stroke-linejoin="round"{}/>"#,
                coords.join(" "),
                dash(*sc)
            );
        }
        for &(px, py) in points {
            let _ = writeln!(
                out,
                r#"<circle cx="{}" cy="{}" r="{MARKER_R}"{}/>"#,
                n(px),
                n(py),
                marker_fill(*sc)
            );
        }
        out.push_str("</g>\n");
    }
    if chart.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle" fill="{NOTE_INK}">no results yet</text>"#,
            n((LEFT + RIGHT) / 2.0),
            n((TOP + BOTTOM) / 2.0)
        );
    }

    // The legend lists every configured scenario, drawn or not, so it does not jump mid-sweep.
    for (i, sc) in config.scenarios.iter().enumerate() {
        let ly = n(LEGEND_TOP + i as f64 * LEGEND_STEP);
        let _ = writeln!(
            out,
            r#"<g stroke="{c}" stroke-width="2"><line x1="{}" y1="{ly}" x2="{}" y2="{ly}"{}/><circle cx="{}" cy="{ly}" r="{MARKER_R}"{}/></g>"#,
            n(LEGEND_X),
            n(LEGEND_X + 24.0),
            dash(*sc),
            n(LEGEND_X + 12.0),
            marker_fill(*sc),
            c = colour(*sc)
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{ly}" dy=".32em">{}</text>"#,
            n(LEGEND_X + 32.0),
            escape(sc.name())
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The dash attribute of a scenario's line: load scenarios are dashed.
fn dash(sc: Scenario) -> String {
    if sc.has_load() {
        format!(r#" stroke-dasharray="{LOAD_DASH}""#)
    } else {
        String::new()
    }
}

/// Markers are solid for a scenario alone and hollow with its load, so overlapping lines (e.g.
/// `process` and `process+load`) stay apart.
fn marker_fill(sc: Scenario) -> String {
    if sc.has_load() {
        r##" fill="#ffffff""##.to_string()
    } else {
        format!(r#" fill="{}""#, colour(sc))
    }
}

/// A coordinate with at most one decimal: enough for a 720-wide image, and stable in tests.
pub(super) fn n(v: f64) -> String {
    trim_float(v, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::fixtures::{report, result};
    use crate::scenario::Scenario::{Process, Thread, ThreadLoad};

    #[test]
    fn small_sweep_draws_lines_markers_ticks_and_legend() {
        let r = report(
            &[Thread, ThreadLoad],
            &[0.0, 1.0, 2.0],
            vec![
                result(Thread, 0.0, 0),
                result(ThreadLoad, 0.0, 0),
                result(Thread, 1.0, 500_000_000),
                result(ThreadLoad, 1.0, 5_000_000),
                result(Thread, 2.0, 1_000_000_000),
                result(ThreadLoad, 2.0, 10_000_000),
            ],
        );
        assert_eq!(svg_chart(&r), EXPECTED_SMALL);
    }

    /// Two scenarios at delays 0, 1 and 2 s: x ticks every 0.5 s, count ticks every 200M.
    const EXPECTED_SMALL: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="720" height="420" viewBox="0 0 720 420" font-family="system-ui, sans-serif" font-size="12" fill="#222222">
<title>gil-lab: incrementer count against delay (load: bignum, interval 5 ms)</title>
<rect width="720" height="420" fill="#ffffff"/>
<text x="360" y="28" text-anchor="middle" font-size="15" font-weight="600">gil-lab: incrementer count against delay (load: bignum, interval 5 ms)</text>
<g stroke="#e6e6e6">
<line x1="72" y1="294.4" x2="556" y2="294.4"/>
<line x1="72" y1="232.8" x2="556" y2="232.8"/>
<line x1="72" y1="171.2" x2="556" y2="171.2"/>
<line x1="72" y1="109.6" x2="556" y2="109.6"/>
<line x1="72" y1="48" x2="556" y2="48"/>
</g>
<g stroke="#444444" fill="none">
<path d="M72 48V356H556"/>
<line x1="72" y1="356" x2="72" y2="361"/>
<line x1="193" y1="356" x2="193" y2="361"/>
<line x1="314" y1="356" x2="314" y2="361"/>
<line x1="435" y1="356" x2="435" y2="361"/>
<line x1="556" y1="356" x2="556" y2="361"/>
<line x1="67" y1="356" x2="72" y2="356"/>
<line x1="67" y1="294.4" x2="72" y2="294.4"/>
<line x1="67" y1="232.8" x2="72" y2="232.8"/>
<line x1="67" y1="171.2" x2="72" y2="171.2"/>
<line x1="67" y1="109.6" x2="72" y2="109.6"/>
<line x1="67" y1="48" x2="72" y2="48"/>
</g>
<g font-size="11" text-anchor="middle">
<text x="72" y="374">0</text>
<text x="193" y="374">0.5</text>
<text x="314" y="374">1</text>
<text x="435" y="374">1.5</text>
<text x="556" y="374">2</text>
</g>
<g font-size="11" text-anchor="end">
<text x="64" y="356" dy=".32em">0</text>
<text x="64" y="294.4" dy=".32em">200M</text>
<text x="64" y="232.8" dy=".32em">400M</text>
<text x="64" y="171.2" dy=".32em">600M</text>
<text x="64" y="109.6" dy=".32em">800M</text>
<text x="64" y="48" dy=".32em">1G</text>
</g>
<text x="314" y="398" text-anchor="middle">delay (s)</text>
<text transform="translate(20 202) rotate(-90)" text-anchor="middle">incrementer count</text>
<g data-scenario="thread" stroke="#0072B2" stroke-width="2">
<polyline points="72,356 314,202 556,48" fill="none" stroke-linejoin="round"/>
<circle cx="72" cy="356" r="3.5" fill="#0072B2"/>
<circle cx="314" cy="202" r="3.5" fill="#0072B2"/>
<circle cx="556" cy="48" r="3.5" fill="#0072B2"/>
</g>
<g data-scenario="thread+load" stroke="#56B4E9" stroke-width="2">
<polyline points="72,356 314,354.5 556,352.9" fill="none" stroke-linejoin="round" stroke-dasharray="6 4"/>
<circle cx="72" cy="356" r="3.5" fill="#ffffff"/>
<circle cx="314" cy="354.5" r="3.5" fill="#ffffff"/>
<circle cx="556" cy="352.9" r="3.5" fill="#ffffff"/>
</g>
<g stroke="#0072B2" stroke-width="2"><line x1="576" y1="60" x2="600" y2="60"/><circle cx="588" cy="60" r="3.5" fill="#0072B2"/></g>
<text x="608" y="60" dy=".32em">thread</text>
<g stroke="#56B4E9" stroke-width="2"><line x1="576" y1="82" x2="600" y2="82" stroke-dasharray="6 4"/><circle cx="588" cy="82" r="3.5" fill="#ffffff"/></g>
<text x="608" y="82" dy=".32em">thread+load</text>
</svg>
"##;

    /// Every `<g>` closed and the document closed: a cheap check that the SVG is well formed.
    fn assert_balanced(svg: &str) {
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"420\" viewBox=\"0 0 720 420\""));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(
            svg.matches("<g").count(),
            svg.matches("</g>").count(),
            "{svg}"
        );
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "no non-finite coordinates: {svg}"
        );
    }

    #[test]
    fn one_delay_draws_markers_without_lines() {
        let r = report(
            &[Thread, ThreadLoad],
            &[3.0],
            vec![result(Thread, 3.0, 12_000), result(ThreadLoad, 3.0, 3_500)],
        );
        let svg = svg_chart(&r);
        assert_balanced(&svg);
        assert!(!svg.contains("<polyline"), "{svg}");
        // The lone delay sits at the right end of a 0..3 s axis; counts on a 0..15k axis.
        assert!(
            svg.contains(r##"<circle cx="556" cy="109.6" r="3.5" fill="#0072B2"/>"##),
            "{svg}"
        );
        assert!(
            svg.contains(r##"<circle cx="556" cy="284.1" r="3.5" fill="#ffffff"/>"##),
            "{svg}"
        );
        assert!(
            svg.contains(">15k</text>") && svg.contains(">3</text>"),
            "{svg}"
        );
    }

    #[test]
    fn all_zero_counts_sit_on_the_axis_without_dividing_by_zero() {
        let r = report(
            &[Thread, Process],
            &[0.0],
            vec![result(Thread, 0.0, 0), result(Process, 0.0, 0)],
        );
        let svg = svg_chart(&r);
        assert_balanced(&svg);
        assert!(
            svg.contains(r##"<circle cx="72" cy="356" r="3.5" fill="#E69F00"/>"##),
            "{svg}"
        );
        assert!(!svg.contains("no results yet"));
    }

    #[test]
    fn empty_report_draws_axes_and_a_note() {
        let svg = svg_chart(&report(&[], &[], vec![]));
        assert_balanced(&svg);
        assert!(svg.contains(">no results yet</text>"), "{svg}");
        assert!(
            !svg.contains("<circle") && !svg.contains("data-scenario"),
            "{svg}"
        );
        assert!(svg.contains(">delay (s)</text>") && svg.contains(">incrementer count</text>"));
    }

    #[test]
    fn partial_sweep_skips_missing_points_but_keeps_the_full_axis_and_legend() {
        let r = report(
            &[Thread, Process],
            &[0.0, 1.0, 2.0, 4.0],
            vec![
                result(Thread, 0.0, 0),
                result(Process, 0.0, 0),
                result(Thread, 1.0, 100),
            ],
        );
        let svg = svg_chart(&r);
        assert_balanced(&svg);
        // thread: two points joined; process: one point, no line. The x axis still reaches 4 s.
        assert_eq!(svg.matches("<polyline").count(), 1, "{svg}");
        assert!(svg.contains(r#"<polyline points="72,356 193,48""#), "{svg}");
        assert!(svg.contains(">4</text>"), "{svg}");
        assert!(
            svg.contains(">process</text>"),
            "legend lists scenarios not drawn yet"
        );
    }

    #[test]
    fn title_names_the_configured_load_and_interval() {
        let mut r = report(&[Thread], &[1.0], vec![]);
        r.config.load = crate::workload::Load::SHORT;
        r.config.intervals = vec![std::time::Duration::from_micros(500)];
        assert!(svg_chart(&r).contains(
            ">gil-lab: incrementer count against delay (load: short, interval 0.5 ms)</text>"
        ));
    }

    #[test]
    fn load_scenarios_are_dashed_with_hollow_markers_and_colours_are_distinct() {
        for sc in Scenario::ALL {
            assert_eq!(dash(sc).contains("stroke-dasharray"), sc.has_load(), "{sc}");
            assert_eq!(marker_fill(sc).contains("#ffffff"), sc.has_load(), "{sc}");
        }
        let mut colours = Scenario::ALL.map(colour).to_vec();
        colours.sort_unstable();
        colours.dedup();
        assert_eq!(colours.len(), Scenario::ALL.len());
    }

    #[test]
    fn escape_covers_markup_characters() {
        assert_eq!(escape(r#"a<b & "c">"#), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
