//! External commands: run from the workspace root, and shown as a shell line one can paste.

use std::fmt;
use std::path::Path;
use std::process::{Command, Stdio};

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
}

impl Cmd {
    pub fn new(program: &str) -> Self {
        Cmd {
            program: program.to_string(),
            args: Vec::new(),
            env: Vec::new(),
            dir: None,
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

    fn command(&self, root: &Path) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).stdin(Stdio::null());
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

    /// Runs with the terminal's output; an error unless it exits with success.
    pub fn run(&self, root: &Path) -> Result<(), String> {
        let status = self
            .command(root)
            .status()
            .map_err(|e| self.start_error(e))?;
        if status.success() {
            Ok(())
        } else {
            let code = status
                .code()
                .map_or_else(|| "a signal".to_string(), |c| format!("status {c}"));
            Err(format!("`{self}` exited with {code}"))
        }
    }

    /// Runs with `input` (or nothing) on its standard input and returns its standard output; its
    /// standard error goes to the terminal. An error unless it exits with success.
    pub fn piped(&self, root: &Path, input: Option<&str>) -> Result<String, String> {
        use std::io::Write;
        let mut child = self
            .command(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| self.start_error(e))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A child that exits without reading all of it fails below with its own message.
            let _ = stdin.write_all(input.unwrap_or_default().as_bytes());
        }
        let output = child
            .wait_with_output()
            .map_err(|e| format!("`{self}` did not finish: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!("`{self}` exited with {}", output.status))
        }
    }

    /// Runs quietly and returns its standard output, or `None` if it cannot start or fails.
    /// Used to probe what is installed.
    pub fn probe(&self, root: &Path) -> Option<String> {
        let output = self.command(root).stderr(Stdio::null()).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn start_error(&self, e: std::io::Error) -> String {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("cannot run `{self}`: `{}` is not on PATH", self.program)
        } else {
            format!("cannot run `{self}`: {e}")
        }
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
