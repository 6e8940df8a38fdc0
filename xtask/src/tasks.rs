//! The commands: `test`, `demo` and `serve`.

use crate::cli::TEST_STEPS;
use crate::cmd::Cmd;
use crate::install::{self, Needs, CHROMEDRIVER, CHROMIUM, FIREFOX, MINIBROWSER, WEBKIT_DRIVER};
use crate::serve::Server;
use crate::steps::Runner;
use crate::wheel;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The environment variable with which tests/e2e runs only some browser engines.
const ENGINES_VAR: &str = "GIL_LAB_ENGINES";

/// How long a thread of a test may wait for the emulated lock before it panics with the lock's
/// state (`GIL_LAB_WAIT_LIMIT_S`, read by src/gil/mod.rs): far above any wait of a working lock
/// (a switch interval is at most 1 s), far below nextest's limit per test (.config/nextest.toml).
const TEST_WAIT_LIMIT_S: &str = "60";
/// Its name, as src/gil/mod.rs spells it (a test keeps the two equal).
const WAIT_LIMIT_VAR: &str = "GIL_LAB_WAIT_LIMIT_S";

fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

/// The workspace root: the parent of xtask's own directory.
pub(crate) fn workspace_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// Which optional parts the project has at the moment; the tests of a part run once it exists.
struct Project {
    root: PathBuf,
}

impl Project {
    fn has(&self, path: &str) -> bool {
        self.root.join(path).exists()
    }

    /// A web page to build with trunk.
    fn has_web(&self) -> bool {
        self.has("index.html")
    }

    /// Anything built for wasm32 or run in a browser.
    fn has_web_part(&self) -> bool {
        self.has_web() || self.has("tests/wasm.rs")
    }

    fn dist(&self) -> PathBuf {
        self.root.join("dist")
    }
}

/// Nightly with std rebuilt for shared memory, for the wasm builds only (native stays on stable).
/// std's `optimize_for_size` picks its smaller implementations (0.9 KB gzip off the page).
pub(crate) fn on_nightly_with_build_std(cmd: Cmd) -> Cmd {
    cmd.env("RUSTUP_TOOLCHAIN", "nightly")
        .env("CARGO_UNSTABLE_BUILD_STD", "panic_abort,std")
        .env("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size")
}

/// The page's release build, optimised for size: everything it loads must stay under 150 KB
/// gzip (BENCHMARKS.md). Native release builds keep `opt-level = 3`.
fn trunk_build() -> Cmd {
    on_nightly_with_build_std(Cmd::new("trunk").args(&["build", "--release"]))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
}

/// This program's path, for the tests that run `cargo xtask serve` (empty if unknown: they then
/// run `cargo xtask`).
fn xtask_binary() -> String {
    std::env::current_exe().map_or_else(|_| String::new(), |p| p.to_string_lossy().into())
}

/// One step of `cargo xtask test`.
struct Step {
    name: &'static str,
    /// Why the step does not apply, if it does not.
    skip: Option<String>,
    action: Action,
}

enum Action {
    Install(Needs),
    Run(Cmd),
    /// The `wheel` step: several commands, see `wheel.rs`.
    Wheel,
    /// The `mutations` step: see `mutants.rs`.
    Mutations,
}

impl Step {
    fn run(name: &'static str, cmd: Cmd) -> Self {
        Step {
            name,
            skip: None,
            action: Action::Run(cmd),
        }
    }

    /// Skips the step unless `path` exists in the project.
    fn if_exists(mut self, project: &Project, path: &str) -> Self {
        if self.skip.is_none() && !project.has(path) {
            self.skip = Some(format!("no {path}"));
        }
        self
    }

    /// Skips the step under `--skip-web`.
    fn web(mut self, skip_web: bool) -> Self {
        if skip_web {
            self.skip = Some("--skip-web".into());
        }
        self
    }
}

/// The steps of `cargo xtask test`, in order (their names are `cli::TEST_STEPS`).
fn test_steps(project: &Project, skip_web: bool) -> Vec<Step> {
    let web = project.has_web_part() && !skip_web;
    let needs = Needs {
        lints: true,
        tests: true,
        web,
        browser: web,
        e2e: project.has("tests/e2e/package.json") && !skip_web,
    };
    let loom = Cmd::cargo(&["test", "--release", "--test", "loom_gil"])
        .env("RUSTFLAGS", "--cfg loom")
        .env("CARGO_TARGET_DIR", "target/loom")
        .env("LOOM_MAX_PREEMPTIONS", "3")
        .limit(minutes(30));
    // Every test of the workspace (gil-lab's and xtask's own), each under nextest's limit per test.
    let nextest = Cmd::cargo(&["nextest", "run", "--workspace", "--profile", "xtask"])
        .env(WAIT_LIMIT_VAR, TEST_WAIT_LIMIT_S)
        .limit(minutes(30));
    // nextest does not run doc tests.
    let doctest = Cmd::cargo(&["test", "--workspace", "--doc"])
        .env(WAIT_LIMIT_VAR, TEST_WAIT_LIMIT_S)
        .limit(minutes(15));
    let wasm_test = Cmd::cargo(&[
        "test",
        "--target",
        "wasm32-unknown-unknown",
        "--test",
        "wasm",
    ]);
    let wasm_test = on_nightly_with_build_std(wasm_test)
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .env("CARGO_TARGET_DIR", "target/wasm-test")
        .limit(minutes(30));
    let e2e = Cmd::new("node")
        .args(&["tests/e2e/run.mjs"])
        .env("GIL_LAB_DIST", project.dist().to_string_lossy())
        // The e2e serves through `cargo xtask serve`: this very binary (tests/e2e/lib.mjs).
        .env("GIL_LAB_XTASK", xtask_binary())
        .env("CHROMIUM", CHROMIUM)
        .env("FIREFOX", FIREFOX)
        .env("WEBKIT_DRIVER", WEBKIT_DRIVER)
        .env("MINIBROWSER", MINIBROWSER)
        .limit(minutes(30));
    let steps = vec![
        Step {
            name: "install",
            skip: None,
            action: Action::Install(needs),
        },
        Step::run(
            "fmt",
            Cmd::cargo(&["fmt", "--all", "--", "--check"]).limit(minutes(5)),
        ),
        Step::run(
            "clippy",
            Cmd::cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .limit(minutes(30)),
        ),
        Step::run("test", nextest),
        Step {
            name: "mutations",
            skip: None,
            action: Action::Mutations,
        },
        Step::run("doctest", doctest),
        Step::run(
            "reference",
            Cmd::new("python3")
                .args(&["-m", "unittest", "discover", "-s", "reference"])
                .limit(minutes(10)),
        )
        .if_exists(project, "reference/test_gil_experiment.py"),
        Step::run("loom", loom).if_exists(project, "tests/loom_gil.rs"),
        Step {
            name: "wheel",
            skip: None,
            action: Action::Wheel,
        }
        .if_exists(project, "pyproject.toml"),
        Step::run("web-build", trunk_build().limit(minutes(20)))
            .web(skip_web)
            .if_exists(project, "index.html"),
        Step::run("wasm-test", wasm_test)
            .web(skip_web)
            .if_exists(project, "tests/wasm.rs"),
        Step::run("e2e", e2e)
            .web(skip_web)
            .if_exists(project, "tests/e2e/run.mjs"),
    ];
    debug_assert!(steps.iter().map(|s| s.name).eq(TEST_STEPS));
    steps
}

/// `cargo xtask test`: every step in order, stopping at the first failure, then a summary.
/// With `require_all` (CI), a step or an engine left out is a failure, not a note.
pub fn test(skip_web: bool, only: Option<&str>, require_all: bool) -> Result<(), String> {
    let project = Project {
        root: workspace_root(),
    };
    let engines = std::env::var(ENGINES_VAR).ok();
    if require_all {
        if let Some(left_out) = left_out(skip_web, only, engines.as_deref()) {
            return Err(format!(
                "--require-all runs every step on every engine, but {left_out}"
            ));
        }
    }
    if let Some(engines) = &engines {
        println!(
            "!!! {ENGINES_VAR}={engines}: the e2e test runs these browser engines only, \
             not all three"
        );
    }
    let mut runner = Runner::new(|name| format!("cargo xtask test --only {name}"));
    let mut result = Ok(());
    for step in test_steps(&project, skip_web) {
        if only.is_some_and(|only| only != step.name) {
            continue;
        }
        if let Some(reason) = &step.skip {
            runner.skip(step.name, reason);
            if require_all && result.is_ok() {
                result = Err(format!(
                    "--require-all runs every step, but `{}` was skipped ({reason})",
                    step.name
                ));
            }
            continue;
        }
        if result.is_err() {
            runner.not_run(step.name);
            continue;
        }
        result = match &step.action {
            Action::Install(needs) => runner.run(step.name, None, || {
                install::install_missing(&project.root, *needs)
            }),
            Action::Run(cmd) => runner.run(step.name, Some(cmd), || {
                if step.name == "e2e" && !project.dist().join("index.html").exists() {
                    return Err("dist/index.html does not exist; build it first with \
                                `cargo xtask test --only web-build`"
                        .into());
                }
                cmd.run(&project.root)
            }),
            Action::Wheel => runner.run(step.name, None, || wheel::check(&project.root)),
            Action::Mutations => runner.run(step.name, None, || {
                crate::mutants::check_mutations(&project.root)
            }),
        };
    }
    runner.print_summary();
    if let Some(engines) = &engines {
        println!("!!! {ENGINES_VAR}={engines}: the e2e test left out the other engines");
    }
    result
}

/// What a run with these options leaves out, if anything.
fn left_out(skip_web: bool, only: Option<&str>, engines: Option<&str>) -> Option<String> {
    if skip_web {
        Some("--skip-web leaves out the web steps".into())
    } else if let Some(only) = only {
        Some(format!("--only {only} leaves out the other steps"))
    } else {
        engines.map(|engines| format!("{ENGINES_VAR}={engines} leaves out engines; unset it"))
    }
}

/// `cargo xtask demo`: build the web page and serve it, or, before there is a web page, run a
/// short native sweep.
pub fn demo(port: u16, isolation: bool) -> Result<(), String> {
    let project = Project {
        root: workspace_root(),
    };
    let root = project.root.as_path();
    let mut runner = Runner::new(|_| "cargo xtask demo".to_string());
    if !project.has_web() {
        println!("There is no web page yet (no index.html): running a short native sweep.");
        let sweep = Cmd::cargo(&["run", "--release", "--", "sweep", "--delays", "0,1,2"]);
        return runner.run("sweep", Some(&sweep), || sweep.run(root));
    }
    let needs = Needs {
        web: true,
        ..Needs::default()
    };
    runner.run("install", None, || install::install_missing(root, needs))?;
    let build = trunk_build();
    runner.run("web-build", Some(&build), || build.run(root))?;
    let server = Server::bind(&project.dist(), port, isolation)?;
    println!("gil-lab demo: {}", server.url());
    println!("(serving {}; Ctrl-C to stop)", project.dist().display());
    server.run()
}

/// `cargo xtask serve`: only the server, for `dir` (default dist/).
pub fn serve(dir: Option<PathBuf>, port: u16, isolation: bool) -> Result<(), String> {
    let dir = dir.unwrap_or_else(|| workspace_root().join("dist"));
    if !dir.is_dir() {
        return Err(format!(
            "{} is not a directory; build the site with `cargo xtask demo` or pass --dir",
            dir.display()
        ));
    }
    let server = Server::bind(&dir, port, isolation)?;
    println!(
        "serving {} at {} (Ctrl-C to stop)",
        dir.display(),
        server.url()
    );
    if !isolation {
        println!("without COOP/COEP headers: the page has no SharedArrayBuffer");
    }
    server.run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_are_the_documented_ones_in_order() {
        let project = Project {
            root: workspace_root(),
        };
        let names: Vec<&str> = test_steps(&project, false).iter().map(|s| s.name).collect();
        assert_eq!(names, TEST_STEPS);
    }

    #[test]
    fn require_all_refuses_whatever_leaves_something_out() {
        assert_eq!(left_out(false, None, None), None);
        for (skip_web, only, engines, says) in [
            (true, None, None, "--skip-web"),
            (false, Some("fmt"), None, "--only fmt"),
            (false, None, Some("chromium"), "GIL_LAB_ENGINES=chromium"),
        ] {
            let why = left_out(skip_web, only, engines).expect("something is left out");
            assert!(why.contains(says), "{why}");
        }
        let refused = test(false, Some("fmt"), true).unwrap_err();
        assert!(refused.contains("--require-all"), "{refused}");
    }

    #[test]
    fn the_tests_run_with_a_wait_limit_on_the_lock() {
        let project = Project {
            root: workspace_root(),
        };
        for step in test_steps(&project, false) {
            if let ("test" | "doctest", Action::Run(cmd)) = (step.name, &step.action) {
                let line = cmd.to_string();
                assert!(line.contains("GIL_LAB_WAIT_LIMIT_S=60"), "{line}");
            }
        }
        // The name src/gil/mod.rs reads.
        let gil = std::fs::read_to_string(workspace_root().join("src/gil/mod.rs")).unwrap();
        assert!(gil.contains(&format!("WAIT_LIMIT_VAR: &str = \"{WAIT_LIMIT_VAR}\"")));
    }

    #[test]
    fn skip_web_skips_the_web_steps_and_their_installs() {
        let project = Project {
            root: workspace_root(),
        };
        for step in test_steps(&project, true) {
            match step.name {
                "web-build" | "wasm-test" | "e2e" => {
                    assert_eq!(step.skip.as_deref(), Some("--skip-web"))
                }
                "install" => match step.action {
                    Action::Install(needs) => assert!(!needs.web && !needs.browser && !needs.e2e),
                    _ => panic!("install is an Action::Install"),
                },
                _ => {}
            }
        }
    }
}
