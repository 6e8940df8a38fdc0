//! Benchmarks of the lock and the workloads: `cargo bench --bench gil`.
//!
//! - `checkpoint/*`: the cost of one uncontended checkpoint (criterion);
//! - `handoff`: how long a waiter waits for a holder that passes checkpoints often, against the
//!   switch interval (p50 and p99 over many hand-offs);
//! - `incrementer`: the incrementer's rate alone in each mode, interleaved in one run, with the
//!   ratio shared-lock / free (the emulation must not tax the thread it measures).
//! - `loops`: instructions per iteration of the incrementer's compiled loop in each mode, read
//!   from this binary with objdump;
//! - `bignum`: the time of each `z * z` step and its growth factor.

use criterion::{black_box, Criterion};
use gil_lab::gil::{FreeThread, Gil, ThreadState};
use gil_lab::padded::CachePadded;
use gil_lab::pylong::PyLong;
use gil_lab::workload::{incrementer, square};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

fn checkpoint(c: &mut Criterion) {
    let mut group = c.benchmark_group("checkpoint");
    let gil = Gil::new(Duration::from_millis(5));
    let mut t = gil.attach(1);
    group.bench_function("shared-lock", |b| b.iter(|| black_box(&mut t).checkpoint()));
    let mut f = FreeThread::default();
    group.bench_function("free", |b| b.iter(|| black_box(&mut f).checkpoint()));
    group.finish();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn handoff() {
    println!("\nhandoff: a waiter behind a holder that passes a checkpoint every ~1 us");
    println!(
        "{:>12} {:>8} {:>12} {:>12}",
        "interval", "samples", "p50", "p99"
    );
    for interval_us in [100u64, 1_000, 5_000] {
        let interval = Duration::from_micros(interval_us);
        let samples = (2_000_000 / interval_us).clamp(40, 2_000) as usize;
        let gil = Arc::new(Gil::new(interval));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(Barrier::new(2));
        let holder = {
            let (gil, stop, started) = (gil.clone(), stop.clone(), started.clone());
            std::thread::spawn(move || {
                let mut t = gil.attach(1);
                started.wait();
                while !stop.load(Relaxed) {
                    let end = Instant::now() + Duration::from_micros(1);
                    while Instant::now() < end {}
                    t.checkpoint();
                }
            })
        };
        started.wait();
        let mut waits = Vec::with_capacity(samples);
        for _ in 0..samples {
            let asked = Instant::now();
            let mut t = gil.attach(2);
            waits.push(asked.elapsed());
            // Hand it back and let the holder settle in before asking again.
            t.allow_threads(|| std::thread::sleep(Duration::from_micros(200)));
            drop(t);
            std::thread::sleep(Duration::from_micros(200));
        }
        stop.store(true, Relaxed);
        holder.join().unwrap();
        waits.sort();
        println!(
            "{:>9.3} ms {:>8} {:>9.3} ms {:>9.3} ms",
            interval.as_secs_f64() * 1e3,
            samples,
            percentile(&waits, 0.5).as_secs_f64() * 1e3,
            percentile(&waits, 0.99).as_secs_f64() * 1e3
        );
    }
}

/// No eval breaker at all: the loop's speed limit, for reference (no CPython build runs like this).
struct Bare;

impl ThreadState for Bare {
    fn checkpoint(&mut self) {}
    fn eval_loop(&mut self, mut step: impl FnMut() -> bool) {
        while step() {}
    }
    fn allow_threads<R>(&mut self, f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// The incrementer's loop with the store wasm has to use: WebAssembly's only atomic store is
/// sequentially consistent, which x86 engines compile to a locked exchange. For comparing the
/// browser's rate like for like.
#[inline(never)]
fn seqcst_incrementer(running: &AtomicBool, counter: &AtomicU64) -> u64 {
    let mut x: u64 = 0;
    while running.load(std::sync::atomic::Ordering::SeqCst) {
        counter.store(x, std::sync::atomic::Ordering::SeqCst);
        x += 1;
    }
    counter.load(Relaxed)
}

/// Runs the incrementer alone for `for_` and returns its rate in increments per second.
fn rate(mode: &str, for_: Duration) -> f64 {
    let running = Arc::new(AtomicBool::new(true));
    // On a line of its own, as in the runner.
    let counter = CachePadded::new(AtomicU64::new(0));
    let stopper = {
        let running = running.clone();
        std::thread::spawn(move || {
            std::thread::sleep(for_);
            running.store(false, Relaxed);
        })
    };
    let started = Instant::now();
    let count = match mode {
        "free" => incrementer(&mut FreeThread::default(), &running, &counter),
        "bare" => incrementer(&mut Bare, &running, &counter),
        "seqcst" => seqcst_incrementer(&running, &counter),
        _ => {
            let gil = Gil::new(Duration::from_millis(5));
            let mut t = gil.attach(1);
            incrementer(&mut t, &running, &counter)
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    stopper.join().unwrap();
    count as f64 / elapsed
}

/// The machine's CPU, for the figures' caption.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The incrementer alone in each mode, as ratios to the free-threaded loop that noise on a
/// shared machine cannot fake: many short rounds, each running every mode back to back in a
/// rotated order, and each round's rate divided by the same round's free rate. A slow spell of the
/// machine hits a whole round alike and cancels out of its ratios; the spread of the per-round
/// ratios (10th to 90th percentile) says how far one figure can be trusted.
fn incrementer_rates() {
    let modes = ["shared-lock", "isolated", "free", "bare", "seqcst"];
    let free = 2;
    let rounds = 41;
    let each = Duration::from_millis(100);
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    for round in 0..rounds {
        let mut this = vec![0.0; modes.len()];
        for k in 0..modes.len() {
            let i = (round + k) % modes.len();
            this[i] = rate(modes[i], each);
        }
        for i in 0..modes.len() {
            rates[i].push(this[i]);
            ratios[i].push(this[i] / this[free]);
        }
    }
    let pct = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[((v.len() - 1) as f64 * p).round() as usize]
    };
    println!(
        "\nincrementer alone on {}: {rounds} rounds of {} ms per mode, modes interleaved \
         (bare: no eval breaker; seqcst: bare with the SeqCst store wasm uses)",
        cpu_model(),
        each.as_millis()
    );
    println!(
        "{:>12} {:>12} {:>14} {:>18}",
        "mode", "median M/s", "x free (median)", "x free (p10..p90)"
    );
    for (i, mode) in modes.iter().enumerate() {
        let m = pct(&mut rates[i], 0.5);
        let r = pct(&mut ratios[i], 0.5);
        let (lo, hi) = (pct(&mut ratios[i], 0.1), pct(&mut ratios[i], 0.9));
        println!(
            "{mode:>12} {:>12.1} {r:>14.3} {:>18}",
            m / 1e6,
            format!("{lo:.3}..{hi:.3}")
        );
    }
}

/// Instructions per iteration of the incrementer's compiled loop in each mode, read from this
/// binary's own machine code (`objdump`): a figure no noise can move. A monomorph is told apart by
/// the cold call its loop makes (`answer_drop_request`: shared lock; `handle_pending`: free; none:
/// bare); the loop is the instructions from a backward jump's target to that jump.
fn loop_instructions() {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let out = std::process::Command::new("objdump")
        .args(["-d", "--no-show-raw-insn", "-C"])
        .arg(&exe)
        .output();
    let Ok(out) = out else {
        println!("\nincrementer loops: objdump (binutils) is not installed; skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    println!("\nincrementer's compiled loop, instructions per iteration (objdump of this binary)");
    for body in text.split("\n\n").filter(|f| {
        f.lines()
            .next()
            .is_some_and(|l| l.ends_with("<gil_lab::workload::incrementer>:"))
    }) {
        let insns: Vec<(u64, &str)> = body
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (addr, rest) = l.trim().split_once(':')?;
                Some((u64::from_str_radix(addr, 16).ok()?, rest.trim()))
            })
            .filter(|(_, i)| !i.starts_with("data16") && !i.contains("nop") && *i != "int3")
            .collect();
        let mode = if body.contains("answer_drop_request") {
            "shared-lock"
        } else if body.contains("handle_pending") {
            "free"
        } else {
            "bare"
        };
        // The first backward jump closes the hot loop.
        let back = insns.iter().enumerate().find_map(|(k, (addr, i))| {
            let target = i.split_whitespace().nth(1)?;
            let target = u64::from_str_radix(target, 16).ok()?;
            (i.starts_with('j') && target < *addr).then_some((k, target))
        });
        if let Some((k, target)) = back {
            let n = insns[..=k].iter().filter(|(a, _)| *a >= target).count();
            let loads = insns[..=k]
                .iter()
                .filter(|(a, i)| *a >= target && i.starts_with("movzbl ("))
                .count();
            println!(
                "{mode:>12}: {n} instructions, {loads} flag loads, loop at 0x{target:x} ({}-byte aligned)",
                if target % 64 == 0 { 64 } else { target & target.wrapping_neg() }
            );
        }
    }
}

fn bignum_steps() {
    println!("\nbignum: z = 10, then z = z * z");
    println!(
        "{:>5} {:>12} {:>12} {:>8}",
        "step", "bits", "seconds", "growth"
    );
    let mut z = PyLong::from_u32(10);
    let mut last = None;
    for step in 1..=23 {
        let t = Instant::now();
        z = square(&z);
        let s = t.elapsed().as_secs_f64();
        if step >= 14 {
            let growth = last
                .map(|l: f64| format!("{:.2}x", s / l))
                .unwrap_or_default();
            println!("{step:>5} {:>12} {s:>12.6} {growth:>8}", z.bits());
        }
        last = Some(s);
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    checkpoint(&mut c);
    c.final_summary();
    // The custom measurements take a while: `cargo bench --bench gil -- NAME` runs the one
    // named (handoff, incrementer, loops, bignum), and any other filter (e.g. checkpoint) none.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let run = |name: &str| filter.as_deref().is_none_or(|f| f == name);
    if run("handoff") {
        handoff();
    }
    if run("incrementer") {
        incrementer_rates();
    }
    if run("loops") {
        loop_instructions();
    }
    if run("bignum") {
        bignum_steps();
    }
}
