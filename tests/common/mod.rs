//! Helpers shared by the test files that run the `gil-lab` binary.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Runs the built `gil-lab` with `args` and no standard input.
pub fn gil_lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gil-lab"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the gil-lab binary runs")
}

/// What a run printed on standard error.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh, empty folder for one test: `<temp>/gil-lab-<suite>-<pid>-<name>`.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gil-lab-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}
