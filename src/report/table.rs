//! The seed's table for a terminal: one row per delay, one column per scenario, then the worst
//! stop lag of each scenario.

use super::grid::{count_rows, RowAxis};
use super::Exporter;
use crate::scenario::SweepReport;

/// Plain text, columns right-aligned and sized to fit.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableExporter;

impl Exporter for TableExporter {
    fn serialize(&self, report: &SweepReport) -> Vec<u8> {
        render(report).into_bytes()
    }
}

const GAP: &str = "  ";

fn render(report: &SweepReport) -> String {
    let header: Vec<String> = std::iter::once(RowAxis::of(&report.config).column())
        .chain(report.config.scenarios.iter().map(|sc| sc.name()))
        .map(String::from)
        .collect();
    let mut rows = count_rows(report);
    rows.insert(0, header);

    let mut out = aligned(&rows);
    if let Some(footer) = stop_lag_footer(report) {
        out.push('\n');
        out.push_str(&footer);
        out.push('\n');
    }
    out
}

/// `rows` as lines of right-aligned columns, each as wide as its widest cell, two spaces apart.
pub(super) fn aligned(rows: &[Vec<String>]) -> String {
    let mut widths = vec![0; rows.first().map_or(0, Vec::len)];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:>w$}"))
            .collect();
        out.push_str(&cells.join(GAP));
        out.push('\n');
    }
    out
}

/// `stop lag (max): thread 0.001 s, thread+load 1.234 s`: how late the controller stopped the
/// incrementer, which stretches every count of a `+load` column past its delay. Only scenarios
/// with results are listed; `None` when there are none.
fn stop_lag_footer(report: &SweepReport) -> Option<String> {
    let parts: Vec<String> = report
        .config
        .scenarios
        .iter()
        .filter_map(|&sc| {
            let lags = report.results.iter().filter(|r| r.scenario == sc);
            lags.map(|r| r.stop_lag_s)
                .reduce(f64::max)
                .map(|max| format!("{sc} {max:.3} s"))
        })
        .collect();
    (!parts.is_empty()).then(|| format!("stop lag (max): {}", parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::fixtures::{report, result};
    use crate::scenario::Scenario::{Process, ProcessLoad, Thread, ThreadLoad};

    fn table(report: &SweepReport) -> String {
        String::from_utf8(TableExporter.serialize(report)).expect("the table is UTF-8")
    }

    #[test]
    fn seed_layout_with_thousands_separators_and_stop_lag_footer() {
        let mut results = Vec::new();
        for (delay, counts) in [
            (0.0, [0, 0, 0, 0]),
            (1.0, [456_789_012, 451_234_567, 4_321, 449_876_543]),
        ] {
            for (sc, count) in [Thread, Process, ThreadLoad, ProcessLoad]
                .into_iter()
                .zip(counts)
            {
                results.push(result(sc, delay, count));
            }
        }
        results[6].stop_lag_s = 1.2344;
        let r = report(
            &[Thread, Process, ThreadLoad, ProcessLoad],
            &[0.0, 1.0],
            results,
        );
        assert_eq!(
            table(&r),
            "\
delay_s       thread      process  thread+load  process+load
      0            0            0            0             0
      1  456,789,012  451,234,567        4,321   449,876,543

stop lag (max): thread 0.001 s, process 0.001 s, thread+load 1.234 s, process+load 0.001 s
"
        );
    }

    #[test]
    fn partial_sweep_shows_dashes_and_lists_only_scenarios_with_results() {
        let r = report(
            &[Thread, ThreadLoad],
            &[0.5, 2.0],
            vec![result(Thread, 0.5, 12_345)],
        );
        assert_eq!(
            table(&r),
            "\
delay_s  thread  thread+load
    0.5  12,345            -
      2       -            -

stop lag (max): thread 0.001 s
"
        );
    }

    #[test]
    fn an_interval_sweep_has_one_row_per_interval() {
        let mut r = report(&[Thread], &[2.0], vec![]);
        r.config.intervals = vec![
            std::time::Duration::from_micros(100),
            std::time::Duration::from_millis(20),
        ];
        for (ms, count) in [(0.1, 7), (20.0, 9)] {
            r.results.push(crate::scenario::RunResult {
                switch_interval_ms: ms,
                ..result(Thread, 2.0, count)
            });
        }
        assert_eq!(
            table(&r),
            "interval_ms  thread\n        0.1       7\n         20       9\n\nstop lag (max): thread 0.001 s\n"
        );
    }

    #[test]
    fn empty_sweep_prints_only_the_header_and_no_footer() {
        assert_eq!(table(&report(&[], &[], vec![])), "delay_s\n");
        assert_eq!(table(&report(&[Thread], &[], vec![])), "delay_s  thread\n");
    }
}
