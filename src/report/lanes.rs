//! One run's lanes laid out in pixels, for a window of time and a width: the rectangles, the
//! operation ticks, the controller's two moments and the time axis. The page's canvas and the SVG
//! timeline only paint this, and the canvas's pointer reads its spans back from it, so what is
//! pointed at is what was drawn.
//!
//! Each pixel column takes the first span that reaches it and neighbours of one state join, so a
//! lane that switched thousands of times costs a few rectangles per pixel, not one per switch.

use super::axis::window_ticks;
use crate::gil::WorkerId;
use crate::timeline::{Lane, LaneState, Span, Timeline};
use std::ops::Range;

/// The height of a lane's label line, above its bar.
pub const LANE_LABEL: f64 = 16.0;
/// The height of a lane's bar.
pub const LANE_BAR: f64 = 22.0;
/// The narrowest mark drawn, in pixels: a span shorter than this still shows.
pub const MIN_WIDTH: f64 = 0.75;
/// Operation starts closer than this (pixels) are not told apart.
pub const OP_SPACING: f64 = 3.0;
/// The flag's clearing is marked only this far (pixels) or more after the wake-up.
pub const MARKER_GAP: f64 = 2.0;

/// A range of the run's clock mapped onto a range of horizontal pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    /// The time at the left edge, in seconds.
    pub start_s: f64,
    /// The time at the right edge, in seconds.
    pub end_s: f64,
    /// The left edge, in pixels.
    pub left: f64,
    /// The width, in pixels.
    pub width: f64,
}

impl Scale {
    /// The pixel of a time in microseconds.
    pub fn x(&self, t_us: u64) -> f64 {
        self.x_s(t_us as f64 / 1e6)
    }

    /// The pixel of a time in seconds.
    pub fn x_s(&self, t_s: f64) -> f64 {
        self.left + (t_s - self.start_s) / (self.end_s - self.start_s).max(1e-9) * self.width
    }

    /// The time in seconds at pixel `x`.
    pub fn t_s(&self, x: f64) -> f64 {
        self.start_s + (x - self.left) / self.width.max(1.0) * (self.end_s - self.start_s)
    }

    /// Where `x` lies across the width, from 0 (left edge) to 1 (right edge), clamped.
    pub fn fraction(&self, x: f64) -> f64 {
        ((x - self.left) / self.width.max(1.0)).clamp(0.0, 1.0)
    }

    /// The right edge, in pixels.
    pub fn right(&self) -> f64 {
        self.left + self.width
    }

    /// The time axis: at most about `max_ticks` round times in the window, as (seconds, pixel),
    /// and the step between them.
    pub fn ticks(&self, max_ticks: usize) -> (f64, Vec<(f64, f64)>) {
        let (step, ticks) = window_ticks(self.start_s, self.end_s, max_ticks);
        (step, ticks.into_iter().map(|t| (t, self.x_s(t))).collect())
    }

    /// The pixels a span covers up to `clip_us`, within the window: to outline a picked span.
    pub fn span(&self, span: &Span, clip_us: u64) -> (f64, f64) {
        (
            self.x(span.start_us).max(self.left),
            self.x(span.end_us.min(clip_us)).min(self.right()),
        )
    }
}

/// The colours of a lane's bars, in whatever form a painter holds them (CSS values read from the
/// page, constants in a file).
#[derive(Clone, Debug, Default)]
pub struct LaneColours<T> {
    /// Holding the lock, running.
    pub hold: T,
    /// Holding it, asked to drop.
    pub ask: T,
    /// Waiting for it.
    pub wait: T,
    /// Running with no lock at all.
    pub no_lock: T,
    /// Running C code with the lock released.
    pub runs_released: T,
}

impl<T> LaneColours<T> {
    /// The colour of a bar in `state`; none for the released track.
    pub fn of(&self, state: LaneState) -> Option<&T> {
        Some(match state {
            LaneState::Holding => &self.hold,
            LaneState::AskedToDrop => &self.ask,
            LaneState::Waiting => &self.wait,
            LaneState::NoLock => &self.no_lock,
            LaneState::RunsReleased => &self.runs_released,
            LaneState::Released => return None,
        })
    }
}

/// A stretch of a lane in one state, in pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Rect {
    /// What the lane did: every state but [`LaneState::Released`] is painted as a bar; a released
    /// stretch shows the track and is kept so the pointer finds its span.
    pub state: LaneState,
    /// The left edge.
    pub x0: f64,
    /// The right edge: at least [`MIN_WIDTH`] after `x0` for a bar.
    pub x1: f64,
    /// The lane's spans it stands for (the first and last of them are in `state`).
    pub spans: Range<usize>,
}

impl Rect {
    /// The bar's top and height, for a lane whose bar begins at `bar_top`: a wait is half as
    /// high as the lock held, centred on the track.
    pub fn bar(&self, bar_top: f64) -> (f64, f64) {
        let h = match self.state {
            LaneState::Waiting => LANE_BAR * 0.5,
            _ => LANE_BAR,
        };
        (bar_top + (LANE_BAR - h) / 2.0, h)
    }
}

/// One lane in pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneLayout {
    /// Whose lane.
    pub worker: WorkerId,
    /// Its stretches in time order, painted or not (see [`Rect::state`]).
    pub rects: Vec<Rect>,
    /// The track ("released" unless a bar says otherwise): from the left edge to here, the
    /// latest moment drawn or the right edge.
    pub track_end: f64,
    /// Past the lane's cap on kept spans: from here to `track_end` the lane is not known.
    pub capped_from: Option<f64>,
    /// Where operations began, no two closer than [`OP_SPACING`].
    pub ops: Vec<f64>,
}

impl LaneLayout {
    /// The painted stretches: every rectangle but the released ones.
    pub fn bars(&self) -> impl Iterator<Item = &Rect> {
        self.rects.iter().filter(|r| r.state != LaneState::Released)
    }

    /// The index in `lane` (the lane laid out) of the span drawn at pixel `x`: the rectangle
    /// there, and in it the last span of its state that began at or before `x`'s time.
    pub fn span_at(&self, lane: &Lane, scale: &Scale, x: f64) -> Option<usize> {
        let i = self.rects.partition_point(|r| r.x0 <= x).checked_sub(1)?;
        let rect = &self.rects[i];
        if x > rect.x1 {
            return None;
        }
        let t_us = (scale.t_s(x).max(0.0) * 1e6) as u64;
        let spans = lane.spans.get(rect.spans.clone())?;
        let last = spans.partition_point(|s| s.start_us <= t_us).max(1) - 1;
        let k = (0..=last).rev().find(|&k| spans[k].state == rect.state)?;
        Some(rect.spans.start + k)
    }
}

/// One run in pixels: its three lanes and the controller's two moments.
#[derive(Clone, Debug, PartialEq)]
pub struct RunLayout {
    /// Controller, incrementer, load, as the timeline has them.
    pub lanes: Vec<LaneLayout>,
    /// Where the controller wakes from its sleep (expected there until it does), if in view.
    pub woke: Option<f64>,
    /// Where it cleared the running flag, if in view and at least [`MARKER_GAP`] after `woke`.
    pub cleared: Option<f64>,
}

impl RunLayout {
    /// Lays out `timeline` in the window of `scale`, drawing nothing after `clip_us` (a pause,
    /// or the run's clock).
    pub fn new(timeline: &Timeline, scale: &Scale, clip_us: u64) -> Self {
        let window = Window::new(scale, clip_us);
        let lanes = timeline
            .lanes
            .iter()
            .map(|lane| window.lane(lane))
            .collect();
        let woke_us = timeline
            .woke_us
            .or_else(|| timeline.delay_us.map(|d| timeline.go_us + d));
        let woke = woke_us.filter(|&t| window.shows(t)).map(|t| scale.x(t));
        let cleared = timeline
            .flag_cleared_us
            .filter(|&t| window.shows(t))
            .map(|t| scale.x(t))
            .zip(woke)
            .filter(|&(x, w)| x - w >= MARKER_GAP)
            .map(|(x, _)| x);
        Self {
            lanes,
            woke,
            cleared,
        }
    }
}

/// The stretch of time laid out, in microseconds.
struct Window<'a> {
    scale: &'a Scale,
    start_us: u64,
    end_us: u64,
    clip_us: u64,
}

impl<'a> Window<'a> {
    fn new(scale: &'a Scale, clip_us: u64) -> Self {
        Self {
            scale,
            start_us: (scale.start_s.max(0.0) * 1e6) as u64,
            end_us: ((scale.end_s * 1e6) as u64).min(clip_us),
            clip_us,
        }
    }

    /// Whether a moment is drawn: in the window, up to the clip.
    fn shows(&self, t_us: u64) -> bool {
        let x = self.scale.x(t_us);
        t_us <= self.end_us && x >= self.scale.left && x <= self.scale.right()
    }

    fn lane(&self, lane: &Lane) -> LaneLayout {
        let (left, right) = (self.scale.left, self.scale.right());
        let x = |t_us: u64| self.scale.x(t_us);
        let track_end = x(self.clip_us).min(right);
        let first = lane.spans.partition_point(|s| s.end_us < self.start_us);
        let mut rects: Vec<Rect> = Vec::new();
        let mut next_px = left;
        for (k, span) in lane.spans[first..]
            .iter()
            .enumerate()
            .take_while(|(_, s)| s.start_us <= self.end_us)
        {
            let k = first + k;
            let (x0, x1) = (
                x(span.start_us).max(next_px),
                x(span.end_us.min(self.clip_us)).min(right),
            );
            if x1 < next_px {
                continue;
            }
            // A released stretch is not painted: it holds its pixels (past the right edge, if
            // it must) but keeps its rectangle inside the window.
            let (x0, x1, reaches) = if span.state == LaneState::Released {
                let reaches = x1.max(x0 + MIN_WIDTH);
                (x0, reaches.min(right), reaches)
            } else {
                let x0 = x0.min(right - MIN_WIDTH);
                let x1 = x1.max(x0 + MIN_WIDTH);
                (x0, x1, x1)
            };
            match rects.last_mut() {
                Some(last) if last.state == span.state && x0 - last.x1 < 0.01 => {
                    last.x1 = x1;
                    last.spans.end = k + 1;
                }
                _ => rects.push(Rect {
                    state: span.state,
                    x0,
                    x1,
                    spans: k..k + 1,
                }),
            }
            next_px = reaches;
        }
        let capped_from = lane
            .capped_at_us
            .filter(|&c| c <= self.end_us)
            .map(|c| x(c).max(left).min(track_end));
        let mut ops = Vec::new();
        let mut last_x = f64::NEG_INFINITY;
        let first = lane.op_starts.partition_point(|&t| t < self.start_us);
        for &t in lane.op_starts[first..]
            .iter()
            .take_while(|&&t| t <= self.end_us)
        {
            let ox = x(t);
            if ox - last_x >= OP_SPACING {
                ops.push(ox);
                last_x = ox;
            }
        }
        LaneLayout {
            worker: lane.worker,
            rects,
            track_end,
            capped_from,
            ops,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::gil::{Event, EventKind, EventKind::*};
    use crate::runner::{CONTROLLER, INCREMENTER, LOAD};
    use crate::scenario::Scenario;

    /// An event of `worker`; a drop request comes from the controller.
    pub(crate) fn ev(t_us: u64, kind: EventKind, worker: WorkerId) -> Event {
        Event::new(
            t_us,
            kind,
            worker,
            if kind == Request { CONTROLLER } else { worker },
        )
    }

    /// 0 to 1 s on 100 pixels from x = 10: one pixel is 10 ms.
    const SCALE: Scale = Scale {
        start_s: 0.0,
        end_s: 1.0,
        left: 10.0,
        width: 100.0,
    };

    /// The incrementer holds 0-300 ms, waits 300-600 ms, holds again until 1 s.
    fn simple() -> Timeline {
        let mut t = Timeline::uncapped(Scenario::ThreadLoad);
        t.apply(&ev(0, Take, INCREMENTER));
        t.apply(&ev(300_000, Wait, INCREMENTER));
        t.apply(&ev(300_000, Take, LOAD));
        t.apply(&ev(600_000, Take, INCREMENTER));
        t.apply(&ev(600_000, Drop, LOAD));
        t.advance(1_000_000);
        t
    }

    #[test]
    fn smoke_spans_become_rectangles_in_pixels() {
        let l = RunLayout::new(&simple(), &SCALE, u64::MAX);
        let inc = &l.lanes[1];
        let bars: Vec<(LaneState, f64, f64)> = inc.bars().map(|r| (r.state, r.x0, r.x1)).collect();
        assert_eq!(
            bars,
            [
                (LaneState::Holding, 10.0, 40.0),
                (LaneState::Waiting, 40.0, 70.0),
                (LaneState::Holding, 70.0, 110.0)
            ]
        );
        assert_eq!(inc.track_end, 110.0);
        assert_eq!(inc.worker, INCREMENTER);
        // The wait is half as high as a hold, centred on the bar.
        assert_eq!(inc.rects[1].bar(100.0), (105.5, 11.0));
        assert_eq!(inc.rects[0].bar(100.0), (100.0, LANE_BAR));
    }

    /// The incrementer and the load hand the lock to each other every 50 µs for 1 s.
    pub(crate) fn switching() -> Timeline {
        let mut t = Timeline::uncapped(Scenario::ThreadLoad);
        for i in 0..20_000u64 {
            let (a, b) = if i % 2 == 0 {
                (INCREMENTER, LOAD)
            } else {
                (LOAD, INCREMENTER)
            };
            t.apply(&ev(i * 50, Take, a));
            t.apply(&ev(i * 50 + 1, Wait, b));
            t.apply(&ev(i * 50 + 49, Drop, a));
        }
        t.advance(1_000_000);
        t
    }

    #[test]
    fn thousands_of_switches_become_a_few_rectangles_per_pixel_within_the_window() {
        let l = RunLayout::new(&switching(), &SCALE, u64::MAX);
        for lane in &l.lanes {
            assert!(
                lane.rects.len() <= 2 * 100,
                "{} rectangles",
                lane.rects.len()
            );
            for r in &lane.rects {
                assert!(r.x0 >= SCALE.left && r.x1 <= SCALE.right() + 1e-9, "{r:?}");
            }
            for r in lane.bars() {
                assert!(r.x1 - r.x0 >= MIN_WIDTH - 1e-9, "{r:?}");
            }
            // In time order, never overlapping.
            assert!(lane.rects.windows(2).all(|w| w[0].x1 <= w[1].x0 + 1e-9));
        }
    }

    #[test]
    fn a_short_span_still_shows_and_one_state_joins_across_pixels() {
        let mut t = Timeline::uncapped(Scenario::ThreadLoad);
        t.apply(&ev(0, Take, INCREMENTER));
        t.apply(&ev(500_000, Drop, INCREMENTER));
        t.apply(&ev(700_000, Take, INCREMENTER));
        t.apply(&ev(700_010, Drop, INCREMENTER));
        t.advance(1_000_000);
        let l = RunLayout::new(&t, &SCALE, u64::MAX);
        let rects: Vec<(LaneState, f64, f64)> = l.lanes[1]
            .rects
            .iter()
            .map(|r| (r.state, r.x0, r.x1))
            .collect();
        // The 10 µs hold at 700 ms still shows, at its minimum width.
        assert_eq!(
            rects,
            [
                (LaneState::Holding, 10.0, 60.0),
                (LaneState::Released, 60.0, 80.0),
                (LaneState::Holding, 80.0, 80.0 + MIN_WIDTH),
                (LaneState::Released, 80.0 + MIN_WIDTH, 110.0)
            ]
        );
        // A 1 µs hold widened to its minimum swallows the request and release after it: the
        // hold that follows joins it, one rectangle of four spans.
        let mut t = Timeline::uncapped(Scenario::ThreadLoad);
        t.apply(&ev(100_000, Take, INCREMENTER));
        t.apply(&ev(100_001, Request, INCREMENTER));
        t.apply(&ev(100_002, Drop, INCREMENTER));
        t.apply(&ev(100_003, Take, INCREMENTER));
        t.advance(1_000_000);
        let l = RunLayout::new(&t, &SCALE, u64::MAX);
        let rects = &l.lanes[1].rects;
        assert_eq!(rects.len(), 1, "{rects:?}");
        assert_eq!(
            (rects[0].x0, rects[0].x1, rects[0].spans.clone()),
            (20.0, 110.0, 0..4)
        );
        assert_eq!(l.lanes[1].span_at(&t.lanes[1], &SCALE, 50.0), Some(3));
        assert_eq!(l.lanes[1].span_at(&t.lanes[1], &SCALE, 20.0), Some(0));
    }

    #[test]
    fn a_zoomed_window_clips_to_its_edges_and_a_pause() {
        let t = simple();
        let zoomed = Scale {
            start_s: 0.25,
            end_s: 0.5,
            ..SCALE
        };
        let l = RunLayout::new(&t, &zoomed, 400_000);
        let inc = &l.lanes[1];
        let round = |x: f64| (x * 1e6).round() / 1e6;
        let bars: Vec<(LaneState, f64, f64)> = inc
            .bars()
            .map(|r| (r.state, round(r.x0), round(r.x1)))
            .collect();
        // 250-300 ms held, 300-400 ms waited, then the pause: 40 pixels of 100.
        assert_eq!(
            bars,
            [
                (LaneState::Holding, 10.0, 30.0),
                (LaneState::Waiting, 30.0, 70.0)
            ]
        );
        assert_eq!(round(inc.track_end), 70.0);
    }

    #[test]
    fn operations_closer_than_three_pixels_are_one_tick() {
        let mut t = Timeline::uncapped(Scenario::ThreadLoad);
        t.apply(&ev(0, Take, LOAD));
        for ms in [100, 110, 120, 130, 500] {
            t.apply(&ev(ms * 1000, OpStart, LOAD));
        }
        t.advance(1_000_000);
        let l = RunLayout::new(&t, &SCALE, u64::MAX);
        // 10 ms a pixel: 100 and 130 ms are 3 pixels apart, 110 and 120 ms fold into 100.
        assert_eq!(l.lanes[2].ops, [20.0, 23.0, 60.0]);
    }

    #[test]
    fn a_capped_lane_is_greyed_from_its_cap() {
        let mut t = simple();
        t.lanes[1].capped_at_us = Some(800_000);
        let l = RunLayout::new(&t, &SCALE, u64::MAX);
        assert_eq!(l.lanes[1].capped_from, Some(90.0));
        let zoomed = Scale {
            end_s: 0.5,
            ..SCALE
        };
        assert_eq!(
            RunLayout::new(&t, &zoomed, u64::MAX).lanes[1].capped_from,
            None
        );
    }

    #[test]
    fn the_wake_up_is_expected_until_seen_and_the_flag_marked_only_apart_from_it() {
        let mut t = simple();
        t.set_delay(std::time::Duration::from_millis(500));
        let l = RunLayout::new(&t, &SCALE, u64::MAX);
        assert_eq!((l.woke, l.cleared), (Some(60.0), None));
        t.woke_us = Some(700_000);
        t.flag_cleared_us = Some(701_000);
        let l = RunLayout::new(&t, &SCALE, u64::MAX);
        assert_eq!(l.woke, Some(80.0));
        assert_eq!(l.cleared, None, "a tenth of a pixel after the wake-up");
        t.flag_cleared_us = Some(900_000);
        assert_eq!(RunLayout::new(&t, &SCALE, u64::MAX).cleared, Some(100.0));
        // Not drawn past a pause.
        assert_eq!(RunLayout::new(&t, &SCALE, 750_000).cleared, None);
    }

    #[test]
    fn the_pointer_finds_the_span_drawn_under_it() {
        let t = simple();
        let l = RunLayout::new(&t, &SCALE, u64::MAX);
        let inc = &t.lanes[1];
        let at = |x| l.lanes[1].span_at(inc, &SCALE, x);
        assert_eq!(
            at(20.0).map(|k| inc.spans[k].state),
            Some(LaneState::Holding)
        );
        assert_eq!(
            at(50.0).map(|k| inc.spans[k].state),
            Some(LaneState::Waiting)
        );
        assert_eq!(at(5.0), None, "left of the lanes");
        assert_eq!(at(120.0), None, "right of the lanes");
        // A 10 µs span widened to its minimum width is found over all of it.
        let mut t = Timeline::uncapped(Scenario::ThreadLoad);
        t.apply(&ev(0, Take, INCREMENTER));
        t.apply(&ev(500_000, Drop, INCREMENTER));
        t.apply(&ev(500_010, Take, INCREMENTER));
        t.advance(1_000_000);
        let l = RunLayout::new(&t, &SCALE, u64::MAX);
        let k = l.lanes[1].span_at(&t.lanes[1], &SCALE, 60.5);
        assert_eq!(
            k.map(|k| t.lanes[1].spans[k].state),
            Some(LaneState::Released)
        );
    }

    #[test]
    fn scale_maps_time_to_pixels_and_back() {
        let s = Scale {
            start_s: 1.0,
            end_s: 3.0,
            left: 10.0,
            width: 200.0,
        };
        assert_eq!(s.x(2_000_000), 110.0);
        assert!((s.t_s(110.0) - 2.0).abs() < 1e-12);
        let (step, ticks) = s.ticks(4);
        assert_eq!(step, 0.5);
        assert_eq!(ticks.first(), Some(&(1.0, 10.0)));
        assert_eq!(ticks.last(), Some(&(3.0, 210.0)));
    }
}
