//! Installs the tools the tests and the web build need, skipping what is already there.
//!
//! Versions are pinned to what works together (README, "How the web build works"): the
//! wasm-bindgen CLI must equal the `wasm-bindgen` crate pinned in Cargo.toml and trunk's
//! `[tools] wasm_bindgen` in Trunk.toml, or trunk tries to download its own from GitHub.

use crate::cmd::Cmd;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

/// The limit of one `cargo install` of a tool (trunk took 12m29s as a release build here).
const INSTALL_LIMIT: Duration = Duration::from_secs(30 * 60);
/// The limit of one apt-get, npm or rustup command (downloads included).
const DOWNLOAD_LIMIT: Duration = Duration::from_secs(15 * 60);

pub const TRUNK_VERSION: &str = "0.22.1";
pub const WASM_BINDGEN_VERSION: &str = "0.2.129";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const FIREFOX: &str = "/usr/bin/firefox-esr";
pub const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";
pub const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
/// Binaryen's optimiser, which trunk runs on the page's `.wasm` (`data-wasm-opt` in index.html):
/// Debian's, as trunk would otherwise download its own from GitHub.
pub const WASM_OPT: &str = "/usr/bin/wasm-opt";

/// The browsers of the end-to-end test: the Debian package, and a file that shows it is there.
const BROWSERS: [(&str, &str); 6] = [
    ("chromium", CHROMIUM),
    ("chromium-driver", CHROMEDRIVER),
    ("firefox-esr", FIREFOX),
    ("webkit2gtk-driver", WEBKIT_DRIVER),
    ("xvfb", "/usr/bin/xvfb-run"),
    ("xauth", "/usr/bin/xauth"),
];
const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// What to make sure of.
#[derive(Clone, Copy, Debug, Default)]
pub struct Needs {
    /// rustfmt and clippy on stable.
    pub lints: bool,
    /// What the native tests need: cargo-nextest (the runner), and Python 3 with its venv module
    /// (the CPython reference of the tests, and the `wheel` step's environments).
    pub tests: bool,
    /// The web build: nightly with rust-src and the wasm target, trunk, wasm-bindgen-cli.
    pub web: bool,
    /// Chromium and chromedriver (the tests in a browser), Firefox, and WebKit's driver with a
    /// virtual screen for its MiniBrowser (the end-to-end test).
    pub browser: bool,
    /// Node.js and the npm packages of tests/e2e.
    pub e2e: bool,
}

/// Installs whatever `needs` asks for and is missing, printing one line per tool.
///
/// The cargo builds (trunk, wasm-bindgen-cli, cargo-nextest) run one after the other on a thread
/// of their own, while this thread installs the Debian and npm packages: downloads overlap the
/// builds. Two builds at once would not help on two cores, which one cargo build keeps busy (both
/// at once took 67 minutes here against 32 one after the other, on a machine shared with other
/// builds).
pub fn install_missing(root: &Path, needs: Needs) -> Result<(), String> {
    if needs.lints {
        stable_components(root)?;
    }
    if needs.web {
        nightly(root)?;
    }
    std::thread::scope(|scope| {
        let builds = scope.spawn(|| {
            if needs.web {
                // trunk 0.22 needs a newer rustc than stable has here.
                cargo_tool(root, "trunk", "trunk", TRUNK_VERSION, Some("nightly"))?;
                cargo_tool(
                    root,
                    "wasm-bindgen",
                    "wasm-bindgen-cli",
                    WASM_BINDGEN_VERSION,
                    None,
                )?;
            }
            if needs.tests {
                nextest(root)?;
            }
            Ok(())
        });
        let packages = system_packages(root, needs);
        let built = builds
            .join()
            .unwrap_or_else(|_| Err("the install thread panicked".into()));
        packages.and(built)
    })
}

/// The Debian and npm packages `needs` asks for.
fn system_packages(root: &Path, needs: Needs) -> Result<(), String> {
    let mut apt = Apt::default();
    if needs.tests {
        python(root, &mut apt)?;
    }
    if needs.web {
        if Path::new(WASM_OPT).exists() {
            println!("    binaryen (wasm-opt): present");
        } else {
            apt.install(root, &["binaryen"])?;
        }
    }
    if needs.browser {
        let (present, missing): (Vec<_>, Vec<_>) = BROWSERS
            .iter()
            .partition(|(_, file)| Path::new(file).exists());
        if !present.is_empty() {
            let names: Vec<&str> = present.iter().map(|(p, _)| *p).collect();
            println!("    {}: present", names.join(", "));
        }
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|(p, _)| *p).collect();
            apt.install(root, &names)?;
        }
    }
    if needs.e2e {
        if Cmd::new("node").args(&["--version"]).probe(root).is_some()
            && Cmd::new("npm").args(&["--version"]).probe(root).is_some()
        {
            println!("    node, npm: present");
        } else {
            apt.install(root, &["nodejs", "npm"])?;
        }
        npm_packages(root)?;
    }
    Ok(())
}

/// cargo-nextest, any version (the `test` step's runner), unless `cargo nextest` already runs.
fn nextest(root: &Path) -> Result<(), String> {
    let version = || Cmd::cargo(&["nextest", "--version"]).probe(root);
    if let Some(found) = version() {
        let found = found.lines().next().unwrap_or_default().to_string();
        println!("    {found}: present");
        return Ok(());
    }
    // A debug build, as for the web tools: the tests' time is spent in the tests.
    let install = Cmd::cargo(&["install", "--debug", "--locked", "cargo-nextest"])
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .limit(INSTALL_LIMIT);
    println!("    installing cargo-nextest (not installed; this can take minutes): {install}");
    let started = Instant::now();
    install.run(root)?;
    println!(
        "    installed cargo-nextest in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    version()
        .map(drop)
        .ok_or_else(|| "`cargo nextest --version` fails after installing cargo-nextest; is ~/.cargo/bin on PATH?".into())
}

/// Python 3 with its venv module and pip (Debian splits them into python3-venv).
fn python(root: &Path, apt: &mut Apt) -> Result<(), String> {
    let probe = Cmd::new("python3").args(&[
        "-c",
        "import venv, ensurepip; import sys; print(sys.version.split()[0])",
    ]);
    if let Some(version) = probe.probe(root) {
        println!("    python3 {} with venv: present", version.trim());
        return Ok(());
    }
    apt.install(root, &["python3", "python3-venv"])?;
    probe
        .probe(root)
        .map(drop)
        .ok_or_else(|| "python3 still has no venv module after installing python3-venv".into())
}

fn stable_components(root: &Path) -> Result<(), String> {
    let list = rustup(&["component", "list", "--installed", "--toolchain", "stable"])
        .probe(root)
        .ok_or("cannot list the stable toolchain's components; is rustup on PATH?")?;
    let missing: Vec<&str> = ["rustfmt", "clippy"]
        .into_iter()
        .filter(|c| !has_component(&list, c))
        .collect();
    if missing.is_empty() {
        println!("    rustfmt, clippy (stable): present");
        return Ok(());
    }
    let add = rustup(&["component", "add", "--toolchain", "stable"]).args(&missing);
    println!("    installing {} (stable): {add}", missing.join(", "));
    add.run(root)
}

/// The nightly toolchain with `rust-src` (to rebuild std with atomics) and the wasm target.
/// RUSTUP_AUTO_INSTALL=0 may be set, so every piece is installed explicitly.
fn nightly(root: &Path) -> Result<(), String> {
    let components = rustup(&["component", "list", "--installed", "--toolchain", "nightly"]);
    let Some(components) = components.probe(root) else {
        let install = rustup(&["toolchain", "install", "nightly", "--profile", "minimal"]).args(&[
            "--component",
            "rust-src",
            "--target",
            WASM_TARGET,
        ]);
        println!("    installing the nightly toolchain: {install}");
        return install.run(root);
    };
    if has_component(&components, "rust-src") {
        println!("    rust-src (nightly): present");
    } else {
        let add = rustup(&["component", "add", "--toolchain", "nightly", "rust-src"]);
        println!("    installing rust-src (nightly): {add}");
        add.run(root)?;
    }
    let targets = rustup(&["target", "list", "--installed", "--toolchain", "nightly"])
        .probe(root)
        .unwrap_or_default();
    if targets.lines().any(|t| t.trim() == WASM_TARGET) {
        println!("    {WASM_TARGET} (nightly): present");
        Ok(())
    } else {
        let add = rustup(&["target", "add", "--toolchain", "nightly", WASM_TARGET]);
        println!("    installing {WASM_TARGET} (nightly): {add}");
        add.run(root)
    }
}

/// A tool installed with `cargo install` (on `toolchain`, or the default one), unless
/// `<binary> --version` already says `version`.
fn cargo_tool(
    root: &Path,
    binary: &str,
    krate: &str,
    version: &str,
    toolchain: Option<&str>,
) -> Result<(), String> {
    let installed = || {
        Cmd::new(binary)
            .args(&["--version"])
            .probe(root)
            .and_then(|out| parse_version(&out).map(str::to_string))
    };
    let found = installed();
    if found.as_deref() == Some(version) {
        println!("    {binary} {version}: present");
        return Ok(());
    }
    let mut install = Cmd::new("cargo");
    if let Some(toolchain) = toolchain {
        install = install.args(&[&format!("+{toolchain}")]);
    }
    // A debug build of a build tool: it compiles in a third of the time of a release build
    // (trunk: about 5 minutes instead of 12 here) and builds the page as fast, since the time
    // goes into rustc and wasm-bindgen's own work. An installed release build is kept.
    // Without debug info (CARGO_PROFILE_DEV_DEBUG=0): less to write and link, and a build tool's
    // backtraces need no line numbers.
    let install = install
        .args(&[
            "install",
            "--debug",
            "--locked",
            krate,
            "--version",
            version,
        ])
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .limit(INSTALL_LIMIT);
    let was = found.map_or_else(|| "not installed".to_string(), |v| format!("found {v}"));
    println!("    installing {krate} {version} ({was}; this can take minutes): {install}");
    let started = Instant::now();
    install.run(root)?;
    println!(
        "    installed {krate} {version} in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    match installed() {
        Some(now) if now == version => Ok(()),
        now => Err(format!(
            "`{binary} --version` says {} after installing {krate} {version}; \
             is ~/.cargo/bin first on PATH?",
            now.as_deref().unwrap_or("nothing")
        )),
    }
}

/// The npm packages of tests/e2e: `npm ci` when node_modules is missing or older than the lock
/// file, or `npm install` when there is no lock file.
fn npm_packages(root: &Path) -> Result<(), String> {
    let dir = root.join("tests/e2e");
    let (manifest, command) = if dir.join("package-lock.json").exists() {
        ("package-lock.json", "ci")
    } else {
        ("package.json", "install")
    };
    if !is_older(&dir.join("node_modules"), &dir.join(manifest)) {
        println!("    tests/e2e/node_modules: present");
        return Ok(());
    }
    let npm = Cmd::new("npm")
        .args(&[command, "--no-audit", "--no-fund"])
        .in_dir("tests/e2e")
        .limit(DOWNLOAD_LIMIT);
    println!("    installing the npm packages of tests/e2e: {npm}");
    npm.run(root)
}

/// Whether `path` is missing or was modified before `than`.
fn is_older(path: &Path, than: &Path) -> bool {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(path), modified(than)) {
        (Some(a), Some(b)) => a < b,
        (None, _) => true,
        (Some(_), None) => false,
    }
}

/// Debian packages, with `apt-get update` run at most once.
#[derive(Default)]
pub struct Apt {
    updated: bool,
}

impl Apt {
    /// Installs `packages` with apt-get, or says how to when not root.
    pub fn install(&mut self, root: &Path, packages: &[&str]) -> Result<(), String> {
        let install = Cmd::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(&["install", "-y"])
            .args(packages)
            .limit(DOWNLOAD_LIMIT);
        let uid = Cmd::new("id").args(&["-u"]).probe(root);
        if uid.as_deref().map(str::trim) != Some("0") {
            return Err(format!(
                "{} missing and installing them needs root: run `{install}` as root",
                packages.join(", ")
            ));
        }
        println!("    installing {}: {install}", packages.join(", "));
        if !self.updated {
            Cmd::new("apt-get")
                .args(&["update"])
                .limit(DOWNLOAD_LIMIT)
                .run(root)?;
            self.updated = true;
        }
        install.run(root)
    }
}

fn rustup(args: &[&str]) -> Cmd {
    Cmd::new("rustup").args(args).limit(DOWNLOAD_LIMIT)
}

/// Whether `rustup component list --installed` output holds `component`. Lines name components
/// either alone (`rust-src`) or with the host appended (`clippy-x86_64-unknown-linux-gnu`); the
/// host is read from the `rustc-<host>` line every toolchain has.
fn has_component(list: &str, component: &str) -> bool {
    let lines = || list.lines().map(str::trim);
    let host = lines().find_map(|line| line.strip_prefix("rustc-"));
    lines().any(|line| {
        line == component
            || host.is_some_and(|host| {
                line.strip_prefix(component)
                    .and_then(|rest| rest.strip_prefix('-'))
                    == Some(host)
            })
    })
}

/// The version in a `--version` line, such as `trunk 0.22.1` or `wasm-bindgen 0.2.129 (abc)`:
/// the first word that starts with a digit (after an optional `v`) and holds a dot.
pub fn parse_version(output: &str) -> Option<&str> {
    output.split_whitespace().find_map(|word| {
        let word = word.strip_prefix('v').unwrap_or(word);
        let is_version = word.starts_with(|c: char| c.is_ascii_digit()) && word.contains('.');
        is_version.then_some(word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_version_lines() {
        assert_eq!(parse_version("trunk 0.22.1\n"), Some("0.22.1"));
        assert_eq!(parse_version("wasm-bindgen 0.2.129"), Some("0.2.129"));
        assert_eq!(parse_version("trunk v0.21.0"), Some("0.21.0"));
        assert_eq!(
            parse_version("rustc 1.95.0 (59807616e 2026-03-21)"),
            Some("1.95.0")
        );
        assert_eq!(parse_version("wasm-bindgen-cli unknown"), None);
        assert_eq!(parse_version(""), None);
    }

    #[test]
    fn components_are_found_with_or_without_the_host() {
        let list = "cargo-x86_64-unknown-linux-gnu\nclippy-x86_64-unknown-linux-gnu\n\
                    rust-src\nrust-std-x86_64-unknown-linux-gnu\nrustc-x86_64-unknown-linux-gnu\n";
        assert!(has_component(list, "clippy"));
        assert!(has_component(list, "rust-src"));
        assert!(!has_component(list, "rustfmt"));
        // `rust-std-...` must not count as a component named `rust`.
        assert!(!has_component(list, "rust"));
    }

    /// The string value of `key` in `[section]` of a TOML text (`""` for the top level), read
    /// line by line: enough for the plain `key = "value"` lines these files pin versions with.
    fn toml_string<'a>(text: &'a str, section: &str, key: &str) -> Option<&'a str> {
        let mut current = "";
        for line in text.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                current = name;
            } else if current == section {
                let Some((k, v)) = line.split_once('=') else {
                    continue;
                };
                if k.trim() == key {
                    return v.trim().strip_prefix('"')?.split('"').next();
                }
            }
        }
        None
    }

    fn repository_file(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn installed_tool_versions_are_the_ones_cargo_toml_and_trunk_toml_pin() {
        let cargo = repository_file("Cargo.toml");
        let web_dependencies = r#"target.'cfg(target_arch = "wasm32")'.dependencies"#;
        assert_eq!(
            toml_string(&cargo, web_dependencies, "wasm-bindgen"),
            Some(format!("={WASM_BINDGEN_VERSION}").as_str()),
            "Cargo.toml's wasm-bindgen must be pinned to the CLI install.rs installs"
        );
        let trunk = repository_file("Trunk.toml");
        assert_eq!(
            toml_string(&trunk, "", "trunk-version"),
            Some(TRUNK_VERSION),
            "Trunk.toml's trunk-version must be the trunk install.rs installs"
        );
        assert_eq!(
            toml_string(&trunk, "tools", "wasm_bindgen"),
            Some(WASM_BINDGEN_VERSION),
            "Trunk.toml's [tools] wasm_bindgen must be the CLI install.rs installs, or trunk \
             downloads its own"
        );
    }

    #[test]
    fn toml_strings_are_read_from_their_section_only() {
        let text = "top = \"1\"\n[a]\nkey = \"2\" # note\n[b]\nkey = { version = \"3\" }\n";
        assert_eq!(toml_string(text, "", "top"), Some("1"));
        assert_eq!(toml_string(text, "a", "key"), Some("2"));
        assert_eq!(toml_string(text, "b", "key"), None, "not a plain string");
        assert_eq!(toml_string(text, "a", "top"), None);
    }

    #[test]
    fn a_missing_directory_is_older_than_anything() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(is_older(
            &here.join("no-such-dir"),
            &here.join("Cargo.toml")
        ));
        assert!(!is_older(
            &here.join("Cargo.toml"),
            &here.join("no-such-file")
        ));
    }
}
