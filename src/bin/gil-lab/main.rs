//! `gil-lab`: the seed's experiment on real threads and processes, from the command line.
//!
//! `main` only maps errors to exit codes: 2 for input the user must change, 1 for a run that failed.

// Native only: `trunk build` compiles every target of the package for wasm32, where this binary
// is empty (the web page is the library's `web` module).
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

mod output;
mod trace;

use clap::{Args, Parser, Subcommand};
use gil_lab::platform::native::{child_main, parse_victim_arg, NativePlatform, CHILD_SUBCOMMAND};
use gil_lab::reference::{
    check_python, find_python, reference_json, run_reference, side_by_side, ReferenceError, Values,
};
use gil_lab::report::Format;
use gil_lab::scenario::{
    load_with_op, parse_delay, parse_delays, parse_interval_ms, parse_intervals, parse_io_us,
    parse_load, parse_loads, parse_op_us, parse_period_ms, parse_scenarios, parse_victim,
    victim_with, SweepConfig,
};
use gil_lab::sweep::SweepEnd;
use gil_lab::workload::Victim;
use gil_lab::{run, Load, Progress, RunConfig, RunResult, Scenario};
use output::{Fail, OutputFile};
use std::process::ExitCode;
use std::time::Duration;

/// Shows, live and measured, why a CPU-heavy task in CPython belongs in a process, not a thread.
///
/// An incrementer counts as fast as it can while a load squares an ever-growing integer
/// (z = z * z). Under an emulation of CPython's GIL the incrementer thread starves; in a process
/// of its own it does not.
#[derive(Parser)]
#[command(name = "gil-lab", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reproduce the seed's table: every scenario at every delay (0 to 9 s by default).
    Sweep(SweepArgs),
    /// One scenario once, with live counts and the lock's statistics.
    Run(RunArgs),
    /// (internal) The incrementer of a child process.
    #[command(name = CHILD_SUBCOMMAND, hide = true)]
    Child {
        fd: i32,
        interval_ns: u64,
        parent: u32,
        #[arg(value_parser = parse_victim_arg)]
        victim: Victim,
    },
}

#[derive(Args)]
struct Common {
    /// The load beside the victim: bignum (the seed's z = z * z, one uninterruptible operation
    /// each), short (5 us operations, see --op-us) or release (SHA-256 of 8 MiB with the lock
    /// released, as hashlib does).
    #[arg(long, default_value = "bignum", value_parser = parse_load)]
    load: Load,
    /// How long each operation of the short load holds the lock, in microseconds (1 to 10000000),
    /// e.g. 40000 for a C call of 40 ms that holds the GIL [default: 5].
    #[arg(long, value_name = "US", value_parser = parse_op_us)]
    op_us: Option<Duration>,
    /// The thread measured: incrementer (counts as fast as it can), io (a loop of blocking calls
    /// with the lock released, as Python releases the GIL for I/O), latency (answers a client's
    /// request every --period-ms over a loopback socket, timed, as CPython's ccbench) or server
    /// (an echo server's handler answering a client over TCP, requests/s).
    #[arg(long, default_value = "incrementer", value_parser = parse_victim)]
    victim: Victim,
    /// The io victim's blocking call, in microseconds (1 to 1000000) [default: 100].
    #[arg(long, value_name = "US", value_parser = parse_io_us)]
    io_us: Option<Duration>,
    /// How often the latency victim's client sends a request, in milliseconds (0.1 to 10000)
    /// [default: 10].
    #[arg(long, value_name = "MS", value_parser = parse_period_ms)]
    period_ms: Option<Duration>,
    /// The switch interval in milliseconds, 0.01 to 1000 (sys.setswitchinterval; CPython's default 5).
    #[arg(long, value_name = "MS", default_value = "5", value_parser = parse_interval_ms)]
    interval_ms: Duration,
}

impl Common {
    /// The load and the victim with their settings, or what to change.
    fn settle(&self) -> Result<(Load, Victim), Fail> {
        let usage = |e: gil_lab::ConfigError| Fail::Usage(e.0);
        Ok((
            load_with_op(self.load, self.op_us).map_err(usage)?,
            victim_with(self.victim, self.io_us, self.period_ms).map_err(usage)?,
        ))
    }
}

#[derive(Args)]
struct SweepArgs {
    /// Delays in seconds, comma-separated, e.g. 1,2,5 [default: 0,1,...,9].
    #[arg(long, value_name = "LIST", allow_negative_numbers = true, value_parser = |s: &str| parse_delays(s).map(List), conflicts_with = "max_delay")]
    delays: Option<List<Duration>>,
    /// Delays 0, 1, ..., N seconds.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_max_delay)]
    max_delay: Option<u32>,
    /// Scenarios, comma-separated, from: thread, process, thread+load, process+load, free-thread,
    /// free-thread+load [default: the seed's four].
    #[arg(long, value_name = "LIST", value_parser = |s: &str| parse_scenarios(s).map(List))]
    scenarios: Option<List<Scenario>>,
    /// Switch intervals in milliseconds, comma-separated, e.g. 0.1,1,5,20: sweeps
    /// sys.setswitchinterval at one delay, one table row per interval (instead of --interval-ms).
    #[arg(long, value_name = "LIST", value_parser = |s: &str| parse_intervals(s).map(List), conflicts_with = "interval_ms")]
    intervals: Option<List<Duration>>,
    /// Load threads beside the victim in the +load scenarios, 1 to 4; a list such as 1,2,4
    /// sweeps it at one delay, one table row per count [default: 1].
    #[arg(long, value_name = "N|LIST", value_parser = |s: &str| parse_loads(s).map(List))]
    loads: Option<List<u8>>,
    #[command(flatten)]
    common: Common,
    /// Output format: table, json, csv or markdown.
    #[arg(long, default_value = "table", value_parser = |s: &str| s.parse::<Format>())]
    format: Format,
    /// Write the output to FILE instead of standard output (written whole at the end, or not at all).
    #[arg(long, short, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// Also draw the seed's chart (count against delay) as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<std::path::PathBuf>,
    /// Also write each run's lock timeline as a Chrome trace into DIR (created if needed), one
    /// file per run such as thread+load-2s.json; open them in ui.perfetto.dev.
    #[arg(long, value_name = "DIR")]
    trace: Option<std::path::PathBuf>,
    /// Also run real CPython (reference/gil_experiment.py) with the same settings and show both.
    #[arg(long, value_name = "python", value_parser = ["python"])]
    reference: Option<String>,
    /// The Python interpreter for --reference [default: the Python of the environment gil-lab is
    /// installed in (pip, pipx, uv), else of the active virtual environment, else python3 on PATH].
    #[arg(long, value_name = "PATH", requires = "reference")]
    python: Option<std::path::PathBuf>,
    /// How the reference shares its counter and flag: synchronized (the seed's
    /// multiprocessing.Value, with a lock) or raw (lock=False).
    #[arg(long, default_value = "synchronized", requires = "reference", value_parser = |s: &str| s.parse::<Values>())]
    values: Values,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
struct RunArgs {
    /// The scenario: thread, process, thread+load, process+load, free-thread, free-thread+load,
    /// interpreter or interpreter+load.
    #[arg(long, value_parser = |s: &str| s.parse::<Scenario>())]
    scenario: Scenario,
    /// Load threads beside the victim in a +load scenario, 1 to 4.
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_one_load_count)]
    loads: u8,
    /// How long the controller sleeps before it stops the incrementer.
    #[arg(long, default_value = "3", allow_negative_numbers = true, value_parser = parse_delay)]
    seconds: Duration,
    #[command(flatten)]
    common: Common,
    /// Print the result as JSON instead of a summary.
    #[arg(long)]
    json: bool,
    /// Also write the lock's timeline as a Chrome trace (open it in ui.perfetto.dev or
    /// chrome://tracing).
    #[arg(long, value_name = "FILE.json")]
    trace: Option<std::path::PathBuf>,
    /// Also draw the lock's timeline, one lane per worker, as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    timeline: Option<std::path::PathBuf>,
    /// No live counts.
    #[arg(long, short)]
    quiet: bool,
}

/// A comma-separated list, parsed whole by one of `scenario`'s list parsers. clap's derive takes
/// a `Vec` field for a repeatable flag and would run the parser on each value; wrapped, the list
/// keeps its own messages (an empty list, an empty entry).
#[derive(Clone)]
struct List<T>(Vec<T>);

fn parse_one_load_count(s: &str) -> Result<u8, String> {
    match parse_loads(s).map_err(|e| e.0)?.as_slice() {
        [n] => Ok(*n),
        _ => Err("run takes one number of load threads; sweep --loads takes a list".into()),
    }
}

fn parse_max_delay(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if (0..=3600).contains(&n) => Ok(n as u32),
        Ok(_) => Err(format!(
            "--max-delay {s} is out of range; choose whole seconds from 0 to 3600"
        )),
        Err(_) => Err(format!(
            "--max-delay '{s}' is not a whole number of seconds; write e.g. 9"
        )),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return output::clap_exit(e),
    };
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail::Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Fail::Run(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> Result<(), Fail> {
    match cli.command {
        Command::Sweep(args) => sweep(args),
        Command::Run(args) => run_once(args),
        Command::Child {
            fd,
            interval_ns,
            parent,
            victim,
        } => child_main(fd, Duration::from_nanos(interval_ns), parent, victim)
            .map_err(|e| Fail::Run(e.to_string())),
    }
}

/// What the CLI shows and writes while a sweep runs: the progress bar, and each run's trace files.
struct SweepProgress<'a> {
    bar: indicatif::ProgressBar,
    runs: &'a [RunConfig],
    /// Seconds of delay in the runs finished so far (the bar's position).
    done_s: f64,
    traces: Option<&'a trace::TraceDir>,
    recorder: Option<gil_lab::timeline::Recorder>,
    /// The first trace file that could not be written: the sweep stops there.
    failed: Option<Fail>,
}

impl gil_lab::sweep::SweepObserver for SweepProgress<'_> {
    fn run_started(
        &mut self,
        index: usize,
        cfg: &RunConfig,
    ) -> Option<std::sync::Arc<gil_lab::gil::EventLog>> {
        self.bar
            .set_message(format!("{} at {} s", cfg.scenario, cfg.delay.as_secs_f64()));
        self.recorder = self.traces.and_then(|t| t.run(index).recorder(cfg));
        self.recorder.as_ref().map(|r| r.log())
    }

    fn progress(&mut self, _index: usize, p: Progress) {
        trace::observe(&mut self.recorder, &p);
        self.bar
            .set_position(((self.done_s + p.elapsed.as_secs_f64()) * 1e3) as u64);
    }

    fn run_finished(&mut self, index: usize, result: &RunResult) {
        let cfg = &self.runs[index];
        self.done_s += cfg.delay.as_secs_f64();
        self.bar.set_position((self.done_s * 1e3) as u64);
        if let (Some(traces), Some(recorder)) = (self.traces, &self.recorder) {
            if let Err(e) = traces.run(index).write(recorder, cfg, result) {
                self.failed.get_or_insert(e);
            }
        }
    }

    fn stop_requested(&self) -> bool {
        self.failed.is_some()
    }
}

fn sweep(args: SweepArgs) -> Result<(), Fail> {
    let defaults = SweepConfig::default();
    let delays = match (args.delays, args.max_delay) {
        (Some(List(d)), _) => Some(d),
        (None, Some(n)) => Some((0..=n).map(|s| Duration::from_secs(s.into())).collect()),
        (None, None) => None,
    };
    let delays_given = delays.is_some();
    let (load, victim) = args.common.settle()?;
    let config = SweepConfig {
        load,
        victim,
        intervals: args
            .intervals
            .map_or(vec![args.common.interval_ms], |List(i)| i),
        delays: delays.unwrap_or(defaults.delays),
        scenarios: args.scenarios.map_or(defaults.scenarios, |List(s)| s),
        loads: args.loads.map_or(defaults.loads, |List(l)| l),
    }
    .settled(delays_given)
    .map_err(|e| Fail::Usage(e.0))?;
    if config.sweeps_intervals() && args.reference.is_some() {
        return Err(Fail::Usage(
            "--reference compares one switch interval at a time; give one with --interval-ms instead of --intervals".into(),
        ));
    }
    // Check every destination before minutes of measuring, not after.
    let output = args.output.map(OutputFile::check).transpose()?;
    let plot = args.plot.map(OutputFile::check).transpose()?;
    let runs: Vec<RunConfig> = config.runs().collect();
    let traces = args
        .trace
        .map(|dir| trace::TraceDir::prepare(dir, &runs))
        .transpose()?;
    let reference = args.reference.is_some();
    let python = find_python(args.python.as_deref());
    if reference {
        if args.format == Format::Csv {
            return Err(Fail::Usage(
                "--reference prints a side-by-side table; use --format table, markdown or json"
                    .into(),
            ));
        }
        let version =
            check_python(&python.path).map_err(|e| reference_fail(e.chosen_as(&python)))?;
        if !args.quiet {
            eprintln!(
                "reference: {version} ({}, {})",
                python.path.display(),
                python.source.describe()
            );
        }
    }

    let platform = NativePlatform::new().map_err(|e| Fail::Run(e.to_string()))?;
    let mut observer = SweepProgress {
        bar: output::sweep_bar(&config, args.quiet),
        runs: &runs,
        done_s: 0.0,
        traces: traces.as_ref(),
        recorder: None,
        failed: None,
    };
    let (report, end) = gil_lab::sweep::run_sweep(&platform, config, &mut observer);
    observer.bar.finish_and_clear();
    if let Some(fail) = observer.failed {
        return Err(fail);
    }
    if let SweepEnd::Failed { run, error } = end {
        return Err(Fail::Run(format!(
            "{} at {} s: {error}",
            run.scenario,
            run.delay.as_secs_f64()
        )));
    }
    let bytes = if reference {
        if !args.quiet {
            eprintln!("reference: running the same sweep on CPython");
        }
        let cpython = run_reference(&python.path, &report.config, args.values, args.quiet)
            .map_err(|e| reference_fail(e.chosen_as(&python)))?;
        match args.format {
            Format::Json => reference_json(&report, &cpython),
            f => side_by_side(&report, &cpython, args.values, f == Format::Markdown).into_bytes(),
        }
    } else {
        args.format.exporter().serialize(&report)
    };
    match output {
        Some(file) => file.write(&bytes)?,
        None => output::stdout(&bytes)?,
    }
    if !args.quiet && matches!(args.format, Format::Table | Format::Markdown) {
        // What it means, under the numbers (stderr: the table on stdout stays a clean table).
        let lines = gil_lab::report::verdict(&report);
        if !lines.is_empty() {
            eprintln!("\nverdict:");
            for line in lines {
                eprintln!("  {line}");
            }
        }
    }
    if let Some(plot) = plot {
        plot.write(gil_lab::report::svg_chart(&report).as_bytes())?;
    }
    Ok(())
}

fn reference_fail(e: ReferenceError) -> Fail {
    match e {
        ReferenceError::Usage(m) => Fail::Usage(m),
        ReferenceError::Failed(m) => Fail::Run(m),
    }
}

fn run_once(args: RunArgs) -> Result<(), Fail> {
    let (load, victim) = args.common.settle()?;
    let cfg = RunConfig {
        scenario: args.scenario,
        delay: args.seconds,
        load,
        victim,
        interval: args.common.interval_ms,
        loads: args.loads,
    };
    let files = trace::TimelineFiles::check(args.trace, args.timeline)?;
    let mut recorder = files.recorder(&cfg);
    let platform = NativePlatform::new().map_err(|e| Fail::Run(e.to_string()))?;
    let mut live = output::LiveCounts::new(args.quiet || args.json);
    let result = run(
        &platform,
        &cfg,
        recorder.as_ref().map(|r| r.log()),
        &mut |p| {
            trace::observe(&mut recorder, &p);
            live.update(p)
        },
    )
    .map_err(|e| Fail::Run(format!("{}: {e}", cfg.scenario)))?;
    live.finish();
    if let Some(recorder) = &recorder {
        files.write(recorder, &cfg, &result)?;
    }
    if args.json {
        output::stdout(&gil_lab::report::run_json(&result))
    } else {
        output::stdout(output::run_summary(&cfg, &result).as_bytes())
    }
}
