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
/// The plot area of every chart file.
pub(super) const FRAME: Frame = Frame {
    left: LEFT,
    right: RIGHT,
    top: TOP,
    bottom: BOTTOM,
};
const LEGEND_X: f64 = 576.0;
const LEGEND_TOP: f64 = 60.0;
const LEGEND_STEP: f64 = 22.0;
const TICK: f64 = 5.0;
const MARKER_R: &str = "3.5";
const LOAD_DASH: &str = "6 4";
const INK: &str = "#222222";
const AXIS_INK: &str = "#444444";
const GRID_INK: &str = "#e6e6e6";
pub(super) const NOTE_INK: &str = "#777777";

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
    let lines: Vec<Line> = chart
        .series
        .iter()
        .map(|(sc, points)| Line {
            name: sc.name(),
            colour: colour(*sc),
            // A load scenario's is dashed, with hollow markers, so overlapping lines (e.g.
            // `process` and `process+load`) stay apart.
            dashed: sc.has_load(),
            markers: true,
            points,
        })
        .collect();
    // The legend lists every configured scenario, drawn or not, so it does not jump mid-sweep.
    let legend: Vec<Line> = config
        .scenarios
        .iter()
        .map(|&sc| Line {
            name: sc.name(),
            colour: colour(sc),
            dashed: sc.has_load(),
            markers: true,
            points: &[],
        })
        .collect();
    draw(&Figure {
        title: &title,
        chart: &chart,
        x_title: axis.title(),
        y_title: victim,
        x_label: delay_label,
        y_label: abbreviate,
        data_key: "scenario",
        lines: &lines,
        legend: &legend,
    })
}

/// One series of a [`Figure`]: a line through its points, with or without markers.
pub(super) struct Line<'a> {
    /// Its legend entry and `data-` attribute.
    pub name: &'a str,
    pub colour: &'a str,
    /// Dashed, with hollow markers.
    pub dashed: bool,
    pub markers: bool,
    /// In pixels, left to right.
    pub points: &'a [(f64, f64)],
}

/// A line chart ready to draw: a laid-out [`Chart`], its words and its lines.
pub(super) struct Figure<'a, K> {
    pub title: &'a str,
    pub chart: &'a Chart<K>,
    pub x_title: &'a str,
    pub y_title: &'a str,
    pub x_label: fn(f64) -> String,
    pub y_label: fn(f64) -> String,
    /// The name of the attribute that names each line's group (`data-scenario="thread"`).
    pub data_key: &'a str,
    /// Drawn in order.
    pub lines: &'a [Line<'a>],
    /// The legend's entries, top to bottom.
    pub legend: &'a [Line<'a>],
}

/// `figure` as a standalone SVG, ending with a newline.
pub(super) fn draw<K>(figure: &Figure<K>) -> String {
    let Figure {
        title,
        chart,
        x_title,
        y_title,
        ..
    } = *figure;
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
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    let _ = writeln!(
        out,
        r##"<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="28" text-anchor="middle" font-size="15" font-weight="600">{}</text>"#,
        coord(WIDTH / 2.0),
        escape(title)
    );

    // Grid lines behind everything, one per count tick above zero.
    let _ = writeln!(out, r#"<g stroke="{GRID_INK}">"#);
    for &t in &y_axis.ticks[1..] {
        let _ = writeln!(
            out,
            r#"<line x1="{}" y1="{yt}" x2="{}" y2="{yt}"/>"#,
            coord(LEFT),
            coord(RIGHT),
            yt = coord(y(t))
        );
    }
    out.push_str("</g>\n");

    // Axes and tick marks.
    let _ = writeln!(out, r#"<g stroke="{AXIS_INK}" fill="none">"#);
    let _ = writeln!(
        out,
        r#"<path d="M{} {}V{}H{}"/>"#,
        coord(LEFT),
        coord(TOP),
        coord(BOTTOM),
        coord(RIGHT)
    );
    for &t in &x_axis.ticks {
        let _ = writeln!(
            out,
            r#"<line x1="{xt}" y1="{}" x2="{xt}" y2="{}"/>"#,
            coord(BOTTOM),
            coord(BOTTOM + TICK),
            xt = coord(x(t))
        );
    }
    for &t in &y_axis.ticks {
        let _ = writeln!(
            out,
            r#"<line x1="{}" y1="{yt}" x2="{}" y2="{yt}"/>"#,
            coord(LEFT - TICK),
            coord(LEFT),
            yt = coord(y(t))
        );
    }
    out.push_str("</g>\n");

    // Tick labels and axis titles.
    out.push_str("<g font-size=\"11\" text-anchor=\"middle\">\n");
    for &t in &x_axis.ticks {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}">{}</text>"#,
            coord(x(t)),
            coord(BOTTOM + 18.0),
            escape(&(figure.x_label)(t))
        );
    }
    out.push_str("</g>\n<g font-size=\"11\" text-anchor=\"end\">\n");
    for &t in &y_axis.ticks {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" dy=".32em">{}</text>"#,
            coord(LEFT - TICK - 3.0),
            coord(y(t)),
            escape(&(figure.y_label)(t))
        );
    }
    out.push_str("</g>\n");
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        coord((LEFT + RIGHT) / 2.0),
        coord(BOTTOM + 42.0),
        escape(x_title)
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate(20 {}) rotate(-90)" text-anchor="middle">{}</text>"#,
        coord((TOP + BOTTOM) / 2.0),
        escape(y_title)
    );

    // One line (and its markers) per series.
    for line in figure.lines {
        let points = line.points;
        if points.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            r#"<g data-{}="{}" stroke="{}" stroke-width="2">"#,
            figure.data_key,
            escape(line.name),
            line.colour
        );
        if points.len() > 1 {
            let coords: Vec<String> = points
                .iter()
                .map(|&(px, py)| format!("{},{}", coord(px), coord(py)))
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline points="{}" fill="none" stroke-linejoin="round"{}/>"#,
                coords.join(" "),
                dash_attr(line.dashed)
            );
        }
        if line.markers {
            for &(px, py) in points {
                let _ = writeln!(
                    out,
                    r#"<circle cx="{}" cy="{}" r="{MARKER_R}"{}/>"#,
                    coord(px),
                    coord(py),
                    fill_attr(line.dashed, line.colour)
                );
            }
        }
        out.push_str("</g>\n");
    }
    if chart.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle" fill="{NOTE_INK}">no results yet</text>"#,
            coord((LEFT + RIGHT) / 2.0),
            coord((TOP + BOTTOM) / 2.0)
        );
    }

    for (i, line) in figure.legend.iter().enumerate() {
        let ly = coord(LEGEND_TOP + i as f64 * LEGEND_STEP);
        let marker = if line.markers {
            format!(
                r#"<circle cx="{}" cy="{ly}" r="{MARKER_R}"{}/>"#,
                coord(LEGEND_X + 12.0),
                fill_attr(line.dashed, line.colour)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            r#"<g stroke="{c}" stroke-width="2"><line x1="{}" y1="{ly}" x2="{}" y2="{ly}"{}/>{marker}</g>"#,
            coord(LEGEND_X),
            coord(LEGEND_X + 24.0),
            dash_attr(line.dashed),
            c = line.colour
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{ly}" dy=".32em">{}</text>"#,
            coord(LEGEND_X + 32.0),
            escape(line.name)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The dash attribute of a line, if dashed.
fn dash_attr(dashed: bool) -> String {
    if dashed {
        format!(r#" stroke-dasharray="{LOAD_DASH}""#)
    } else {
        String::new()
    }
}

/// A marker's fill: hollow (white) on a dashed line, else its colour.
fn fill_attr(hollow: bool, colour: &str) -> String {
    if hollow {
        r##" fill="#ffffff""##.to_string()
    } else {
        format!(r#" fill="{colour}""#)
    }
}

/// A coordinate with at most one decimal: enough for a 720-wide image, and stable in tests.
pub(super) fn coord(v: f64) -> String {
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

    /// A scenario's line and markers, as the chart draws them.
    fn dash(sc: Scenario) -> String {
        dash_attr(sc.has_load())
    }

    fn marker_fill(sc: Scenario) -> String {
        fill_attr(sc.has_load(), colour(sc))
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
