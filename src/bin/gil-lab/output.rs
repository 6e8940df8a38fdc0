//! Everything the CLI writes: files (whole or not at all), standard output, the progress bar,
//! live counts and the summary of one run.

use gil_lab::report::numbers::{abbreviate, with_thousands_separators};
use gil_lab::scenario::{RunConfig, RunResult, SweepConfig};
use gil_lab::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use web_time::Instant;

/// Why the CLI stops.
pub enum Fail {
    /// The user must change the command (exit status 2).
    Usage(String),
    /// The run itself failed (exit status 1).
    Run(String),
}

/// Prints a clap error (its first paragraph: one sentence) or help, and picks the exit status.
pub fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind::*;
    if matches!(
        e.kind(),
        DisplayHelp | DisplayVersion | DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(if e.kind() == DisplayHelpOnMissingArgumentOrSubcommand {
            2
        } else {
            0
        });
    }
    let text = e.render().to_string();
    let first = text.split("\n\n").next().unwrap_or(&text).trim_end();
    eprintln!("{first}");
    eprintln!("(gil-lab --help lists every option)");
    ExitCode::from(2)
}

/// A destination checked before the run, written atomically after it.
pub struct OutputFile {
    path: PathBuf,
}

impl OutputFile {
    /// Fails now, with a sentence, if `path` cannot be written.
    pub fn check(path: PathBuf) -> Result<Self, Fail> {
        let shown = path.display().to_string();
        if path.is_dir() {
            return Err(Fail::Usage(format!(
                "'{shown}' is a folder; give a file name such as {}/results.json",
                shown.trim_end_matches('/')
            )));
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(Fail::Usage(format!(
                "the folder '{}' does not exist; create it or write '{shown}' somewhere else",
                dir.display()
            )));
        }
        if path.exists() {
            OpenOptions::new().append(true).open(&path).map_err(|e| {
                Fail::Usage(format!("cannot write '{shown}' ({e}); choose another file"))
            })?;
        }
        let file = Self { path };
        let probe = file.temp_path();
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
            .map_err(|e| {
                Fail::Usage(format!(
                    "cannot write in the folder '{}' ({e}); choose another place for '{shown}'",
                    dir.display()
                ))
            })?;
        let _ = fs::remove_file(&probe);
        Ok(file)
    }

    fn temp_path(&self) -> PathBuf {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.path
            .with_file_name(format!(".{name}.{}.gil-lab-tmp", std::process::id()))
    }

    /// Writes `bytes` to a temporary file beside the destination, then renames it into place, so
    /// the destination is never half-written.
    pub fn write(&self, bytes: &[u8]) -> Result<(), Fail> {
        let tmp = self.temp_path();
        let result = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, &self.path));
        result.map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Fail::Run(format!("cannot write '{}': {e}", self.path.display()))
        })
    }
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
pub fn stdout(bytes: &[u8]) -> Result<(), Fail> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Fail::Run(format!("cannot write to standard output: {e}")))
        }
        _ => Ok(()),
    }
}

/// The sweep's progress bar on stderr, in milliseconds of controller sleep; hidden when stderr is
/// not a terminal or with `--quiet`.
pub fn sweep_bar(config: &SweepConfig, quiet: bool) -> ProgressBar {
    let total = config.total_delay().as_millis() as u64;
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{wide_bar}] {percent:>3}% ETA {eta:>4} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A rate as `3.39G/s`.
fn rate(per_s: f64) -> String {
    format!("{}/s", abbreviate(per_s))
}

/// The live line of `gil-lab run`: rewritten in place on a terminal, a line a second otherwise.
pub struct LiveCounts {
    quiet: bool,
    tty: bool,
    last_line: Option<Instant>,
    last: Option<Progress>,
}

impl LiveCounts {
    /// Silent when `quiet`.
    pub fn new(quiet: bool) -> Self {
        Self {
            quiet,
            tty: std::io::stderr().is_terminal(),
            last_line: None,
            last: None,
        }
    }

    /// Shows a new reading.
    pub fn update(&mut self, p: Progress) {
        if self.quiet {
            return;
        }
        let recent = match self.last {
            Some(prev) if p.elapsed > prev.elapsed => {
                (p.count.saturating_sub(prev.count)) as f64
                    / (p.elapsed - prev.elapsed).as_secs_f64()
            }
            _ => p.count as f64 / p.elapsed.as_secs_f64().max(1e-9),
        };
        self.last = Some(p);
        let line = format!(
            "{:>7.1} s  count {:>15}  now {:>11}",
            p.elapsed.as_secs_f64(),
            with_thousands_separators(p.count),
            rate(recent)
        );
        if self.tty {
            eprint!("\r{line}");
        } else if self
            .last_line
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            eprintln!("{line}");
            self.last_line = Some(Instant::now());
        }
    }

    /// Ends the live line.
    pub fn finish(&self) {
        if !self.quiet && self.tty && self.last.is_some() {
            eprintln!();
        }
    }
}

/// The end-of-run summary of `gil-lab run`, with the lock statistics as a small table.
pub fn run_summary(cfg: &RunConfig, r: &RunResult) -> String {
    let mut s = String::new();
    let load = match cfg.load_threads() {
        0 => String::new(),
        1 => format!(", load {}", cfg.load.name()),
        n => format!(", {n} threads of load {}", cfg.load.name()),
    };
    let victim = match cfg.victim {
        gil_lab::workload::Victim::Incrementer => String::new(),
        v => format!(", victim {}", v.name()),
    };
    let _ = writeln!(
        s,
        "{} for {} s{victim}{load}, switch interval {} ms",
        r.scenario,
        r.delay_s,
        cfg.interval.as_secs_f64() * 1e3
    );
    let what = if cfg.victim.answers_requests() {
        "requests"
    } else {
        "count   "
    };
    let _ = writeln!(
        s,
        "  {what}  {} in {:.3} s ({})",
        with_thousands_separators(r.count),
        r.elapsed_s,
        rate(r.rate_per_s)
    );
    if let Some(l) = &r.latency_ms {
        let what = match cfg.victim {
            gil_lab::workload::Victim::Server => "round trip",
            _ => "latency   ",
        };
        let _ = writeln!(
            s,
            "  {what} mean {:.3} ms, p50 {:.3}, p90 {:.3}, p99 {:.3}, max {:.3} ms ({} requests)",
            l.mean_ms,
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.max_ms,
            with_thousands_separators(l.n)
        );
    }
    let _ = writeln!(
        s,
        "  stop lag  {:.3} s (controller awake until the flag was cleared)",
        r.stop_lag_s
    );
    if let Some(load) = &r.load {
        let longest = load.op_s.iter().copied().fold(0.0, f64::max);
        let _ = writeln!(
            s,
            "  load      {} operations, longest {:.3} s",
            with_thousands_separators(load.ops),
            longest
        );
    }
    let _ = writeln!(
        s,
        "  switches  {} hand-offs of the parent's lock",
        r.switches
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  {:<12} {:<7} {:>7} {:>9} {:>9} {:>9} {:>8} {:>8} {:>12}",
        "worker",
        "lock",
        "takes",
        "switches",
        "asked",
        "answered",
        "held s",
        "waited s",
        "longest s"
    );
    for w in &r.workers {
        let role = format!("{:?}", w.role).to_lowercase();
        match &w.lock {
            Some(l) => {
                let _ = writeln!(
                    s,
                    "  {:<12} {:<7} {:>7} {:>9} {:>9} {:>9} {:>8.3} {:>8.3} {:>12.6}",
                    role,
                    if w.isolated { "own" } else { "parent" },
                    l.takes,
                    l.switches,
                    l.requests_raised,
                    l.requests_received,
                    l.held_s,
                    l.waited_s,
                    l.longest_hold_s
                );
            }
            None => {
                let lock = if w.isolated { "own" } else { "none" };
                let _ = writeln!(s, "  {role:<12} {lock:<7} {:>7}", "-");
            }
        }
    }
    let _ = writeln!(
        s,
        "\n  asked = drop requests raised while waiting; answered = requests obeyed at a checkpoint"
    );
    s
}
