//! The command line of `cargo xtask`.

use std::path::PathBuf;

pub const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  test [--skip-web] [--only STEP] [--require-all]
      Every test of the project, in order, stopping at the first failure; each step under a
      time limit (its whole process group is killed at the limit):
        install    install the tools that are missing
        fmt        cargo fmt --all -- --check
        clippy     cargo clippy --workspace --all-targets -- -D warnings
        test       cargo nextest run --workspace (gil-lab's and xtask's tests, each under a
                   limit: .config/nextest.toml), with GIL_LAB_WAIT_LIMIT_S=60
        mutations  four deliberate mutations of the lock, the controller and the load, each in
                   a copy of the sources (target/mutations): a named test must fail under each
        doctest    cargo test --workspace --doc
        reference  the CPython reference script's own tests (python3 -m unittest, reference/)
        loom       the loom model of the lock (tests/loom_gil.rs)
        wheel      build the wheel (maturin), install it into a fresh virtual environment and
                   run its gil-lab (installs Python's venv and maturin when missing)
        web-build  trunk build --release, into dist/
        wasm-test  the in-browser unit tests (tests/wasm.rs)
        e2e        the browser end-to-end test (tests/e2e/run.mjs)
      --skip-web   stop after wheel (no web tools installed, no browser)
      --only STEP  run only that step
      --require-all  fail if any step is skipped or GIL_LAB_ENGINES leaves out engines (CI)

  demo [--port N] [--no-isolation]
      Build the web page and serve it on http://127.0.0.1:N/ (default 8080, or the next free
      port) until Ctrl-C. Without a web page yet, run a short native sweep instead.

  serve [--dir DIR] [--port N] [--no-isolation] [--until-stdin-closes]
      Serve DIR (default dist/) on 127.0.0.1 until Ctrl-C (port 0: any free port).
      --until-stdin-closes  also stop when standard input closes (how the e2e tests run it,
                            so that no server outlives them)

  --no-isolation  leave out the COOP/COEP/CORP headers (the page then has no SharedArrayBuffer)

  mutants [--file GLOB]...
      cargo-mutants over src/gil/, src/coop/, src/runner.rs and src/workload/ (or the files given), one
      job at a time, against the library's unit tests and tests/gil.rs; see docs/mutants.md.

  size [--top N]
      Where the page's .wasm goes: builds it as web-build does but with its names kept (into
      target/size; dist/ is untouched), then prints the code and data section sizes, the N
      largest functions (default 40) and the code of each crate, in raw bytes.
";

pub const TEST_STEPS: [&str; 12] = [
    "install",
    "fmt",
    "clippy",
    "test",
    "mutations",
    "doctest",
    "reference",
    "loom",
    "wheel",
    "web-build",
    "wasm-test",
    "e2e",
];

pub const DEFAULT_PORT: u16 = 8080;

#[derive(Debug, PartialEq)]
pub enum Command {
    Test {
        skip_web: bool,
        only: Option<String>,
        require_all: bool,
    },
    Demo {
        port: u16,
        isolation: bool,
    },
    Serve {
        dir: Option<PathBuf>,
        port: u16,
        isolation: bool,
        until_stdin_closes: bool,
    },
    Size {
        top: usize,
    },
    Mutants {
        files: Vec<String>,
    },
    Help,
}

/// Parses the arguments after `cargo xtask`.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let name = args.next().unwrap_or_default();
    match name.as_str() {
        "test" | "demo" | "serve" | "size" | "mutants" => {}
        "help" | "--help" | "-h" => return Ok(Command::Help),
        "" => return Err("no command given; run `cargo xtask help` for the commands".into()),
        _ => {
            return Err(format!(
                "there is no command `{name}`; run `cargo xtask help` for the commands"
            ))
        }
    }
    let mut skip_web = false;
    let mut require_all = false;
    let mut only = None;
    let mut port = DEFAULT_PORT;
    let mut isolation = true;
    let mut dir = None;
    let mut until_stdin_closes = false;
    let mut top = 40;
    let mut files = Vec::new();
    while let Some(arg) = args.next() {
        // `--flag=value` or `--flag value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("`{flag}` needs a value"))
        };
        match (name.as_str(), flag) {
            ("test", "--skip-web") => skip_web = true,
            ("test", "--require-all") => require_all = true,
            ("test", "--only") => {
                let step = value()?;
                if !TEST_STEPS.contains(&step.as_str()) {
                    return Err(format!(
                        "there is no step `{step}`; the steps are {}",
                        TEST_STEPS.join(", ")
                    ));
                }
                only = Some(step);
            }
            ("demo" | "serve", "--port") => {
                let value = value()?;
                port = value
                    .parse()
                    .map_err(|_| format!("`{value}` is not a port number"))?;
            }
            ("demo" | "serve", "--no-isolation") => isolation = false,
            ("serve", "--dir") => dir = Some(PathBuf::from(value()?)),
            ("serve", "--until-stdin-closes") => until_stdin_closes = true,
            ("mutants", "--file") => files.push(value()?),
            ("size", "--top") => {
                let value = value()?;
                top = value
                    .parse()
                    .map_err(|_| format!("`{value}` is not a number of functions"))?;
            }
            _ => {
                return Err(format!(
                    "`cargo xtask {name}` has no option `{arg}`; run `cargo xtask help`"
                ))
            }
        }
    }
    Ok(match name.as_str() {
        "test" => Command::Test {
            skip_web,
            only,
            require_all,
        },
        "demo" => Command::Demo { port, isolation },
        "size" => Command::Size { top },
        "mutants" => Command::Mutants { files },
        _ => Command::Serve {
            dir,
            port,
            isolation,
            until_stdin_closes,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Command, String> {
        parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn test_takes_skip_web_and_only() {
        assert_eq!(
            parse_line("test"),
            Ok(Command::Test {
                skip_web: false,
                only: None,
                require_all: false,
            })
        );
        assert_eq!(
            parse_line("test --skip-web --only clippy"),
            Ok(Command::Test {
                skip_web: true,
                only: Some("clippy".into()),
                require_all: false,
            })
        );
        assert_eq!(
            parse_line("test --only=e2e"),
            Ok(Command::Test {
                skip_web: false,
                only: Some("e2e".into()),
                require_all: false,
            })
        );
        assert_eq!(
            parse_line("test --require-all"),
            Ok(Command::Test {
                skip_web: false,
                only: None,
                require_all: true,
            })
        );
        assert!(parse_line("test --only lint").is_err());
        assert!(parse_line("test --only").is_err());
        assert!(parse_line("test --port 1").is_err());
    }

    #[test]
    fn demo_and_serve_take_a_port_and_isolation() {
        assert_eq!(
            parse_line("demo"),
            Ok(Command::Demo {
                port: DEFAULT_PORT,
                isolation: true
            })
        );
        assert_eq!(
            parse_line("serve --dir /tmp/site --port 9000 --no-isolation"),
            Ok(Command::Serve {
                dir: Some(PathBuf::from("/tmp/site")),
                port: 9000,
                isolation: false,
                until_stdin_closes: false,
            })
        );
        assert_eq!(
            parse_line("serve --port 0 --until-stdin-closes"),
            Ok(Command::Serve {
                dir: None,
                port: 0,
                isolation: true,
                until_stdin_closes: true,
            })
        );
        assert!(parse_line("demo --until-stdin-closes").is_err());
        assert!(parse_line("demo --port 70000").is_err());
        assert!(parse_line("demo --dir x").is_err());
    }

    #[test]
    fn unknown_commands_are_errors() {
        assert!(parse_line("").is_err());
        assert!(parse_line("deploy").is_err());
        assert_eq!(parse_line("size"), Ok(Command::Size { top: 40 }));
        assert_eq!(parse_line("size --top 5"), Ok(Command::Size { top: 5 }));
        assert!(parse_line("size --top many").is_err());
        assert_eq!(parse_line("help"), Ok(Command::Help));
    }
}
