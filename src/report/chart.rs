//! A chart in pixels: series of points and the two axes, fitted to a frame. The sweep's chart
//! (final count against delay, or against the switch interval, one series per scenario) is the
//! `--plot` file ([`super::svg_chart`]) and the web page's chart, which differ only in size, tick
//! density and colours; the scaling test's (speedup against workers, one series per mode) is
//! `gil-lab scale --plot`.

use super::axis::NiceAxis;
use super::grid::rows;
use crate::scenario::{Scenario, SweepReport};

/// The plot area, in pixels (y grows downwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    /// Where the horizontal axis begins.
    pub left: f64,
    /// Where it ends.
    pub right: f64,
    /// The top of the vertical axis.
    pub top: f64,
    /// Its bottom, where the horizontal axis runs.
    pub bottom: f64,
}

/// How one axis is fitted to its data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AxisRule {
    /// At most this many steps.
    pub max_ticks: usize,
    /// Steps of at least one once the data reaches one (whole seconds, whole counts).
    pub whole_units: bool,
    /// End on the first tick after the data rather than at the data's own end.
    pub round_end: bool,
    /// The axis reaches at least this far.
    pub least: f64,
    /// How far it reaches while there is no point at all.
    pub empty: f64,
}

impl AxisRule {
    /// About five ticks, ending on a tick: the `--plot` file's horizontal axis.
    pub const FILE_X: AxisRule = AxisRule {
        max_ticks: 5,
        whole_units: false,
        round_end: true,
        least: 0.0,
        empty: 0.0,
    };

    /// The same in whole counts: the `--plot` file's vertical axis.
    pub const FILE_Y: AxisRule = AxisRule {
        whole_units: true,
        ..AxisRule::FILE_X
    };

    fn fit(&self, max: f64, no_points: bool) -> NiceAxis {
        let max = if no_points {
            self.empty
        } else {
            max.max(self.least)
        };
        NiceAxis::fit(max, self.max_ticks, self.whole_units, self.round_end)
    }
}

/// One series of a chart: its key and its points, left to right.
pub type Series<K> = (K, Vec<(f64, f64)>);

/// A chart laid out: by default a sweep's, one series per scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart<K = Scenario> {
    /// The plot area.
    pub frame: Frame,
    /// The horizontal axis: for a sweep, in seconds of delay or milliseconds of interval.
    pub x: NiceAxis,
    /// The vertical axis: for a sweep, in counts.
    pub y: NiceAxis,
    /// Every series in order (for a sweep, every configured scenario in column order), with its
    /// points in pixels, left to right (none yet for a scenario not run).
    pub series: Vec<Series<K>>,
}

impl<K> Chart<K> {
    /// Lays out `values` (each series' points in data units, left to right) in `frame`: the
    /// horizontal axis fitted by `x` to reach `max_x`, the vertical one by `y` to the largest
    /// value.
    pub fn fit(values: Vec<Series<K>>, max_x: f64, frame: Frame, x: AxisRule, y: AxisRule) -> Self {
        let max_y = values
            .iter()
            .flat_map(|(_, p)| p.iter().map(|&(_, v)| v))
            .reduce(f64::max);
        let mut chart = Chart {
            frame,
            x: x.fit(max_x, false),
            y: y.fit(max_y.unwrap_or(0.0), max_y.is_none()),
            series: Vec::new(),
        };
        chart.series = values
            .into_iter()
            .map(|(key, points)| {
                let px = points
                    .iter()
                    .map(|&(v, c)| (chart.px(v), chart.py(c)))
                    .collect();
                (key, px)
            })
            .collect();
        chart
    }

    /// The pixel of a value on the horizontal axis.
    pub fn px(&self, v: f64) -> f64 {
        let f = &self.frame;
        f.left + v / self.x.max * (f.right - f.left)
    }

    /// The pixel of a value on the vertical axis.
    pub fn py(&self, count: f64) -> f64 {
        let f = &self.frame;
        f.bottom - count / self.y.max * (f.bottom - f.top)
    }

    /// Whether no point is drawn yet.
    pub fn is_empty(&self) -> bool {
        self.series.iter().all(|(_, p)| p.is_empty())
    }
}

impl Chart {
    /// Lays out `report` in `frame`, its axes fitted by `x` and `y`.
    pub fn new(report: &SweepReport, frame: Frame, x: AxisRule, y: AxisRule) -> Self {
        let config = &report.config;
        let grid = rows(config);
        let values: Vec<(Scenario, Vec<(f64, u64)>)> = config
            .scenarios
            .iter()
            .map(|&sc| {
                let mut points: Vec<(f64, u64)> = grid
                    .iter()
                    .filter_map(|row| row.get(report, sc).map(|r| (row.x, r.count)))
                    .collect();
                // By x, stable (a few points).
                crate::small_sort::insertion_sort_by(&mut points, |a, b| a.0.total_cmp(&b.0));
                points.dedup_by(|a, b| a.0 == b.0);
                (sc, points)
            })
            .collect();
        let max_x = grid.iter().map(|r| r.x).fold(0.0, f64::max);
        let values = values
            .into_iter()
            .map(|(sc, points)| (sc, points.into_iter().map(|(v, c)| (v, c as f64)).collect()))
            .collect();
        Chart::fit(values, max_x, frame, x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::fixtures::{report, result};
    use crate::scenario::Scenario::{Thread, ThreadLoad};

    const FRAME: Frame = Frame {
        left: 0.0,
        right: 100.0,
        top: 0.0,
        bottom: 100.0,
    };

    #[test]
    fn smoke_points_sit_on_round_axes_in_pixels() {
        let r = report(
            &[Thread, ThreadLoad],
            &[0.0, 1.0, 2.0],
            vec![
                result(ThreadLoad, 2.0, 10),
                result(Thread, 2.0, 900),
                result(Thread, 0.0, 0),
            ],
        );
        let c = Chart::new(&r, FRAME, AxisRule::FILE_X, AxisRule::FILE_Y);
        assert_eq!(c.x.ticks, [0.0, 0.5, 1.0, 1.5, 2.0]);
        assert_eq!((c.y.max, c.y.step), (1000.0, 200.0));
        assert_eq!(c.series[0], (Thread, vec![(0.0, 100.0), (100.0, 10.0)]));
        assert_eq!(c.series[1], (ThreadLoad, vec![(100.0, 99.0)]));
        assert!(!c.is_empty());
    }

    #[test]
    fn before_any_point_the_count_axis_reaches_its_empty_extent() {
        let r = report(&[Thread], &[0.0, 9.0], vec![]);
        let x = AxisRule {
            max_ticks: 8,
            whole_units: true,
            round_end: false,
            ..AxisRule::FILE_X
        };
        let y = AxisRule {
            least: 100.0,
            empty: 1e8,
            ..AxisRule::FILE_Y
        };
        let c = Chart::new(&r, FRAME, x, y);
        assert!(c.is_empty());
        assert_eq!(c.y.max, 1e8);
        // Delays to 9 s in whole seconds, the axis ending at 9 s between two ticks.
        assert_eq!((c.x.max, c.x.step), (9.0, 2.0));
        let files = Chart::new(&r, FRAME, AxisRule::FILE_X, AxisRule::FILE_Y);
        assert_eq!((files.x.max, files.y.max), (10.0, 1.0));
    }
}
