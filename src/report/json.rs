//! The JSON export: top-level `config` and `results`, the same for the CLI and the web page.

use super::Exporter;
use crate::scenario::SweepReport;

/// The report, pretty-printed, with a trailing newline.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn serialize(&self, report: &SweepReport) -> Vec<u8> {
        // Only string-keyed structs, sequences and numbers: serde_json cannot fail on them
        // (a non-finite float becomes `null`).
        let mut out = serde_json::to_vec_pretty(report).expect("a SweepReport always serialises");
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::fixtures::{report, result};
    use crate::scenario::RunResult;
    use crate::scenario::Scenario::{Thread, ThreadLoad};

    #[test]
    fn contract_fields_pretty_printed_with_trailing_newline() {
        let r = report(
            &[Thread, ThreadLoad],
            &[0.5],
            vec![RunResult {
                elapsed_s: 0.5,
                stop_lag_s: 0.0,
                rate_per_s: 2.0,
                ..result(Thread, 0.5, 1)
            }],
        );
        let text = String::from_utf8(JsonExporter.serialize(&r)).expect("JSON is UTF-8");
        assert_eq!(
            text,
            r#"{
  "config": {
    "load": "bignum",
    "victim": "incrementer",
    "switch_interval_ms": 5.0,
    "switch_intervals_ms": [
      5.0
    ],
    "delays": [
      0.5
    ],
    "scenarios": [
      "thread",
      "thread+load"
    ]
  },
  "results": [
    {
      "scenario": "thread",
      "delay_s": 0.5,
      "count": 1,
      "elapsed_s": 0.5,
      "stop_lag_s": 0.0,
      "rate_per_s": 2.0,
      "switches": 0,
      "switch_interval_ms": 5.0,
      "workers": [],
      "load": null
    }
  ]
}
"#
        );
    }

    #[test]
    fn non_finite_numbers_become_null_instead_of_failing() {
        let r = report(
            &[Thread],
            &[0.0],
            vec![RunResult {
                rate_per_s: f64::INFINITY,
                ..result(Thread, 0.0, 0)
            }],
        );
        let value: serde_json::Value =
            serde_json::from_slice(&JsonExporter.serialize(&r)).expect("valid JSON");
        assert!(value["results"][0]["rate_per_s"].is_null());
    }
}
