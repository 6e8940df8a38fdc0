//! The guided story (`story=1`): five steps that run the seed's experiment and tell it from the
//! runs' own results and events, so every figure a sentence quotes is one the lanes show.
//!
//! The story runs [`RUNS`] (`thread`, `thread+load`, `process+load`) at one delay. Each step
//! names the run whose lanes it shows (and one stacked under it), a span to point at, and a
//! sentence built from what that run measured; a step whose run has not ended says so. Each
//! figure sits in a `<data>` element whose `value` is the exact figure (seconds, or a count) and
//! whose class names it, so a script can compare the sentence with the run's JSON.

use super::html::grouped;
use super::view::{duration, moment, span_at};
use crate::report::numbers::{abbreviate, trim_float};
use crate::runner::{CONTROLLER, INCREMENTER, LOAD};
use crate::scenario::{RunResult, Scenario};
use crate::timeline::{operation_name, LaneState, Timeline};
use crate::workload::Load;
use std::fmt::Write;

/// The runs the story makes, in this order.
pub const RUNS: [Scenario; 3] = [
    Scenario::Thread,
    Scenario::ThreadLoad,
    Scenario::ProcessLoad,
];

/// The steps' titles, in order (the URL's `step` counts them from 1).
pub const TITLES: [&str; 5] = [
    "A thread counts alone",
    "A CPU-heavy thread joins",
    "The late stop",
    "The same counter in a process",
    "What to do",
];

/// What a step shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Its sentences, as HTML.
    pub html: String,
    /// Whether the runs it speaks of have ended (otherwise `html` says what it waits for).
    pub ready: bool,
    /// The run whose lanes it shows (an index into [`RUNS`]), and one stacked under it.
    pub show: (usize, Option<usize>),
    /// A span to point at on the shown run, as (lane, span index).
    pub point: Option<(usize, usize)>,
}

/// A run of the story as far as the page knows it: its lanes once started, its result once
/// ended.
#[derive(Clone, Copy, Default)]
pub struct Known<'a> {
    /// Its lanes, live or finished.
    pub timeline: Option<&'a Timeline>,
    /// What it measured.
    pub result: Option<&'a RunResult>,
}

/// `<data class="hold" value="1.412">1.41 s</data>`: a figure with its exact value.
fn fig(class: &str, value: f64, text: &str) -> String {
    format!("<data class=\"{class}\" value=\"{value}\">{text}</data>")
}

/// A count, grouped.
fn count(r: &RunResult) -> String {
    fig("count", r.count as f64, &grouped(r.count))
}

/// How many times `a` is `b` as figure `class`, shown to two significant figures: `62`, `4.1`.
fn times(class: &str, a: f64, b: f64) -> String {
    let x = a / b.max(1e-9);
    fig(class, x, &trim_float(x, if x >= 10.0 { 0 } else { 1 }))
}

/// Step `n` (from 0) of the story, from what is known of its runs (`runs[i]` is run `i` of
/// [`RUNS`]); `load` is the load the story runs. The last step, what to do, has no sentence of
/// its own: the page shows its verdict on the three runs there, and the other answers (static
/// text in `index.html`).
pub fn step(n: usize, runs: &[Known], load: Load) -> Step {
    let done = |i: usize| {
        let k = runs.get(i).copied().unwrap_or_default();
        Some((k.result?, k.timeline?))
    };
    let (show, needs) = match n {
        0 => ((0, None), 0),
        1 | 2 => ((1, None), 1),
        _ => ((1, Some(2)), 2),
    };
    let waiting = |i: usize| Step {
        html: format!(
            "<p>The <b>{}</b> run is under way: this sentence is written from its figures when it \
             ends.</p>",
            RUNS[i]
        ),
        ready: false,
        show,
        point: None,
    };
    // Every run a step speaks of has ended before it: the steps come in run order.
    let Some((r, tl)) = done(needs) else {
        return waiting((0..=needs).find(|&i| done(i).is_none()).unwrap_or(needs));
    };
    let mut point = None;
    let html = match n {
        0 => alone(r),
        1 => {
            let (html, at) = starved(r, tl, done(0).map(|d| d.0), load);
            point = at.map(|k| (2, k));
            html
        }
        2 => {
            let (html, at) = late_stop(r, tl);
            point = at.map(|k| (0, k));
            html
        }
        3 => match done(1) {
            Some((thread, _)) => in_a_process(thread, r),
            None => return waiting(1),
        },
        _ => String::new(),
    };
    Step {
        html,
        ready: true,
        show,
        point,
    }
}

/// Step 1: the counter alone.
fn alone(r: &RunResult) -> String {
    let mut out = format!(
        "<p>Alone, the counter thread counted {} in {}: {} a second.",
        count(r),
        fig("elapsed", r.elapsed_s, &duration(r.elapsed_s)),
        abbreviate(r.rate_per_s)
    );
    if let Some(lock) = Timeline::lock_stats(r, INCREMENTER) {
        let share = lock.held_s / r.elapsed_s.max(1e-9);
        let _ = write!(
            out,
            " It held the lock {} of that time: nothing else wanted it.",
            fig("held-share", share, &super::html::percent(share))
        );
    }
    out + "</p>"
}

/// Step 2: beside the load. Returns the sentence and the load's span to point at: the part of
/// its longest hold after it was asked to drop.
fn starved(
    r: &RunResult,
    tl: &Timeline,
    alone: Option<&RunResult>,
    load: Load,
) -> (String, Option<usize>) {
    let mut out = format!(
        "<p>Beside a thread running <code>{}</code>, the same counter counted {}",
        operation_name(load),
        count(r)
    );
    if let Some(a) = alone {
        let _ = write!(
            out,
            ", {} times slower than alone",
            times("slower", a.rate_per_s, r.rate_per_s)
        );
    }
    out.push('.');
    let (Some(load_lane), Some(counter)) = (tl.lane(LOAD), tl.lane(INCREMENTER)) else {
        return (out + "</p>", None);
    };
    let Some((h0, h1)) = load_lane
        .holds()
        .into_iter()
        .max_by_key(|&(a, b)| b.saturating_sub(a))
    else {
        return (out + "</p>", None);
    };
    let hold_s = h1.saturating_sub(h0) as f64 / 1e6;
    let _ = write!(
        out,
        " The load held the lock for as long as {} at a stretch, from {}: a thread gives the lock \
         up only between two operations, and one operation can be long.",
        fig("hold", hold_s, &duration(hold_s)),
        fig("hold-start", h0 as f64 / 1e6, &moment(h0))
    );
    // Who asked the load to drop during that hold (the counter, or the controller waiting to
    // stop the count: a second waiter finds the request already made), when it let go, and when
    // the counter held the lock again.
    let asked = [
        (counter, "counter"),
        (tl.lane(CONTROLLER).unwrap_or(counter), "controller"),
    ]
    .into_iter()
    .filter_map(|(lane, who)| {
        let q = lane
            .requests
            .iter()
            .find(|q| q.holder == LOAD && q.t_us >= h0 && q.t_us < h1)?;
        Some((q.t_us, who))
    })
    .min();
    if let Some((t, who)) = asked {
        let _ = write!(
            out,
            " The {who} asked it to drop at {}; it let go only at {}",
            fig("asked", t as f64 / 1e6, &moment(t)),
            fig("released", h1 as f64 / 1e6, &moment(h1))
        );
        let back = counter
            .spans
            .iter()
            .find(|s| s.state.holds_lock() && s.start_us >= t)
            .map(|s| s.start_us);
        if let Some(b) = back {
            let _ = write!(
                out,
                ", and the counter held the lock again at {}",
                fig("back", b as f64 / 1e6, &moment(b))
            );
        }
        out.push('.');
    }
    let point = load_lane
        .spans
        .iter()
        .position(|s| s.state == LaneState::AskedToDrop && s.start_us >= h0 && s.start_us < h1)
        .or_else(|| span_at(load_lane, h0));
    (out + "</p>", point)
}

/// Step 3: the controller's late stop. Returns the sentence and the controller's span to point
/// at: its wait for the lock after it woke.
fn late_stop(r: &RunResult, tl: &Timeline) -> (String, Option<usize>) {
    let lag = fig("late-stop", r.stop_lag_s, &duration(r.stop_lag_s));
    let mut out = format!(
        "<p>After its {} s sleep the controller woke to stop the count",
        trim_float(r.delay_s, 3)
    );
    if let Some(w) = tl.woke_us {
        let _ = write!(out, " (at {})", fig("woke", w as f64 / 1e6, &moment(w)));
    }
    let _ = write!(
        out,
        ". To clear the flag it needs the lock, and the load held it: the flag was cleared {lag} \
         late. A thread that must answer in time (a request, a timer, a click) waits like this \
         beside a CPU-heavy thread.</p>"
    );
    let point = tl.woke_us.and_then(|w| {
        let lane = tl.lane(CONTROLLER)?;
        lane.spans
            .iter()
            .position(|s| s.state == LaneState::Waiting && s.end_us > w)
            .or_else(|| span_at(lane, w))
    });
    (out, point)
}

/// Step 4: the same counter in a process, under the thread.
fn in_a_process(thread: &RunResult, r: &RunResult) -> String {
    let mut out = format!(
        "<p>In a process of its own, beside the same load, the counter counted {} in {}: {} times \
         as fast as the thread ({} a second against {}). Its interpreter has a lock of its own, \
         which the load never takes.",
        count(r),
        fig("elapsed", r.elapsed_s, &duration(r.elapsed_s)),
        times("faster", r.rate_per_s, thread.rate_per_s),
        abbreviate(r.rate_per_s),
        abbreviate(thread.rate_per_s)
    );
    if r.stop_lag_s >= 0.02 {
        let _ = write!(
            out,
            " Only its controller, in the parent beside the load, still stopped it {} late.",
            fig("late-stop", r.stop_lag_s, &duration(r.stop_lag_s))
        );
    }
    out + "</p>"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gil::{Event, EventKind, LockStats};
    use crate::scenario::{Role, WorkerReport};

    fn result(scenario: Scenario, count: u64, elapsed_s: f64, stop_lag_s: f64) -> RunResult {
        RunResult {
            scenario,
            delay_s: 1.0,
            count,
            elapsed_s,
            stop_lag_s,
            rate_per_s: count as f64 / elapsed_s,
            switches: 0,
            switch_interval_ms: 5.0,
            workers: vec![WorkerReport {
                worker: INCREMENTER,
                role: Role::Incrementer,
                isolated: scenario.isolated(),
                lock: Some(LockStats {
                    held_s: elapsed_s * 0.9,
                    ..LockStats::default()
                }),
            }],
            load: None,
            loads: u8::from(scenario.has_load()),
            latency_ms: None,
        }
    }

    /// The lanes of a `thread+load` run with a 1 s delay from `events` (time in µs, worker, kind,
    /// by), looked at up to `end_us`.
    fn lanes(events: &[(u64, u8, EventKind, u8)], end_us: u64) -> Timeline {
        let mut t = Timeline::new(Scenario::ThreadLoad);
        t.set_delay(std::time::Duration::from_secs(1));
        for &(t_us, worker, kind, by) in events {
            t.apply(&Event::new(t_us, kind, worker, by));
        }
        t.advance(end_us);
        t
    }

    /// A `thread+load` run: the load takes at 0.1 s and multiplies until 1.5 s; the counter
    /// waits from 0.2 s, asks it to drop at 0.205 s and takes at 1.5 s; the controller wakes at
    /// 1 s, waits, and clears the flag at 1.6 s.
    fn starved_timeline() -> Timeline {
        use EventKind::*;
        lanes(
            &[
                (0, CONTROLLER, Take, CONTROLLER),
                (50_000, CONTROLLER, Drop, CONTROLLER),
                (100_000, LOAD, Take, LOAD),
                (200_000, INCREMENTER, Wait, INCREMENTER),
                (205_000, LOAD, Request, INCREMENTER),
                (1_000_000, CONTROLLER, Wait, CONTROLLER),
                (1_500_000, LOAD, Drop, LOAD),
                (1_500_000, INCREMENTER, Take, INCREMENTER),
                (1_505_000, INCREMENTER, Drop, INCREMENTER),
                (1_505_000, LOAD, Take, LOAD),
                (1_600_000, LOAD, Drop, LOAD),
                (1_600_000, CONTROLLER, Take, CONTROLLER),
            ],
            1_700_000,
        )
    }

    fn values(html: &str, class: &str) -> Vec<f64> {
        let key = format!("<data class=\"{class}\" value=\"");
        html.match_indices(&key)
            .filter_map(|(i, _)| {
                let rest = &html[i + key.len()..];
                rest[..rest.find('"')?].parse().ok()
            })
            .collect()
    }

    #[test]
    fn a_step_waits_for_its_run_and_says_which() {
        let tl = Timeline::new(Scenario::Thread);
        let runs = [Known {
            timeline: Some(&tl),
            result: None,
        }];
        let s = step(0, &runs, Load::BIGNUM);
        assert!(!s.ready);
        assert!(
            s.html.contains("<b>thread</b> run is under way"),
            "{}",
            s.html
        );
        let s = step(3, &runs, Load::BIGNUM);
        assert!(
            !s.ready && s.html.contains("<b>thread</b>"),
            "the first run not ended is named"
        );
        assert_eq!(s.show, (1, Some(2)), "the thread stacked over the process");
    }

    #[test]
    fn the_starved_step_quotes_the_longest_hold_the_request_and_the_take_back() {
        let tl = starved_timeline();
        let alone = result(Scenario::Thread, 100_000_000, 1.0, 0.0);
        let loaded = result(Scenario::ThreadLoad, 1_000_000, 1.6, 0.6);
        let t0 = Timeline::new(Scenario::Thread);
        let runs = [
            Known {
                timeline: Some(&t0),
                result: Some(&alone),
            },
            Known {
                timeline: Some(&tl),
                result: Some(&loaded),
            },
        ];
        let s = step(1, &runs, Load::BIGNUM);
        assert!(s.ready);
        assert_eq!(values(&s.html, "hold"), [1.4], "{}", s.html);
        assert_eq!(values(&s.html, "hold-start"), [0.1]);
        assert_eq!(values(&s.html, "asked"), [0.205]);
        assert_eq!(values(&s.html, "released"), [1.5]);
        assert_eq!(values(&s.html, "back"), [1.5]);
        assert!(
            s.html.contains("The counter asked it to drop"),
            "{}",
            s.html
        );
        assert_eq!(values(&s.html, "count"), [1_000_000.0]);
        // 100 M/s alone against 625 k/s: 160 times slower.
        assert!(s.html.contains(">160</data> times slower"), "{}", s.html);
        let (lane, k) = s.point.expect("a span to point at");
        assert_eq!(lane, 2, "the load's lane");
        let span = tl.lanes[2].spans[k];
        assert_eq!(span.state, LaneState::AskedToDrop);
        assert_eq!((span.start_us, span.end_us), (205_000, 1_500_000));

        let s = step(2, &runs, Load::BIGNUM);
        assert_eq!(values(&s.html, "late-stop"), [0.6], "{}", s.html);
        assert_eq!(values(&s.html, "woke"), [1.0]);
        let (lane, k) = s.point.expect("the controller's wait");
        assert_eq!(lane, 0);
        assert_eq!(tl.lanes[0].spans[k].state, LaneState::Waiting);
        assert_eq!(tl.lanes[0].spans[k].end_us, 1_600_000);
    }

    #[test]
    fn when_the_controller_asked_the_load_to_drop_the_sentence_says_so() {
        use EventKind::*;
        let tl = lanes(
            &[
                (100_000, LOAD, Take, LOAD),
                (200_000, INCREMENTER, Wait, INCREMENTER),
                (1_000_000, CONTROLLER, Wait, CONTROLLER),
                (1_005_000, LOAD, Request, CONTROLLER),
                (1_500_000, LOAD, Drop, LOAD),
                (1_500_000, CONTROLLER, Take, CONTROLLER),
            ],
            1_600_000,
        );
        let r = result(Scenario::ThreadLoad, 1_000, 1.5, 0.5);
        let runs = [
            Known::default(),
            Known {
                timeline: Some(&tl),
                result: Some(&r),
            },
        ];
        let s = step(1, &runs, Load::BIGNUM);
        assert!(
            s.html.contains("The controller asked it to drop"),
            "{}",
            s.html
        );
        assert_eq!(values(&s.html, "asked"), [1.005]);
        assert_eq!(values(&s.html, "released"), [1.5]);
        assert!(
            values(&s.html, "back").is_empty(),
            "the counter never held it again"
        );
    }

    #[test]
    fn the_process_step_compares_rates_and_the_last_step_keeps_the_pair() {
        let tl = starved_timeline();
        let alone = result(Scenario::Thread, 100_000_000, 1.0, 0.0);
        let thread = result(Scenario::ThreadLoad, 1_000_000, 2.0, 1.0);
        let process = result(Scenario::ProcessLoad, 90_000_000, 1.0, 0.001);
        let runs: Vec<Known> = [&alone, &thread, &process]
            .into_iter()
            .map(|r| Known {
                timeline: Some(&tl),
                result: Some(r),
            })
            .collect();
        let s = step(3, &runs, Load::BIGNUM);
        assert_eq!(values(&s.html, "faster"), [180.0], "{}", s.html);
        assert!(
            !s.html.contains("late-stop"),
            "a 1 ms late stop is not worth a sentence"
        );
        let s = step(4, &runs, Load::BIGNUM);
        assert!(
            s.ready && s.html.is_empty(),
            "the verdict and the answers are the page's"
        );
        assert_eq!(s.show, (1, Some(2)));
    }
}
