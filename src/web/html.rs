//! The page's tables, counters and chart as HTML and SVG strings: pure functions of the results,
//! so they are tested without a browser and the page only swaps them in when something changed.
//!
//! Every string put in here comes from the crate (scenario names, numbers); [`esc`] is applied
//! anyway so a future free-text field cannot inject markup.

use crate::scenario::{RunResult, Scenario, SweepConfig};
use std::fmt::Write;

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
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `12,345,678`: the exporters' grouping, so the page and the downloads agree.
pub use crate::report::numbers::thousands as grouped;

/// `123 M`, `4.56 M`, `789 k`: three significant figures.
pub fn compact(v: f64) -> String {
    let (v, unit) = if v >= 1e9 {
        (v / 1e9, " G")
    } else if v >= 1e6 {
        (v / 1e6, " M")
    } else if v >= 1e3 {
        (v / 1e3, " k")
    } else {
        (v, "")
    };
    let digits = if v >= 100.0 || unit.is_empty() {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let n = format!("{v:.digits$}");
    let n = if n.contains('.') {
        n.trim_end_matches('0').trim_end_matches('.')
    } else {
        &n
    };
    format!("{n}{unit}")
}

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
    format!("{} s", super::params::short_number(d))
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
        .find(|b| b.scenario == alone && (b.delay_s - r.delay_s).abs() < 1e-9)?;
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
        let _ = write!(
            out,
            "<tr data-scenario=\"{sc}\" data-delay-s=\"{d}\" data-count=\"{c}\" \
             data-elapsed-s=\"{e}\" data-stop-lag-s=\"{l}\" data-rate-per-s=\"{rate}\"{current}>\
             <th scope=\"row\"><span class=\"dot {cls}\"></span>{sc_h}</th>\
             <td><span class=\"k\">delay</span> {dl}</td>\
             <td class=\"num\"><span class=\"visually-hidden\">count </span>{cg}</td>\
             <td><span class=\"k\">counted</span> {el}</td>\
             <td><span class=\"k\">late stop</span> {lag}</td>\
             <td>{rt}/s</td>\
             <td><button type=\"button\" class=\"link\" data-action=\"show-run\" data-run=\"{i}\" \
             aria-label=\"Show the timeline of {sc_h} at {dl}\">timeline</button></td></tr>",
            sc = esc(r.scenario.name()),
            sc_h = esc(r.scenario.name()),
            cls = class(r.scenario),
            d = r.delay_s,
            c = r.count,
            e = r.elapsed_s,
            l = r.stop_lag_s,
            rate = r.rate_per_s,
            dl = delay_label(r.delay_s),
            cg = grouped(r.count),
            el = seconds(r.elapsed_s),
            lag = seconds(r.stop_lag_s),
            rt = compact(r.rate_per_s),
        );
    }
    out
}

/// The seed's table: one row per delay, one column per scenario, filling in as runs finish.
pub fn seed_table(config: &SweepConfig, results: &[RunResult], live: Option<LiveCell>) -> String {
    let mut out = String::from("<thead><tr><th scope=\"col\">delay</th>");
    for s in &config.scenarios {
        // `<wbr>` lets `thread+load` break after the `+` in a narrow column.
        let _ = write!(
            out,
            "<th scope=\"col\"><span class=\"dot {}\"></span>{}</th>",
            class(*s),
            esc(s.name()).replace('+', "+<wbr>")
        );
    }
    out.push_str("</tr></thead><tbody>");
    for d in &config.delays {
        let d = d.as_secs_f64();
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", delay_label(d));
        for s in &config.scenarios {
            let done = results
                .iter()
                .find(|r| r.scenario == *s && (r.delay_s - d).abs() < 1e-9);
            match (done, live) {
                (Some(r), _) => {
                    let _ = write!(out, "<td class=\"num\">{}</td>", both_forms(r.count));
                }
                (None, Some(l)) if l.scenario == *s && (l.delay_s - d).abs() < 1e-9 => {
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

/// A count in full and in short (`622 M`); the page's CSS shows the short one on a phone.
fn both_forms(n: u64) -> String {
    format!(
        "<span class=\"full\">{}</span><span class=\"short\" aria-hidden=\"true\">{}</span>",
        grouped(n),
        compact(n as f64)
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
                    format!("{}/s", compact(l.count as f64 / l.elapsed_s))
                } else {
                    "starting".into()
                },
                format!("running · delay {}", delay_label(l.delay_s)),
                " running",
            ),
            (None, Some(r)) => (
                grouped(r.count),
                format!("{}/s", compact(r.rate_per_s)),
                match ratio_note(results, r) {
                    Some((ratio, alone)) => format!(
                        "rate {} of {} · delay {}",
                        percent(ratio),
                        alone.name(),
                        delay_label(r.delay_s)
                    ),
                    None => format!("delay {}", delay_label(r.delay_s)),
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
            name = esc(s.name()),
            note = esc(&note),
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

/// A round step giving at most `max_ticks` ticks over `[0, span]`.
pub fn nice_step(span: f64, max_ticks: usize) -> f64 {
    let raw = span.max(1e-9) / max_ticks.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * mag >= raw {
            return m * mag;
        }
    }
    10.0 * mag
}

/// The seed's chart: final count against delay, one line per scenario, as inline SVG coloured by
/// the page's CSS (so it follows the light or dark scheme). `width` is the container's width in
/// CSS pixels: one SVG unit is one pixel, so the text keeps its size on a phone.
pub fn chart_svg(config: &SweepConfig, results: &[RunResult], width: f64) -> String {
    let w = width.clamp(260.0, 1200.0).round();
    let h = (w * 0.42).clamp(200.0, 320.0).round();
    const L: f64 = 64.0;
    const R: f64 = 16.0;
    const T: f64 = 16.0;
    const B: f64 = 44.0;
    let max_delay = config
        .delays
        .iter()
        .map(|d| d.as_secs_f64())
        .fold(0.0, f64::max);
    let max_delay = if max_delay > 0.0 { max_delay } else { 1.0 };
    // Until something finished, a 0 to 100 M frame with a word on what will appear.
    let max_count = results.iter().map(|r| r.count).max().unwrap_or(0).max(100) as f64;
    let max_count = if results.is_empty() { 1e8 } else { max_count };
    let y_step = nice_step(max_count, ((h - T - B) / 45.0) as usize);
    let y_top = (max_count / y_step).ceil() * y_step;
    // Whole seconds on the delay axis unless every delay is under a second.
    let min_x_step = if max_delay >= 1.0 { 1.0 } else { 0.0 };
    let x_step = nice_step(max_delay, ((w - L - R) / 60.0) as usize).max(min_x_step);
    let x = |d: f64| L + d / max_delay * (w - L - R);
    let y = |c: f64| h - B - c / y_top * (h - T - B);

    let mut out = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"chart-title\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-title\">Final count against \
         delay, one line per scenario</title><g class=\"grid\">"
    );
    let mut v = 0.0;
    while v <= y_top + y_step / 2.0 {
        let _ = write!(
            out,
            "<line x1=\"{L}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/>\
             <text class=\"tick\" x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>",
            x2 = w - R,
            yy = y(v),
            tx = L - 8.0,
            ty = y(v) + 4.0,
            label = compact(v),
        );
        v += y_step;
    }
    let mut d = 0.0;
    while d <= max_delay + 1e-9 {
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{xx:.1}\" y=\"{ty}\" text-anchor=\"middle\">{label}</text>",
            xx = x(d),
            ty = h - B + 18.0,
            label = super::params::short_number(d),
        );
        d += x_step;
    }
    let _ = write!(
        out,
        "</g><line class=\"axis\" x1=\"{L}\" x2=\"{x2}\" y1=\"{y0}\" y2=\"{y0}\"/>\
         <text class=\"label\" x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\">delay (s)</text>\
         <text class=\"label\" x=\"14\" y=\"{cy}\" text-anchor=\"middle\" \
         transform=\"rotate(-90 14 {cy})\">final count</text>",
        x2 = w - R,
        y0 = h - B,
        cx = (L + w - R) / 2.0,
        ly = h - 6.0,
        cy = (T + h - B) / 2.0,
    );
    if results.is_empty() {
        let _ = write!(
            out,
            "<text class=\"label\" x=\"{cx}\" y=\"{cy}\" text-anchor=\"middle\">Each run adds a \
             point here when it finishes.</text>",
            cx = (L + w - R) / 2.0,
            cy = (T + h - B) / 2.0,
        );
    }
    for s in &config.scenarios {
        let mut pts: Vec<(f64, f64)> = results
            .iter()
            .filter(|r| r.scenario == *s)
            .map(|r| (x(r.delay_s), y(r.count as f64)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
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
        for (a, b) in &pts {
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
                esc(s.name())
            )
        })
        .collect()
}
