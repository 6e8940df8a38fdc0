//! The workloads: the incrementer and the loads, as pure loops over the [`ThreadState`] API.
//!
//! One loop iteration is one "bytecode-sized" step: the lock can only change hands at the
//! [`ThreadState::checkpoint`] between two of them, never inside one.

// The request victims' loopback: real sockets natively, shared memory in the browser (which has
// no sockets); the same victim loop either way. The memory one is compiled natively too, for its
// tests.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod mailbox;
#[cfg(not(target_arch = "wasm32"))]
mod net;
#[cfg(target_arch = "wasm32")]
use mailbox as net;
// The page's SHA-256; natively compiled for its tests only (against `sha2`).
#[cfg(any(target_arch = "wasm32", test))]
mod sha256;

use crate::gil::{EventKind, EventLog, ThreadState, WorkerId};
use crate::pylong::PyLong;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
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

    /// Iterates until `running` is cleared (false) or the clock passes `until` (true), asking
    /// `look` for the time every [`CLOCK_EVERY`] iterations: a slice of time for a cooperative
    /// scheduler, on whatever clock it runs on.
    pub fn count_until(
        &mut self,
        running: &AtomicBool,
        counter: &AtomicU64,
        until: Instant,
        mut look: impl FnMut() -> Instant,
    ) -> bool {
        loop {
            for _ in 0..CLOCK_EVERY {
                if !self.step(running, counter) {
                    return false;
                }
            }
            if look() >= until {
                return true;
            }
        }
    }
}

/// The default bignum cap: `z` restarts from 10 once it has more bits than this.
///
/// The same cap as the reference experiment's (`--bignum-cap-bits`, passed on by
/// `--reference`). With CPython-like multiplication the last step under it, squaring a 14 M-bit
/// `z` into 28 M bits, lasts about 3 s on the development machine, as it does in CPython; one step
/// more would last about 9 s and the next 27 s, so the cap keeps the late stop (and a page's
/// run) to seconds, not minutes.
pub const DEFAULT_BIGNUM_CAP_BITS: u64 = 20_000_000;

/// The default length of one operation of the `short` load.
pub const DEFAULT_SHORT_OP: Duration = Duration::from_micros(5);

/// The default buffer of one operation of the `release` load: 8 MiB, as the reference experiment
/// hashes (CPython's hashlib releases the GIL for buffers over 2047 bytes).
pub const DEFAULT_RELEASE_BYTES: usize = 8 << 20;

/// The default blocking call of the `io` victim: 100 µs, as `time.sleep(0.0001)`.
pub const DEFAULT_IO_OP: Duration = Duration::from_micros(100);

/// The default period of the `latency` victim's client: a request every 10 ms.
pub const DEFAULT_PERIOD: Duration = Duration::from_millis(10);

/// The thread being measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Victim {
    /// The seed's incrementer: counts as fast as it can.
    Incrementer,
    /// An I/O loop: a short blocking call with the lock released around it, as CPython releases
    /// the GIL for I/O, then the count; it counts calls.
    Io {
        /// Length of one blocking call.
        #[serde(
            serialize_with = "crate::scenario::serialize_duration_ms",
            rename = "op_ms"
        )]
        op: Duration,
    },
    /// A time-sensitive thread (CPython's ccbench latency test): a client outside the interpreter
    /// sends a request every `period` over a loopback socket; the victim waits for each in a
    /// blocking receive with the lock released and counts the requests answered. Its latency runs
    /// from the client's send to the victim holding the lock again.
    Latency {
        /// How often the client sends.
        #[serde(
            serialize_with = "crate::scenario::serialize_duration_ms",
            rename = "period_ms"
        )]
        period: Duration,
    },
    /// An echo server's handler (the echo-server experiment): a client outside the interpreter
    /// sends a request, waits for the answer, sends the next; the victim receives and answers
    /// each, the lock released around both calls, and counts the requests answered.
    Server,
}

impl Victim {
    /// The I/O victim with the default call.
    pub const IO: Victim = Victim::Io { op: DEFAULT_IO_OP };
    /// The latency victim with the default period.
    pub const LATENCY: Victim = Victim::Latency {
        period: DEFAULT_PERIOD,
    };

    /// `incrementer`, `io`, `latency` or `server`.
    pub fn name(&self) -> &'static str {
        match self {
            Victim::Incrementer => "incrementer",
            Victim::Io { .. } => "io",
            Victim::Latency { .. } => "latency",
            Victim::Server => "server",
        }
    }

    /// Whether its count is requests answered by a client outside the interpreter.
    pub fn answers_requests(&self) -> bool {
        matches!(self, Victim::Latency { .. } | Victim::Server)
    }
}

/// How long requests waited: from the client's send to the victim holding the lock again
/// (latency victim), or the client's round trip (server victim), in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatencyStats {
    /// Requests measured.
    pub n: u64,
    /// Their mean.
    pub mean_ms: f64,
    /// The median.
    pub p50_ms: f64,
    /// The 90th percentile.
    pub p90_ms: f64,
    /// The 99th percentile.
    pub p99_ms: f64,
    /// The longest.
    pub max_ms: f64,
}

impl LatencyStats {
    /// The statistics of `samples` in nanoseconds (sorted in place); nearest-rank percentiles.
    pub fn from_ns(samples: &mut [u64]) -> Self {
        let n = samples.len();
        if n == 0 {
            return Self::default();
        }
        // Not the library's sort: it would cost the page's `.wasm` 4 KB (crate::small_sort).
        crate::small_sort::heap_sort(samples);
        let ms = |ns: u64| ns as f64 / 1e6;
        let rank = |p: f64| samples[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        Self {
            n: n as u64,
            mean_ms: samples.iter().map(|&v| v as f64).sum::<f64>() / n as f64 / 1e6,
            p50_ms: ms(rank(0.50)),
            p90_ms: ms(rank(0.90)),
            p99_ms: ms(rank(0.99)),
            max_ms: ms(samples[n - 1]),
        }
    }
}

/// What the victim did in one run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct VictimOutcome {
    /// The last count published (iterations, calls or requests answered).
    pub count: u64,
    /// How long the requests waited (latency and server victims).
    pub latency: Option<LatencyStats>,
}

/// Runs `victim` until `running` is cleared, publishing its count in `counter`. An error only
/// for a victim whose socket could not be used.
pub fn run_victim(
    ts: &mut impl ThreadState,
    victim: Victim,
    running: &AtomicBool,
    counter: &AtomicU64,
) -> Result<VictimOutcome, String> {
    let (count, latency) = match victim {
        Victim::Incrementer => (incrementer(ts, running, counter), None),
        Victim::Io { op } => {
            let mut io = IoLoop::default();
            while io.step(ts, op, running, counter) {
                ts.checkpoint();
            }
            (counter.load(Relaxed), None)
        }
        Victim::Latency { period } => {
            let (n, stats) = net::latency(ts, period, running, counter)?;
            (n, Some(stats))
        }
        Victim::Server => {
            let (n, stats) = net::server(ts, running, counter)?;
            (n, Some(stats))
        }
    };
    Ok(VictimOutcome { count, latency })
}

/// The I/O victim's state between two of its calls.
#[derive(Clone, Copy, Debug, Default)]
pub struct IoLoop {
    calls: u64,
}

impl IoLoop {
    /// One call of `op` with the lock released around it; false (and no call) once `running` is
    /// cleared.
    pub fn step(
        &mut self,
        ts: &mut impl ThreadState,
        op: Duration,
        running: &AtomicBool,
        counter: &AtomicU64,
    ) -> bool {
        if !running.load(Relaxed) {
            return false;
        }
        ts.allow_threads(|| blocking_call(op));
        self.called(counter);
        true
    }

    /// Counts one finished call.
    pub fn called(&mut self, counter: &AtomicU64) {
        self.calls += 1;
        counter.store(self.calls, Relaxed);
    }
}

/// The I/O victim's blocking call: the thread waits, as in `time.sleep` or a `recv`, using no CPU.
pub fn blocking_call(op: Duration) {
    std::thread::sleep(op);
}

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
    /// C code that releases the lock around a long computation (`Py_BEGIN_ALLOW_THREADS`), as
    /// `hashlib.sha256(data)` does: one SHA-256 of a buffer per operation.
    Release {
        /// The buffer hashed by each operation.
        bytes: usize,
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

    /// The release load with the default buffer.
    pub const RELEASE: Load = Load::Release {
        bytes: DEFAULT_RELEASE_BYTES,
    };

    /// `bignum`, `short` or `release`.
    pub fn name(&self) -> &'static str {
        match self {
            Load::Bignum { .. } => "bignum",
            Load::Short { .. } => "short",
            Load::Release { .. } => "release",
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
    /// For bignum, the size in bits of each timed operation's result (beside `op_s`); empty for
    /// the other loads.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub op_bits: Vec<u64>,
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
    if let Load::Release { .. } = load {
        // Each operation drops the lock and takes it back: a plain loop, as `allow_threads`
        // needs the thread state that `eval_loop` holds.
        while running.load(Relaxed) {
            thread.op_releasing(ts, log, worker);
            ts.checkpoint();
        }
        return thread.report;
    }
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
    z: PyLong,
    /// The release load's buffer (empty for the others).
    data: Vec<u8>,
    report: LoadReport,
}

impl LoadThread {
    /// A load whose operations run elsewhere (the cooperative executor hands the release load's
    /// hashing to another worker): no buffer of its own.
    pub fn new_elsewhere(load: Load) -> Self {
        Self {
            load,
            z: PyLong::from_u32(10),
            data: Vec::new(),
            report: LoadReport::default(),
        }
    }

    /// What this load runs.
    pub fn load(&self) -> Load {
        self.load
    }

    /// A load that has done nothing yet (`z = 10`).
    pub fn new(load: Load) -> Self {
        Self {
            load,
            z: PyLong::from_u32(10),
            data: match load {
                Load::Release { bytes } => release_buffer(bytes),
                _ => Vec::new(),
            },
            report: LoadReport::default(),
        }
    }

    /// One operation of the release load: drops the lock, hashes, takes the lock back.
    pub fn op_releasing(
        &mut self,
        ts: &mut impl ThreadState,
        log: Option<&EventLog>,
        worker: WorkerId,
    ) {
        if let Some(log) = log {
            log.push(EventKind::ReleaseStart, worker, worker);
        }
        let started = Instant::now();
        let data = &self.data;
        ts.allow_threads(|| core::hint::black_box(release_op(data)));
        self.op_done(started);
    }

    /// The work of one release operation, to run without the lock: SHA-256 of the buffer.
    pub fn release_work(&self) -> impl FnOnce() + Send + '_ {
        let data = &self.data;
        move || {
            core::hint::black_box(release_op(data));
        }
    }

    /// Records one operation that started at `started` and ended now.
    pub fn op_done(&mut self, started: Instant) {
        self.op_took(started.elapsed());
    }

    /// Records one operation that lasted `took`.
    pub fn op_took(&mut self, took: Duration) {
        self.report.ops += 1;
        if self.report.op_s.len() < LoadReport::MAX_TIMED_OPS {
            self.report.op_s.push(took.as_secs_f64());
        }
    }

    /// One operation that holds the lock throughout (one `z * z`, or one short operation), logged
    /// as starting now by `worker`. The release load's operations go through
    /// [`LoadThread::op_releasing`] instead; here one runs with the lock held.
    pub fn op(&mut self, log: Option<&EventLog>, worker: WorkerId) {
        if let Some(log) = log {
            log.push(EventKind::OpStart, worker, worker);
        }
        let started = Instant::now();
        match self.load {
            Load::Bignum { .. } => self.square_step(),
            Load::Short { op } => busy_for(started, op),
            Load::Release { .. } => {
                core::hint::black_box(release_op(&self.data));
            }
        }
        self.op_done(started);
    }

    /// The work of one operation of the bignum load, untimed: `z = z * z`, and `z` back to 10
    /// past the cap (nothing for the other loads).
    pub fn square_step(&mut self) {
        let Load::Bignum { cap_bits } = self.load else {
            return;
        };
        self.z = square(&self.z);
        if self.report.op_bits.len() < LoadReport::MAX_TIMED_OPS {
            self.report.op_bits.push(self.z.bits());
        }
        if self.z.bits() > cap_bits {
            self.z = PyLong::from_u32(10);
            self.report.restarts += 1;
        }
    }

    /// What the load did so far.
    pub fn report(&self) -> &LoadReport {
        &self.report
    }
}

/// One operation of the bignum load: `z * z`, never interrupted, multiplied the way CPython
/// multiplies (30-bit digits, schoolbook below the Karatsuba cutoff, Karatsuba above), so each
/// step lasts about as long as CPython's does on the same machine.
#[inline(never)]
pub fn square(z: &PyLong) -> PyLong {
    z.square()
}

/// The release load's buffer of `bytes` bytes: bytes that are not all alike, so no hashing
/// shortcut could apply. Shared with the cooperative mode's hashing worker.
///
/// The pattern repeats every 251 bytes, so one period is computed and then copied: the load
/// builds its buffer with the lock held, and this keeps that to about a millisecond for 8 MiB
/// (a byte-by-byte modulo took about 70 ms, a long first hold no CPython run has).
pub fn release_buffer(bytes: usize) -> Vec<u8> {
    const PERIOD: usize = 251;
    let period: Vec<u8> = (0..PERIOD).map(|i| (i * 131 % PERIOD) as u8).collect();
    let mut data = Vec::with_capacity(bytes);
    while data.len() < bytes {
        let take = (bytes - data.len()).min(PERIOD);
        data.extend_from_slice(&period[..take]);
    }
    data
}

/// One operation of the release load: the SHA-256 digest of `data` (natively `sha2`'s, in the
/// page [`sha256::digest`], which weighs less).
pub fn release_op(data: &[u8]) -> [u8; 32] {
    #[cfg(target_arch = "wasm32")]
    return sha256::digest(data);
    #[cfg(not(target_arch = "wasm32"))]
    {
        use sha2::Digest;
        sha2::Sha256::digest(data).into()
    }
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
    fn release_buffer_is_the_byte_pattern_at_every_length() {
        for bytes in [0, 1, 250, 251, 252, 1000, 8 * 1024 * 1024 + 7] {
            let data = release_buffer(bytes);
            assert_eq!(data.len(), bytes);
            assert!(data
                .iter()
                .enumerate()
                .all(|(i, &b)| b == (i * 131 % 251) as u8));
        }
    }

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
    fn the_release_load_hashes_for_real() {
        // SHA-256("abc"), the standard's first test vector.
        let digest = release_op(b"abc");
        assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf]);
        assert_eq!(digest[28..], [0xf2, 0x00, 0x15, 0xad]);
    }

    #[test]
    fn square_is_real_bignum_arithmetic() {
        let mut z = PyLong::from_u32(10);
        for _ in 0..4 {
            z = square(&z);
        }
        let z = num_bigint::BigUint::from(&z);
        assert_eq!(z, num_bigint::BigUint::from(10u32).pow(16));
        assert_eq!(z.to_string(), format!("1{}", "0".repeat(16)));
    }
}
