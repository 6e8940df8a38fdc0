//! The scaling test's exports (`gil-lab scale`): the table, JSON, CSV, Markdown and the SVG
//! chart of speedup against workers, through the same writers as the sweep's.

use super::chart::{AxisRule, Chart, Series};
use super::csv::float;
use super::json::Json;
use super::markdown::line;
use super::numbers::{trim_float, with_thousands_separators};
use super::svg::{draw, Figure, Line, FRAME, NOTE_INK};
use super::table::aligned;
use super::Format;
use crate::scale::{Mode, ScaleReport, ScaleResult};
use crate::workload::Load;
use std::fmt::Write;

/// `report` in `format`, as the bytes of a file.
pub fn scale_export(report: &ScaleReport, format: Format) -> Vec<u8> {
    match format {
        Format::Table => table(report),
        Format::Json => json(report),
        Format::Csv => csv(report),
        Format::Markdown => markdown(report),
    }
    .into_bytes()
}

/// A speedup with two decimals (`1.93x`), or `-`.
fn speedup_cell(r: Option<&ScaleResult>) -> String {
    r.and_then(|r| r.speedup)
        .map_or("-".into(), |s| format!("{s:.2}x"))
}

fn rate_cell(r: Option<&ScaleResult>) -> String {
    r.map_or("-".into(), |r| {
        with_thousands_separators(r.ops_per_s.max(0.0).round() as u64)
    })
}

/// One row per worker count: its ops/s and speedup in each mode.
fn rows(report: &ScaleReport) -> Vec<Vec<String>> {
    let config = &report.config;
    config
        .workers
        .iter()
        .map(|&n| {
            let mut row = vec![n.to_string()];
            for &mode in &config.modes {
                let r = report.get(mode, n);
                row.push(rate_cell(r));
                row.push(speedup_cell(r));
            }
            row
        })
        .collect()
}

/// What the speedups are against, when it is not one worker.
fn base_note(report: &ScaleReport) -> Option<String> {
    let base = report.config.base_workers();
    (base != 1)
        .then(|| format!("speedup against {base} workers, the fewest run (1 worker was not run)"))
}

fn table(report: &ScaleReport) -> String {
    let config = &report.config;
    let mut groups = vec![String::new()];
    let mut header = vec!["workers".to_string()];
    for mode in &config.modes {
        groups.extend([mode.name().to_string(), String::new()]);
        header.extend(["ops/s".to_string(), "speedup".to_string()]);
    }
    let mut all = vec![groups, header];
    all.extend(rows(report));
    // The group line's last cell is empty: no trailing spaces.
    let mut out: String = aligned(&all)
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    out.push('\n');
    if let Some(note) = base_note(report) {
        let _ = writeln!(out, "{note}");
    }
    let cores = config.cores.map_or("unknown".into(), |k| k.to_string());
    let _ = writeln!(
        out,
        "cores: {cores}; load {}, {} s a measurement, switch interval {} ms",
        config.load.name(),
        trim_float(config.seconds.as_secs_f64(), 3),
        trim_float(config.interval.as_secs_f64() * 1e3, 3)
    );
    out
}

fn markdown(report: &ScaleReport) -> String {
    let mut header = vec!["workers".to_string()];
    for mode in &report.config.modes {
        header.push(format!("{mode} ops/s"));
        header.push(format!("{mode} speedup"));
    }
    let mut out = line(&header);
    out.push_str(&line(&vec!["---:"; header.len()]));
    for row in rows(report) {
        out.push_str(&line(&row));
    }
    if let Some(note) = base_note(report) {
        let _ = write!(out, "\n{note}\n");
    }
    out
}

/// The CSV's first line.
pub const CSV_HEADER: &str = "mode,workers,ops,elapsed_s,ops_per_s,speedup";

fn csv(report: &ScaleReport) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for r in &report.results {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            r.mode,
            r.workers,
            r.ops,
            float(r.elapsed_s),
            float(r.ops_per_s),
            r.speedup.map_or(String::new(), float)
        );
    }
    out
}

fn json(report: &ScaleReport) -> String {
    let c = &report.config;
    let mut j = Json::default();
    j.open('{');
    j.key("config").open('{');
    j.key("command").str("scale");
    j.key("load").str(c.load.name());
    j.key("op_us");
    match c.load {
        Load::Short { op } => j.f64(op.as_secs_f64() * 1e6),
        _ => j.null(),
    };
    j.key("seconds").f64(c.seconds.as_secs_f64());
    j.key("interval_ms").f64(c.interval.as_secs_f64() * 1e3);
    j.key("workers").open('[');
    for &n in &c.workers {
        j.item().u64(n as u64);
    }
    j.close(']');
    j.key("modes").open('[');
    for m in &c.modes {
        j.item().str(m.name());
    }
    j.close(']');
    j.key("speedup_base_workers").u64(c.base_workers() as u64);
    j.key("cores");
    match c.cores {
        Some(k) => j.u64(k as u64),
        None => j.null(),
    };
    j.close('}');
    j.key("results").open('[');
    for r in &report.results {
        j.item().open('{');
        j.key("mode").str(r.mode.name());
        j.key("workers").u64(r.workers as u64);
        j.key("ops").u64(r.ops);
        j.key("elapsed_s").f64(r.elapsed_s);
        j.key("ops_per_s").f64(r.ops_per_s);
        j.key("speedup").opt_f64(r.speedup);
        j.key("worker_ops").open('[');
        for &ops in &r.worker_ops {
            j.item().u64(ops);
        }
        j.close(']');
        j.close('}');
    }
    j.close(']');
    j.close('}');
    let mut out = j.finish();
    out.push('\n');
    out
}

/// A fixed colour per mode, the hue of the sweep's scenario of the same word.
fn colour(mode: Mode) -> &'static str {
    match mode {
        Mode::Thread => "#0072B2",
        Mode::Process => "#E69F00",
        Mode::Interpreter => "#CC79A7",
        Mode::FreeThread => "#009E73",
    }
}

fn speedup_label(v: f64) -> String {
    format!("{}x", trim_float(v, 2))
}

fn workers_label(v: f64) -> String {
    trim_float(v, 2)
}

/// The chart: each mode's speedup against workers, and the ideal line (N workers doing N times
/// the work of one), as SVG text ending with a newline.
pub fn scale_svg(report: &ScaleReport) -> String {
    let config = &report.config;
    let base = config.base_workers() as f64;
    let most = config.workers.iter().copied().max().unwrap_or(1) as f64;
    let values: Vec<Series<Option<Mode>>> = config
        .modes
        .iter()
        .map(|&m| {
            let points = config
                .workers
                .iter()
                .filter_map(|&n| Some((n as f64, report.get(m, n)?.speedup?)))
                .collect();
            (Some(m), points)
        })
        .chain(std::iter::once((
            None,
            vec![(base, 1.0), (most, most / base)],
        )))
        .collect();
    let y_rule = AxisRule {
        whole_units: false,
        ..AxisRule::FILE_Y
    };
    let x_rule = AxisRule {
        whole_units: true,
        ..AxisRule::FILE_X
    };
    let chart = Chart::fit(values, most, FRAME, x_rule, y_rule);
    let lines: Vec<Line> = chart
        .series
        .iter()
        .map(|(mode, points)| match mode {
            Some(m) => Line {
                name: m.name(),
                colour: colour(*m),
                dashed: false,
                markers: true,
                points,
            },
            None => Line {
                name: "ideal",
                colour: NOTE_INK,
                dashed: true,
                markers: false,
                points,
            },
        })
        .collect();
    let against = if base == 1.0 {
        "one worker".to_string()
    } else {
        format!("{base} workers")
    };
    let title = format!(
        "gil-lab scale: total work against {against} (load: {})",
        config.load.name()
    );
    let y_title = format!("speedup (ops/s against {against})");
    draw(&Figure {
        title: &title,
        chart: &chart,
        x_title: "workers",
        y_title: &y_title,
        x_label: workers_label,
        y_label: speedup_label,
        data_key: "mode",
        lines: &lines,
        legend: &lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scale::{ScaleConfig, ScaleResult};

    fn report(workers: &[usize]) -> ScaleReport {
        let mut r = ScaleReport::new(ScaleConfig {
            workers: workers.to_vec(),
            modes: vec![Mode::Thread, Mode::Process],
            seconds: std::time::Duration::from_millis(500),
            cores: Some(2),
            ..ScaleConfig::default()
        });
        for (mode, rates) in [
            (Mode::Thread, [200_000.0, 196_000.4]),
            (Mode::Process, [200_000.0, 390_000.0]),
        ] {
            for (&n, rate) in workers.iter().zip(rates) {
                r.push(ScaleResult {
                    mode,
                    workers: n,
                    ops: (rate / 2.0) as u64,
                    elapsed_s: 0.5,
                    ops_per_s: rate,
                    speedup: None,
                    worker_ops: vec![(rate / 2.0) as u64 / n as u64; n],
                });
            }
        }
        r
    }

    fn text(report: &ScaleReport, f: Format) -> String {
        String::from_utf8(scale_export(report, f)).unwrap()
    }

    #[test]
    fn the_table_has_a_row_per_count_and_a_column_pair_per_mode() {
        assert_eq!(
            text(&report(&[1, 2]), Format::Table),
            concat!(
                "          thread           process\n",
                "workers    ops/s  speedup    ops/s  speedup\n",
                "      1  200,000    1.00x  200,000    1.00x\n",
                "      2  196,000    0.98x  390,000    1.95x\n",
                "\n",
                "cores: 2; load short, 0.5 s a measurement, switch interval 5 ms\n",
            )
        );
    }

    #[test]
    fn without_1_the_exports_say_what_the_speedup_is_against() {
        let r = report(&[2, 4]);
        assert!(text(&r, Format::Table)
            .contains("speedup against 2 workers, the fewest run (1 worker was not run)"));
        assert!(text(&r, Format::Markdown).contains("(1 worker was not run)"));
        let v: serde_json::Value = serde_json::from_str(&text(&r, Format::Json)).unwrap();
        assert_eq!(v["config"]["speedup_base_workers"], 2);
        assert!(scale_svg(&r).contains("against 2 workers"));
    }

    #[test]
    fn json_csv_and_markdown_carry_every_result() {
        let r = report(&[1, 2]);
        let v: serde_json::Value = serde_json::from_str(&text(&r, Format::Json)).unwrap();
        assert_eq!(v["config"]["command"], "scale");
        assert_eq!(v["config"]["load"], "short");
        assert_eq!(v["config"]["op_us"], 5.0);
        assert_eq!(v["config"]["seconds"], 0.5);
        assert_eq!(v["config"]["interval_ms"], 5.0);
        assert_eq!(v["config"]["workers"], serde_json::json!([1, 2]));
        assert_eq!(
            v["config"]["modes"],
            serde_json::json!(["thread", "process"])
        );
        assert_eq!(v["config"]["cores"], 2);
        let results = v["results"].as_array().unwrap();
        assert_eq!(results.len(), 4);
        assert_eq!(results[3]["mode"], "process");
        assert_eq!(results[3]["workers"], 2);
        assert_eq!(results[3]["speedup"], 1.95);
        assert_eq!(
            results[3]["worker_ops"],
            serde_json::json!([97_500, 97_500])
        );
        assert_eq!(
            text(&r, Format::Csv),
            format!(
                "{CSV_HEADER}\nthread,1,100000,0.5,200000,1\nthread,2,98000,0.5,196000.4,0.980002\n\
                 process,1,100000,0.5,200000,1\nprocess,2,195000,0.5,390000,1.95\n"
            )
        );
        assert_eq!(
            text(&r, Format::Markdown),
            "| workers | thread ops/s | thread speedup | process ops/s | process speedup |\n\
             | ---: | ---: | ---: | ---: | ---: |\n\
             | 1 | 200,000 | 1.00x | 200,000 | 1.00x |\n\
             | 2 | 196,000 | 0.98x | 390,000 | 1.95x |\n"
        );
    }

    #[test]
    fn the_chart_draws_each_modes_speedup_and_the_ideal_line() {
        let svg = scale_svg(&report(&[1, 2]));
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<g").count(), svg.matches("</g>").count());
        for name in ["thread", "process", "ideal"] {
            assert!(svg.contains(&format!(r#"data-mode="{name}""#)), "{svg}");
        }
        // Ideal: 1x at one worker to 2x at two, dashed, on a 0..2 workers axis.
        assert!(svg.contains(r#"stroke-dasharray="6 4""#), "{svg}");
        assert!(
            svg.contains(">2x</text>") && svg.contains(">workers</text>"),
            "{svg}"
        );
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn an_empty_report_still_exports() {
        let r = ScaleReport::new(ScaleConfig::default());
        for f in Format::ALL {
            assert!(scale_export(&r, f).ends_with(b"\n"), "{f}");
        }
        assert!(scale_svg(&r).ends_with("</svg>\n"));
    }
}
