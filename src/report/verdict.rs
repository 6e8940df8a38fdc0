//! The verdict: what a finished sweep means for a Python program, in plain words, from the ratios
//! it measured.
//!
//! One sentence per set-up that was measured both alone and beside the load (thread, process,
//! free thread), at the longest delay of the sweep. Shared by the CLI (printed under the table)
//! and the page.

use super::numbers::with_thousands_separators;
use crate::gil::DEFAULT_INTERVAL;
use crate::scenario::{RunResult, Scenario, SweepReport};
use crate::workload::{Load, Victim};

/// A share as a whole percentage, or one decimal under 10 %.
fn percent(ratio: f64) -> String {
    let p = ratio * 100.0;
    if p < 10.0 {
        format!("{p:.1} %")
    } else {
        format!("{p:.0} %")
    }
}

/// Below this share of its speed alone, a victim counts as starved.
const STARVED: f64 = 0.2;
/// From this share on, a victim counts as unaffected.
const FINE: f64 = 0.6;

/// Which reading of the ratios a verdict sentence gives: a stable name for scripts and tests
/// (the page's `data-case`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// The thread's share beside the load at each switch interval.
    IntervalShares,
    /// C code that releases the GIL: threads are fine.
    ReleaseFine,
    /// C code that releases the GIL, and still the thread slowed: the cores, not the GIL.
    ReleaseBusy,
    /// An I/O thread beside a CPU-bound one: the convoy effect.
    Convoy,
    /// A CPU-bound thread starves this one: use a process.
    MoveToProcess,
    /// The load takes a large share of the thread's speed.
    Shared,
    /// The thread kept most of its speed beside the load.
    ThreadFine,
    /// In a process the victim kept its speed.
    ProcessFine,
    /// In a process the victim slowed: the cores were busy, no lock is shared.
    ProcessBusy,
    /// With no GIL.
    FreeThreaded,
    /// In a subinterpreter (its own GIL, the same process).
    Subinterpreter,
    /// How long a request waited beside the CPU threads, and elsewhere.
    Latency,
    /// An echo server's requests per second beside the CPU threads.
    Server,
    /// Two set-ups that were not each run alone, side by side (`thread+load` against
    /// `process+load`, say): how many times faster one counted.
    Compare,
}

impl Case {
    /// Its name: `convoy`, `move-to-process`, ...
    pub fn name(self) -> &'static str {
        match self {
            Case::IntervalShares => "interval-shares",
            Case::ReleaseFine => "release-fine",
            Case::ReleaseBusy => "release-busy",
            Case::Convoy => "convoy",
            Case::MoveToProcess => "move-to-process",
            Case::Shared => "shared",
            Case::ThreadFine => "thread-fine",
            Case::ProcessFine => "process-fine",
            Case::ProcessBusy => "process-busy",
            Case::FreeThreaded => "free-threaded",
            Case::Subinterpreter => "subinterpreter",
            Case::Latency => "latency",
            Case::Server => "server",
            Case::Compare => "compare",
        }
    }
}

/// The verdict sentences for `report`, most telling first; empty when no set-up was measured
/// both with and without the load.
pub fn verdict(report: &SweepReport) -> Vec<String> {
    verdict_cases(report).into_iter().map(|(_, s)| s).collect()
}

/// [`verdict`] with the case each sentence states.
pub fn verdict_cases(report: &SweepReport) -> Vec<(Case, String)> {
    let config = &report.config;
    let Some(delay) = config.delays.iter().max() else {
        return Vec::new();
    };
    let delay_s = delay.as_secs_f64();
    // With several intervals, the sentences below speak of the one nearest CPython's default.
    let interval = config
        .intervals
        .iter()
        .copied()
        .min_by_key(|i| i.abs_diff(DEFAULT_INTERVAL))
        .unwrap_or(DEFAULT_INTERVAL);
    let pair = |loaded: Scenario| -> Option<(&RunResult, &RunResult)> {
        Some((
            report.get_at(loaded.alone(), delay_s, interval)?,
            report.get_at(loaded, delay_s, interval)?,
        ))
    };
    let what = match config.victim {
        Victim::Incrementer => "this thread",
        Victim::Io { .. } => "this I/O thread",
        Victim::Latency { .. } | Victim::Server => "this thread",
    };
    let mut out = Vec::new();
    if let Victim::Latency { .. } = config.victim {
        out.extend(latency_sentence(report, delay_s, interval));
        return out;
    }
    if config.sweeps_intervals() {
        // The thread's share beside the load at each interval: where the convoy is, it shrinks
        // as the interval does.
        let shares: Vec<String> = config
            .intervals
            .iter()
            .filter_map(|&i| {
                let alone = report.get_at(Scenario::Thread, delay_s, i)?;
                let with = report.get_at(Scenario::ThreadLoad, delay_s, i)?;
                let ratio = with.rate_per_s / alone.rate_per_s.max(f64::MIN_POSITIVE);
                Some(format!(
                    "{} ms {}",
                    super::numbers::trim_float(i.as_secs_f64() * 1e3, 3),
                    percent(ratio)
                ))
            })
            .collect();
        if !shares.is_empty() {
            out.push((
                Case::IntervalShares,
                format!(
                    "Share {what} kept beside the load, by switch interval: {}.",
                    shares.join(", ")
                ),
            ));
        }
    }
    for loaded in [
        Scenario::ThreadLoad,
        Scenario::ProcessLoad,
        Scenario::InterpreterLoad,
        Scenario::FreeThreadLoad,
    ] {
        let Some((alone, with)) = pair(loaded) else {
            continue;
        };
        // By rate: a late stop lengthens a loaded run, and a count would credit it.
        let ratio = if alone.rate_per_s > 0.0 {
            with.rate_per_s / alone.rate_per_s
        } else {
            0.0
        };
        let share = percent(ratio);
        let per_s = |r: &RunResult| with_thousands_separators(r.rate_per_s.round() as u64);
        let case_and_sentence = match (loaded, config.load, config.victim) {
            (Scenario::ThreadLoad, _, Victim::Server) => (Case::Server, format!(
                "An echo server's thread beside {}: {} requests/s against {} alone ({share}){}",
                cpu_threads(with.loads),
                per_s(with),
                per_s(alone),
                if ratio < FINE { "; put the CPU work in a process." } else { "." }
            )),
            (Scenario::ProcessLoad | Scenario::InterpreterLoad, _, Victim::Server) => (Case::Server, format!(
                "With the server in {} and the CPU work outside its interpreter: {} requests/s \
                 beside it ({} alone): the CPU work does not hold the server's GIL.",
                if loaded == Scenario::ProcessLoad { "a process" } else { "a subinterpreter" },
                per_s(with),
                per_s(alone)
            )),
            (Scenario::ThreadLoad, Load::Release { .. }, _) if ratio >= FINE => (Case::ReleaseFine, format!(
                "C code that releases the GIL beside {what}: threads are fine ({what} kept {share} of its speed)."
            )),
            (Scenario::ThreadLoad, Load::Release { .. }, _) => (Case::ReleaseBusy, format!(
                "C code that releases the GIL beside {what}: {what} kept only {share} of its speed, \
                 though the GIL was free while it ran: the cores were busy, not the GIL."
            )),
            (Scenario::ThreadLoad, _, Victim::Io { .. }) if ratio < FINE => (Case::Convoy, format!(
                "I/O beside a CPU-bound thread: convoy ({} ops/s against {} alone, {share}); \
                 a shorter switch interval or a process helps.",
                with_thousands_separators(with.rate_per_s.round() as u64),
                with_thousands_separators(alone.rate_per_s.round() as u64)
            )),
            (Scenario::ThreadLoad, _, _) if ratio < STARVED => (Case::MoveToProcess, format!(
                "A CPU-bound Python thread beside {what}: move it to a process ({what} kept {share} of its speed)."
            )),
            (Scenario::ThreadLoad, _, _) if ratio < FINE => (Case::Shared, format!(
                "The load shares the GIL with {what}, which kept {share} of its speed; a process would keep all of it."
            )),
            (Scenario::ThreadLoad, _, _) => (Case::ThreadFine, format!("Beside this load {what} kept {share} of its speed: threads are fine.")),
            (Scenario::ProcessLoad, ..) if ratio >= FINE => (Case::ProcessFine, format!(
                "In a process of its own the same code kept {share} of its speed: the load's GIL is not its GIL."
            )),
            (Scenario::ProcessLoad, ..) => (Case::ProcessBusy, format!(
                "In a process of its own it kept {share} of its speed: the cores were busy (no GIL is shared)."
            )),
            (Scenario::InterpreterLoad, ..) => (Case::Subinterpreter, format!(
                "In a subinterpreter (its own GIL, the same process) it kept {share} of its speed."
            )),
            _ => (Case::FreeThreaded, format!(
                "With no GIL (free-threaded Python) the thread kept {share} of its speed."
            )),
        };
        let (case, sentence) = case_and_sentence;
        if config.sweeps_intervals() {
            // Say which of the swept intervals the figures come from.
            let ms = super::numbers::trim_float(interval.as_secs_f64() * 1e3, 3);
            out.push((case, format!("At a switch interval of {ms} ms: {sentence}")));
        } else {
            out.push((case, sentence));
        }
    }
    if out.is_empty() {
        out.extend(compare_sentences(report, delay_s, interval));
    }
    out
}

/// When no set-up was run both alone and beside the load, the set-ups that were run, side by
/// side: each against the slowest, by rate (the embed's `thread+load` against `process+load`:
/// "beside the same load, the counter in a process counted 62x faster than in a thread").
fn compare_sentences(
    report: &SweepReport,
    delay_s: f64,
    interval: std::time::Duration,
) -> Vec<(Case, String)> {
    let runs: Vec<&RunResult> = report
        .config
        .scenarios
        .iter()
        .filter_map(|&s| report.get_at(s, delay_s, interval))
        .filter(|r| r.rate_per_s > 0.0)
        .collect();
    let Some(slowest) = runs
        .iter()
        .copied()
        .min_by(|a, b| a.rate_per_s.total_cmp(&b.rate_per_s))
    else {
        return Vec::new();
    };
    let per_s = |r: &RunResult| super::numbers::abbreviate(r.rate_per_s);
    let mut out = Vec::new();
    for r in runs {
        if std::ptr::eq(r, slowest) {
            continue;
        }
        let x = r.rate_per_s / slowest.rate_per_s;
        let times = if x >= 10.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.1}")
        };
        let home = match r.scenario {
            Scenario::ProcessLoad => Some("in a process"),
            Scenario::InterpreterLoad => Some("in a subinterpreter"),
            Scenario::FreeThreadLoad => Some("with no GIL (free-threaded Python)"),
            _ => None,
        };
        let sentence = match (slowest.scenario, home) {
            (Scenario::ThreadLoad, Some(home)) => format!(
                "Beside the same load, the counter {home} counted {times}x faster than in a \
                 thread ({}/s against {}/s){}",
                per_s(r),
                per_s(slowest),
                if x >= 2.0 {
                    ": the load's GIL held the thread back; move CPU-bound work out of its \
                     interpreter."
                } else {
                    "."
                }
            ),
            _ => format!(
                "{} counted {times}x faster than {} ({}/s against {}/s).",
                r.scenario,
                slowest.scenario,
                per_s(r),
                per_s(slowest)
            ),
        };
        out.push((Case::Compare, super::markup::capitalise(&sentence)));
    }
    out
}

/// `one CPU thread`, `two CPU threads`, ...
fn cpu_threads(n: u8) -> String {
    match n {
        0 | 1 => "one CPU thread".into(),
        2 => "two CPU threads".into(),
        3 => "three CPU threads".into(),
        n => format!("{n} CPU threads"),
    }
}

/// Milliseconds to two significant digits at most three decimals: `5.1`, `16`, `0.09`.
fn ms(x: f64) -> String {
    let digits = if x >= 10.0 {
        0
    } else if x >= 1.0 {
        1
    } else if x >= 0.1 {
        2
    } else {
        3
    };
    format!("{x:.digits$}")
}

/// The latency victim's sentence: how long a request waited beside each number of CPU threads
/// in the same interpreter, and with the CPU work elsewhere.
fn latency_sentence(
    report: &SweepReport,
    delay_s: f64,
    interval: std::time::Duration,
) -> Option<(Case, String)> {
    let config = &report.config;
    let wait = |r: &RunResult| r.latency_ms.filter(|l| l.n > 0);
    let beside: Vec<String> = config
        .loads
        .iter()
        .filter_map(|&n| {
            let r = report.find(Scenario::ThreadLoad, delay_s, interval, n)?;
            let l = wait(r)?;
            Some(format!(
                "{} ms on average (p99 {} ms) beside {}",
                ms(l.mean_ms),
                ms(l.p99_ms),
                cpu_threads(n)
            ))
        })
        .collect();
    let elsewhere: Vec<String> = [
        (Scenario::ProcessLoad, "in a process"),
        (Scenario::InterpreterLoad, "in a subinterpreter"),
        (Scenario::FreeThreadLoad, "with no GIL"),
    ]
    .into_iter()
    .filter_map(|(sc, words)| {
        let r = report.find(sc, delay_s, interval, config.loads())?;
        Some(format!("{words} {} ms", ms(wait(r)?.mean_ms)))
    })
    .collect();
    let alone = report
        .find(Scenario::Thread, delay_s, interval, 0)
        .and_then(wait)
        .map(|l| format!(" (alone {} ms)", ms(l.mean_ms)));
    if beside.is_empty() && elsewhere.is_empty() {
        return None;
    }
    let mut s = String::from("A request waited ");
    if beside.is_empty() {
        s.push_str("for the interpreter that answers");
    } else {
        s.push_str(&beside.join(", "));
    }
    s.push_str(alone.as_deref().unwrap_or(""));
    if !elsewhere.is_empty() {
        s.push_str("; with the CPU work ");
        s.push_str(&elsewhere.join(", "));
    }
    s.push_str(if beside.is_empty() {
        "."
    } else {
        ": keep CPU work out of the interpreter that answers."
    });
    Some((Case::Latency, s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::fixtures;
    use crate::scenario::SweepConfig;
    use std::time::Duration;

    /// A 2 s run at `rate` counts per second.
    fn result(scenario: Scenario, rate: f64) -> RunResult {
        RunResult {
            rate_per_s: rate,
            ..fixtures::result(scenario, 2.0, (rate * 2.0) as u64)
        }
    }

    fn report(load: Load, victim: Victim, rates: &[(Scenario, f64)]) -> SweepReport {
        SweepReport {
            config: SweepConfig {
                load,
                victim,
                delays: vec![Duration::from_secs(2)],
                scenarios: rates.iter().map(|(s, _)| *s).collect(),
                ..SweepConfig::default()
            },
            results: rates.iter().map(|&(s, r)| result(s, r)).collect(),
        }
    }

    #[test]
    fn the_seed_says_move_it_to_a_process() {
        let r = report(
            Load::BIGNUM,
            Victim::Incrementer,
            &[
                (Scenario::Thread, 1000.0),
                (Scenario::Process, 1000.0),
                (Scenario::ThreadLoad, 10.0),
                (Scenario::ProcessLoad, 980.0),
            ],
        );
        assert_eq!(
            verdict(&r),
            [
                "A CPU-bound Python thread beside this thread: move it to a process (this thread kept 1.0 % of its speed).",
                "In a process of its own the same code kept 98 % of its speed: the load's GIL is not its GIL.",
            ]
        );
    }

    #[test]
    fn release_is_fine_and_io_beside_cpu_is_a_convoy() {
        let fine = report(
            Load::RELEASE,
            Victim::Incrementer,
            &[(Scenario::Thread, 100.0), (Scenario::ThreadLoad, 94.0)],
        );
        assert_eq!(
            verdict(&fine),
            ["C code that releases the GIL beside this thread: threads are fine (this thread kept 94 % of its speed)."]
        );
        let convoy = report(
            Load::SHORT,
            Victim::IO,
            &[(Scenario::Thread, 5272.0), (Scenario::ThreadLoad, 209.0)],
        );
        assert_eq!(
            verdict(&convoy),
            ["I/O beside a CPU-bound thread: convoy (209 ops/s against 5,272 alone, 4.0 %); a shorter switch interval or a process helps."]
        );
    }

    #[test]
    fn an_interval_sweep_lists_the_share_at_each_interval() {
        let mut r = report(Load::SHORT, Victim::IO, &[]);
        r.config.scenarios = vec![Scenario::Thread, Scenario::ThreadLoad];
        r.config.intervals = vec![Duration::from_micros(100), Duration::from_millis(5)];
        for (ms, with) in [(0.1, 1000.0), (5.0, 50.0)] {
            for (s, rate) in [(Scenario::Thread, 5000.0), (Scenario::ThreadLoad, with)] {
                r.results.push(RunResult {
                    switch_interval_ms: ms,
                    ..result(s, rate)
                });
            }
        }
        assert_eq!(
            verdict(&r)[0],
            "Share this I/O thread kept beside the load, by switch interval: 0.1 ms 20 %, 5 ms 1.0 %."
        );
        // The next sentence speaks of the interval nearest CPython's default, and says so.
        assert!(
            verdict(&r)[1].starts_with("At a switch interval of 5 ms: I/O beside a CPU-bound"),
            "{}",
            verdict(&r)[1]
        );
    }

    #[test]
    fn each_sentence_names_its_case() {
        let convoy = report(
            Load::SHORT,
            Victim::IO,
            &[
                (Scenario::Thread, 5000.0),
                (Scenario::Process, 5000.0),
                (Scenario::ThreadLoad, 200.0),
                (Scenario::ProcessLoad, 4900.0),
            ],
        );
        let cases: Vec<Case> = verdict_cases(&convoy).iter().map(|(c, _)| *c).collect();
        assert_eq!(cases, [Case::Convoy, Case::ProcessFine]);
        assert_eq!(Case::MoveToProcess.name(), "move-to-process");
        let busy = report(
            Load::RELEASE,
            Victim::Incrementer,
            &[(Scenario::Thread, 100.0), (Scenario::ThreadLoad, 30.0)],
        );
        assert_eq!(verdict_cases(&busy)[0].0, Case::ReleaseBusy);
        assert!(verdict(&busy)[0].contains("the cores were busy, not the GIL"));
    }

    #[test]
    fn nothing_to_compare_says_nothing() {
        let r = report(
            Load::BIGNUM,
            Victim::Incrementer,
            &[(Scenario::Thread, 1.0)],
        );
        assert!(verdict(&r).is_empty());
    }

    #[test]
    fn a_pair_never_run_alone_is_compared_side_by_side() {
        // The embed's default: the thread and the process, both beside the load.
        let r = report(
            Load::BIGNUM,
            Victim::Incrementer,
            &[(Scenario::ThreadLoad, 13e6), (Scenario::ProcessLoad, 806e6)],
        );
        let v = verdict_cases(&r);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].0, Case::Compare);
        assert!(
            v[0].1.starts_with(
                "Beside the same load, the counter in a process counted 62x faster than in a \
                 thread (806M/s against 13M/s): the load's GIL held the thread back"
            ),
            "{}",
            v[0].1
        );
        // Any other pair: the faster against the slower, by rate.
        let r = report(
            Load::BIGNUM,
            Victim::Incrementer,
            &[(Scenario::Thread, 2e9), (Scenario::FreeThreadLoad, 1e9)],
        );
        assert_eq!(
            verdict(&r),
            ["Thread counted 2.0x faster than free-thread+load (2G/s against 1G/s)."]
        );
        // A set-up run alone and beside the load keeps its own sentence, and no comparison.
        let r = report(
            Load::BIGNUM,
            Victim::Incrementer,
            &[
                (Scenario::Thread, 2e9),
                (Scenario::ThreadLoad, 2e7),
                (Scenario::ProcessLoad, 1e9),
            ],
        );
        assert!(verdict_cases(&r).iter().all(|(c, _)| *c != Case::Compare));
    }

    #[test]
    fn the_latency_verdict_names_each_wait_and_the_answer() {
        use crate::workload::LatencyStats;
        let waited = |sc, loads, mean_ms| RunResult {
            loads,
            latency_ms: Some(LatencyStats {
                n: 100,
                mean_ms,
                p99_ms: mean_ms * 2.0,
                ..LatencyStats::default()
            }),
            ..result(sc, 100.0)
        };
        let mut r = report(
            Load::SHORT,
            Victim::LATENCY,
            &[(Scenario::Thread, 0.0), (Scenario::ThreadLoad, 0.0)],
        );
        r.config.scenarios.push(Scenario::ProcessLoad);
        r.config.loads = vec![1, 2];
        r.results = vec![
            waited(Scenario::Thread, 0, 0.07),
            waited(Scenario::ThreadLoad, 1, 5.12),
            waited(Scenario::ThreadLoad, 2, 16.4),
            waited(Scenario::ProcessLoad, 1, 0.09),
        ];
        let cases = verdict_cases(&r);
        assert_eq!(cases.len(), 1, "{cases:?}");
        assert_eq!(cases[0].0, Case::Latency);
        assert_eq!(
            cases[0].1,
            "A request waited 5.1 ms on average (p99 10 ms) beside one CPU thread, 16 ms on \
             average (p99 33 ms) beside two CPU threads (alone 0.070 ms); with the CPU work in a \
             process 0.090 ms: keep CPU work out of the interpreter that answers."
        );
    }

    #[test]
    fn the_server_verdict_reads_requests_per_second() {
        let r = report(
            Load::SHORT,
            Victim::Server,
            &[(Scenario::Thread, 8963.0), (Scenario::ThreadLoad, 165.0)],
        );
        let cases = verdict_cases(&r);
        assert_eq!(cases[0].0, Case::Server, "{cases:?}");
        assert!(
            cases[0]
                .1
                .contains("165 requests/s against 8,963 alone (1.8 %)"),
            "{cases:?}"
        );
    }
}
