//! The step runner: prints `==> step`, times each step, and on failure says how to rerun it.

use crate::cmd::Cmd;
use std::time::{Duration, Instant};

/// How a step ended, for the summary table.
enum Outcome {
    Pass(Duration),
    Fail(Duration),
    Skip(String),
    NotRun,
}

pub struct Runner {
    /// The command that reruns one step, e.g. `cargo xtask test --only fmt`.
    rerun: fn(&str) -> String,
    steps: Vec<(String, Outcome)>,
}

impl Runner {
    pub fn new(rerun: fn(&str) -> String) -> Self {
        Runner {
            rerun,
            steps: Vec::new(),
        }
    }

    /// Runs one step. `command` is the line shown to the user, and suggested on failure to rerun
    /// the step by hand; `work` does the step.
    pub fn run(
        &mut self,
        name: &str,
        command: Option<&Cmd>,
        work: impl FnOnce() -> Result<(), String>,
    ) -> Result<(), String> {
        println!("==> {name}");
        if let Some(command) = command {
            println!("    $ {command}");
        }
        let start = Instant::now();
        let result = work();
        let took = start.elapsed();
        let rerun = (self.rerun)(name);
        match result {
            Ok(()) => {
                println!("==> {name}: passed in {}", format_duration(took));
                self.steps.push((name.to_string(), Outcome::Pass(took)));
                Ok(())
            }
            Err(error) => {
                println!(
                    "==> {name}: FAILED after {}: {error}",
                    format_duration(took)
                );
                println!("    rerun this step with: {rerun}");
                if let Some(command) = command {
                    println!("    or directly with:     {command}");
                }
                self.steps.push((name.to_string(), Outcome::Fail(took)));
                Err(format!("step `{name}` failed; rerun it with `{rerun}`"))
            }
        }
    }

    /// Records a step that does not apply, with the reason.
    pub fn skip(&mut self, name: &str, reason: &str) {
        println!("==> {name}: SKIPPED ({reason}): its tests did not run");
        self.steps
            .push((name.to_string(), Outcome::Skip(reason.to_string())));
    }

    /// Records a step left out because an earlier one failed.
    pub fn not_run(&mut self, name: &str) {
        self.steps.push((name.to_string(), Outcome::NotRun));
    }

    /// Prints one row per step, then `N passed, M failed, K skipped`.
    pub fn print_summary(&self) {
        let width = self.steps.iter().map(|(n, _)| n.len()).fold(4, usize::max);
        println!();
        println!("{:width$}  result   time", "step");
        for (name, outcome) in &self.steps {
            let (result, detail) = match outcome {
                Outcome::Pass(took) => ("PASS", format_duration(*took)),
                Outcome::Fail(took) => ("FAIL", format_duration(*took)),
                Outcome::Skip(reason) => ("SKIP", reason.clone()),
                Outcome::NotRun => ("-", "not run: an earlier step failed".to_string()),
            };
            println!("{name:width$}  {result:7}  {detail}");
        }
        let count = |pass: bool| {
            self.steps
                .iter()
                .filter(|(_, o)| match o {
                    Outcome::Pass(_) => pass,
                    Outcome::Fail(_) => !pass,
                    _ => false,
                })
                .count()
        };
        let skipped: Vec<&str> = self
            .steps
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Skip(_)))
            .map(|(name, _)| name.as_str())
            .collect();
        print!("{} passed, {} failed", count(true), count(false));
        if skipped.is_empty() {
            println!();
        } else {
            println!(", {} SKIPPED: {}", skipped.len(), skipped.join(", "));
        }
    }
}

/// `4.2s` under a minute, `12m05s` above.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = d.as_secs();
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(format_duration(Duration::from_millis(420)), "0.4s");
        assert_eq!(format_duration(Duration::from_secs_f64(59.94)), "59.9s");
        assert_eq!(format_duration(Duration::from_secs(725)), "12m05s");
    }

    #[test]
    fn a_failed_step_names_the_rerun_command() {
        let mut runner = Runner::new(|name| format!("cargo xtask test --only {name}"));
        assert!(runner.run("fmt", None, || Ok(())).is_ok());
        let error = runner
            .run("clippy", None, || Err("it broke".into()))
            .unwrap_err();
        assert_eq!(
            error,
            "step `clippy` failed; rerun it with `cargo xtask test --only clippy`"
        );
    }
}
