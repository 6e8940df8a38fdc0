//! The page's end of the cooperative wire: one run's clocks as the page sees them, with no
//! browser in them, so the page's cooperative source keeps only what touches the browser.
//!
//! Three clocks meet here, all read in milliseconds on the performance clock
//! (`timeOrigin + now()`), which the page and its workers share:
//!
//! - the page's log of the run, which began when the page handed out the run's job (`epoch_ms`);
//! - each worker's log, which began when the worker was made (its `epoch_ms` in
//!   [`PageMessage::Events`](super::wire::PageMessage::Events));
//! - the run's time 0: its start signal, the first a worker reports, as in threads mode, where the
//!   signal follows the log's start at once.
//!
//! A worker's events are moved onto the run's time, and those dated after the page's clock (told
//! ahead of their time, [`super::ahead`]) are held back until it gets there.

use super::ahead::HeldBack;
use crate::gil::Event;

/// One run's clocks, as the page sees them.
#[derive(Clone, Debug)]
pub struct RunClock {
    /// When the page's log of the run began.
    epoch_ms: f64,
    /// The run's start signal, once a worker said.
    zero: Option<f64>,
    held: HeldBack,
}

impl RunClock {
    /// A run whose log began at `epoch_ms`.
    pub fn new(epoch_ms: f64) -> Self {
        Self {
            epoch_ms,
            zero: None,
            held: HeldBack::default(),
        }
    }

    /// Notes a worker's start signal `go_ms` (0: not given yet); the run's time 0, once known.
    pub fn zero(&mut self, go_ms: f64) -> Option<f64> {
        if go_ms > 0.0 {
            self.zero.get_or_insert(go_ms);
        }
        self.zero
    }

    /// How far the run's time 0 is after the start of the page's log, in microseconds; `None`
    /// while unknown.
    pub fn shift_us(&self) -> Option<u64> {
        let zero = self.zero?;
        Some(((zero - self.epoch_ms) * 1e3).max(0.0) as u64)
    }

    /// The page's log time `log_us` on the run's time.
    pub fn run_time_us(&self, log_us: u64) -> u64 {
        log_us.saturating_sub(self.shift_us().unwrap_or(0))
    }

    /// A worker's `events`, timed on its log that began at `worker_epoch_ms`, moved onto the run's
    /// time (never before 0): those due by `now_us` (run time), the others held back. Nothing
    /// while the run's time 0 is unknown (`go_ms`: the worker's start signal, 0 before).
    pub fn events(
        &mut self,
        worker_epoch_ms: f64,
        go_ms: f64,
        events: Vec<Event>,
        now_us: u64,
    ) -> Vec<Event> {
        let Some(zero) = self.zero(go_ms) else {
            return Vec::new();
        };
        let offset_us = (worker_epoch_ms - zero) * 1e3;
        let moved = events.into_iter().map(|e| Event {
            t_us: (e.t_us as f64 + offset_us).max(0.0) as u64,
            ..e
        });
        self.held.admit(moved, now_us)
    }

    /// The events held back that are due by `now_us` (run time), or all of them with `None`.
    pub fn due(&mut self, now_us: Option<u64>) -> Vec<Event> {
        self.held.release(now_us)
    }

    /// A worker's start signal `go_ms` on the run's time, in microseconds (at least 1: 0 means
    /// unknown to the page's live count).
    pub fn go_us(&self, go_ms: f64) -> Option<u64> {
        let zero = self.zero?;
        Some(((go_ms - zero) * 1e3).max(1.0) as u64)
    }

    /// The run's elapsed time at `now_ms`, in seconds, up to just past the controller's wake-up
    /// after `delay_s`: an interpreter cannot report while it is inside a `z * z`, so the page's
    /// clock goes on meanwhile, as the pool's controller reports it in threads mode.
    pub fn elapsed_s(&self, now_ms: f64, delay_s: f64) -> Option<f64> {
        let zero = self.zero?;
        Some(((now_ms - zero) / 1e3).min(delay_s + 1e-3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gil::EventKind;

    fn ev(t_us: u64, kind: EventKind) -> Event {
        Event::new(t_us, kind, 1, 1)
    }

    #[test]
    fn the_first_start_signal_is_the_runs_time_zero() {
        let mut c = RunClock::new(1_000.0);
        assert_eq!(c.zero(0.0), None);
        assert_eq!(c.shift_us(), None);
        assert_eq!(c.elapsed_s(1_500.0, 2.0), None);
        assert_eq!(c.zero(1_010.0), Some(1_010.0));
        assert_eq!(c.zero(1_012.0), Some(1_010.0), "the first one counts");
        assert_eq!(c.zero(0.0), Some(1_010.0));
        assert_eq!(c.shift_us(), Some(10_000));
        assert_eq!(c.run_time_us(25_000), 15_000);
        assert_eq!(c.run_time_us(5_000), 0);
        assert_eq!(c.go_us(1_012.0), Some(2_000));
        assert_eq!(c.go_us(1_010.0), Some(1), "never 0, which means unknown");
    }

    #[test]
    fn the_clock_goes_on_while_a_worker_is_silent_but_not_past_the_wake_up() {
        let mut c = RunClock::new(0.0);
        c.zero(100.0);
        assert_eq!(c.elapsed_s(600.0, 2.0), Some(0.5));
        assert_eq!(c.elapsed_s(10_100.0, 2.0), Some(2.001));
    }

    #[test]
    fn a_workers_events_move_onto_the_runs_time_and_future_ones_wait() {
        let mut c = RunClock::new(1_000.0);
        assert_eq!(c.events(1_002.0, 0.0, vec![ev(0, EventKind::Take)], 0), []);
        // The worker's log began 2 ms after the page's, its start signal 8 ms after that.
        let events = vec![
            ev(1_000, EventKind::Take),
            ev(9_000, EventKind::Take),
            ev(20_000, EventKind::Wait),
        ];
        let due = c.events(1_002.0, 1_010.0, events, 5_000);
        assert_eq!(due, [ev(0, EventKind::Take), ev(1_000, EventKind::Take)]);
        assert_eq!(c.due(Some(11_999)), []);
        assert_eq!(c.due(Some(12_000)), [ev(12_000, EventKind::Wait)]);
        c.events(1_002.0, 1_010.0, vec![ev(50_000, EventKind::Drop)], 12_000);
        assert_eq!(
            c.due(None),
            [ev(42_000, EventKind::Drop)],
            "all, at the end"
        );
    }
}
