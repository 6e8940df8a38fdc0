//! The `wheel` step: gil-lab installed the way Python developers install tools, and used from
//! there.
//!
//! Builds the wheel with maturin (`pyproject.toml`), installs it into a fresh virtual environment
//! in a temporary directory, runs `<venv>/bin/gil-lab sweep` from that `bin/` and checks its JSON,
//! then checks that `--reference python` picks that environment's interpreter. maturin lives in a
//! virtual environment of its own under `target/`, made on first use; Python itself, and Debian's
//! venv module, are installed with apt when missing.

use crate::cmd::Cmd;
use crate::install::Apt;
use std::fs;
use std::path::{Path, PathBuf};

/// maturin versions that build the wheel; the same range as `[build-system] requires` in
/// pyproject.toml (a test keeps the two equal).
pub const MATURIN: &str = "maturin>=1.5,<2";

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
    let maturin = maturin(root, &python, &mut apt)?;

    let scratch = Scratch::new()?;
    let wheels = scratch.0.join("wheels");
    // The project's own target/ (maturin's default, as for cargo): only what changed is rebuilt.
    let build = Cmd::new(&path_str(&maturin))
        .args(&["build", "--release", "--out"])
        .args(&[&path_str(&wheels)]);
    println!("    $ {build}");
    build.run(root)?;
    let wheel = the_wheel(&wheels)?;

    let venv = scratch.0.join("venv");
    let bin = venv.join("bin");
    make_venv(root, &python, &venv, &mut apt)?;
    let venv_python = bin.join("python3");
    let pip = Cmd::new(&path_str(&venv_python)).args(&[
        "-m",
        "pip",
        "install",
        "--no-index",
        "--disable-pip-version-check",
        "--quiet",
        &path_str(&wheel),
    ]);
    println!("    $ {pip}");
    pip.run(root)?;

    // From the environment's bin/, without activating it: the way a pipx user runs it.
    let gil_lab = bin.join("gil-lab");
    let sweep = Cmd::new(&path_str(&gil_lab))
        .args(&["sweep", "--delays", "1", "--format", "json", "--quiet"]);
    println!("    $ (cd {} && {sweep})", bin.display());
    let json = sweep.piped(&bin, None)?;
    python_check(root, &venv_python, CHECK_SWEEP, &[], &json)?;

    // Not activated, so neither PATH nor VIRTUAL_ENV leads to this environment (they may lead to
    // another one): only where gil-lab itself lives can lead it to this environment's Python.
    let reference = Cmd::new(&path_str(&gil_lab))
        .args(&["sweep", "--delays", "0", "--scenarios", "thread"])
        .args(&["--reference", "python", "--format", "json", "--quiet"]);
    println!("    $ (cd {} && {reference})", bin.display());
    let json = reference.piped(&bin, None)?;
    python_check(
        root,
        &venv_python,
        CHECK_REFERENCE,
        &[&path_str(&venv_python)],
        &json,
    )
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
    let venv = Cmd::new(python).args(&["-m", "venv", "--clear", &path_str(dir)]);
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

/// maturin in its own virtual environment under target/, installed from PyPI on first use (and
/// again if that environment broke, e.g. its base Python was removed).
fn maturin(root: &Path, python: &str, apt: &mut Apt) -> Result<PathBuf, String> {
    let venv = root.join("target/xtask-wheel/maturin-venv");
    let maturin = venv.join("bin/maturin");
    let version = || {
        Cmd::new(&path_str(&maturin))
            .args(&["--version"])
            .probe(root)
    };
    if let Some(found) = version() {
        println!("    {} (target/xtask-wheel): present", found.trim());
        return Ok(maturin);
    }
    println!("    installing {MATURIN} from PyPI into {}", venv.display());
    make_venv(root, python, &venv, apt)?;
    let pip = Cmd::new(&path_str(&venv.join("bin/python3"))).args(&[
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        MATURIN,
    ]);
    println!("    $ {pip}");
    pip.run(root)?;
    version()
        .map(|_| maturin.clone())
        .ok_or_else(|| format!("{} does not run after installing it", maturin.display()))
}

/// The one wheel maturin wrote into `dir`.
fn the_wheel(dir: &Path) -> Result<PathBuf, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let wheels: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    match wheels.as_slice() {
        [wheel] => {
            println!("    built {}", wheel.display());
            Ok(wheel.clone())
        }
        _ => Err(format!(
            "expected one wheel in {}, found {}",
            dir.display(),
            wheels.len()
        )),
    }
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
    fn maturin_is_the_version_pyproject_builds_with() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let pyproject = fs::read_to_string(root.join("pyproject.toml")).unwrap();
        assert!(
            pyproject.contains(&format!("requires = [\"{MATURIN}\"]")),
            "pyproject.toml's [build-system] requires differs from {MATURIN}"
        );
        assert!(pyproject.contains("bindings = \"bin\""));
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
