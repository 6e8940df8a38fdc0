//! The cooperative executor's time: every time the scheduler, its threads and its drivers need
//! comes from a [`Clock`], as [`crate::gil::Protocol`] gets every time as an argument.
//!
//! [`RealClock`] is the machine's: the browser's worker and the native drivers run on it, and it
//! is the one place under `coop` that reads the time. [`ScriptedClock`] is a script's: time moves
//! only when the executor computes or waits, by the lengths the script gives, so a run on it gives
//! the same events and statistics every time, whatever the machine's load.

use std::cell::Cell;
use std::time::Duration;
use web_time::Instant;

/// Where the cooperative executor gets the time, and how time passes while it works or waits.
pub trait Clock {
    /// The time now.
    fn now(&self) -> Instant;

    /// The time after the incrementer counted one batch of iterations
    /// ([`crate::workload::Counting::count_until`]).
    fn counted(&self) -> Instant;

    /// Runs `op`, one operation of a load that cannot be cut (one `z * z`).
    fn op<R>(&self, op: impl FnOnce() -> R) -> R;

    /// Computes for `d` without a checkpoint (one operation of the short load).
    fn busy(&self, d: Duration);

    /// Waits `d` with nothing to do.
    fn sleep(&self, d: Duration);
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealClock;

impl Clock for RealClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn counted(&self) -> Instant {
        Instant::now()
    }

    fn op<R>(&self, op: impl FnOnce() -> R) -> R {
        op()
    }

    fn busy(&self, d: Duration) {
        let end = Instant::now() + d;
        let mut spins: u64 = 0;
        while Instant::now() < end {
            spins = core::hint::black_box(spins.wrapping_add(1));
        }
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// A clock that moves only by its script: a batch of counting lasts [`ScriptedClock::batch`], an
/// operation of a load [`ScriptedClock::op`], a computation or a wait exactly as long as asked;
/// looking at it takes no time.
#[derive(Debug)]
pub struct ScriptedClock {
    now: Cell<Instant>,
    batch: Duration,
    op: Duration,
}

impl ScriptedClock {
    /// A clock at `origin`, a batch of counting lasting `batch` and an operation of a load `op`.
    pub fn new(origin: Instant, batch: Duration, op: Duration) -> Self {
        Self {
            now: Cell::new(origin),
            batch,
            op,
        }
    }

    /// Moves the clock on by `d`.
    pub fn advance(&self, d: Duration) {
        self.now.set(self.now.get() + d);
    }

    /// Moves the clock on to `t`, if it is not there yet.
    pub fn advance_to(&self, t: Instant) {
        self.now.set(self.now.get().max(t));
    }
}

impl Clock for ScriptedClock {
    fn now(&self) -> Instant {
        self.now.get()
    }

    fn counted(&self) -> Instant {
        self.advance(self.batch);
        self.now.get()
    }

    fn op<R>(&self, op: impl FnOnce() -> R) -> R {
        let out = op();
        self.advance(self.op);
        out
    }

    fn busy(&self, d: Duration) {
        self.advance(d);
    }

    fn sleep(&self, d: Duration) {
        self.advance(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scripted_clock_moves_only_by_its_script() {
        let t0 = RealClock.now();
        let ms = Duration::from_millis;
        let c = ScriptedClock::new(t0, ms(1), ms(20));
        assert_eq!(c.now(), t0);
        assert_eq!(c.now(), t0, "looking takes no time");
        assert_eq!(c.counted(), t0 + ms(1));
        assert_eq!(c.op(|| 7), 7);
        assert_eq!(c.now(), t0 + ms(21));
        c.busy(ms(4));
        c.sleep(ms(5));
        assert_eq!(c.now(), t0 + ms(30));
        c.advance_to(t0 + ms(10));
        assert_eq!(c.now(), t0 + ms(30), "never back");
        c.advance_to(t0 + ms(40));
        assert_eq!(c.now(), t0 + ms(40));
    }
}
