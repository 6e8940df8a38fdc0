//! Per-step time of the bignum load's `z * z`, `PyLong` against real CPython on this machine:
//! `cargo bench --bench pylong` (CPython is `python3`, or the interpreter in `$PYTHON`).
//!
//! Step k squares `z = 10^(2^(k-1))` into `10^(2^k)`. For each step the same `z` is squared by
//! `PyLong`, by num-bigint (what the load used before) and by one CPython process kept open for the
//! whole run, one run of each in turn so that all see the machine in the same state. Each figure
//! is the median of several runs of the step (fewer as steps grow, one above 1.5 s); the run stops
//! after the first step at which CPython takes more than `STOP_AFTER_S`, or at `LAST_STEP`.
//! It prints a Markdown table: the ratio column is `PyLong / CPython`.

use gil_lab::pylong::PyLong;
use num_bigint::BigUint;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// Stop after the first step at which CPython's `z * z` takes longer than this.
const STOP_AFTER_S: f64 = 5.0;

/// The last step measured in any case (10^(2^24) has 56 M bits).
const LAST_STEP: u32 = 24;

/// How long the repeated runs of one step may take, per implementation (at least 3 runs).
const BUDGET_S: f64 = 0.3;

/// Steps longer than this (in PyLong's first run) are timed once.
const SINGLE_RUN_ABOVE_S: f64 = 1.5;

/// Reads one step number a line; squares its own `z` up to `10^(2^(step-1))` if not there yet,
/// times one `z * z` and prints the result's bit length and the seconds it took.
const CPYTHON_STEP: &str = r#"
import sys, time
z, k = 10, 0
for line in sys.stdin:
    step = int(line)
    while k < step - 1:
        z = z * z
        k += 1
    start = time.perf_counter()
    y = z * z
    seconds = time.perf_counter() - start
    print(y.bit_length(), seconds, flush=True)
    del y
"#;

/// Seconds taken by `op`, its result dropped outside the timing.
fn time_s<T>(op: impl FnOnce() -> T) -> f64 {
    let started = Instant::now();
    let result = black_box(op());
    let elapsed = started.elapsed().as_secs_f64();
    drop(result);
    elapsed
}

/// The middle of `times` (sorted in place).
fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Asks the CPython child to time one `z * z` of `step`: the result's bits and the seconds.
fn cpython_step_s(
    to_cpython: &mut impl Write,
    from_cpython: &mut impl Iterator<Item = std::io::Result<String>>,
    step: u32,
) -> Option<(u64, f64)> {
    writeln!(to_cpython, "{step}").ok()?;
    to_cpython.flush().ok()?;
    let answer = from_cpython.next()?.ok()?;
    let mut fields = answer.split_whitespace();
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
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
        .args(["-c", CPYTHON_STEP])
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
    println!(
        "| step | result bits | runs | PyLong s | CPython s | PyLong / CPython | num-bigint s |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");

    let (mut z, mut z_big) = (PyLong::from_u32(10), BigUint::from(10u32));
    for step in 1..=LAST_STEP {
        // A first run sizes the repetitions and warms the allocator.
        let started = Instant::now();
        let next = z.square();
        let first_s = started.elapsed().as_secs_f64();
        let reps = if first_s > SINGLE_RUN_ABOVE_S {
            1
        } else {
            ((BUDGET_S / first_s.max(1e-9)) as usize).clamp(3, 201) | 1
        };

        // One run of each in turn, so that a busy moment of the machine falls on all three.
        let (mut pylong, mut cpython, mut num_bigint) = (vec![], vec![], vec![]);
        for _ in 0..reps {
            pylong.push(time_s(|| z.square()));
            let Some((cpython_bits, cpython_s)) =
                cpython_step_s(&mut to_cpython, &mut from_cpython, step)
            else {
                eprintln!("{python} stopped answering at step {step}");
                return ExitCode::from(2);
            };
            if cpython_bits != next.bits() {
                eprintln!(
                    "step {step}: CPython's result has {cpython_bits} bits, PyLong's {}",
                    next.bits()
                );
                return ExitCode::from(2);
            }
            cpython.push(cpython_s);
            num_bigint.push(time_s(|| &z_big * &z_big));
        }
        let (pylong_s, cpython_s) = (median(&mut pylong), median(&mut cpython));
        println!(
            "| {step} | {} | {reps} | {pylong_s:.3e} | {cpython_s:.3e} | {:.2} | {:.3e} |",
            next.bits(),
            pylong_s / cpython_s,
            median(&mut num_bigint),
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
