//! The seed's grid: one row per delay (or, in a sweep of switch intervals, per interval) and one
//! column per scenario, both in the sweep's order.
//!
//! Shared by the table and Markdown exporters so both show the same cells. The layout comes from
//! the configuration, not the results, so a sweep in progress keeps its shape and shows its
//! missing cells as [`MISSING`].

use super::numbers::{trim_float, with_thousands_separators};
use crate::scenario::{RunResult, Scenario, SweepConfig, SweepReport};
use crate::workload::Victim;
use std::time::Duration;

/// What a cell with no result yet shows.
pub(crate) const MISSING: &str = "-";

/// A delay as a label: `0`, `2`, `0.5`.
pub(crate) fn delay_label(delay_s: f64) -> String {
    trim_float(delay_s, 6)
}

/// What the rows of a sweep stand for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowAxis {
    /// The seed's: one row per delay.
    Delay,
    /// One row per switch interval, at one delay.
    Interval,
    /// One row per number of load threads, at one delay.
    Loads,
}

impl RowAxis {
    /// The axis of `config`'s rows.
    pub(crate) fn of(config: &SweepConfig) -> Self {
        if config.sweeps_intervals() {
            RowAxis::Interval
        } else if config.sweeps_loads() {
            RowAxis::Loads
        } else {
            RowAxis::Delay
        }
    }

    /// The first column's name in a plain table and in CSV-like text.
    pub(crate) fn column(self) -> &'static str {
        match self {
            RowAxis::Delay => "delay_s",
            RowAxis::Interval => "interval_ms",
            RowAxis::Loads => "loads",
        }
    }

    /// The axis in words, with its unit.
    pub(crate) fn title(self) -> &'static str {
        match self {
            RowAxis::Delay => "delay (s)",
            RowAxis::Interval => "switch interval (ms)",
            RowAxis::Loads => "load threads",
        }
    }
}

/// One row of the grid: where it sits on its axis, and the run settings it shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Row {
    /// The delay in seconds or the interval in milliseconds, as the axis says.
    pub x: f64,
    /// The runs' delay.
    pub delay_s: f64,
    /// The runs' switch interval.
    pub interval: Duration,
    /// The runs' number of load threads (of the scenarios with a load).
    pub loads: u8,
}

impl Row {
    /// The result of `scenario` on this row, if it was run.
    pub(crate) fn get(self, report: &SweepReport, scenario: Scenario) -> Option<&RunResult> {
        report.find(scenario, self.delay_s, self.interval, self.loads)
    }
}

/// The configured rows, in order.
pub(crate) fn rows(config: &SweepConfig) -> Vec<Row> {
    let axis = RowAxis::of(config);
    let mut out = Vec::new();
    for &loads in &config.loads {
        for &interval in &config.intervals {
            for d in &config.delays {
                let delay_s = d.as_secs_f64();
                let x = match axis {
                    RowAxis::Delay => delay_s,
                    RowAxis::Interval => interval.as_secs_f64() * 1e3,
                    RowAxis::Loads => f64::from(loads),
                };
                out.push(Row {
                    x,
                    delay_s,
                    interval,
                    loads,
                });
            }
        }
    }
    out
}

/// One row per configured delay (or interval, or load count): its label, then each scenario's
/// cell (or [`MISSING`]).
pub(crate) fn count_rows(report: &SweepReport) -> Vec<Vec<String>> {
    let config = &report.config;
    rows(config)
        .into_iter()
        .map(|row| {
            let mut cells = Vec::with_capacity(config.scenarios.len() + 1);
            cells.push(delay_label(row.x));
            cells.extend(config.scenarios.iter().map(|&sc| {
                row.get(report, sc)
                    .map_or_else(|| MISSING.to_string(), |r| cell(config.victim, r))
            }));
            cells
        })
        .collect()
}

/// What a run's cell shows: the count with thousands separators; for the latency victim the
/// mean wait and its 99th percentile (`5.12 ms (p99 6.01)`), for the server its requests per
/// second (`8,963/s`).
pub(crate) fn cell(victim: Victim, r: &RunResult) -> String {
    match (victim, &r.latency_ms) {
        (Victim::Latency { .. }, Some(l)) if l.n > 0 => format!(
            "{} ms (p99 {})",
            trim_float(round3(l.mean_ms), 3),
            trim_float(round3(l.p99_ms), 3)
        ),
        (Victim::Latency { .. }, _) => "no request".into(),
        (Victim::Server, _) => {
            format!(
                "{}/s",
                with_thousands_separators(r.rate_per_s.round() as u64)
            )
        }
        _ => with_thousands_separators(r.count),
    }
}

/// Three significant digits at most, for milliseconds that span 0.01 to 10,000.
fn round3(ms: f64) -> f64 {
    if ms <= 0.0 || !ms.is_finite() {
        return ms;
    }
    let digits = 2 - ms.log10().floor() as i32;
    let f = 10f64.powi(digits.max(0));
    (ms * f).round() / f
}

/// Test fixtures shared by the exporters' tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::scenario::{RunResult, Scenario, SweepConfig, SweepReport};
    use std::time::Duration;

    /// A result with the fields the exporters show; the rest empty.
    pub(crate) fn result(scenario: Scenario, delay_s: f64, count: u64) -> RunResult {
        RunResult {
            scenario,
            delay_s,
            count,
            elapsed_s: delay_s + 0.001,
            stop_lag_s: 0.001,
            rate_per_s: count as f64 / (delay_s + 0.001),
            switches: 0,
            switch_interval_ms: 5.0,
            workers: vec![],
            load: None,
            loads: if scenario.has_load() { 1 } else { 0 },
            latency_ms: None,
        }
    }

    /// A sweep of `scenarios` at `delays_s`, with `results`.
    pub(crate) fn report(
        scenarios: &[Scenario],
        delays_s: &[f64],
        results: Vec<RunResult>,
    ) -> SweepReport {
        SweepReport {
            config: SweepConfig {
                delays: delays_s
                    .iter()
                    .map(|&d| Duration::from_secs_f64(d))
                    .collect(),
                scenarios: scenarios.to_vec(),
                ..SweepConfig::default()
            },
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{report, result};
    use super::*;
    use crate::scenario::Scenario::{Thread, ThreadLoad};

    #[test]
    fn rows_follow_the_configured_order_and_mark_missing_cells() {
        let r = report(
            &[ThreadLoad, Thread],
            &[1.0, 0.5],
            vec![result(Thread, 0.5, 1_234), result(ThreadLoad, 1.0, 7)],
        );
        assert_eq!(
            count_rows(&r),
            [["1", "7", "-"], ["0.5", "-", "1,234"]].map(|row| row.map(String::from).to_vec())
        );
    }
}
