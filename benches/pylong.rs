//! Per-step time of the bignum load's `z * z`, `PyLong` against real CPython on this machine:
//! `cargo bench --bench pylong` (CPython is `python3`, or the interpreter in `$PYTHON`).
//!
//! Step k squares `z = 10^(2^(k-1))` into `10^(2^k)`. For each step the same `z` is squared by
//! `PyLong`, by num-bigint (what the load used before) and by one CPython process kept open for the
//! whole run, interleaved so that both see the machine in the same state. Each figure is the
//! median of several runs of the step (fewer as steps grow, one above about 0.5 s); the run stops
//! after the first step at which CPython takes more than `STOP_AFTER_S`, or at `LAST_STEP`.
//! It prints a Markdown table: the ratio column is `PyLong / CPython`.

use gil_lab::pylong::PyLong;
use num_bigint::BigUint;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// Stop after the first step at which CPython's `z * z` takes longer than this.
const STOP_AFTER_S: f64 = 4.0;

/// The last step measured in any case (10^(2^26) has 223 M bits).
const LAST_STEP: u32 = 26;

/// How long the repeated runs of one step may take, per implementation.
const BUDGET_S: f64 = 0.3;

/// Reads `step reps` lines; squares its own `z` up to `10^(2^(step-1))`, then times `z * z`
/// `reps` times and prints the result's bit length and the median time.
const CPYTHON_STEPS: &str = r#"
import sys, time
z, k = 10, 0
for line in sys.stdin:
    step, reps = map(int, line.split())
    while k < step - 1:
        z = z * z
        k += 1
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        y = z * z
        times.append(time.perf_counter() - start)
        bits = y.bit_length()
        del y
    times.sort()
    print(bits, times[len(times) // 2], flush=True)
"#;

/// Median seconds of `reps` runs of `op`, each result dropped outside the timing.
fn median_s<T>(reps: u32, mut op: impl FnMut() -> T) -> f64 {
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let started = Instant::now();
            let result = black_box(op());
            let elapsed = started.elapsed().as_secs_f64();
            drop(result);
            elapsed
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

fn main() -> ExitCode {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let version = Command::new(&python).arg("--version").output();
    let Ok(version) = version else {
        eprintln!("this benchmark compares with CPython: install python3, or set PYTHON to one");
        return ExitCode::from(2);
    };
    let spawned = Command::new(&python)
        .args(["-c", CPYTHON_STEPS])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let Ok(mut cpython) = spawned else {
        eprintln!("could not start {python}: install python3, or set PYTHON to one");
        return ExitCode::from(2);
    };
    let (Some(mut to_cpython), Some(from_cpython)) = (cpython.stdin.take(), cpython.stdout.take())
    else {
        eprintln!("could not talk to {python} through pipes");
        return ExitCode::from(2);
    };
    let mut from_cpython = BufReader::new(from_cpython).lines();

    println!(
        "Per-step time of z * z: {} against PyLong and num-bigint; {}",
        String::from_utf8_lossy(&version.stdout).trim(),
        cpu_model()
    );
    println!();
    println!("| step | result bits | PyLong s | CPython s | PyLong / CPython | num-bigint s |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");

    let (mut z, mut z_big) = (PyLong::from_u32(10), BigUint::from(10u32));
    for step in 1..=LAST_STEP {
        // A first run sizes the repetitions and warms the allocator.
        let started = Instant::now();
        let next = z.square();
        let first_s = started.elapsed().as_secs_f64();
        let reps = ((BUDGET_S / first_s.max(1e-9)) as u32).clamp(1, 201) | 1;

        let pylong_s = median_s(reps, || z.square());
        let big_s = median_s(reps, || &z_big * &z_big);
        let asked = writeln!(to_cpython, "{step} {reps}").and_then(|()| to_cpython.flush());
        let answer = from_cpython.next();
        let (Ok(()), Some(Ok(answer))) = (asked, answer) else {
            eprintln!("{python} stopped answering at step {step}");
            return ExitCode::from(2);
        };
        let mut fields = answer.split_whitespace();
        let cpython_bits: u64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
        let cpython_s: f64 = fields.next().and_then(|f| f.parse().ok()).unwrap_or(f64::NAN);
        if cpython_bits != next.bits() {
            eprintln!(
                "step {step}: CPython's result has {cpython_bits} bits, PyLong's {}",
                next.bits()
            );
            return ExitCode::from(2);
        }

        println!(
            "| {step} | {} | {pylong_s:.3e} | {cpython_s:.3e} | {:.2} | {big_s:.3e} |",
            next.bits(),
            pylong_s / cpython_s,
        );
        if cpython_s > STOP_AFTER_S {
            break;
        }
        z = next;
        z_big = &z_big * &z_big;
    }
    drop(to_cpython);
    // The child ends on end of input; its exit status says nothing about the figures.
    let _ = cpython.wait();
    ExitCode::SUCCESS
}
