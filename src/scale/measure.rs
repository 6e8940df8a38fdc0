//! Measuring the scaling test natively: the workers are `std::thread`s, or child processes (this
//! binary re-executed with [`WORKER_SUBCOMMAND`]) that share one cell of memory with the parent
//! through the same `memfd` mapping, death signal and kill-on-drop as the sweep's child
//! incrementer ([`crate::platform::native`]).
//!
//! One measurement: every worker reaches a start barrier; the parent stamps the start and lets
//! them go; each runs the load ([`run_load`], so the lock is taken, switched and released exactly
//! as in a sweep's runs) until the parent clears the stop flag `seconds` later, then writes its
//! count of operations and its end time into its slot of the cell. `elapsed_s` runs from the start
//! to the last worker's end (its operation in progress at the flag included), on
//! `CLOCK_MONOTONIC`, one clock for every process of the machine.

use super::{Mode, ScaleConfig, ScaleReport, ScaleResult, MAX_WORKERS};
use crate::gil::{FreeThread, Gil, WorkerId};
use crate::padded::CachePadded;
use crate::platform::native::{
    attach_to_parent, new_shared_cell, ChildProcess, Mapping, NativePlatform, SharedCell,
};
use crate::runner::RunError;
use crate::workload::{run_load, Load};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;
use web_time::Instant;

/// The hidden subcommand a worker process runs.
pub const WORKER_SUBCOMMAND: &str = "__scale-worker";

/// How long the workers may take to reach the start barrier.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long they may take to stop after the flag is cleared (a bignum operation lasts up to about
/// 3.5 s; a child that takes longer is killed).
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// What the parent and the workers of one measurement share: in this process's memory for
/// threads, in a `memfd` mapped by every process for processes. All-zero is the initial state.
#[repr(C)]
#[derive(Default)]
pub struct ScaleCell {
    running: CachePadded<AtomicBool>,
    /// Workers at the start barrier.
    ready: AtomicU32,
    /// Set once by the parent: the start signal.
    go: AtomicU32,
    slots: [CachePadded<Slot>; MAX_WORKERS],
}

/// One worker's report.
#[repr(C)]
#[derive(Default)]
struct Slot {
    ops: AtomicU64,
    /// `CLOCK_MONOTONIC` at its end, in nanoseconds.
    end_ns: AtomicU64,
    done: AtomicU32,
}

// SAFETY: `#[repr(C)]`, atomics (and padding) only, and all-zero is false / zero.
unsafe impl SharedCell for ScaleCell {}

/// `CLOCK_MONOTONIC` in nanoseconds: the same clock in every process of the machine (a
/// `std::time::Instant` cannot be passed to another process).
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Which lock a worker runs under.
#[derive(Clone, Copy)]
enum Lock<'a> {
    /// The one lock of the workers' interpreter.
    Shared(&'a Gil),
    /// A lock of its own with this switch interval.
    Own(Duration),
    /// None.
    Free,
}

/// One worker's body: the barrier, the load until the flag drops, the report in slot `index`.
fn work(cell: &ScaleCell, index: usize, load: Load, lock: Lock, parent_alive: &dyn Fn() -> bool) {
    cell.ready.fetch_add(1, AcqRel);
    while cell.go.load(Acquire) == 0 && parent_alive() {
        std::thread::yield_now();
    }
    let ops = match lock {
        Lock::Shared(gil) => {
            // Ids 1 to 8, one per thread of the interpreter.
            let id = (index + 1) as WorkerId;
            let mut t = gil.attach(id);
            run_load(&mut t, load, &cell.running, None, id).ops
        }
        Lock::Own(interval) => {
            let gil = Gil::new(interval);
            let mut t = gil.attach(1);
            run_load(&mut t, load, &cell.running, None, 1).ops
        }
        Lock::Free => run_load(&mut FreeThread::default(), load, &cell.running, None, 1).ops,
    };
    let slot = &cell.slots[index];
    slot.ops.store(ops, Relaxed);
    slot.end_ns.store(monotonic_ns(), Relaxed);
    slot.done.store(1, Release);
}

/// Where the cell lives.
enum Cell {
    Local(Arc<ScaleCell>),
    Mapped(Mapping<ScaleCell>),
}

impl Cell {
    fn get(&self) -> &ScaleCell {
        match self {
            Cell::Local(c) => c,
            Cell::Mapped(m) => m.cell(),
        }
    }
}

/// The workers of one measurement, stopped and waited for (threads) or killed (processes) on
/// every way out, so none is left running or waiting at the barrier.
struct Workers {
    cell: Cell,
    threads: Vec<std::thread::JoinHandle<()>>,
    children: Vec<ChildProcess>,
}

impl Workers {
    /// Stops everything and waits for the threads; an error if one panicked.
    fn stop_and_join(&mut self) -> Result<(), RunError> {
        let cell = self.cell.get();
        cell.running.0.store(false, Relaxed);
        cell.go.store(1, Release);
        let mut out = Ok(());
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                out = Err(RunError("a worker thread panicked".into()));
            }
        }
        out
    }

    /// An error if a child process has ended before its report.
    fn check_children(&mut self) -> Result<(), RunError> {
        let cell = self.cell.get();
        for (i, c) in self.children.iter_mut().enumerate() {
            if let Ok(Some(status)) = c.0.try_wait() {
                if cell.slots[i].done.load(Acquire) != 1 {
                    return Err(RunError(format!(
                        "the process of worker {} died before reporting ({status})",
                        i + 1
                    )));
                }
            }
        }
        Ok(())
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
        // The children are killed and reaped by their own handles' drop.
    }
}

/// Measures `mode` with `n` workers running `config.load` for `config.seconds`. `observe` is
/// called about every 100 ms with the time since the start signal.
pub fn measure(
    platform: &NativePlatform,
    config: &ScaleConfig,
    mode: Mode,
    n: usize,
    observe: &mut dyn FnMut(Duration),
) -> Result<ScaleResult, RunError> {
    if !(1..=MAX_WORKERS).contains(&n) {
        return Err(RunError(format!(
            "{n} workers: choose from 1 to {MAX_WORKERS}"
        )));
    }
    let load = config.load;
    let mut workers = match mode {
        Mode::Process => {
            let (fd, map) = new_shared_cell::<ScaleCell>()?;
            map.cell().running.0.store(true, Relaxed);
            let mut w = Workers {
                cell: Cell::Mapped(map),
                threads: Vec::new(),
                children: Vec::new(),
            };
            for index in 0..n {
                w.children.push(ChildProcess::spawn(
                    platform.child_exe(),
                    &[
                        WORKER_SUBCOMMAND.into(),
                        fd.as_raw_fd().to_string(),
                        index.to_string(),
                        load_arg(load),
                        config.interval.as_nanos().to_string(),
                        std::process::id().to_string(),
                    ],
                )?);
            }
            w
        }
        _ => {
            let cell = Arc::new(ScaleCell::default());
            cell.running.0.store(true, Relaxed);
            let mut w = Workers {
                cell: Cell::Local(cell.clone()),
                threads: Vec::new(),
                children: Vec::new(),
            };
            let gil = Arc::new(Gil::new(config.interval));
            let interval = config.interval;
            for index in 0..n {
                let (cell, gil) = (cell.clone(), gil.clone());
                let spawned = std::thread::Builder::new()
                    .name(format!("scale worker {}", index + 1))
                    .spawn(move || {
                        let lock = match mode {
                            Mode::Thread => Lock::Shared(&gil),
                            Mode::Interpreter => Lock::Own(interval),
                            _ => Lock::Free,
                        };
                        work(&cell, index, load, lock, &|| true);
                    })
                    .map_err(|e| RunError(format!("cannot start a worker thread: {e}")))?;
                w.threads.push(spawned);
            }
            w
        }
    };

    let started = Instant::now();
    while (workers.cell.get().ready.load(Acquire) as usize) < n {
        workers.check_children()?;
        if started.elapsed() > START_TIMEOUT {
            return Err(RunError(format!(
                "the workers did not reach the start within {} s",
                START_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let go_ns = monotonic_ns();
    let go = Instant::now();
    workers.cell.get().go.store(1, Release);
    loop {
        let elapsed = go.elapsed();
        if elapsed >= config.seconds {
            break;
        }
        observe(elapsed);
        workers.check_children()?;
        std::thread::sleep((config.seconds - elapsed).min(Duration::from_millis(100)));
    }
    workers.cell.get().running.0.store(false, Relaxed);
    let stopped = Instant::now();
    // Threads are joined; processes report through their slots.
    workers.stop_and_join()?;
    let all_done = |w: &Workers| (0..n).all(|i| w.cell.get().slots[i].done.load(Acquire) == 1);
    while !all_done(&workers) {
        workers.check_children()?;
        if stopped.elapsed() > STOP_TIMEOUT {
            return Err(RunError(format!(
                "the workers did not stop within {} s of the flag",
                STOP_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let cell = workers.cell.get();
    let worker_ops: Vec<u64> = (0..n).map(|i| cell.slots[i].ops.load(Relaxed)).collect();
    let end_ns = (0..n)
        .map(|i| cell.slots[i].end_ns.load(Relaxed))
        .max()
        .unwrap_or(go_ns);
    let elapsed_s = end_ns.saturating_sub(go_ns) as f64 * 1e-9;
    let ops: u64 = worker_ops.iter().sum();
    Ok(ScaleResult {
        mode,
        workers: n,
        ops,
        elapsed_s,
        ops_per_s: if elapsed_s > 0.0 {
            ops as f64 / elapsed_s
        } else {
            0.0
        },
        speedup: None,
        worker_ops,
    })
}

/// What [`run_scale`] tells its caller as it goes.
pub trait ScaleObserver {
    /// Measurement `index` (of `mode` at `workers`) starts.
    fn started(&mut self, _index: usize, _mode: Mode, _workers: usize) {}
    /// It has run for `elapsed`.
    fn progress(&mut self, _index: usize, _elapsed: Duration) {}
    /// It ended with `result` (its speedup set).
    fn finished(&mut self, _index: usize, _result: &ScaleResult) {}
}

/// Every measurement of `config`, one after the other; the first failure ends it, with an error
/// that names the measurement.
pub fn run_scale(
    platform: &NativePlatform,
    config: ScaleConfig,
    observer: &mut dyn ScaleObserver,
) -> Result<ScaleReport, RunError> {
    let runs: Vec<(Mode, usize)> = config.runs().collect();
    let mut report = ScaleReport::new(config);
    for (index, (mode, n)) in runs.into_iter().enumerate() {
        observer.started(index, mode, n);
        let result = measure(platform, &report.config, mode, n, &mut |e| {
            observer.progress(index, e)
        });
        match result {
            Ok(r) => {
                report.push(r);
                if let Some(r) = report.results.last() {
                    observer.finished(index, r);
                }
            }
            Err(e) => {
                let plural = if n == 1 { "" } else { "s" };
                return Err(RunError(format!("{mode} with {n} worker{plural}: {e}")));
            }
        }
    }
    Ok(report)
}

/// The cores this machine offers (`std::thread::available_parallelism`).
pub fn machine_cores() -> Option<usize> {
    std::thread::available_parallelism().ok().map(|n| n.get())
}

/// The load as a worker process's argument: `bignum:CAP_BITS`, `short:NANOSECONDS` or
/// `release:BYTES`.
pub fn load_arg(load: Load) -> String {
    match load {
        Load::Bignum { cap_bits } => format!("bignum:{cap_bits}"),
        Load::Short { op } => format!("short:{}", op.as_nanos()),
        Load::Release { bytes } => format!("release:{bytes}"),
    }
}

/// The load named by [`load_arg`]'s argument.
pub fn parse_load_arg(arg: &str) -> Result<Load, String> {
    let bad = || format!("bad load argument '{arg}'");
    let (kind, n) = arg.split_once(':').ok_or_else(bad)?;
    let n: u64 = n.parse().map_err(|_| bad())?;
    match kind {
        "bignum" => Ok(Load::Bignum { cap_bits: n }),
        "short" => Ok(Load::Short {
            op: Duration::from_nanos(n),
        }),
        "release" => Ok(Load::Release {
            bytes: usize::try_from(n).map_err(|_| bad())?,
        }),
        _ => Err(bad()),
    }
}

/// The worker process's side: what `gil-lab __scale-worker FD INDEX LOAD INTERVAL_NS PARENT_PID`
/// runs. An interpreter of its own: a fresh lock, the load as its only thread.
pub fn worker_main(
    fd: RawFd,
    index: usize,
    load: Load,
    interval: Duration,
    parent: u32,
) -> Result<(), RunError> {
    if index >= MAX_WORKERS {
        return Err(RunError(format!("worker index {index} is out of range")));
    }
    let (map, parent_alive) = attach_to_parent::<ScaleCell>(fd, parent)?;
    work(map.cell(), index, load, Lock::Own(interval), &parent_alive);
    if !parent_alive() {
        return Err(RunError("the parent process is gone".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_arguments_round_trip() {
        for load in [
            Load::BIGNUM,
            Load::SHORT,
            Load::RELEASE,
            Load::Short {
                op: Duration::from_micros(40),
            },
        ] {
            assert_eq!(parse_load_arg(&load_arg(load)), Ok(load));
        }
        assert!(parse_load_arg("short").is_err());
        assert!(parse_load_arg("disk:3").is_err());
    }

    #[test]
    fn threads_measure_in_this_process_and_count_every_worker() {
        let platform = NativePlatform::with_child_exe("/nonexistent");
        let config = ScaleConfig {
            seconds: Duration::from_millis(100),
            ..ScaleConfig::default()
        };
        for mode in [Mode::Thread, Mode::Interpreter, Mode::FreeThread] {
            let mut seen = 0;
            let r = measure(&platform, &config, mode, 3, &mut |_| seen += 1).unwrap();
            assert_eq!(r.worker_ops.len(), 3);
            assert_eq!(r.ops, r.worker_ops.iter().sum::<u64>());
            assert!(r.ops > 0, "{mode}: {r:?}");
            assert!(r.elapsed_s >= 0.1 && r.elapsed_s < 5.0, "{mode}: {r:?}");
            assert!(seen >= 1, "{mode}: observed while it ran");
        }
    }

    #[test]
    fn a_process_that_cannot_start_is_an_error_not_a_hang() {
        let platform = NativePlatform::with_child_exe("/nonexistent/gil-lab");
        let config = ScaleConfig::default();
        let e = measure(&platform, &config, Mode::Process, 2, &mut |_| {}).unwrap_err();
        assert!(e.0.contains("cannot start a child process"), "{e}");
    }
}
