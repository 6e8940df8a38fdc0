//! External commands: run from the workspace root, shown as a shell line one can paste, and each
//! under a time limit.
//!
//! Every command runs in a process group of its own. When it runs over its limit, the whole group
//! (the command and everything it started: test binaries, browsers, drivers) is killed and the
//! command fails, naming itself and the limit; when it ends, whatever it left running in its group
//! is ended too. A Ctrl-C or SIGTERM to xtask is passed on to the running command's group, which
//! a terminal would otherwise no longer reach.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The limit of a command that does not state its own.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(10 * 60);
/// The limit of a probe (`tool --version` and the like).
const PROBE_LIMIT: Duration = Duration::from_secs(60);

/// Variables that `cargo run` and rustup set for xtask itself. Passed on, they would pin every
/// child to the toolchain that built xtask (`RUSTUP_TOOLCHAIN`) or to its cargo binary (`CARGO`,
/// which tools such as trunk use to call `cargo metadata`). Each command states its toolchain.
const INHERITED_FROM_CARGO_RUN: [&str; 4] = [
    "CARGO",
    "RUSTUP_TOOLCHAIN",
    "RUSTUP_TOOLCHAIN_SOURCE",
    "RUST_RECURSION_COUNT",
];

/// A command line with its own environment variables and, optionally, a directory of the
/// workspace to run in.
#[derive(Clone, Debug)]
pub struct Cmd {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    dir: Option<String>,
    limit: Duration,
}

impl Cmd {
    pub fn new(program: &str) -> Self {
        Cmd {
            program: program.to_string(),
            args: Vec::new(),
            env: Vec::new(),
            dir: None,
            limit: DEFAULT_LIMIT,
        }
    }

    /// `cargo` with arguments, on the default toolchain (stable).
    pub fn cargo(args: &[&str]) -> Self {
        Cmd::new("cargo").args(args)
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// Runs in `dir`, a path relative to the workspace root.
    pub fn in_dir(mut self, dir: &str) -> Self {
        self.dir = Some(dir.to_string());
        self
    }

    /// Runs for at most `limit` (else [`DEFAULT_LIMIT`]); probes have their own, shorter one.
    pub fn limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    fn command(&self, root: &Path) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).stdin(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        for key in INHERITED_FROM_CARGO_RUN {
            command.env_remove(key);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command.current_dir(match &self.dir {
            Some(dir) => root.join(dir),
            None => root.to_path_buf(),
        });
        command
    }

    /// Runs with the terminal's output; an error unless it exits with success within its limit.
    pub fn run(&self, root: &Path) -> Result<(), String> {
        let mut child = self
            .command(root)
            .spawn()
            .map_err(|e| self.start_error(e))?;
        let status = self.wait(&mut child, self.limit)?;
        self.check(status)
    }

    /// Runs with `input` (or nothing) on its standard input and returns its standard output; its
    /// standard error goes to the terminal. An error unless it exits with success within its
    /// limit.
    pub fn piped(&self, root: &Path, input: Option<&str>) -> Result<String, String> {
        let mut child = self
            .command(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| self.start_error(e))?;
        let stdin = child.stdin.take();
        let input = input.unwrap_or_default().to_string();
        // Written and read on threads of their own, so that the limit holds even for a command
        // that neither reads its input nor closes its output.
        let writer = std::thread::spawn(move || {
            if let Some(mut stdin) = stdin {
                use std::io::Write;
                // A child that exits without reading all of it fails below with its own message.
                let _ = stdin.write_all(input.as_bytes());
            }
        });
        let reader = read_all(child.stdout.take());
        let status = self.wait(&mut child, self.limit);
        let _ = writer.join();
        let stdout = reader.join().unwrap_or_default();
        self.check(status?)?;
        Ok(stdout)
    }

    /// Runs quietly and returns its standard output, or `None` if it cannot start, fails or runs
    /// over a minute. Used to probe what is installed.
    pub fn probe(&self, root: &Path) -> Option<String> {
        let mut child = self
            .command(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let reader = read_all(child.stdout.take());
        let status = self.wait(&mut child, self.limit.min(PROBE_LIMIT));
        let stdout = reader.join().unwrap_or_default();
        status.ok()?.success().then_some(stdout)
    }

    /// Waits for `child` for at most `limit`, then kills its process group. Either way, whatever
    /// is left of the group once the child has ended is killed, so no process outlives its step.
    fn wait(&self, child: &mut Child, limit: Duration) -> Result<ExitStatus, String> {
        let group = group::Running::new(child.id());
        let deadline = Instant::now() + limit;
        // Short probes end in a few milliseconds: poll often at first, then every 100 ms.
        let mut pause = Duration::from_millis(1);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    group.kill();
                    return Ok(status);
                }
                Ok(None) => {}
                Err(e) => {
                    group.kill();
                    let _ = child.wait();
                    return Err(format!("cannot wait for `{self}`: {e}"));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                group.kill();
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{self}` ran over its time limit of {} and was killed, with every process \
                     it started",
                    crate::steps::format_duration(limit)
                ));
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    fn check(&self, status: ExitStatus) -> Result<(), String> {
        if status.success() {
            Ok(())
        } else {
            let code = status
                .code()
                .map_or_else(|| "a signal".to_string(), |c| format!("status {c}"));
            Err(format!("`{self}` exited with {code}"))
        }
    }

    fn start_error(&self, e: std::io::Error) -> String {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("cannot run `{self}`: `{}` is not on PATH", self.program)
        } else {
            format!("cannot run `{self}`: {e}")
        }
    }
}

/// Reads `stream` to its end on a thread of its own.
fn read_all(stream: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut stream) = stream {
            let _ = stream.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// The process group of the running command, and passing SIGINT and SIGTERM on to it.
#[cfg(unix)]
mod group {
    use std::sync::atomic::{AtomicI32, Ordering::SeqCst};
    use std::sync::Once;

    const SIGINT: i32 = 2;
    const SIGKILL: i32 = 9;
    const SIGTERM: i32 = 15;

    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
        fn signal(signum: i32, handler: usize) -> usize;
        fn _exit(status: i32) -> !;
    }

    /// The process groups of the commands running now (0: a free slot). xtask runs a few at once
    /// at the most (the installs); one past the slots still runs, unreached by signals.
    static RUNNING: [AtomicI32; 8] = [const { AtomicI32::new(0) }; 8];

    /// Passes the signal on to the running commands' groups, then ends xtask as the signal would.
    /// Only async-signal-safe calls: atomic loads, kill and _exit.
    extern "C" fn pass_on(sig: i32) {
        for slot in &RUNNING {
            let group = slot.load(SeqCst);
            if group > 0 {
                // SAFETY: kill may be called from a signal handler.
                unsafe {
                    kill(-group, sig);
                }
            }
        }
        // SAFETY: _exit may be called from a signal handler.
        unsafe { _exit(128 + sig) }
    }

    /// A running command's process group (its id is the command's pid), registered for signals.
    pub struct Running(i32);

    impl Running {
        pub fn new(pid: u32) -> Self {
            static HANDLERS: Once = Once::new();
            HANDLERS.call_once(|| {
                // SAFETY: `pass_on` is an `extern "C" fn(i32)`, the handler type of signal().
                unsafe {
                    signal(SIGINT, pass_on as extern "C" fn(i32) as usize);
                    signal(SIGTERM, pass_on as extern "C" fn(i32) as usize);
                }
            });
            let group = i32::try_from(pid).unwrap_or(0);
            let _ = RUNNING
                .iter()
                .find(|slot| slot.compare_exchange(0, group, SeqCst, SeqCst).is_ok());
            Running(group)
        }

        /// Kills every process left in the group (none may be left: then this does nothing).
        pub fn kill(&self) {
            if self.0 > 0 {
                // SAFETY: a plain system call; a negative pid names the process group.
                unsafe {
                    kill(-self.0, SIGKILL);
                }
            }
        }
    }

    impl Drop for Running {
        fn drop(&mut self) {
            for slot in &RUNNING {
                let _ = slot.compare_exchange(self.0, 0, SeqCst, SeqCst);
            }
        }
    }
}

/// Elsewhere, the command itself is killed at its limit (see `Cmd::wait`); nothing more.
#[cfg(not(unix))]
mod group {
    pub struct Running;

    impl Running {
        pub fn new(_pid: u32) -> Self {
            Running
        }

        pub fn kill(&self) {}
    }
}

/// The command as a shell line: `(cd DIR && ) KEY=VALUE... program args...`.
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .collect();
        words.push(shell_quote(&self.program));
        words.extend(self.args.iter().map(|a| shell_quote(a)));
        let line = words.join(" ");
        match &self.dir {
            Some(dir) => write!(f, "(cd {} && {line})", shell_quote(dir)),
            None => f.write_str(&line),
        }
    }
}

/// Quotes a word for a POSIX shell, only when needed.
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_are_not_quoted() {
        assert_eq!(shell_quote("panic_abort,std"), "panic_abort,std");
        assert_eq!(shell_quote("/work/main/dist"), "/work/main/dist");
    }

    #[test]
    fn words_with_spaces_or_quotes_are_quoted() {
        assert_eq!(shell_quote("--cfg loom"), "'--cfg loom'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    /// Whether process `pid` still runs a second after it was killed (a signal takes a moment to
    /// land; a zombie waiting for its parent to reap it does not run).
    fn runs(pid: &str) -> bool {
        let running = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                let state = stat.rsplit(')').next().unwrap_or("").trim_start();
                !state.starts_with('Z')
            })
        };
        let deadline = Instant::now() + Duration::from_secs(1);
        while running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        running()
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-cmd-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_command_over_its_limit_is_killed_with_what_it_started() {
        let dir = scratch("limit");
        // A shell that starts a grandchild, writes its pid, and waits far beyond its limit.
        let cmd = Cmd::new("sh")
            .args(&["-c", "sleep 60 & echo $! > grandchild; sleep 60"])
            .limit(Duration::from_millis(500));
        let started = Instant::now();
        let error = cmd.run(&dir).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert!(error.contains("ran over its time limit of 0.5s"), "{error}");
        assert!(
            error.contains("sleep 60 &"),
            "the command is named: {error}"
        );
        let grandchild = std::fs::read_to_string(dir.join("grandchild")).unwrap();
        assert!(
            !runs(grandchild.trim()),
            "sleep {} outlived its step",
            grandchild.trim()
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn what_a_command_leaves_running_is_ended_with_it() {
        let dir = scratch("leftover");
        let cmd = Cmd::new("sh").args(&["-c", "sleep 60 & echo $!"]);
        let pid = cmd.piped(&dir, None).unwrap();
        assert!(pid.trim().parse::<u32>().is_ok(), "{pid}");
        assert!(!runs(pid.trim()), "sleep {} outlived its step", pid.trim());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn piped_and_probe_are_bounded_too() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let slow = Cmd::new("sleep")
            .args(&["60"])
            .limit(Duration::from_millis(300));
        let error = slow.piped(here, None).unwrap_err();
        assert!(error.contains("time limit of 0.3s"), "{error}");
        assert_eq!(slow.probe(here), None);
        let cat = Cmd::new("cat");
        assert_eq!(cat.piped(here, Some("in\n")).unwrap(), "in\n");
        assert_eq!(
            Cmd::new("echo").args(&["hi"]).probe(here).as_deref(),
            Some("hi\n")
        );
        let failing = Cmd::new("sh").args(&["-c", "exit 3"]);
        assert_eq!(
            failing.run(here).unwrap_err(),
            "`sh -c 'exit 3'` exited with status 3"
        );
    }

    #[test]
    fn display_is_a_shell_line() {
        let cmd = Cmd::cargo(&["test", "--release"])
            .env("RUSTFLAGS", "--cfg loom")
            .env("LOOM_MAX_PREEMPTIONS", "3");
        assert_eq!(
            cmd.to_string(),
            "RUSTFLAGS='--cfg loom' LOOM_MAX_PREEMPTIONS=3 cargo test --release"
        );
        let npm = Cmd::new("npm").args(&["ci"]).in_dir("tests/e2e");
        assert_eq!(npm.to_string(), "(cd tests/e2e && npm ci)");
    }
}
