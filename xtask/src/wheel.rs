//! The `wheel` step: gil-lab installed the ways its README tells users to, and used from there.
//!
//! `pip install .` as a user runs it: in a fresh virtual environment in a temporary directory,
//! from PyPI (pip fetches the build backend of `pyproject.toml`, maturin, into an isolated build
//! environment, and maturin runs cargo in the project's target/, so only what changed is rebuilt).
//! Then runs `<venv>/bin/gil-lab sweep` from that `bin/` and checks its JSON, and checks that
//! `--reference python` picks that environment's interpreter. Last, `cargo install --path .` into a
//! temporary root, and its `gil-lab --version`. Python itself, and Debian's venv module, are
//! installed with apt when missing.

use crate::cmd::Cmd;
use crate::install::Apt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The limit of each of the two installs: a release build with LTO (3 minutes on two quiet
/// cores), and pip's download of maturin.
const INSTALL_LIMIT: Duration = Duration::from_secs(20 * 60);
/// The limit of each run of the installed gil-lab (a sweep of 1 s per scenario).
const RUN_LIMIT: Duration = Duration::from_secs(5 * 60);

/// The interpreters tried, in order: whatever `python3` is on PATH (a pyenv shim, a Homebrew or
/// a distribution Python), then Debian's own.
const PYTHONS: [&str; 2] = ["python3", "/usr/bin/python3"];

/// What the sweep's JSON must hold: the contract of `gil-lab sweep --format json`. Run by the
/// installed environment's own Python, since xtask has no JSON parser (std only).
const CHECK_SWEEP: &str = r#"
import json, sys
def check(ok, why):
    ok or sys.exit("the installed gil-lab's sweep: " + why)
report = json.load(sys.stdin)
check("config" in report and "results" in report, f"no config or results: {sorted(report)}")
results = report["results"]
check(results, "no results")
fields = {"scenario": str, "delay_s": (int, float), "count": int,
          "elapsed_s": (int, float), "stop_lag_s": (int, float)}
for r in results:
    for field, kind in fields.items():
        check(isinstance(r.get(field), kind), f"no {field} of the right type in {r}")
    check(r["delay_s"] == 1, f"asked for a 1 s delay, got {r}")
    check(r["count"] > 0, f"the incrementer never counted: {r}")
    check(r["elapsed_s"] >= 1, f"stopped before its 1 s delay: {r}")
scenarios = sorted(r["scenario"] for r in results)
seed = sorted(["thread", "process", "thread+load", "process+load"])
check(scenarios == seed, f"scenarios {scenarios}, not the seed's {seed}")
print("    sweep JSON: " + ", ".join(f"{r['scenario']} {r['count']:,}" for r in results))
"#;

/// Which interpreter ran the reference: it must be the one in the environment's `bin/` (argv[1]).
/// Directories are compared resolved, in case the temporary directory is reached through a link.
const CHECK_REFERENCE: &str = r#"
import json, os, sys
report = json.load(sys.stdin)
used = report["reference"]["config"]["python"]["executable"]
here = lambda path: os.path.realpath(os.path.dirname(path))
if here(used) != here(sys.argv[1]):
    sys.exit(f"--reference python ran {used}, not the environment's {sys.argv[1]}")
print(f"    --reference python ran {used}")
"#;

/// Runs the step from the workspace `root`.
pub fn check(root: &Path) -> Result<(), String> {
    let mut apt = Apt::default();
    let python = base_python(root, &mut apt)?;

    let scratch = Scratch::new()?;
    let venv = scratch.0.join("venv");
    let bin = venv.join("bin");
    make_venv(root, &python, &venv, &mut apt)?;
    let venv_python = bin.join("python3");
    let pip = Cmd::new(&path_str(&venv_python))
        .args(&[
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
        ])
        .args(&[&path_str(root)])
        .limit(INSTALL_LIMIT);
    println!("    $ {pip}");
    timed(|| pip.run(root))?;

    // From the environment's bin/, without activating it: the way a pipx user runs it.
    let gil_lab = bin.join("gil-lab");
    let sweep = Cmd::new(&path_str(&gil_lab))
        .args(&["sweep", "--delays", "1", "--format", "json", "--quiet"])
        .limit(RUN_LIMIT);
    println!("    $ (cd {} && {sweep})", bin.display());
    let json = sweep.piped(&bin, None)?;
    python_check(root, &venv_python, CHECK_SWEEP, &[], &json)?;

    // Not activated, so neither PATH nor VIRTUAL_ENV leads to this environment (they may lead to
    // another one): only where gil-lab itself lives can lead it to this environment's Python.
    let reference = Cmd::new(&path_str(&gil_lab))
        .args(&["sweep", "--delays", "0", "--scenarios", "thread"])
        .args(&["--reference", "python", "--format", "json", "--quiet"])
        .limit(RUN_LIMIT);
    println!("    $ (cd {} && {reference})", bin.display());
    let json = reference.piped(&bin, None)?;
    python_check(
        root,
        &venv_python,
        CHECK_REFERENCE,
        &[&path_str(&venv_python)],
        &json,
    )?;

    // `cargo install --path .`, the README's other way, into a root of its own (not ~/.cargo).
    let cargo_root = scratch.0.join("cargo");
    let install = Cmd::cargo(&["install", "--locked", "--path", "."])
        .args(&["--root", &path_str(&cargo_root)])
        .limit(INSTALL_LIMIT);
    println!("    $ {install}");
    timed(|| install.run(root))?;
    let version = Cmd::new(&path_str(&cargo_root.join("bin/gil-lab")))
        .args(&["--version"])
        .limit(RUN_LIMIT);
    let said = version.piped(root, None)?;
    let expected = format!("gil-lab {}", package_version(root)?);
    if said.trim() != expected {
        return Err(format!(
            "`{version}` says {:?}, not {expected:?}",
            said.trim()
        ));
    }
    println!("    {version}: {}", said.trim());
    Ok(())
}

/// The `version` of Cargo.toml's `[package]`, its first `version = "..."` line.
fn package_version(root: &Path) -> Result<String, String> {
    let manifest = root.join("Cargo.toml");
    let text = fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    text.lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .map(str::to_string)
        .ok_or_else(|| format!("no `version = \"...\"` line in {}", manifest.display()))
}

/// Runs `install` and says how long it took.
fn timed(install: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    let started = std::time::Instant::now();
    install()?;
    println!(
        "    installed in {}",
        crate::steps::format_duration(started.elapsed())
    );
    Ok(())
}

/// A CPython 3.8 or later to make virtual environments with; Debian's, installed with apt, when
/// there is none.
fn base_python(root: &Path, apt: &mut Apt) -> Result<String, String> {
    let usable = |python: &str| {
        Cmd::new(python)
            .args(&[
                "-c",
                "import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)",
            ])
            .probe(root)
            .is_some()
    };
    if let Some(python) = PYTHONS.into_iter().find(|p| usable(p)) {
        let version = Cmd::new(python).args(&["--version"]).probe(root);
        println!("    {python}: {}", version.as_deref().unwrap_or("?").trim());
        return Ok(python.to_string());
    }
    println!("    no Python 3.8 or later (tried {})", PYTHONS.join(", "));
    apt.install(root, &["python3", "python3-venv"])?;
    let debian = PYTHONS[1];
    if usable(debian) {
        Ok(debian.to_string())
    } else {
        Err(format!(
            "{debian} is still not a Python 3.8 or later after installing it"
        ))
    }
}

/// `python -m venv DIR`. Debian splits the venv module's pip (ensurepip) into python3-venv;
/// without it venv fails, so it is installed and venv tried again.
fn make_venv(root: &Path, python: &str, dir: &Path, apt: &mut Apt) -> Result<(), String> {
    let venv = Cmd::new(python)
        .args(&["-m", "venv", "--clear", &path_str(dir)])
        .limit(RUN_LIMIT);
    println!("    $ {venv}");
    let has_ensurepip = Cmd::new(python)
        .args(&["-c", "import venv, ensurepip"])
        .probe(root)
        .is_some();
    if !has_ensurepip {
        println!("    {python} has no ensurepip, which venv needs (Debian's python3-venv)");
        apt.install(root, &["python3-venv"])?;
    }
    venv.run(root)
}

/// Runs `script` with `python`, the JSON on its standard input; its assertion message on failure.
fn python_check(
    root: &Path,
    python: &Path,
    script: &str,
    args: &[&str],
    json: &str,
) -> Result<(), String> {
    Cmd::new(&path_str(python))
        .args(&["-c", script])
        .args(args)
        .piped(root, Some(json))
        .map(|out| print!("{out}"))
}

fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A temporary directory, removed with everything in it when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("gil-lab-wheel-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_version_is_read_from_cargo_toml() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let version = package_version(&root).unwrap();
        assert!(version.split('.').count() == 3, "{version}");
        assert!(package_version(Path::new("/nonexistent")).is_err());
    }

    #[test]
    fn scratch_directories_are_removed() {
        let scratch = Scratch::new().unwrap();
        let dir = scratch.0.clone();
        fs::write(dir.join("file"), "x").unwrap();
        drop(scratch);
        assert!(!dir.exists());
    }
}
