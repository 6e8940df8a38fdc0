//! The page's tables, counters and chart as HTML and SVG strings: pure functions of the results,
//! so they are tested without a browser and the page only swaps them in when something changed.
//!
//! Every string put in here comes from the crate (scenario names, numbers); [`escape`] is applied
//! anyway so a future free-text field cannot inject markup.

use super::timeline::{lane_titles, LaneState, Timeline, LOG_CAPACITY, MAX_SPANS};
use crate::report::chart::{AxisRule, Chart, Frame};
use crate::report::grid::{rows, RowAxis};
pub use crate::report::markup::escape;
use crate::report::numbers::{abbreviate, trim_float};
use crate::scenario::{RunConfig, RunResult, Scenario, SweepConfig};
use std::fmt::Write;

/// A number without float noise: at most 6 decimals, no trailing zeros (`0.5`, `2`).
pub fn short_number(v: f64) -> String {
    trim_float(v, 6)
}

/// A count in progress: the scenario and delay it belongs to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LiveCell {
    /// The scenario running.
    pub scenario: Scenario,
    /// Its delay in seconds.
    pub delay_s: f64,
    /// The count so far.
    pub count: u64,
    /// Seconds since its start signal.
    pub elapsed_s: f64,
    /// Its switch interval in milliseconds.
    pub interval_ms: f64,
    /// Its load threads (0 without a load).
    pub loads: u8,
}

/// Whether `r` is the run of `scenario` at `delay_s` and `interval_ms` with `loads` load threads
/// (a scenario without a load has none, whatever the row).
fn is_at(r: &RunResult, scenario: Scenario, delay_s: f64, interval_ms: f64, loads: u8) -> bool {
    r.scenario == scenario
        && (r.delay_s - delay_s).abs() < 1e-9
        && (r.switch_interval_ms - interval_ms).abs() < 1e-9
        && (!scenario.has_load() || r.loads == loads)
}

/// ` · 0.1 ms` when `interval_ms` is not CPython's default, else nothing.
fn interval_note(interval_ms: f64) -> String {
    let default_ms = crate::gil::DEFAULT_INTERVAL.as_secs_f64() * 1e3;
    if (interval_ms - default_ms).abs() < 1e-9 {
        String::new()
    } else {
        format!(" · {} ms", short_number(interval_ms))
    }
}

/// `12,345,678`: the exporters' grouping, so the page and the downloads agree.
pub use crate::report::numbers::with_thousands_separators as grouped;

/// `2.31 s`, `310 ms`, `42 µs`.
pub fn seconds(s: f64) -> String {
    if s >= 0.9995 {
        format!("{s:.2} s")
    } else if s >= 0.9995e-3 {
        format!("{:.0} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

fn delay_label(d: f64) -> String {
    format!("{} s", short_number(d))
}

/// A CSS class naming a scenario's colour (`s-thread-load` for `thread+load`).
pub fn class(s: Scenario) -> String {
    format!("s-{}", s.name().replace('+', "-"))
}

/// How the rate of `r` compares with the same set-up without the load at the same delay. Rates,
/// not counts: a `+load` count is measured over a longer time (the late stop).
fn ratio_note(results: &[RunResult], r: &RunResult) -> Option<(f64, Scenario)> {
    let alone = r.scenario.alone();
    if alone == r.scenario {
        return None;
    }
    let base = results
        .iter()
        .find(|b| is_at(b, alone, r.delay_s, r.switch_interval_ms, 0))?;
    (base.rate_per_s > 0.0).then(|| (r.rate_per_s / base.rate_per_s, alone))
}

/// The DOM contract's `#results` body: one `<tr>` per finished run with its data attributes.
///
/// There is deliberately no header row (scripts count rows); every cell labels itself.
pub fn results_rows(results: &[RunResult], shown: Option<usize>) -> String {
    let mut out = String::new();
    for (i, r) in results.iter().enumerate() {
        let current = if shown == Some(i) {
            " aria-current=\"true\""
        } else {
            ""
        };
        // The request victims' waits: attributes for scripts, a cell for readers.
        let (wait_attrs, wait_cell) = match &r.latency_ms {
            Some(l) if l.n > 0 => (
                format!(
                    " data-latency-mean-ms=\"{}\" data-latency-p99-ms=\"{}\"",
                    l.mean_ms, l.p99_ms
                ),
                format!(
                    "<td class=\"wait\"><span class=\"k\">wait</span> mean {} · p50 {} · p99 {} \
                     · max {} ms</td>",
                    ms3(l.mean_ms),
                    ms3(l.p50_ms),
                    ms3(l.p99_ms),
                    ms3(l.max_ms)
                ),
            ),
            _ => (String::new(), String::new()),
        };
        let loads = if r.loads > 1 {
            format!(" · {} loads", r.loads)
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<tr data-scenario=\"{sc}\" data-delay-s=\"{d}\" data-count=\"{c}\" \
             data-elapsed-s=\"{e}\" data-stop-lag-s=\"{l}\" data-rate-per-s=\"{rate}\" \
             data-switch-interval-ms=\"{ims}\" data-loads=\"{nl}\"{wait_attrs}{current}>\
             <th scope=\"row\"><span class=\"dot {cls}\"></span>{sc_h}</th>\
             <td><span class=\"k\">delay</span> {dl}{inote}{loads}</td>\
             <td class=\"num\"><span class=\"visually-hidden\">count </span>{cg}</td>\
             <td><span class=\"k\">counted</span> {el}</td>\
             <td><span class=\"k\">late stop</span> {lag}</td>\
             <td>{rt}/s</td>{wait_cell}\
             <td><button type=\"button\" class=\"link\" data-action=\"show-run\" data-run=\"{i}\" \
             aria-label=\"Show the timeline of {sc_h} at {dl}\">timeline</button></td></tr>",
            sc = escape(r.scenario.name()),
            sc_h = escape(r.scenario.name()),
            cls = class(r.scenario),
            d = r.delay_s,
            c = r.count,
            e = r.elapsed_s,
            l = r.stop_lag_s,
            rate = r.rate_per_s,
            ims = r.switch_interval_ms,
            nl = r.loads,
            inote = interval_note(r.switch_interval_ms),
            dl = delay_label(r.delay_s),
            cg = grouped(r.count),
            el = seconds(r.elapsed_s),
            lag = seconds(r.stop_lag_s),
            rt = abbreviate(r.rate_per_s),
        );
    }
    out
}

/// The seed's table: one row per delay (or per switch interval, in a sweep of intervals), one
/// column per scenario, filling in as runs finish.
pub fn seed_table(config: &SweepConfig, results: &[RunResult], live: Option<LiveCell>) -> String {
    let axis = RowAxis::of(config);
    let head = match axis {
        RowAxis::Delay => "delay",
        RowAxis::Interval => "interval",
        RowAxis::Loads => "loads",
    };
    let mut out = format!("<thead><tr><th scope=\"col\">{head}</th>");
    for s in &config.scenarios {
        // `<wbr>` lets `thread+load` break after the `+` in a narrow column.
        let _ = write!(
            out,
            "<th scope=\"col\"><span class=\"dot {}\"></span>{}</th>",
            class(*s),
            escape(s.name()).replace('+', "+<wbr>")
        );
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows(config) {
        let (d, ms) = (row.delay_s, row.interval.as_secs_f64() * 1e3);
        let label = match axis {
            RowAxis::Delay => delay_label(d),
            RowAxis::Interval => format!("{} ms", short_number(ms)),
            RowAxis::Loads => row.loads.to_string(),
        };
        let _ = write!(out, "<tr><th scope=\"row\">{label}</th>");
        for s in &config.scenarios {
            let done = results.iter().find(|r| is_at(r, *s, d, ms, row.loads));
            match (done, live) {
                (Some(r), _) if config.victim.answers_requests() => {
                    let _ = write!(
                        out,
                        "<td class=\"num\">{}</td>",
                        escape(&crate::report::grid::cell(config.victim, r))
                    );
                }
                (Some(r), _) => {
                    let _ = write!(out, "<td class=\"num\">{}</td>", both_forms(r.count));
                }
                (None, Some(l))
                    if l.scenario == *s
                        && (l.delay_s - d).abs() < 1e-9
                        && (l.interval_ms - ms).abs() < 1e-9
                        && (!s.has_load() || l.loads == row.loads) =>
                {
                    let _ = write!(
                        out,
                        "<td class=\"num live\" aria-live=\"off\">{}</td>",
                        both_forms(l.count)
                    );
                }
                _ => out.push_str("<td class=\"num pending\">·</td>"),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody>");
    out
}

/// The request victims' picture: one row per run, its waits on a logarithmic millisecond axis, a
/// bar from the median (p50) to the 99th percentile, a thin line on to the longest and a dot at
/// the mean, so the slow tail beside the load and its absence elsewhere read at a glance.
pub fn waits_svg(results: &[RunResult], width: f64) -> String {
    let runs: Vec<(&RunResult, crate::workload::LatencyStats)> = results
        .iter()
        .filter_map(|r| r.latency_ms.filter(|l| l.n > 0).map(|l| (r, l)))
        .collect();
    let w = width.clamp(260.0, 1200.0).round();
    const ROW: f64 = 26.0;
    const T: f64 = 8.0;
    const B: f64 = 40.0;
    let label_w = if w < 420.0 { 118.0 } else { 150.0 };
    let (left, right) = (label_w, w - 14.0);
    let h = T + B + ROW * runs.len().max(1) as f64;
    // Decades from 0.01 ms to the first one past the longest wait.
    let longest = runs.iter().map(|(_, l)| l.max_ms).fold(1.0, f64::max);
    let (lo, hi) = (-2i32, (longest.log10().ceil() as i32).max(1));
    let px = |ms: f64| {
        let v = ms.max(1e-2).log10().clamp(f64::from(lo), f64::from(hi));
        left + (v - f64::from(lo)) / f64::from(hi - lo) * (right - left)
    };
    let mut out = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"chart-title\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-title\">How long each run's \
         requests waited, in milliseconds on a logarithmic axis: a bar from the median to the 99th \
         percentile, a line to the longest, a dot at the mean</title><g class=\"grid\">"
    );
    let bottom = h - B;
    for e in lo..=hi {
        let x = px(10f64.powi(e));
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{T}\" y2=\"{bottom}\"/>\
             <text class=\"tick\" x=\"{x:.1}\" y=\"{ty}\" text-anchor=\"middle\">{}</text>",
            short_number(10f64.powi(e)),
            ty = bottom + 16.0,
        );
    }
    let _ = write!(
        out,
        "</g><text class=\"label\" x=\"{cx:.1}\" y=\"{ly}\" text-anchor=\"middle\">wait (ms), \
         bar p50 to p99</text>",
        cx = (left + right) / 2.0,
        ly = h - 6.0,
    );
    if runs.is_empty() {
        let _ = write!(
            out,
            "<text class=\"label\" x=\"{cx:.1}\" y=\"{y}\" text-anchor=\"middle\">Each run's \
             requests appear here when it finishes.</text>",
            cx = (left + right) / 2.0,
            y = T + ROW * 0.6,
        );
    }
    for (i, (r, l)) in runs.iter().enumerate() {
        let y = T + ROW * (i as f64 + 0.5);
        let loads = if r.loads > 1 {
            format!(" · {}", r.loads)
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<g class=\"series {cls}\"><text class=\"tick\" x=\"{tx}\" y=\"{ty:.1}\" \
             text-anchor=\"end\">{name}{loads}</text>\
             <line class=\"tail\" x1=\"{x50:.1}\" x2=\"{xmax:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <rect x=\"{x50:.1}\" y=\"{ry:.1}\" width=\"{bw:.1}\" height=\"10\" rx=\"2\"/>\
             <circle cx=\"{xm:.1}\" cy=\"{y:.1}\" r=\"3.5\"/></g>",
            cls = class(r.scenario),
            tx = left - 8.0,
            ty = y + 4.0,
            name = escape(r.scenario.name()),
            x50 = px(l.p50_ms),
            xmax = px(l.max_ms),
            ry = y - 5.0,
            bw = (px(l.p99_ms) - px(l.p50_ms)).max(2.0),
            xm = px(l.mean_ms),
        );
    }
    out.push_str("</svg>");
    out
}

/// Milliseconds to three significant digits at most.
fn ms3(v: f64) -> String {
    let decimals = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else if v >= 1.0 {
        2
    } else {
        3
    };
    trim_float(v, decimals)
}

/// A count in full and in short (`622 M`); the page's CSS shows the short one on a phone.
fn both_forms(n: u64) -> String {
    format!(
        "<span class=\"full\">{}</span><span class=\"short\" aria-hidden=\"true\">{}</span>",
        grouped(n),
        abbreviate(n as f64)
    )
}

/// One card per scenario: its latest count (live while it runs) and rate, and for a `+load`
/// scenario how it compares with the same set-up alone.
pub fn counters(config: &SweepConfig, results: &[RunResult], live: Option<LiveCell>) -> String {
    let mut out = String::new();
    for s in &config.scenarios {
        let latest = results.iter().rev().find(|r| r.scenario == *s);
        let is_live = live.filter(|l| l.scenario == *s);
        let (count, rate, note, state) = match (is_live, latest) {
            (Some(l), _) => (
                grouped(l.count),
                if l.elapsed_s > 0.0 {
                    format!("{}/s", abbreviate(l.count as f64 / l.elapsed_s))
                } else {
                    "starting".into()
                },
                format!(
                    "running · delay {}{}",
                    delay_label(l.delay_s),
                    interval_note(l.interval_ms)
                ),
                " running",
            ),
            (None, Some(r)) => (
                grouped(r.count),
                format!("{}/s", abbreviate(r.rate_per_s)),
                match ratio_note(results, r) {
                    Some((ratio, alone)) => format!(
                        "rate {} of {} · delay {}{}",
                        percent(ratio),
                        alone.name(),
                        delay_label(r.delay_s),
                        interval_note(r.switch_interval_ms)
                    ),
                    None => format!(
                        "delay {}{}",
                        delay_label(r.delay_s),
                        interval_note(r.switch_interval_ms)
                    ),
                },
                "",
            ),
            (None, None) => ("–".into(), "".into(), "waiting".into(), " idle"),
        };
        let _ = write!(
            out,
            "<li class=\"counter {cls}{state}\"><span class=\"name\"><span class=\"dot {cls}\">\
             </span>{name}</span><span class=\"count\">{count}</span>\
             <span class=\"rate\">{rate}</span><span class=\"note\">{note}</span></li>",
            cls = class(*s),
            name = escape(s.name()),
            note = escape(&note),
        );
    }
    out
}

/// `3%`, `0.4%`, `97%`.
pub fn percent(ratio: f64) -> String {
    let p = ratio * 100.0;
    if p > 0.0 && p < 0.05 {
        "under 0.1%".into()
    } else if p < 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// The seed's chart: final count against delay (or, in a sweep of intervals, against the switch
/// interval), one line per scenario, as inline SVG coloured by the page's CSS (so it follows the
/// light or dark scheme). `width` is the container's width in
/// CSS pixels: one SVG unit is one pixel, so the text keeps its size on a phone.
pub fn chart_svg(config: &SweepConfig, results: &[RunResult], width: f64) -> String {
    let w = width.clamp(260.0, 1200.0).round();
    let h = (w * 0.42).clamp(200.0, 320.0).round();
    const L: f64 = 64.0;
    const R: f64 = 16.0;
    const T: f64 = 16.0;
    const B: f64 = 44.0;
    let frame = Frame {
        left: L,
        right: w - R,
        top: T,
        bottom: h - B,
    };
    // Ticks spaced for reading on any width; the delays in whole seconds unless all are under
    // one, the last one at the right edge; until something finished, a 0 to 100 M frame.
    let x_rule = AxisRule {
        max_ticks: ((w - L - R) / 60.0) as usize,
        whole_units: true,
        round_end: false,
        ..AxisRule::FILE_X
    };
    let y_rule = AxisRule {
        max_ticks: ((h - T - B) / 45.0) as usize,
        least: 100.0,
        empty: 1e8,
        ..AxisRule::FILE_X
    };
    // The model reads results through a report; the page's are few, so a copy costs little.
    let report = crate::scenario::SweepReport {
        config: config.clone(),
        results: results.to_vec(),
    };
    let chart = Chart::new(&report, frame, x_rule, y_rule);
    let axis = RowAxis::of(&report.config);

    let mut out = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"chart-title\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-title\">Final count against \
         {}, one line per scenario</title><g class=\"grid\">",
        axis.title()
    );
    for &v in &chart.y.ticks {
        let yy = chart.py(v);
        let _ = write!(
            out,
            "<line x1=\"{L}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/>\
             <text class=\"tick\" x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>",
            x2 = w - R,
            tx = L - 8.0,
            ty = yy + 4.0,
            label = abbreviate(v),
        );
    }
    for &d in &chart.x.ticks {
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{xx:.1}\" y=\"{ty}\" text-anchor=\"middle\">{label}</text>",
            xx = chart.px(d),
            ty = h - B + 18.0,
            label = short_number(d),
        );
    }
    let _ = write!(
        out,
        "</g><line class=\"axis\" x1=\"{L}\" x2=\"{x2}\" y1=\"{y0}\" y2=\"{y0}\"/>\
         <text class=\"label\" x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\">{title}</text>\
         <text class=\"label\" x=\"14\" y=\"{cy}\" text-anchor=\"middle\" \
         transform=\"rotate(-90 14 {cy})\">final count</text>",
        x2 = w - R,
        y0 = h - B,
        cx = (L + w - R) / 2.0,
        ly = h - 6.0,
        cy = (T + h - B) / 2.0,
        title = axis.title(),
    );
    if chart.is_empty() {
        let _ = write!(
            out,
            "<text class=\"label\" x=\"{cx}\" y=\"{cy}\" text-anchor=\"middle\">Each run adds a \
             point here when it finishes.</text>",
            cx = (L + w - R) / 2.0,
            cy = (T + h - B) / 2.0,
        );
    }
    for (s, pts) in &chart.series {
        if pts.is_empty() {
            continue;
        }
        let path: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
        let _ = write!(
            out,
            "<g class=\"series {cls}\"><polyline points=\"{}\"/>",
            path.join(" "),
            cls = class(*s)
        );
        for (a, b) in pts {
            let _ = write!(out, "<circle cx=\"{a:.1}\" cy=\"{b:.1}\" r=\"4\"/>");
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// The chart's legend (HTML, so it wraps on a phone).
pub fn chart_legend(config: &SweepConfig) -> String {
    config
        .scenarios
        .iter()
        .map(|s| {
            format!(
                "<li><span class=\"swatch series-line {}\"></span>{}</li>",
                class(*s),
                escape(s.name())
            )
        })
        .collect()
}

/// The verdict of a finished sweep as `<li data-case>` items (the CLI's sentences), and the cases
/// in order, space-separated, for `#verdict[data-cases]`.
pub fn verdict(report: &crate::scenario::SweepReport) -> (String, String) {
    let found = crate::report::verdict_cases(report);
    let items = found
        .iter()
        .map(|(case, text)| format!("<li data-case=\"{}\">{}</li>", case.name(), escape(text)))
        .collect();
    let cases: Vec<&str> = found.iter().map(|(c, _)| c.name()).collect();
    (items, cases.join(" "))
}

/// The options of the timeline's run picker: "follow the live run", then one per started run.
pub fn run_picker(started: &[RunConfig], pinned: Option<usize>) -> String {
    let selected = |on: bool| if on { " selected" } else { "" };
    let mut out = format!(
        "<option value=\"live\"{}>Follow the live run</option>",
        selected(pinned.is_none())
    );
    for (i, cfg) in started.iter().enumerate() {
        let _ = write!(
            out,
            "<option value=\"{i}\"{}>{}: {} at {} s{}</option>",
            selected(pinned == Some(i)),
            i + 1,
            escape(cfg.scenario.name()),
            short_number(cfg.delay.as_secs_f64()),
            interval_note(cfg.interval.as_secs_f64() * 1e3)
        );
    }
    out
}

/// The timeline's caption: `thread+load · delay 2 s`, and `· live` while it runs.
pub fn timeline_title(cfg: &RunConfig, finished: bool) -> String {
    format!(
        "{} · delay {} s{}{}",
        cfg.scenario,
        short_number(cfg.delay.as_secs_f64()),
        interval_note(cfg.interval.as_secs_f64() * 1e3),
        if finished { "" } else { " · live" }
    )
}

/// The timeline in words, one `<li>` per lane that did something: what share of the run it ran
/// without the lock, held it, waited for it; then the late stop, and what was not drawn.
pub fn timeline_summary(cfg: &RunConfig, t: &Timeline, result: Option<&RunResult>) -> String {
    let end = t.now_us.max(1);
    let total = end as f64 / 1e6;
    let mut out = String::new();
    for (lane, title) in t.lanes.iter().zip(lane_titles(cfg).iter()) {
        if lane.spans.iter().all(|s| s.state == LaneState::Released) && lane.op_starts.is_empty() {
            continue;
        }
        let s = lane.shares(end);
        let mut parts = Vec::new();
        if s.no_lock_s > 0.0 {
            parts.push(format!("ran with no lock {}", percent(s.no_lock_s / total)));
        }
        if s.runs_released_s > 0.0 {
            let share = percent(s.runs_released_s / total);
            parts.push(format!("ran C code with the lock released {share}"));
        }
        if s.holding_s + s.asked_s > 0.0 {
            let held = (s.holding_s + s.asked_s) / total;
            parts.push(format!("held the lock {}", percent(held)));
        }
        if s.waiting_s > 0.0 {
            parts.push(format!("waited for it {}", percent(s.waiting_s / total)));
        }
        if !lane.op_starts.is_empty() {
            parts.push(format!("{} operations", lane.op_starts.len()));
        }
        let _ = write!(
            out,
            "<li><b>{}</b>: {}</li>",
            escape(title),
            escape(&parts.join(", "))
        );
    }
    if let Some(r) = result {
        let _ = write!(
            out,
            "<li><b>late stop</b>: the controller woke at {} s and cleared the flag {} later.</li>",
            short_number(r.delay_s),
            seconds(r.stop_lag_s)
        );
    }
    if t.lanes.iter().any(|l| l.capped_at_us.is_some()) {
        let _ = write!(
            out,
            "<li>The lock changed hands more than {MAX_SPANS} times on one lane: the rest of the \
             run is drawn as a grey bar.</li>"
        );
    }
    if t.lost > 0 {
        let _ = write!(
            out,
            "<li>{} early events were dropped from the picture (the log keeps the last \
             {LOG_CAPACITY}).</li>",
            t.lost
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gil::{Event, EventKind};
    use crate::report::grid::fixtures::{report, result};
    use crate::scenario::Scenario::{Process, Thread, ThreadLoad};
    use std::time::Duration;

    fn sample() -> (SweepConfig, Vec<RunResult>) {
        let r = report(
            &[Thread, ThreadLoad],
            &[1.0],
            vec![
                result(Thread, 1.0, 400_000_000),
                result(ThreadLoad, 1.0, 8_000_000),
            ],
        );
        (r.config, r.results)
    }

    #[test]
    fn results_rows_carry_the_data_attributes_scripts_read() {
        let (_, results) = sample();
        let rows = results_rows(&results, Some(1));
        assert_eq!(rows.matches("<tr ").count(), 2);
        assert!(rows
            .contains("data-scenario=\"thread+load\" data-delay-s=\"1\" data-count=\"8000000\""));
        assert!(
            rows.contains("400,000,000"),
            "counts are grouped for reading"
        );
        assert_eq!(rows.matches("aria-current=\"true\"").count(), 1);
        assert!(results_rows(&[], None).is_empty());
    }

    #[test]
    fn a_request_victims_rows_carry_its_waits_and_its_load_threads() {
        let mut r = result(ThreadLoad, 2.0, 190);
        r.loads = 2;
        r.latency_ms = Some(crate::workload::LatencyStats {
            n: 190,
            mean_ms: 16.25,
            p50_ms: 15.0,
            p90_ms: 24.0,
            p99_ms: 31.5,
            max_ms: 40.125,
        });
        let rows = results_rows(&[r.clone()], None);
        assert!(
            rows.contains(
                "data-loads=\"2\" data-latency-mean-ms=\"16.25\" data-latency-p99-ms=\"31.5\""
            ),
            "{rows}"
        );
        assert!(
            rows.contains("mean 16.2 · p50 15 · p99 31.5 · max 40.1 ms"),
            "{rows}"
        );
        assert!(rows.contains("· 2 loads"), "{rows}");
        // The seed's table shows the wait, one row per load count.
        let mut config = SweepConfig {
            scenarios: vec![ThreadLoad],
            delays: vec![Duration::from_secs(2)],
            loads: vec![1, 2],
            victim: crate::workload::Victim::LATENCY,
            ..SweepConfig::default()
        };
        let table = seed_table(&config, &[r.clone()], None);
        let second_row = table.split("<tr>").nth(3).unwrap_or_default();
        assert!(
            second_row.starts_with("<th scope=\"row\">2</th>"),
            "{table}"
        );
        assert!(second_row.contains("16.3 ms (p99 31.5)"), "{table}");
        let first_row = table.split("<tr>").nth(2).unwrap_or_default();
        assert!(
            first_row.contains("pending"),
            "the one-load row is not this run: {table}"
        );
        // A run with no wait (the incrementer) has neither.
        config.victim = crate::workload::Victim::Incrementer;
        let plain = results_rows(&[result(ThreadLoad, 2.0, 190)], None);
        assert!(
            plain.contains("data-loads=\"1\"") && !plain.contains("latency"),
            "{plain}"
        );
    }

    #[test]
    fn the_waits_picture_has_a_row_per_request_run_on_a_log_axis() {
        let mut one = result(ThreadLoad, 2.0, 200);
        one.latency_ms = Some(crate::workload::LatencyStats {
            n: 200,
            mean_ms: 5.3,
            p50_ms: 5.1,
            p90_ms: 6.0,
            p99_ms: 7.3,
            max_ms: 9.0,
        });
        let mut elsewhere = result(Process, 2.0, 200);
        elsewhere.latency_ms = Some(crate::workload::LatencyStats {
            n: 200,
            mean_ms: 0.01,
            p50_ms: 0.008,
            p90_ms: 0.01,
            p99_ms: 0.02,
            max_ms: 0.05,
        });
        let svg = waits_svg(&[one, result(Thread, 2.0, 5), elsewhere], 600.0);
        assert_eq!(
            svg.matches("<rect").count(),
            2,
            "one bar per run with waits: {svg}"
        );
        assert!(
            svg.contains(">0.01</text>") && svg.contains(">10</text>"),
            "{svg}"
        );
        balanced(&svg).expect("balanced markup");
        // The thread's bar starts far right of the process's (5.1 ms against 0.008 ms).
        let xs: Vec<f64> = svg
            .match_indices("<rect x=\"")
            .map(|(i, m)| {
                svg[i + m.len()..]
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        assert!(xs[0] > xs[1] + 200.0, "{xs:?}");
        assert!(waits_svg(&[], 600.0).contains("appear here"));
    }

    #[test]
    fn the_seed_table_fills_in_and_shows_the_live_cell() {
        let (config, results) = sample();
        let live = LiveCell {
            scenario: ThreadLoad,
            delay_s: 1.0,
            count: 1234,
            elapsed_s: 0.5,
            interval_ms: 5.0,
            loads: 1,
        };
        let table = seed_table(&config, &results[..1], Some(live));
        assert!(table.contains("thread+<wbr>load"));
        assert!(table.contains("class=\"num live\""));
        assert!(table.contains("1,234"));
        let pending = seed_table(&config, &[], None);
        assert_eq!(pending.matches("pending").count(), 2);
    }

    #[test]
    fn counters_compare_a_load_run_with_the_same_set_up_alone() {
        let (config, results) = sample();
        let html = counters(&config, &results, None);
        assert!(html.contains("rate 2% of thread"), "{html}");
        assert!(html.contains("400M/s"), "{html}");
        let idle = counters(&config, &[], None);
        assert_eq!(idle.matches(" idle\"").count(), 2);
    }

    #[test]
    fn the_run_picker_and_title_name_each_run() {
        let runs = [
            RunConfig::new(Thread, Duration::from_millis(500)),
            RunConfig::new(Process, Duration::from_secs(2)),
        ];
        let options = run_picker(&runs, Some(1));
        assert_eq!(options.matches("<option").count(), 3);
        assert!(options.contains("<option value=\"1\" selected>2: process at 2 s</option>"));
        assert!(!options.contains("value=\"live\" selected"));
        assert_eq!(
            timeline_title(&runs[0], false),
            "thread · delay 0.5 s · live"
        );
        assert_eq!(timeline_title(&runs[1], true), "process · delay 2 s");
    }

    #[test]
    fn the_timeline_summary_says_who_held_the_lock() {
        let cfg = RunConfig::new(ThreadLoad, Duration::from_secs(1));
        let mut t = Timeline::new(ThreadLoad);
        let event = |t_us, kind, worker| Event {
            t_us,
            kind,
            worker,
            by: worker,
        };
        t.apply(&event(0, EventKind::Take, 3));
        t.apply(&event(0, EventKind::Wait, 2));
        t.advance(1_000_000);
        let r = result(ThreadLoad, 1.0, 10);
        let summary = timeline_summary(&cfg, &t, Some(&r));
        assert!(summary.contains("held the lock 100%"), "{summary}");
        assert!(summary.contains("waited for it 100%"), "{summary}");
        assert!(summary.contains("<b>late stop</b>"), "{summary}");
    }

    #[test]
    fn the_timeline_summary_says_when_c_code_ran_without_the_lock() {
        let cfg = RunConfig::new(ThreadLoad, Duration::from_secs(1));
        let mut t = Timeline::new(ThreadLoad);
        for (t_us, kind) in [
            (0, EventKind::Take),
            (0, EventKind::ReleaseStart),
            (0, EventKind::Drop),
            (750_000, EventKind::Take),
        ] {
            t.apply(&Event {
                t_us,
                kind,
                worker: 3,
                by: 3,
            });
        }
        t.advance(1_000_000);
        let summary = timeline_summary(&cfg, &t, None);
        assert!(
            summary.contains("ran C code with the lock released 75%"),
            "{summary}"
        );
    }

    /// Every element opened in `markup` is closed, in order (`<a/>` closes itself): the names
    /// of the elements at the top level, or where it goes wrong.
    fn balanced(markup: &str) -> Result<Vec<String>, String> {
        let (mut open, mut top) = (Vec::<String>::new(), Vec::new());
        for tag in markup.split('<').skip(1) {
            let tag = tag.split('>').next().unwrap_or("");
            let name = |t: &str| t.split([' ', '/']).next().unwrap_or("").to_string();
            if let Some(closing) = tag.strip_prefix('/') {
                match open.pop() {
                    Some(o) if o == closing => {}
                    o => return Err(format!("</{closing}> closes {o:?}")),
                }
            } else if tag.ends_with('/') {
                if open.is_empty() {
                    top.push(name(tag));
                }
            } else {
                if open.is_empty() {
                    top.push(name(tag));
                }
                open.push(name(tag));
            }
        }
        match open.last() {
            Some(o) => Err(format!("<{o}> is never closed")),
            None => Ok(top),
        }
    }

    #[test]
    fn the_chart_has_a_point_per_result_and_balanced_markup() {
        let (config, results) = sample();
        let svg = chart_svg(&config, &results, 600.0);
        assert_eq!(balanced(&svg), Ok(vec!["svg".to_string()]), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2);
        // The points in the scenarios' order, the higher count higher up (a smaller y).
        let cy: Vec<f64> = svg
            .split("<circle ")
            .skip(1)
            .map(|c| c.split("cy=\"").nth(1).unwrap().split('"').next().unwrap())
            .map(|v| v.parse().unwrap())
            .collect();
        assert!(
            cy[0] < cy[1],
            "thread at {}, thread+load at {}",
            cy[0],
            cy[1]
        );
        assert!(chart_legend(&config).contains("thread+load"));
        // The checker itself catches what it is for.
        assert!(balanced("<svg><g></svg>").is_err());
        assert!(balanced("<svg><g></g>").is_err());
        assert_eq!(balanced("<a/><b></b>"), Ok(vec!["a".into(), "b".into()]));
    }

    #[test]
    fn the_verdict_names_its_cases() {
        let (config, results) = sample();
        let (items, cases) = verdict(&crate::scenario::SweepReport { config, results });
        assert_eq!(cases, "move-to-process");
        assert!(
            items.starts_with("<li data-case=\"move-to-process\">A CPU-bound"),
            "{items}"
        );
    }

    #[test]
    fn an_interval_sweep_has_a_row_and_a_point_per_interval() {
        let (mut config, _) = sample();
        config.intervals = vec![Duration::from_micros(100), Duration::from_millis(20)];
        let at = |s, ms, count| RunResult {
            switch_interval_ms: ms,
            ..result(s, 1.0, count)
        };
        let results = [at(Thread, 0.1, 10), at(ThreadLoad, 20.0, 5)];
        let table = seed_table(&config, &results, None);
        assert!(table.contains("<th scope=\"col\">interval</th>"), "{table}");
        assert!(table
            .contains("<th scope=\"row\">0.1 ms</th><td class=\"num\"><span class=\"full\">10<"));
        assert_eq!(table.matches("pending").count(), 2);
        let svg = chart_svg(&config, &results, 600.0);
        assert!(svg.contains("switch interval (ms)"));
        assert_eq!(svg.matches("<circle").count(), 2);
        let rows = results_rows(&results, None);
        assert!(rows.contains("data-switch-interval-ms=\"0.1\""), "{rows}");
        assert!(rows.contains("1 s · 20 ms"), "{rows}");
    }

    #[test]
    fn small_numbers_read_well() {
        assert_eq!(seconds(2.314), "2.31 s");
        assert_eq!(seconds(0.31), "310 ms");
        assert_eq!(seconds(42e-6), "42 µs");
        assert_eq!(percent(0.0004), "under 0.1%");
        assert_eq!(percent(0.004), "0.4%");
        assert_eq!(percent(0.97), "97%");
        assert_eq!(class(ThreadLoad), "s-thread-load");
    }
}
