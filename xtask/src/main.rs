//! `cargo xtask`: the project's own tasks, in Rust with std only.
//!
//! - `cargo xtask test` runs every test of the project in order, installing what is missing.
//! - `cargo xtask demo` builds the web page and serves it with the headers it needs.
//! - `cargo xtask serve` is just that server.
//! - `cargo xtask size` profiles the page's `.wasm` by function and crate.
//! - `cargo xtask mutants` runs cargo-mutants over the lock, the runner and the workloads.
//!
//! `cargo xtask help` lists the options.

mod cli;
mod cmd;
mod install;
mod mutants;
mod serve;
mod size;
mod steps;
mod tasks;
mod wheel;

use cli::Command;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}.");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    match cli::parse(std::env::args().skip(1))? {
        Command::Test {
            skip_web,
            only,
            require_all,
        } => tasks::test(skip_web, only.as_deref(), require_all),
        Command::Demo { port, isolation } => tasks::demo(port, isolation),
        Command::Serve {
            dir,
            port,
            isolation,
            until_stdin_closes,
        } => {
            if until_stdin_closes {
                serve::exit_when_stdin_closes();
            }
            tasks::serve(dir, port, isolation)
        }
        Command::Size { top } => size::run(&tasks::workspace_root(), top),
        Command::Mutants { files } => mutants::mutants(&tasks::workspace_root(), &files),
        Command::Help => {
            print!("{}", cli::USAGE);
            Ok(())
        }
    }
}
