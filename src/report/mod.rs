//! Exporters: one per format, each turning a [`SweepReport`] into bytes.
//!
//! Shared by the CLI (`--format`, `--output`, `--plot`) and the web page (downloads), so both
//! produce the same files.

use crate::scenario::SweepReport;

/// Turns a finished sweep into the bytes of one file format.
pub trait Exporter {
    /// The whole file.
    fn serialize(&self, report: &SweepReport) -> Vec<u8>;
}

/// The output formats of `gil-lab sweep --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The seed's table: one row per delay, one column per scenario.
    Table,
    /// The JSON contract of DESIGN.md section 5 (`config` and `results`).
    Json,
    /// One line per scenario and delay.
    Csv,
    /// The seed's table as a Markdown table.
    Markdown,
}

impl Format {
    /// The exporter for this format.
    pub fn exporter(self) -> Box<dyn Exporter> {
        todo!("report exporters")
    }
}

/// The seed's chart as a standalone SVG: count against delay, one line per scenario.
pub fn svg_chart(_report: &SweepReport) -> String {
    todo!("svg chart")
}
