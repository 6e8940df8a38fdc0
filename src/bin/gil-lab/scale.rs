//! `gil-lab scale`: the throughput test of CPython's `Tools/ccbench`, on threads, processes,
//! subinterpreters and free threads (the measuring is the library's [`gil_lab::scale`]).

use crate::output::{self, Fail, OutputFile};
use clap::Args;
use gil_lab::platform::native::NativePlatform;
use gil_lab::report::{scale_export, scale_svg, Format};
use gil_lab::scale::measure::{machine_cores, run_scale, ScaleObserver};
use gil_lab::scale::{
    parse_modes, parse_seconds, parse_workers, verdict, Mode, ScaleConfig, ScaleResult,
};
use gil_lab::scenario::{parse_interval_ms, parse_load};
use gil_lab::Load;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args)]
pub struct ScaleArgs {
    /// Worker counts, comma-separated, 1 to 8; each mode's speedup is against 1 worker (or the
    /// fewest given).
    #[arg(long, value_name = "LIST", default_value = "1,2,4", value_parser = |s: &str| parse_workers(s).map(Counts))]
    workers: Counts,
    /// Modes, comma-separated, from: thread (one interpreter, one lock), process (a lock each),
    /// interpreter (subinterpreters of this process, a lock each), free-thread (no lock).
    #[arg(long, value_name = "LIST", default_value = "thread,process,interpreter,free-thread", value_parser = |s: &str| parse_modes(s).map(Modes))]
    modes: Modes,
    /// What every worker runs: short (5 us operations holding the lock), bignum (z = z * z) or
    /// release (SHA-256 of 8 MiB with the lock released, as hashlib does).
    #[arg(long, default_value = "short", value_parser = parse_load)]
    load: Load,
    /// How long each measurement runs, in seconds (above 0, at most 600).
    #[arg(long, value_name = "S", default_value = "2", allow_negative_numbers = true, value_parser = parse_seconds)]
    seconds: Duration,
    /// The switch interval in milliseconds, 0.01 to 1000 (sys.setswitchinterval; CPython's default 5).
    #[arg(long, visible_alias = "interval-ms", value_name = "MS", default_value = "5", value_parser = parse_interval_ms)]
    interval: Duration,
    /// Output format: table, json, csv or markdown.
    #[arg(long, default_value = "table", value_parser = |s: &str| s.parse::<Format>())]
    format: Format,
    /// Write the output to FILE instead of standard output (written whole at the end, or not at all).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also draw each mode's speedup against workers, with the ideal line, as an SVG file.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// No progress bar and no verdict.
    #[arg(long, short)]
    quiet: bool,
}

/// The worker counts, parsed whole (see `List` in main.rs).
#[derive(Clone)]
struct Counts(Vec<usize>);

/// The modes, parsed whole.
#[derive(Clone)]
struct Modes(Vec<Mode>);

/// The progress bar, in milliseconds of measuring.
struct Bar {
    bar: indicatif::ProgressBar,
    seconds: f64,
    /// Measurements finished so far.
    done: usize,
}

impl ScaleObserver for Bar {
    fn started(&mut self, index: usize, mode: Mode, workers: usize) {
        self.done = index;
        let plural = if workers == 1 { "" } else { "s" };
        self.bar
            .set_message(format!("{mode}, {workers} worker{plural}"));
    }

    fn progress(&mut self, _index: usize, elapsed: Duration) {
        self.bar
            .set_position(((self.done as f64 * self.seconds + elapsed.as_secs_f64()) * 1e3) as u64);
    }

    fn finished(&mut self, index: usize, _result: &ScaleResult) {
        self.bar
            .set_position(((index + 1) as f64 * self.seconds * 1e3) as u64);
    }
}

pub fn scale(args: ScaleArgs) -> Result<(), Fail> {
    let config = ScaleConfig {
        load: args.load,
        seconds: args.seconds,
        interval: args.interval,
        workers: args.workers.0,
        modes: args.modes.0,
        cores: machine_cores(),
    };
    // Check every destination before measuring, not after.
    let output = args.output.map(OutputFile::check).transpose()?;
    let plot = args.plot.map(OutputFile::check).transpose()?;
    let platform = NativePlatform::new().map_err(|e| Fail::Run(e.to_string()))?;
    let mut bar = Bar {
        bar: output::progress_bar(config.total(), args.quiet),
        seconds: config.seconds.as_secs_f64(),
        done: 0,
    };
    let result = run_scale(&platform, config, &mut bar);
    bar.bar.finish_and_clear();
    let report = result.map_err(|e| Fail::Run(e.to_string()))?;
    let bytes = scale_export(&report, args.format);
    match output {
        Some(file) => file.write(&bytes)?,
        None => output::stdout(&bytes)?,
    }
    if !args.quiet && matches!(args.format, Format::Table | Format::Markdown) {
        output::print_verdict(&verdict(&report));
    }
    if let Some(plot) = plot {
        plot.write(scale_svg(&report).as_bytes())?;
    }
    Ok(())
}
