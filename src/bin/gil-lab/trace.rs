//! The lock's timeline as files: `run --trace FILE.json --timeline FILE.svg` and
//! `sweep --trace DIR`. Destinations are checked before anything runs and written whole, or not
//! at all, once each run has finished.

use crate::output::{Fail, OutputFile};
use gil_lab::report::numbers::trim_float;
use gil_lab::report::{chrome_trace, svg_timeline};
use gil_lab::timeline::Recorder;
use gil_lab::{Progress, RunConfig, RunResult};
use std::collections::HashSet;
use std::fs;
use std::path::PathBuf;

/// Where one run's timeline goes: a Chrome trace, an SVG, or both.
#[derive(Default)]
pub struct TimelineFiles {
    trace: Option<OutputFile>,
    svg: Option<OutputFile>,
}

impl TimelineFiles {
    /// Checks both destinations now.
    pub fn check(trace: Option<PathBuf>, svg: Option<PathBuf>) -> Result<Self, Fail> {
        Ok(Self {
            trace: trace.map(OutputFile::check).transpose()?,
            svg: svg.map(OutputFile::check).transpose()?,
        })
    }

    /// A recorder for `run`, when any file is wanted: its log is then attached to the run.
    pub fn recorder(&self, run: &RunConfig) -> Option<Recorder> {
        (self.trace.is_some() || self.svg.is_some()).then(|| Recorder::new(run))
    }

    /// Writes the files of a finished run recorded by `recorder`; says on stderr when the log
    /// lost events (the files say it too).
    pub fn write(
        &self,
        recorder: &Recorder,
        run: &RunConfig,
        result: &RunResult,
    ) -> Result<(), Fail> {
        let timeline = recorder.finish(run.scenario, result);
        if timeline.lost > 0 {
            eprintln!(
                "note: {} at {} s switched too often for its log of {} events; the {} earliest \
                 events are missing from its timeline",
                run.scenario,
                trim_float(run.delay.as_secs_f64(), 3),
                recorder.capacity(),
                timeline.lost
            );
        }
        if let Some(file) = &self.trace {
            file.write(chrome_trace(&timeline, run, result).as_bytes())?;
        }
        if let Some(file) = &self.svg {
            file.write(svg_timeline(&timeline, run).as_bytes())?;
        }
        Ok(())
    }
}

/// Feeds a progress reading to the recorder, if there is one.
pub fn observe(recorder: &mut Option<Recorder>, p: &Progress) {
    if let Some(r) = recorder {
        r.observe(p);
    }
}

/// `sweep --trace DIR`: one trace file per run, named after its scenario and delay.
pub struct TraceDir {
    files: Vec<TimelineFiles>,
}

impl TraceDir {
    /// Creates `dir` if needed and checks that every run's file can be written there.
    pub fn prepare(dir: PathBuf, runs: &[RunConfig]) -> Result<Self, Fail> {
        let shown = dir.display().to_string();
        if dir.exists() && !dir.is_dir() {
            return Err(Fail::Usage(format!(
                "'{shown}' is a file; --trace needs a folder to put one trace per run in"
            )));
        }
        fs::create_dir_all(&dir).map_err(|e| {
            Fail::Usage(format!(
                "cannot create the folder '{shown}' ({e}); choose another place for the traces"
            ))
        })?;
        let mut used = HashSet::new();
        let files = runs
            .iter()
            .map(|run| {
                let name = unique(file_name(run), &mut used);
                TimelineFiles::check(Some(dir.join(name)), None)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { files })
    }

    /// The files of the `i`-th run of the sweep.
    pub fn run(&self, i: usize) -> &TimelineFiles {
        &self.files[i]
    }
}

/// `thread+load-2s.json`: the scenario and the delay, with anything but letters, digits and
/// `+-._` replaced, so the name is safe on every file system.
pub fn file_name(run: &RunConfig) -> String {
    let raw = format!(
        "{}-{}s",
        run.scenario.name(),
        trim_float(run.delay.as_secs_f64(), 3)
    );
    let safe: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.json")
}

/// `name`, or `name` with `-2`, `-3`... before its extension if a run of the sweep (a delay
/// given twice) already took it.
fn unique(name: String, used: &mut HashSet<String>) -> String {
    let mut candidate = name.clone();
    let stem = name.trim_end_matches(".json");
    let mut k = 2;
    while !used.insert(candidate.clone()) {
        candidate = format!("{stem}-{k}.json");
        k += 1;
    }
    candidate
}
