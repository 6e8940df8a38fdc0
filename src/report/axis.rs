//! Round axes: the step, the end and the ticks of every axis the project draws (the sweep's chart
//! on the page and in `--plot` files, the timeline's time axis on the canvas and in SVG files).

use super::markup::nice_step;

/// An axis from zero, with ticks at a round step (1, 2 or 5 times a power of ten).
#[derive(Clone, Debug, PartialEq)]
pub struct NiceAxis {
    /// The value at the axis's far end: the round number after the data, or the data's own end.
    pub max: f64,
    /// The distance between two ticks.
    pub step: f64,
    /// Tick values from zero to `max`.
    pub ticks: Vec<f64>,
}

impl NiceAxis {
    /// Covers `0..=max` with about five ticks, ending on a tick; `integer` keeps steps at 1 or
    /// more (counts). An empty or all-zero range gets the axis `0..=1`, so nothing divides by
    /// zero.
    pub fn new(max: f64, integer: bool) -> Self {
        Self::fit(max, 5, integer, true)
    }

    /// Covers `0..=max` with at most `max_ticks` steps; `whole_units` keeps them at 1 or more
    /// once `max` reaches 1. With `round_end` the axis ends on the first tick at or after `max`;
    /// without, at `max` itself (the last tick may fall short of it).
    pub fn fit(max: f64, max_ticks: usize, whole_units: bool, round_end: bool) -> Self {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let min_step = if whole_units && max >= 1.0 { 1.0 } else { 0.0 };
        let step = nice_step(max, max_ticks).max(min_step);
        let steps = if round_end {
            ((max / step) - 1e-9).ceil().max(1.0)
        } else {
            ((max + 1e-9) / step).floor()
        } as u32;
        Self {
            max: if round_end {
                f64::from(steps) * step
            } else {
                max
            },
            step,
            ticks: (0..=steps).map(|i| f64::from(i) * step).collect(),
        }
    }
}

/// The ticks at round steps inside `[start, end]`, at most about `max_ticks` of them, and the
/// step: for a window of an axis that need not begin at zero (a zoomed timeline).
pub fn window_ticks(start: f64, end: f64, max_ticks: usize) -> (f64, Vec<f64>) {
    let step = nice_step((end - start).max(1e-9), max_ticks);
    let mut ticks = Vec::new();
    let mut k = (start / step).ceil();
    while k * step <= end + step * 1e-6 {
        ticks.push(k * step);
        k += 1.0;
    }
    (step, ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_axis_ends_on_round_numbers() {
        let axis = NiceAxis::new(9.0, false);
        assert_eq!(axis.max, 10.0);
        assert_eq!(axis.ticks, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let counts = NiceAxis::new(1.23e9, true);
        assert_eq!(counts.ticks, [0.0, 0.5e9, 1e9, 1.5e9]);
        // Integer axes never get fractional steps; empty ranges get 0..1.
        assert_eq!(NiceAxis::new(3.0, true).ticks, [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(NiceAxis::new(0.0, true).ticks, [0.0, 1.0]);
        assert_eq!(NiceAxis::new(f64::NAN, false).max, 1.0);
    }

    #[test]
    fn an_axis_may_end_at_its_data_between_two_ticks() {
        let axis = NiceAxis::fit(9.0, 8, true, false);
        assert_eq!((axis.max, axis.step), (9.0, 2.0));
        assert_eq!(axis.ticks, [0.0, 2.0, 4.0, 6.0, 8.0]);
        // The data's end is a tick: it is drawn.
        assert_eq!(NiceAxis::fit(4.0, 8, true, false).ticks.last(), Some(&4.0));
    }

    #[test]
    fn window_ticks_start_at_the_first_round_value_inside() {
        let (step, ticks) = window_ticks(0.013, 0.052, 4);
        assert_eq!(step, 0.01);
        assert_eq!(ticks.len(), 4);
        assert!((ticks[0] - 0.02).abs() < 1e-12 && (ticks[3] - 0.05).abs() < 1e-12);
    }
}
