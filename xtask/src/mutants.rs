//! Mutation testing: do the tests notice when the lock's rules break?
//!
//! - `cargo xtask test`'s `mutations` step applies four deliberate mutations, one at a time, to a
//!   copy of the sources (`target/mutations/src`, built into `target/mutations/target` so that
//!   each build is incremental), and requires a named test of the threaded executor to fail (or to
//!   hang past its limit) under each. It also runs the cooperative executor's tests
//!   (`tests/coop.rs`, `tests/executors.rs`) under the mutations of the shared protocol and
//!   requires one of them to fail. The worktree itself is never touched.
//! - `cargo xtask mutants` runs cargo-mutants over the lock (`src/gil/`), the runner and the
//!   workloads against the fast deterministic tests; `docs/mutants.md` is its report.

use crate::cmd::Cmd;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One deliberate mutation: `find` (which must occur exactly once in `file`) becomes `replace`.
pub(crate) struct Mutation {
    pub name: &'static str,
    file: &'static str,
    find: &'static str,
    replace: &'static str,
    /// The test of the threaded executor that must fail: (test binary, test name).
    threaded: (&'static str, &'static str),
    /// What its failure must say (one of these): a failure for another reason (a busy machine)
    /// is not a caught mutation.
    because: &'static [&'static str],
    /// Whether the cooperative executor runs the mutated code (the protocol), so that one of its
    /// tests must fail too; else why not.
    coop: Result<(), &'static str>,
}

pub(crate) const MUTATIONS: [Mutation; 4] = [
    Mutation {
        name: "forced switching off",
        file: "src/gil/protocol.rs",
        find: "    pub fn begin_forced_switch(&mut self, id: WorkerId) -> bool {\n        if self.last_holder == id {",
        replace: "    pub fn begin_forced_switch(&mut self, id: WorkerId) -> bool {\n        if self.last_holder == id && false {",
        threaded: (
            "gil",
            "forced_switching_a_dropper_never_takes_it_back_before_the_waiter",
        ),
        because: &["took the lock straight back", "requested hand-offs seen"],
        coop: Ok(()),
    },
    Mutation {
        name: "no drop request",
        file: "src/gil/protocol.rs",
        find: "        if ask && !self.drop_request {",
        replace: "        if ask && !self.drop_request && false {",
        threaded: ("gil", "four_threads_never_hold_it_at_once"),
        because: &["the lock changed hands only"],
        coop: Ok(()),
    },
    Mutation {
        name: "the controller stopping without the lock",
        file: "src/runner.rs",
        find: "            if now >= end {\n                break Ok(now);",
        replace: "            if now >= end {\n                stop_all(shared, &isolated);\n                break Ok(now);",
        threaded: (
            "scenarios",
            "bignum_load_starves_the_thread_but_not_the_process_or_the_free_thread",
        ),
        because: &["stop lag with load", "past its delay"],
        coop: Err("the cooperative executor's controller is its own (src/coop/)"),
    },
    Mutation {
        name: "the load releasing the lock",
        file: "src/workload/mod.rs",
        find: "    ts.eval_loop(|| {\n        if !running.load(Relaxed) {\n            return false;\n        }\n        thread.op(log, worker);\n        true\n    });",
        replace: "    while running.load(Relaxed) {\n        ts.allow_threads(|| thread.op(log, worker));\n        ts.checkpoint();\n    }",
        threaded: (
            "scenarios",
            "bignum_load_starves_the_thread_but_not_the_process_or_the_free_thread",
        ),
        because: &["thread+load / thread =", "expected <= 0.1"],
        coop: Err("the cooperative executor runs the load's operations itself (src/coop/)"),
    },
];

/// The cooperative executor's test binaries.
const COOP_TESTS: [&str; 2] = ["coop", "executors"];

/// How long one test binary may run under a mutation: a mutation that makes a waiter wait
/// forever is caught by this limit.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// What is copied into the scratch tree: everything `cargo test` needs to build the package
/// (`Cargo.toml` apart, see [`scratch_manifest`]).
const TREE: [&str; 8] = [
    "Cargo.lock",
    "reference",
    "shims",
    "src",
    "tests",
    "benches",
    "xtask/Cargo.toml",
    "xtask/src",
];

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    if from.is_dir() {
        fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
        let entries =
            fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        // Unchanged files keep their modification time, so cargo rebuilds only what changed.
        let same = fs::read(to).ok() == fs::read(from).ok();
        if !same {
            fs::copy(from, to)
                .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
        }
        Ok(())
    }
}

/// The package's manifest for the scratch tree: the library built as an `rlib` only (the page's
/// `cdylib` is not needed by native tests, and linking it would double each build).
fn scratch_manifest(manifest: &str) -> Result<String, String> {
    const BOTH: &str = "crate-type = [\"cdylib\", \"rlib\"]";
    if !manifest.contains(BOTH) {
        return Err(format!(
            "Cargo.toml no longer has `{BOTH}`; update scratch_manifest in xtask/src/mutants.rs"
        ));
    }
    Ok(manifest.replacen(BOTH, "crate-type = [\"rlib\"]", 1))
}

/// Writes `contents` to `path` unless it holds them already (cargo rebuilds on a new mtime).
fn write_if_changed(path: &Path, contents: &str) -> Result<(), String> {
    if fs::read_to_string(path).ok().as_deref() == Some(contents) {
        return Ok(());
    }
    fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `source` with `m` applied, or why it no longer applies.
fn apply(m: &Mutation, source: &str) -> Result<String, String> {
    match source.matches(m.find).count() {
        1 => Ok(source.replacen(m.find, m.replace, 1)),
        n => Err(format!(
            "the mutation '{}' no longer applies: its text occurs {n} times in {} (expected once); \
             update MUTATIONS in xtask/src/mutants.rs",
            m.name, m.file
        )),
    }
}

/// How a test binary ended.
#[derive(Debug, PartialEq)]
enum Outcome {
    Passed,
    /// The failed tests' names, and the binary's whole output.
    Failed(Vec<String>, String),
    TimedOut,
}

/// The first line of `out` that holds one of `because`, if any.
fn reason<'a>(out: &'a str, because: &[&str]) -> Option<&'a str> {
    out.lines().find(|l| because.iter().any(|b| l.contains(b)))
}

/// Builds the test binaries `tests` of the tree at `dir` and returns their paths, in order.
fn build_tests(dir: &Path, target: &Path, tests: &[&str]) -> Result<Vec<PathBuf>, String> {
    let mut args = vec!["test", "--no-run"];
    for t in tests {
        args.extend(["--test", t]);
    }
    let output = Command::new("cargo")
        .args(&args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let err = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("the mutated tree does not build:\n{err}"));
    }
    // `  Executable tests/gil.rs (target/.../deps/gil-0123abcd)`
    tests
        .iter()
        .map(|t| {
            let source = format!("tests/{t}.rs (");
            err.lines()
                .find_map(|l| {
                    let rest = l.trim().strip_prefix("Executable ")?;
                    let path = rest.strip_prefix(&source)?.strip_suffix(')')?;
                    Some(dir.join(path))
                })
                .ok_or_else(|| format!("cargo did not name the binary of tests/{t}.rs:\n{err}"))
        })
        .collect()
}

/// Runs the test binary `exe` (only `name` if given) within [`TEST_LIMIT`].
fn run_tests(dir: &Path, exe: &Path, name: Option<&str>) -> Result<Outcome, String> {
    let mut cmd = Command::new(exe);
    if let Some(name) = name {
        cmd.args([name, "--exact"]);
    }
    let mut child = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let deadline = Instant::now() + TEST_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let Some(status) = status else {
        return Ok(Outcome::TimedOut);
    };
    let out = reader.join().unwrap_or_default();
    if status.success() {
        return Ok(Outcome::Passed);
    }
    // `test some_name ... FAILED`
    let failed = out
        .lines()
        .filter_map(|l| l.strip_prefix("test ")?.strip_suffix(" ... FAILED"))
        .map(str::to_string)
        .collect();
    Ok(Outcome::Failed(failed, out))
}

/// The `mutations` step of `cargo xtask test`.
pub fn check_mutations(root: &Path) -> Result<(), String> {
    let scratch = root.join("target/mutations");
    let tree = scratch.join("src-tree");
    let target = scratch.join("target");
    for part in TREE {
        copy_tree(&root.join(part), &tree.join(part))?;
    }
    let manifest = fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| format!("cannot read Cargo.toml: {e}"))?;
    write_if_changed(&tree.join("Cargo.toml"), &scratch_manifest(&manifest)?)?;
    let mut tests: Vec<&str> = MUTATIONS.iter().map(|m| m.threaded.0).collect();
    tests.extend(COOP_TESTS);
    tests.sort_unstable();
    tests.dedup();
    let mut survived = Vec::new();
    for m in &MUTATIONS {
        let started = Instant::now();
        let pristine = fs::read_to_string(root.join(m.file))
            .map_err(|e| format!("cannot read {}: {e}", m.file))?;
        let mutated = apply(m, &pristine)?;
        // Every other file as in the worktree (an earlier mutation undone).
        for other in MUTATIONS.iter().map(|o| o.file) {
            copy_tree(&root.join(other), &tree.join(other))?;
        }
        write_if_changed(&tree.join(m.file), &mutated)?;
        let built = build_tests(&tree, &target, &tests);
        // Put the file back before anything can fail, so the scratch tree is pristine again.
        copy_tree(&root.join(m.file), &tree.join(m.file))?;
        let exes = built?;
        let exe = |t: &str| exes[tests.iter().position(|x| *x == t).expect("built")].clone();
        let (binary, name) = m.threaded;
        let threaded = run_tests(&tree, &exe(binary), Some(name))?;
        let mut line = format!("mutation '{}': tests/{binary}.rs {name}: ", m.name);
        match &threaded {
            Outcome::Passed => {
                line += "PASSED (the mutation survived)";
                survived.push(format!("'{}' (tests/{binary}.rs {name} passed)", m.name));
            }
            Outcome::Failed(_, out) => match reason(out, m.because) {
                Some(why) => line += &format!("failed: {} (caught)", why.trim()),
                None => {
                    let first = out.lines().find(|l| l.contains("panicked")).unwrap_or("");
                    line += &format!(
                        "FAILED, but not as the mutation makes it fail (a busy machine?): {}",
                        first.trim()
                    );
                    survived.push(format!(
                        "'{}' (tests/{binary}.rs {name} failed for another reason)",
                        m.name
                    ));
                }
            },
            Outcome::TimedOut => {
                line += &format!("still running after {} s (caught)", TEST_LIMIT.as_secs())
            }
        }
        match m.coop {
            Ok(()) => {
                let mut red = Vec::new();
                for t in COOP_TESTS {
                    match run_tests(&tree, &exe(t), None)? {
                        Outcome::Passed => {}
                        Outcome::Failed(names, _) => {
                            red.extend(names.iter().map(|n| format!("tests/{t}.rs {n}")))
                        }
                        Outcome::TimedOut => red.push(format!("tests/{t}.rs (over its limit)")),
                    }
                }
                if red.is_empty() {
                    line += "; cooperative: every test PASSED (the mutation survived)";
                    survived.push(format!("'{}' (in the cooperative executor)", m.name));
                } else {
                    line += &format!("; cooperative: {} (caught)", red.join(", "));
                }
            }
            Err(why) => line += &format!("; cooperative: not applicable, {why}"),
        }
        println!("{line} [{:.0} s]", started.elapsed().as_secs_f64());
    }
    if survived.is_empty() {
        Ok(())
    } else {
        Err(format!("the tests did not notice {}", survived.join(", ")))
    }
}

/// The files cargo-mutants mutates: the lock, the cooperative executor (its tests run on a
/// scripted clock, so they are deterministic), the runner and the workloads.
pub(crate) const MUTANTS_FILES: [&str; 4] = [
    "src/gil/*.rs",
    "src/coop/*.rs",
    "src/runner.rs",
    "src/workload/*.rs",
];

/// The fast deterministic tests each mutant builds and runs: the library's unit tests, the
/// lock's own and the cooperative executor's (`--cargo-arg`, so that the build, too, is of these
/// targets only).
pub(crate) const MUTANTS_TESTS: [&str; 4] =
    ["--lib", "--test=gil", "--test=coop", "--test=executors"];

/// `cargo xtask mutants [FILE...]`: cargo-mutants over `files` (default [`MUTANTS_FILES`]),
/// one job at a time, built into `target/mutants`; its results go to `target/mutants/mutants.out/`
/// (see docs/mutants.md).
pub fn mutants(root: &Path, files: &[String]) -> Result<(), String> {
    if Cmd::new("cargo")
        .args(&["mutants", "--version"])
        .probe(root)
        .is_none()
    {
        return Err("cargo-mutants is not installed; install it with \
                    `cargo install --locked cargo-mutants`"
            .into());
    }
    let mut args: Vec<String> = [
        "mutants",
        "-j",
        "1",
        "--no-shuffle",
        "--timeout",
        "60",
        "-o",
        "target/mutants",
    ]
    .map(String::from)
    .to_vec();
    let default: Vec<String> = MUTANTS_FILES.map(String::from).to_vec();
    for f in if files.is_empty() { &default } else { files } {
        args.extend(["--file".to_string(), f.clone()]);
    }
    for t in MUTANTS_TESTS {
        args.extend(["--cargo-arg".to_string(), t.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let target = root.join("target/mutants");
    Cmd::cargo(&args)
        .env("CARGO_TARGET_DIR", target.to_string_lossy())
        .run(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mutation_applies_once_to_the_sources() {
        let root = crate::tasks::workspace_root();
        for m in &MUTATIONS {
            let source = fs::read_to_string(root.join(m.file)).unwrap();
            let mutated = apply(m, &source).unwrap();
            assert_ne!(mutated, source, "{}", m.name);
        }
    }

    #[test]
    fn the_scratch_manifest_builds_the_library_as_an_rlib_only() {
        let root = crate::tasks::workspace_root();
        let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let scratch = scratch_manifest(&manifest).unwrap();
        assert!(scratch.contains("crate-type = [\"rlib\"]"), "{scratch}");
        assert!(scratch_manifest("[package]").is_err());
    }

    #[test]
    fn a_failure_counts_only_for_its_reason() {
        let out = "test x ... FAILED\nthread 'x' panicked at tests/scenarios.rs:9:5:\nstop lag with load 0.0001 s is not clearly above";
        assert!(reason(out, MUTATIONS[2].because).is_some());
        assert_eq!(reason(out, MUTATIONS[3].because), None);
    }

    #[test]
    fn a_mutation_that_no_longer_applies_says_so() {
        let m = &MUTATIONS[0];
        let err = apply(m, "fn main() {}").unwrap_err();
        assert!(err.contains("no longer applies"), "{err}");
        assert!(err.contains(m.file), "{err}");
    }
}
