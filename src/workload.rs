//! The workloads: the incrementer and the loads, as pure loops over the [`ThreadState`] API.
//!
//! One loop iteration is one "bytecode-sized" step: the lock can only change hands at the
//! [`ThreadState::checkpoint`] between two of them, never inside one.

use crate::gil::{EventKind, EventLog, ThreadState, WorkerId};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use num_bigint::BigUint;
use serde::Serialize;
use std::time::Duration;
use web_time::Instant;

/// Counts as fast as it can, as the seed does:
/// `x = 0; while running.value: counter.value = x; x += 1`.
///
/// Each iteration checks the flag, publishes the count, adds one and passes one checkpoint.
/// Returns the last count published.
#[inline(never)]
pub fn incrementer(ts: &mut impl ThreadState, running: &AtomicBool, counter: &AtomicU64) -> u64 {
    let mut counting = Counting::default();
    ts.eval_loop(|| counting.step(running, counter));
    counter.load(Relaxed)
}

/// The incrementer's state between two of its iterations, so that an executor can run it in
/// slices (the cooperative one) or in one loop ([`incrementer`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Counting {
    x: u64,
}

/// Incrementer iterations between two looks at the clock in [`Counting::count_until`] (about
/// 50 µs of counting).
const CLOCK_EVERY: u32 = 1 << 14;

impl Counting {
    /// One iteration of the seed's loop; false once `running` is cleared.
    #[inline(always)]
    pub fn step(&mut self, running: &AtomicBool, counter: &AtomicU64) -> bool {
        if !running.load(Relaxed) {
            return false;
        }
        counter.store(self.x, Relaxed);
        self.x += 1;
        true
    }

    /// Iterates until `running` is cleared (false) or the clock passes `until` (true), looking at
    /// the clock every [`CLOCK_EVERY`] iterations: a slice of time for a cooperative scheduler.
    pub fn count_until(
        &mut self,
        running: &AtomicBool,
        counter: &AtomicU64,
        until: Instant,
    ) -> bool {
        loop {
            for _ in 0..CLOCK_EVERY {
                if !self.step(running, counter) {
                    return false;
                }
            }
            if Instant::now() >= until {
                return true;
            }
        }
    }
}

/// The default bignum cap: `z` restarts from 10 once it has more bits than this.
///
/// 10^(2^25) has about 111 M bits (13.3 MiB); squaring it is the last and longest operation
/// before a restart: about 2 s on the development machine (see BENCHMARKS.md), and the load
/// peaks near 60 MiB.
pub const DEFAULT_BIGNUM_CAP_BITS: u64 = 80_000_000;

/// The default length of one operation of the `short` load.
pub const DEFAULT_SHORT_OP: Duration = Duration::from_micros(5);

/// What a load does with each operation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Load {
    /// The seed's load: `z = 10; while running: z = z * z`, one multiplication per operation.
    Bignum {
        /// `z` restarts from 10 once it has more bits than this, bounding memory.
        cap_bits: u64,
    },
    /// Operations of a fixed, short length: the lock's switching decides the share.
    Short {
        /// Length of one operation.
        #[serde(
            serialize_with = "crate::scenario::serialize_duration_ms",
            rename = "op_ms"
        )]
        op: Duration,
    },
}

impl Load {
    /// The seed's load with the default cap.
    pub const BIGNUM: Load = Load::Bignum {
        cap_bits: DEFAULT_BIGNUM_CAP_BITS,
    };
    /// The short load with the default operation length.
    pub const SHORT: Load = Load::Short {
        op: DEFAULT_SHORT_OP,
    };

    /// `bignum` or `short`.
    pub fn name(&self) -> &'static str {
        match self {
            Load::Bignum { .. } => "bignum",
            Load::Short { .. } => "short",
        }
    }
}

/// What a load did during one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LoadReport {
    /// Operations completed.
    pub ops: u64,
    /// Times `z` went back to 10 (bignum only).
    pub restarts: u64,
    /// Seconds taken by each of the first operations (at most [`LoadReport::MAX_TIMED_OPS`]);
    /// for bignum, step k squares a number of about 3.3 * 2^k bits.
    pub op_s: Vec<f64>,
}

impl LoadReport {
    /// How many operation times a report keeps.
    pub const MAX_TIMED_OPS: usize = 64;
}

/// Runs `load` until `running` is cleared, logging the start of each operation as `worker`.
pub fn run_load(
    ts: &mut impl ThreadState,
    load: Load,
    running: &AtomicBool,
    log: Option<&EventLog>,
    worker: WorkerId,
) -> LoadReport {
    let mut thread = LoadThread::new(load);
    ts.eval_loop(|| {
        if !running.load(Relaxed) {
            return false;
        }
        thread.op(log, worker);
        true
    });
    thread.report
}

/// A load's state between two of its operations, so that an executor can run one operation per
/// turn (the cooperative one) or all of them in one loop ([`run_load`]).
#[derive(Debug)]
pub struct LoadThread {
    load: Load,
    z: BigUint,
    report: LoadReport,
}

impl LoadThread {
    /// A load that has done nothing yet (`z = 10`).
    pub fn new(load: Load) -> Self {
        Self {
            load,
            z: BigUint::from(10u32),
            report: LoadReport::default(),
        }
    }

    /// One uninterruptible operation (one `z * z`, or one short operation), logged as starting
    /// now by `worker`.
    pub fn op(&mut self, log: Option<&EventLog>, worker: WorkerId) {
        if let Some(log) = log {
            log.push(EventKind::OpStart, worker, worker);
        }
        let started = Instant::now();
        match self.load {
            Load::Bignum { cap_bits } => {
                self.z = square(&self.z);
                if self.z.bits() > cap_bits {
                    self.z = BigUint::from(10u32);
                    self.report.restarts += 1;
                }
            }
            Load::Short { op } => busy_for(started, op),
        }
        self.report.ops += 1;
        if self.report.op_s.len() < LoadReport::MAX_TIMED_OPS {
            self.report.op_s.push(started.elapsed().as_secs_f64());
        }
    }

    /// What the load did so far.
    pub fn report(&self) -> &LoadReport {
        &self.report
    }
}

/// One operation of the bignum load: `z * z`, never interrupted.
#[inline(never)]
pub fn square(z: &BigUint) -> BigUint {
    z * z
}

/// Computes without pause until `len` has passed since `started`.
fn busy_for(started: Instant, len: Duration) {
    let mut spins: u64 = 0;
    while started.elapsed() < len {
        spins = core::hint::black_box(spins.wrapping_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gil::FreeThread;

    #[test]
    fn incrementer_stops_at_once_when_not_running() {
        let running = AtomicBool::new(false);
        let counter = AtomicU64::new(7);
        assert_eq!(
            incrementer(&mut FreeThread::default(), &running, &counter),
            7
        );
    }

    #[test]
    fn square_is_real_bignum_arithmetic() {
        let mut z = BigUint::from(10u32);
        for _ in 0..4 {
            z = square(&z);
        }
        assert_eq!(z, BigUint::from(10u32).pow(16));
        assert_eq!(z.to_string(), format!("1{}", "0".repeat(16)));
    }
}
