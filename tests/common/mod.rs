//! Helpers shared by the test files: running the `gil-lab` binary, scratch folders, and the
//! machine's two cores for tests that measure speed.
// Each test file uses only some of these.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The built `gil-lab` with `args` and no standard input, to be started.
pub fn gil_lab_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gil-lab"));
    command.args(args).stdin(Stdio::null());
    command
}

/// Runs the built `gil-lab` with `args` and no standard input.
pub fn gil_lab(args: &[&str]) -> Output {
    gil_lab_command(args)
        .output()
        .expect("the gil-lab binary runs")
}

/// The native platform, with the built `gil-lab` as the child of the process scenarios.
pub fn platform() -> gil_lab::platform::native::NativePlatform {
    gil_lab::platform::native::NativePlatform::with_child_exe(env!("CARGO_BIN_EXE_gil-lab"))
}

/// What a run printed on standard error.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Whether `pid` still runs (a zombie waiting to be reaped does not count).
pub fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// `gil-lab` started with `args`, output discarded, in a process group of its own (as a shell
/// starts a job), so that a test can signal the group as a terminal's Ctrl-C does.
pub fn spawn_job(args: &[&str]) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    gil_lab_command(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap()
}

/// Every live descendant of `pid`: children, their children, and so on.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for task in std::fs::read_dir(format!("/proc/{p}/task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                if running(c) && !found.contains(&c) {
                    found.push(c);
                    todo.push(c);
                }
            }
        }
    }
    found
}

/// Whether any of `pids` still runs after `within`.
pub fn still_running(pids: &[u32], within: std::time::Duration) -> Vec<u32> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|&p| running(p)).collect();
        if left.is_empty() || std::time::Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A fresh, empty folder for one test: `<temp>/gil-lab-<suite>-<pid>-<name>`.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gil-lab-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// Held by a test that measures speed (ratios of rates that need both cores): while one is held,
/// no other such test runs, in this test binary or in any other one running at the same time
/// (`cargo nextest` runs binaries in parallel; a `Mutex` would serialize one binary only). It is a
/// lock on a file (`flock`), released when the guard is dropped, also by a failing test.
///
/// On taking it, a short probe measures how much of the machine's two cores the test really gets
/// ([`Cores::free`]), and says so loudly on stderr when it is less than two: a ratio such as
/// `process+load / process` needs two free cores, and on one it reads about 0.5, which is the
/// machine's load and not the lock's. Put [`Cores`] (its `Display`) into every failure message.
pub struct Cores {
    _lock: std::fs::File,
    /// Cores' worth of CPU time two spinning threads got per second of wall time in the probe:
    /// 2.0 on an idle two-core machine, about 1.0 when one core is taken by other work.
    pub free: f64,
}

/// What [`Cores`] needs to call a core free.
const FREE_CORES: f64 = 1.7;

/// Waits for the cores (see [`Cores`]), then probes them.
pub fn two_cores() -> Cores {
    use std::os::fd::AsRawFd;
    let path = std::env::temp_dir().join("gil-lab-measuring-tests.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    // SAFETY: flock only reads the descriptor, which `file` keeps open.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(r, 0, "flock {}", path.display());
    let free = probe_free_cores(std::time::Duration::from_millis(200));
    let cores = Cores { _lock: file, free };
    if free < FREE_CORES {
        eprintln!("WARNING: {cores}");
    }
    cores
}

impl std::fmt::Display for Cores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.free < FREE_CORES {
            write!(
                f,
                "only {:.2} of 2 cores were free when this test began (two spinning threads' CPU \
                 time per wall second): other work shares the machine, and a ratio that needs \
                 two cores reads low for that reason; run the test alone to tell",
                self.free
            )
        } else {
            write!(f, "{:.2} of 2 cores free when this test began", self.free)
        }
    }
}

/// Spins two threads for `d` and returns the CPU seconds they got per wall second.
fn probe_free_cores(d: std::time::Duration) -> f64 {
    fn thread_cpu_s() -> f64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec.
        let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(r, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    }
    let started = std::time::Instant::now();
    let spin = move || {
        let cpu0 = thread_cpu_s();
        while started.elapsed() < d {
            std::hint::spin_loop();
        }
        thread_cpu_s() - cpu0
    };
    let other = std::thread::spawn(spin);
    let mine = spin();
    let cpu = mine + other.join().expect("the probe thread");
    cpu / started.elapsed().as_secs_f64()
}
