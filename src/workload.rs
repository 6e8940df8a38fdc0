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
    let mut x: u64 = 0;
    ts.eval_loop(|| {
        if !running.load(Relaxed) {
            return false;
        }
        counter.store(x, Relaxed);
        x += 1;
        true
    });
    counter.load(Relaxed)
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
    let mut report = LoadReport::default();
    let op_done = |report: &mut LoadReport, started: Instant| {
        report.ops += 1;
        if report.op_s.len() < LoadReport::MAX_TIMED_OPS {
            report.op_s.push(started.elapsed().as_secs_f64());
        }
    };
    match load {
        Load::Bignum { cap_bits } => {
            let mut z = BigUint::from(10u32);
            ts.eval_loop(|| {
                if !running.load(Relaxed) {
                    return false;
                }
                if let Some(log) = log {
                    log.push(EventKind::OpStart, worker, worker);
                }
                let started = Instant::now();
                z = square(&z);
                op_done(&mut report, started);
                if z.bits() > cap_bits {
                    z = BigUint::from(10u32);
                    report.restarts += 1;
                }
                true
            });
        }
        Load::Short { op } => ts.eval_loop(|| {
            if !running.load(Relaxed) {
                return false;
            }
            let started = Instant::now();
            busy_for(started, op);
            op_done(&mut report, started);
            true
        }),
    }
    report
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
