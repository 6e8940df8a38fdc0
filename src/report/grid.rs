//! The seed's grid: one row per delay and one column per scenario, both in the sweep's order.
//!
//! Shared by the table and Markdown exporters so both show the same cells. The layout comes from
//! the configuration, not the results, so a sweep in progress keeps its shape and shows its
//! missing cells as [`MISSING`].

use super::numbers::{thousands, trim_float};
use crate::scenario::SweepReport;

/// What a cell with no result yet shows.
pub(crate) const MISSING: &str = "-";

/// A delay as a label: `0`, `2`, `0.5`.
pub(crate) fn delay_label(delay_s: f64) -> String {
    trim_float(delay_s, 6)
}

/// One row per configured delay: the delay's label, then each scenario's count with thousands
/// separators (or [`MISSING`]).
pub(crate) fn count_rows(report: &SweepReport) -> Vec<Vec<String>> {
    let config = &report.config;
    config
        .delays
        .iter()
        .map(|delay| {
            let delay_s = delay.as_secs_f64();
            let mut row = Vec::with_capacity(config.scenarios.len() + 1);
            row.push(delay_label(delay_s));
            row.extend(config.scenarios.iter().map(|&sc| {
                report
                    .get(sc, delay_s)
                    .map_or_else(|| MISSING.to_string(), |r| thousands(r.count))
            }));
            row
        })
        .collect()
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
            workers: vec![],
            load: None,
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
