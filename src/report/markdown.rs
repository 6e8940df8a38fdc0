//! The seed's table as a GitHub Markdown table.

use super::grid::{count_rows, RowAxis};
use super::Exporter;
use crate::scenario::SweepReport;

/// `| delay (s) | thread | ... |`, every column right-aligned.
#[derive(Clone, Copy, Debug, Default)]
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn serialize(&self, report: &SweepReport) -> Vec<u8> {
        render(report).into_bytes()
    }
}

fn render(report: &SweepReport) -> String {
    let header: Vec<&str> = std::iter::once(RowAxis::of(&report.config).title())
        .chain(report.config.scenarios.iter().map(|sc| sc.name()))
        .collect();
    let mut out = line(&header);
    out.push_str(&line(&vec!["---:"; header.len()]));
    for row in count_rows(report) {
        out.push_str(&line(&row));
    }
    out
}

pub(super) fn line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut s = String::from("|");
    for cell in cells {
        s.push(' ');
        s.push_str(cell.as_ref());
        s.push_str(" |");
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::fixtures::{report, result};
    use crate::scenario::Scenario::{Process, Thread, ThreadLoad};

    fn markdown(report: &SweepReport) -> String {
        String::from_utf8(MarkdownExporter.serialize(report)).expect("Markdown is UTF-8")
    }

    #[test]
    fn seed_table_as_right_aligned_markdown_with_thousands_separators() {
        let r = report(
            &[Thread, Process, ThreadLoad],
            &[0.0, 2.0],
            vec![
                result(Thread, 0.0, 0),
                result(Process, 0.0, 3),
                result(ThreadLoad, 0.0, 0),
                result(Thread, 2.0, 912_345_678),
                result(Process, 2.0, 1_001_234_567),
                result(ThreadLoad, 2.0, 9_876),
            ],
        );
        assert_eq!(
            markdown(&r),
            "\
| delay (s) | thread | process | thread+load |
| ---: | ---: | ---: | ---: |
| 0 | 0 | 3 | 0 |
| 2 | 912,345,678 | 1,001,234,567 | 9,876 |
"
        );
    }

    #[test]
    fn missing_cells_are_dashes_so_the_table_keeps_its_columns() {
        let r = report(
            &[Thread, ThreadLoad],
            &[1.0],
            vec![result(ThreadLoad, 1.0, 5)],
        );
        assert_eq!(
            markdown(&r),
            "| delay (s) | thread | thread+load |\n| ---: | ---: | ---: |\n| 1 | - | 5 |\n"
        );
    }

    #[test]
    fn empty_sweep_is_still_a_valid_table_header() {
        assert_eq!(
            markdown(&report(&[], &[], vec![])),
            "| delay (s) |\n| ---: |\n"
        );
    }
}
