//! Exporters: one per format, each turning a [`SweepReport`] into bytes; and two for one run's
//! timeline ([`crate::timeline`]): a Chrome trace and a static SVG of its lanes.
//!
//! Shared by the CLI (`--format`, `--output`, `--plot`) and the web page (downloads), so both
//! produce the same files. Each format lives in a file of its own; this module only names the
//! formats and dispatches to them.

pub mod axis;
pub mod chart;
mod csv;
pub(crate) mod grid;
mod json;
pub mod lanes;
mod markdown;
pub mod markup;
pub mod numbers;
mod scale;
mod svg;
mod table;
mod timeline_svg;
mod trace;
mod verdict;

pub use self::csv::CsvExporter;
pub use self::json::{run_json, Json, JsonExporter};
pub use self::markdown::MarkdownExporter;
pub use self::scale::{scale_export, scale_svg};
pub use self::svg::svg_chart;
pub use self::table::TableExporter;
pub use self::timeline_svg::svg_timeline;
pub use self::trace::chrome_trace;
pub use self::verdict::{verdict, verdict_cases, Case};

use crate::scenario::{ConfigError, SweepReport};
use std::fmt;
use std::str::FromStr;

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
    /// The JSON contract shared with the web page's downloads (`config` and `results`).
    Json,
    /// One line per scenario and delay.
    Csv,
    /// The seed's table as a Markdown table.
    Markdown,
}

impl Format {
    /// Every format, in the order the CLI's help lists them.
    pub const ALL: [Format; 4] = [Format::Table, Format::Json, Format::Csv, Format::Markdown];

    /// The name `--format` accepts.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
        }
    }

    /// The usual file extension, without the dot (e.g. for a download's file name).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "md",
        }
    }

    /// The exporter for this format.
    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            Format::Table => Box::new(TableExporter),
            Format::Json => Box::new(JsonExporter),
            Format::Csv => Box::new(CsvExporter),
            Format::Markdown => Box::new(MarkdownExporter),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ConfigError;

    /// A format name, ignoring case and surrounding spaces as scenario names do.
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let s = s.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                ConfigError(format!(
                    "unknown format '{s}'; use one of: {}",
                    Format::ALL.map(Format::name).join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::fixtures::{report, result};
    use crate::scenario::Scenario::Thread;

    #[test]
    fn every_format_name_parses_back() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!(" Markdown ".parse::<Format>(), Ok(Format::Markdown));
    }

    #[test]
    fn unknown_format_error_lists_the_valid_names() {
        assert_eq!(
            "xml".parse::<Format>(),
            Err(ConfigError(
                "unknown format 'xml'; use one of: table, json, csv, markdown".into()
            ))
        );
    }

    #[test]
    fn extensions_match_the_formats() {
        assert_eq!(
            Format::ALL.map(Format::extension),
            ["txt", "json", "csv", "md"]
        );
    }

    #[test]
    fn every_exporter_handles_an_empty_and_a_partial_report() {
        let empty = report(&[], &[], vec![]);
        let partial = report(&[Thread], &[0.0, 1.0], vec![result(Thread, 1.0, 3)]);
        for f in Format::ALL {
            for r in [&empty, &partial] {
                let bytes = f.exporter().serialize(r);
                assert!(bytes.ends_with(b"\n"), "{f} output ends with a newline");
            }
        }
        assert!(svg_chart(&empty).ends_with("</svg>\n"));
    }
}
