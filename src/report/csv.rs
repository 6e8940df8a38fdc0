//! One CSV line per run, in run order, for spreadsheets and plotting scripts.

use super::numbers::trim_float;
use super::Exporter;
use crate::scenario::SweepReport;
use std::fmt::Write;

/// `scenario,delay_s,count,elapsed_s,stop_lag_s,rate_per_s,switches,switch_interval_ms,loads,`
/// `latency_mean_ms,latency_p50_ms,latency_p99_ms` (the latency fields empty but for the latency
/// and server victims).
#[derive(Clone, Copy, Debug, Default)]
pub struct CsvExporter;

/// The header line, without its newline.
pub const HEADER: &str = "scenario,delay_s,count,elapsed_s,stop_lag_s,rate_per_s,switches,\
     switch_interval_ms,loads,latency_mean_ms,latency_p50_ms,latency_p99_ms";

impl Exporter for CsvExporter {
    fn serialize(&self, report: &SweepReport) -> Vec<u8> {
        let mut out = format!("{HEADER}\n");
        for r in &report.results {
            // Scenario names hold no commas, quotes or spaces, so no field needs quoting.
            let l = r.latency_ms;
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{}",
                r.scenario,
                float(r.delay_s),
                r.count,
                float(r.elapsed_s),
                float(r.stop_lag_s),
                float(r.rate_per_s),
                r.switches,
                float(r.switch_interval_ms),
                r.loads,
                l.map_or(String::new(), |l| float(l.mean_ms)),
                l.map_or(String::new(), |l| float(l.p50_ms)),
                l.map_or(String::new(), |l| float(l.p99_ms)),
            );
        }
        out.into_bytes()
    }
}

/// At most 6 decimals; a non-finite value (which JSON writes as `null`) is an empty field.
fn float(x: f64) -> String {
    if x.is_finite() {
        trim_float(x, 6)
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::fixtures::{report, result};
    use crate::scenario::RunResult;
    use crate::scenario::Scenario::{FreeThreadLoad, Process, Thread};

    fn csv(report: &SweepReport) -> String {
        String::from_utf8(CsvExporter.serialize(report)).expect("CSV is UTF-8")
    }

    #[test]
    fn one_line_per_result_in_run_order_with_at_most_six_decimals() {
        let results = vec![
            RunResult {
                elapsed_s: 1.000_25,
                stop_lag_s: 0.000_012_345_6,
                rate_per_s: 123_456_789.123_456_78,
                switches: 42,
                ..result(Process, 1.0, 123_487_654)
            },
            RunResult {
                elapsed_s: 0.5,
                stop_lag_s: 0.0,
                rate_per_s: 20.0,
                loads: 2,
                latency_ms: Some(crate::workload::LatencyStats {
                    n: 3,
                    mean_ms: 5.125,
                    p50_ms: 5.0,
                    p90_ms: 6.0,
                    p99_ms: 7.000_000_4,
                    max_ms: 8.0,
                }),
                ..result(FreeThreadLoad, 0.5, 10)
            },
        ];
        assert_eq!(
            csv(&report(&[Thread], &[1.0], results)),
            "\
scenario,delay_s,count,elapsed_s,stop_lag_s,rate_per_s,switches,switch_interval_ms,loads,latency_mean_ms,latency_p50_ms,latency_p99_ms
process,1,123487654,1.00025,0.000012,123456789.123457,42,5,0,,,
free-thread+load,0.5,10,0.5,0,20,0,5,2,5.125,5,7
"
        );
    }

    #[test]
    fn non_finite_rate_is_an_empty_field_not_nan() {
        let r = RunResult {
            elapsed_s: 0.0,
            rate_per_s: f64::NAN,
            ..result(Thread, 0.0, 0)
        };
        assert_eq!(
            csv(&report(&[Thread], &[0.0], vec![r])),
            format!("{HEADER}\nthread,0,0,0,0.001,,0,5,0,,,\n")
        );
    }

    #[test]
    fn empty_sweep_is_the_header_alone() {
        assert_eq!(csv(&report(&[], &[], vec![])), format!("{HEADER}\n"));
    }
}
