//! The timeline as an instrument: which stretch of time the canvas shows (the whole run, growing
//! while it runs, or a window the reader zoomed to), whether the view is paused, per-lane figures,
//! and what a span says when it is hovered: who, what, for how long. The transform from time to
//! pixels and what is drawn where are the SVG timeline's too ([`crate::report::lanes`]). No DOM
//! here, so all of it is tested natively.

use super::timeline::{Lane, LaneState, Timeline};
pub use crate::report::lanes::Scale;

/// The narrowest window: 1 ms, where single hand-offs at the default 5 ms interval stand apart.
pub const MIN_WINDOW_S: f64 = 0.001;

/// Who each lane is, in drawing order, as the readout names them.
pub const LANE_NAMES: [&str; 3] = ["controller", "incrementer", "load"];

/// The extent of a whole run on the axis: its delay plus room for the late stop, or as far as it
/// has gone, whichever is longer.
pub fn whole_run_s(delay_s: f64, now_us: u64) -> f64 {
    (delay_s * 1.15).max(now_us as f64 / 1e6).max(0.2)
}

/// What the reader did to the view. The run goes on underneath; only the drawing changes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct View {
    /// The window shown, in seconds; `None` shows the whole run, growing while it runs.
    window: Option<(f64, f64)>,
    /// While paused: the run's clock when the reader paused. Nothing later is drawn, so the
    /// picture holds still while the run goes on.
    paused_at_us: Option<u64>,
    /// Bumped on every change, so the canvas knows to draw again.
    pub version: u32,
}

impl View {
    /// The range shown, given the whole run's extent `whole_s`.
    pub fn range(&self, whole_s: f64) -> (f64, f64) {
        self.window.unwrap_or((0.0, whole_s))
    }

    /// Whether the reader zoomed or panned away from the whole run.
    pub fn zoomed(&self) -> bool {
        self.window.is_some()
    }

    /// The run's clock when paused.
    pub fn paused_at_us(&self) -> Option<u64> {
        self.paused_at_us
    }

    /// The latest time drawn: the pause, or the run's own clock `now_us`.
    pub fn clip_us(&self, now_us: u64) -> u64 {
        self.paused_at_us.map_or(now_us, |p| p.min(now_us))
    }

    /// Freezes the picture at `now_us`.
    pub fn pause(&mut self, now_us: u64) {
        self.paused_at_us = Some(now_us);
        self.version += 1;
    }

    /// Back to live: the whole run, growing.
    pub fn resume(&mut self) {
        self.paused_at_us = None;
        self.window = None;
        self.version += 1;
    }

    /// The whole run again (stays paused if it was).
    pub fn whole(&mut self) {
        self.window = None;
        self.version += 1;
    }

    /// Multiplies the width shown by `factor` (below 1 zooms in), keeping the time at `anchor`
    /// (0 = left edge, 1 = right edge) where it is on screen.
    pub fn zoom(&mut self, factor: f64, anchor: f64, whole_s: f64) {
        if !factor.is_finite() || factor <= 0.0 {
            return;
        }
        let (a, b) = self.range(whole_s);
        let anchor = anchor.clamp(0.0, 1.0);
        let width = ((b - a) * factor).clamp(MIN_WINDOW_S, whole_s);
        let at = a + anchor * (b - a);
        self.set(at - anchor * width, width, whole_s);
    }

    /// Moves the window by `fraction` of its width (positive: later).
    pub fn pan(&mut self, fraction: f64, whole_s: f64) {
        if !fraction.is_finite() {
            return;
        }
        let (a, b) = self.range(whole_s);
        self.set(a + fraction * (b - a), b - a, whole_s);
    }

    /// Moves the window, keeping its width, so `[t0_s, t1_s]` is in view (centred if it was not).
    pub fn reveal(&mut self, t0_s: f64, t1_s: f64, whole_s: f64) {
        let (a, b) = self.range(whole_s);
        if t0_s >= a && t1_s <= b {
            return;
        }
        let width = b - a;
        self.set((t0_s + t1_s) / 2.0 - width / 2.0, width, whole_s);
    }

    fn set(&mut self, start: f64, width: f64, whole_s: f64) {
        if width >= whole_s * 0.999 {
            self.window = None;
        } else {
            let start = start.clamp(0.0, whole_s - width);
            self.window = Some((start, start + width));
        }
        self.version += 1;
    }
}

/// A lane's figures over the time drawn: the share of it holding the lock and waiting for it,
/// the hand-offs to it, its longest hold.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Figures {
    /// Seconds holding the lock (asked to drop or not).
    pub held_s: f64,
    /// Seconds waiting for it.
    pub waiting_s: f64,
    /// Seconds running with no lock at all.
    pub no_lock_s: f64,
    /// Times it took the lock after waiting for it: another thread held it, so each is a hand-off.
    pub hand_offs: u64,
    /// The longest hold, in seconds.
    pub longest_hold_s: f64,
    /// The time the shares are of.
    pub total_s: f64,
}

impl Figures {
    /// Reads the figures off `lane`'s spans up to `end_us`.
    pub fn of(lane: &Lane, end_us: u64) -> Self {
        let mut f = Figures {
            total_s: end_us as f64 / 1e6,
            ..Default::default()
        };
        let mut hold_start: Option<u64> = None;
        let mut prev = LaneState::Released;
        for span in lane.spans.iter().take_while(|s| s.start_us < end_us) {
            let end = span.end_us.min(end_us);
            let d = end.saturating_sub(span.start_us) as f64 / 1e6;
            let held = span.state.holds_lock();
            match span.state {
                LaneState::Waiting => f.waiting_s += d,
                LaneState::NoLock => f.no_lock_s += d,
                _ if held => f.held_s += d,
                _ => {}
            }
            if held && !prev.holds_lock() {
                hold_start = Some(span.start_us);
                if prev == LaneState::Waiting {
                    f.hand_offs += 1;
                }
            }
            if let (true, Some(s)) = (held, hold_start) {
                f.longest_hold_s = f.longest_hold_s.max(end.saturating_sub(s) as f64 / 1e6);
            }
            prev = span.state;
        }
        f
    }

    /// Whether there is anything to say (a lane with no lock and no work says nothing).
    pub fn is_empty(&self) -> bool {
        self.held_s + self.waiting_s + self.no_lock_s <= 0.0
    }

    /// `held 97% · waits 2% · 40 hand-offs · longest 1.20 s`, or, `compact`, `97% held · 2% wait`.
    pub fn text(&self, compact: bool) -> String {
        let pct = |s: f64| {
            let p = s / self.total_s.max(1e-9) * 100.0;
            if p > 0.0 && p < 1.0 {
                "<1%".to_string()
            } else {
                format!("{p:.0}%")
            }
        };
        if self.held_s <= 0.0 && self.waiting_s <= 0.0 {
            return if self.no_lock_s > 0.0 {
                format!("runs {}, no lock", pct(self.no_lock_s))
            } else {
                String::new()
            };
        }
        if compact {
            return format!("{} held · {} wait", pct(self.held_s), pct(self.waiting_s));
        }
        format!(
            "held {} · waits {} · {} hand-off{} · longest {}",
            pct(self.held_s),
            pct(self.waiting_s),
            self.hand_offs,
            if self.hand_offs == 1 { "" } else { "s" },
            duration(self.longest_hold_s)
        )
    }
}

/// The index of the span of `lane` going on at `t_us`, if any was recorded there.
pub fn span_at(lane: &Lane, t_us: u64) -> Option<usize> {
    let i = lane.spans.partition_point(|s| s.start_us <= t_us);
    let i = i.checked_sub(1)?;
    (lane.spans[i].end_us >= t_us).then_some(i)
}

/// `5.1 ms`, `240 µs`, `1.25 s`.
pub fn duration(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.01 {
        format!("{:.0} ms", s * 1e3)
    } else if s >= 0.001 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// `2.004 s`: a moment on the axis, to the millisecond.
pub fn moment(t_us: u64) -> String {
    format!("{:.3} s", t_us as f64 / 1e6)
}

/// The two runs that tell the lesson, as (top, under) indices into `runs` (each run's scenario
/// and delay): the thread beside the load on top, the same counter elsewhere beside the same
/// load under it (a process, else a subinterpreter, else no GIL, else the thread alone), both at
/// the longest delay they share. `None` without a `thread+load` run and a partner.
pub fn lesson_pair(runs: &[(crate::scenario::Scenario, f64)]) -> Option<(usize, usize)> {
    use crate::scenario::Scenario::*;
    let mut best: Option<(f64, usize, usize)> = None;
    for (top, &(s, d)) in runs.iter().enumerate() {
        if s != ThreadLoad {
            continue;
        }
        let partner = [ProcessLoad, InterpreterLoad, FreeThreadLoad, Thread]
            .iter()
            .find_map(|&p| {
                runs.iter()
                    .rposition(|&(q, e)| q == p && (e - d).abs() < 1e-9)
            });
        if let Some(under) = partner {
            if best.is_none_or(|(bd, _, _)| d >= bd) {
                best = Some((d, top, under));
            }
        }
    }
    best.map(|(_, top, under)| (top, under))
}

/// What lane `lane` of `tl` is called in a sentence: `controller`, `incrementer`, `load`, or
/// `load 2` when the run has several load threads.
pub fn lane_name(tl: &Timeline, lane: usize) -> Option<String> {
    let name = *LANE_NAMES.get(lane.min(2))?;
    Some(match tl.lanes.len() {
        n if n > 3 && lane >= 2 && lane < n => format!("load {}", lane - 1),
        _ if lane < tl.lanes.len() => name.to_string(),
        _ => return None,
    })
}

/// One sentence about span `index` of lane `lane` of `tl`, drawn up to `clip_us`: who, what,
/// from when, for how long, and, for a wait, who held the lock meanwhile.
pub fn describe(tl: &Timeline, lane: usize, index: usize, clip_us: u64) -> Option<String> {
    let span = tl.lanes.get(lane)?.spans.get(index)?;
    let who = lane_name(tl, lane)?;
    let end = span.end_us.min(clip_us);
    let open = span.end_us >= tl.now_us && !tl.finished;
    let d = duration(end.saturating_sub(span.start_us) as f64 / 1e6);
    let at = moment(span.start_us);
    let so_far = if open { " so far" } else { "" };
    Some(match span.state {
        LaneState::Holding => format!("{who} holds the lock and runs from {at}, for {d}{so_far}"),
        LaneState::AskedToDrop if open => {
            format!("{who} holds the lock, asked to drop at {at}, not answered yet ({d} so far)")
        }
        LaneState::AskedToDrop => {
            format!("{who} holds the lock, asked to drop at {at}, answered {d} later")
        }
        LaneState::Waiting => {
            let mid = span.start_us + (end.saturating_sub(span.start_us)) / 2;
            let holder = (0..tl.lanes.len()).filter(|&j| j != lane).find(|&j| {
                span_at(&tl.lanes[j], mid).is_some_and(|k| tl.lanes[j].spans[k].state.holds_lock())
            });
            match holder.and_then(|j| lane_name(tl, j)) {
                Some(holder) => format!(
                    "{who} waits {d}{so_far} for the lock from {at}, while {holder} holds it"
                ),
                None => format!("{who} waits {d}{so_far} for the lock from {at}"),
            }
        }
        LaneState::NoLock => format!("{who} runs with no lock from {at}, for {d}{so_far}"),
        LaneState::RunsReleased => {
            format!("{who} runs C code with the lock released from {at}, for {d}{so_far}")
        }
        LaneState::Released => {
            format!("{who} does not hold or want the lock (sleeping or done) from {at}, for {d}{so_far}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gil::{Event, EventKind};
    use crate::runner::{INCREMENTER, LOAD};
    use crate::scenario::Scenario;

    fn ev(t_us: u64, worker: u8, kind: EventKind, by: u8) -> Event {
        Event::new(t_us, kind, worker, by)
    }

    /// The load holds 0-5 ms, is asked to drop at 5 ms and answers at 5.1 ms; the incrementer
    /// waits from 0 and takes at 5.1 ms.
    fn handoff() -> Timeline {
        let mut t = Timeline::new(Scenario::ThreadLoad);
        t.apply(&ev(0, LOAD, EventKind::Take, LOAD));
        t.apply(&ev(100, INCREMENTER, EventKind::Wait, INCREMENTER));
        t.apply(&ev(5_000, LOAD, EventKind::Request, INCREMENTER));
        t.apply(&ev(5_100, LOAD, EventKind::Drop, LOAD));
        t.apply(&ev(5_100, INCREMENTER, EventKind::Take, INCREMENTER));
        t.advance(9_000);
        t
    }

    #[test]
    fn zooming_in_keeps_the_anchor_in_place() {
        let mut v = View::default();
        v.zoom(0.5, 0.25, 10.0);
        let (a, b) = v.range(10.0);
        assert!(
            (a - 1.25).abs() < 1e-9 && (b - 6.25).abs() < 1e-9,
            "{a}..{b}"
        );
        v.zoom(2.0, 0.25, 10.0);
        assert!(
            !v.zoomed(),
            "zooming back out to the whole run follows it again"
        );
    }

    #[test]
    fn zoom_stops_at_a_millisecond_and_pan_stays_inside_the_run() {
        let mut v = View::default();
        for _ in 0..40 {
            v.zoom(0.5, 0.5, 10.0);
        }
        let (a, b) = v.range(10.0);
        assert!((b - a - MIN_WINDOW_S).abs() < 1e-9);
        v.pan(1e9, 10.0);
        assert!((v.range(10.0).1 - 10.0).abs() < 1e-9);
        v.pan(-1e9, 10.0);
        assert_eq!(v.range(10.0).0, 0.0);
    }

    #[test]
    fn a_zoomed_window_does_not_move_while_the_run_grows() {
        let mut v = View::default();
        v.zoom(0.1, 0.0, 2.0);
        assert_eq!(v.range(2.0), v.range(30.0));
    }

    #[test]
    fn pause_clips_and_resume_returns_to_the_whole_live_run() {
        let mut v = View::default();
        v.zoom(0.5, 0.5, 4.0);
        v.pause(1_000);
        assert_eq!(v.clip_us(5_000), 1_000);
        v.resume();
        assert_eq!(v.clip_us(5_000), 5_000);
        assert!(!v.zoomed());
    }

    #[test]
    fn hover_texts_name_who_what_and_how_long() {
        let t = handoff();
        let load = span_at(&t.lanes[2], 5_050).expect("a span at 5.05 ms");
        let text = describe(&t, 2, load, u64::MAX).expect("a sentence");
        assert_eq!(
            text,
            "load holds the lock, asked to drop at 0.005 s, answered 100 µs later"
        );
        let inc = span_at(&t.lanes[1], 1_000).expect("a span at 1 ms");
        let text = describe(&t, 1, inc, u64::MAX).expect("a sentence");
        assert!(
            text.starts_with("incrementer waits 5.0 ms") && text.ends_with("while load holds it"),
            "{text}"
        );
    }

    #[test]
    fn with_several_loads_the_sentence_names_the_one_holding_the_lock() {
        let load2 = crate::scenario::load_worker(1);
        let mut t = Timeline::with_loads(Scenario::ThreadLoad, 2);
        t.apply(&ev(0, LOAD, EventKind::Take, LOAD));
        t.apply(&ev(100, INCREMENTER, EventKind::Wait, INCREMENTER));
        t.apply(&ev(200, load2, EventKind::Wait, load2));
        t.apply(&ev(5_000, LOAD, EventKind::Request, load2));
        t.apply(&ev(5_100, LOAD, EventKind::Drop, LOAD));
        t.apply(&ev(5_100, load2, EventKind::Take, load2));
        t.apply(&ev(10_100, load2, EventKind::Request, INCREMENTER));
        t.apply(&ev(10_200, load2, EventKind::Drop, load2));
        t.apply(&ev(10_200, INCREMENTER, EventKind::Take, INCREMENTER));
        t.advance(12_000);
        assert_eq!(lane_name(&t, 2).as_deref(), Some("load 1"));
        assert_eq!(lane_name(&t, 3).as_deref(), Some("load 2"));
        assert_eq!(lane_name(&t, 4), None);
        assert_eq!(lane_name(&handoff(), 2).as_deref(), Some("load"));
        let inc = span_at(&t.lanes[1], 1_000).expect("the incrementer's wait");
        let early = describe(&t, 1, inc, 3_000).expect("a sentence");
        assert!(early.ends_with("while load 1 holds it"), "{early}");
        // The whole wait, read at its middle (5.15 ms): load 2 holds the lock by then.
        let text = describe(&t, 1, inc, u64::MAX).expect("a sentence");
        assert!(
            text.starts_with("incrementer waits 10 ms") && text.ends_with("while load 2 holds it"),
            "{text}"
        );
        let k = span_at(&t.lanes[3], 7_000).expect("load 2's hold");
        let held = describe(&t, 3, k, u64::MAX).expect("a sentence");
        assert!(held.starts_with("load 2 holds the lock"), "{held}");
    }

    #[test]
    fn the_lesson_pair_is_the_starving_thread_over_the_free_counter() {
        use crate::scenario::Scenario::*;
        // The embed's default: thread+load, then process+load.
        assert_eq!(
            lesson_pair(&[(ThreadLoad, 2.0), (ProcessLoad, 2.0)]),
            Some((0, 1))
        );
        // The seed's sweep: the longest delay, the process before the thread alone.
        let seed = [
            (Thread, 1.0),
            (Process, 1.0),
            (ThreadLoad, 1.0),
            (ProcessLoad, 1.0),
            (Thread, 3.0),
            (Process, 3.0),
            (ThreadLoad, 3.0),
            (ProcessLoad, 3.0),
        ];
        assert_eq!(lesson_pair(&seed), Some((6, 7)));
        assert_eq!(
            lesson_pair(&[(Thread, 2.0), (ThreadLoad, 2.0)]),
            Some((1, 0))
        );
        assert_eq!(lesson_pair(&[(Thread, 2.0), (Process, 2.0)]), None);
        assert_eq!(lesson_pair(&[(ThreadLoad, 2.0)]), None);
    }

    #[test]
    fn an_open_span_says_so_far_and_a_pause_cuts_it() {
        let mut t = handoff();
        t.apply(&ev(9_000, LOAD, EventKind::Wait, LOAD));
        t.advance(12_000);
        let k = span_at(&t.lanes[2], 10_000).expect("the load's wait");
        let live = describe(&t, 2, k, u64::MAX).expect("a sentence");
        assert_eq!(
            live,
            "load waits 3.0 ms so far for the lock from 0.009 s, while incrementer holds it"
        );
        let paused = describe(&t, 2, k, 10_000).expect("a sentence");
        assert!(paused.starts_with("load waits 1.0 ms"), "{paused}");
    }

    #[test]
    fn figures_shorten_for_a_narrow_lane() {
        let t = handoff();
        let f = Figures::of(&t.lanes[1], t.now_us);
        assert_eq!(f.text(true), "43% held · 56% wait");
        assert!(Figures::of(&t.lanes[0], t.now_us).is_empty());
    }

    #[test]
    fn figures_count_hand_offs_and_the_longest_hold() {
        let t = handoff();
        let inc = Figures::of(&t.lanes[1], t.now_us);
        assert_eq!(inc.hand_offs, 1);
        assert!((inc.waiting_s - 0.005).abs() < 1e-9);
        assert!((inc.longest_hold_s - 0.0039).abs() < 1e-9);
        let load = Figures::of(&t.lanes[2], t.now_us);
        assert_eq!(load.hand_offs, 0, "the load took a free lock");
        assert!((load.longest_hold_s - 0.0051).abs() < 1e-9);
        assert!(
            inc.text(false).contains("1 hand-off ·"),
            "{}",
            inc.text(false)
        );
    }
}
