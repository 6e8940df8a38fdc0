//! The native back end: threads are `std::thread`s; an isolated incrementer is a real child
//! process (this binary re-executed with a hidden subcommand) that shares only its counter and
//! flags with the parent, through a `memfd` mapped by both, as `multiprocessing.Value` does.
//!
//! No orphans: the parent kills and reaps the child when the handle is dropped (normal end, error,
//! panic), and the child asks the kernel to kill it when its parent dies (`PR_SET_PDEATHSIG`,
//! covering SIGINT and SIGKILL of the parent). A `memfd` has no name in any file system, so nothing
//! is left behind in `/dev/shm`.

use crate::gil::{EventLog, Gil};
use crate::padded::CachePadded;
use crate::runner::{wait_for_go, IncrementerOutcome, Isolated, Join, Platform, RunError};
use crate::workload::{run_victim, LatencyStats, Victim};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use web_time::Instant;

/// The hidden subcommand a child process runs.
pub const CHILD_SUBCOMMAND: &str = "__isolated-incrementer";

/// How long a child may take to leave after its flag is cleared before it is killed.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Threads and processes of this operating system.
#[derive(Clone, Debug)]
pub struct NativePlatform {
    child_exe: PathBuf,
}

impl NativePlatform {
    /// Child processes re-execute the running binary (which must be `gil-lab`).
    pub fn new() -> Result<Self, RunError> {
        let exe = std::env::current_exe().map_err(|e| {
            RunError(format!(
                "cannot find the gil-lab binary to start a child process: {e}"
            ))
        })?;
        Ok(Self::with_child_exe(exe))
    }

    /// Child processes run `exe` (a `gil-lab` binary); for tests, whose binary is not `gil-lab`.
    pub fn with_child_exe(exe: impl Into<PathBuf>) -> Self {
        Self {
            child_exe: exe.into(),
        }
    }
}

struct ThreadJoin(std::thread::JoinHandle<()>, &'static str);

impl Join for ThreadJoin {
    fn join(self: Box<Self>) -> Result<(), RunError> {
        self.0
            .join()
            .map_err(|_| RunError(format!("the {} thread panicked", self.1)))
    }
}

impl Platform for NativePlatform {
    fn spawn(
        &self,
        name: &'static str,
        f: Box<dyn FnOnce() + Send + 'static>,
    ) -> Result<Box<dyn Join>, RunError> {
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(f)
            .map_err(|e| RunError(format!("cannot start the {name} thread: {e}")))?;
        Ok(Box::new(ThreadJoin(handle, name)))
    }

    fn start_isolated(
        &self,
        victim: Victim,
        interval: Duration,
        _log: Option<Arc<EventLog>>,
    ) -> Result<Box<dyn Isolated>, RunError> {
        ChildIncrementer::spawn(&self.child_exe, victim, interval)
            .map(|c| Box::new(c) as Box<dyn Isolated>)
    }
}

/// The memory a parent and its child share. All-zero bytes are a valid initial state.
#[repr(C)]
#[derive(Default)]
struct ChildCell {
    running: CachePadded<AtomicBool>,
    counter: CachePadded<AtomicU64>,
    ready: AtomicU32,
    go: AtomicU32,
    done: AtomicU32,
    elapsed_ns: AtomicU64,
    /// Whether `latency` holds the victim's request statistics.
    has_latency: AtomicU32,
    /// n, mean, p50, p90, p99, max (the last five as `f64` bits, in ms).
    latency: [AtomicU64; 6],
}

impl ChildCell {
    fn put_latency(&self, l: &LatencyStats) {
        let v = [l.n, l.mean_ms.to_bits(), l.p50_ms.to_bits()];
        let w = [l.p90_ms.to_bits(), l.p99_ms.to_bits(), l.max_ms.to_bits()];
        for (cell, v) in self.latency.iter().zip(v.into_iter().chain(w)) {
            cell.store(v, Relaxed);
        }
        self.has_latency.store(1, Release);
    }

    fn get_latency(&self) -> Option<LatencyStats> {
        if self.has_latency.load(Acquire) != 1 {
            return None;
        }
        let [n, mean, p50, p90, p99, max] = self.latency.each_ref().map(|c| c.load(Relaxed));
        let ms = f64::from_bits;
        Some(LatencyStats {
            n,
            mean_ms: ms(mean),
            p50_ms: ms(p50),
            p90_ms: ms(p90),
            p99_ms: ms(p99),
            max_ms: ms(max),
        })
    }
}

/// A `MAP_SHARED` mapping of a [`ChildCell`].
struct Mapping(*mut ChildCell);

// SAFETY:
// - the mapping is only accessed through `&ChildCell`, whose fields are all atomics;
// - it stays mapped until the `Mapping` is dropped.
unsafe impl Send for Mapping {}
// SAFETY: as above; atomics may be shared between threads.
unsafe impl Sync for Mapping {}

const CELL_LEN: usize = std::mem::size_of::<ChildCell>();

impl Mapping {
    fn map(fd: RawFd) -> Result<Self, RunError> {
        // SAFETY:
        // - a fresh mapping chosen by the kernel (null hint) aliases no Rust object;
        // - `fd` is a memfd of at least `CELL_LEN` bytes, so every byte of the cell is backed.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                CELL_LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(RunError(format!(
                "cannot map the shared counter: {}",
                std::io::Error::last_os_error()
            )));
        }
        Ok(Self(ptr.cast()))
    }

    fn cell(&self) -> &ChildCell {
        // SAFETY:
        // - the pointer is page-aligned and maps `CELL_LEN` bytes, zero-filled by `ftruncate`;
        // - all-zero bytes are a valid `ChildCell` (atomics of zero / false);
        // - every access is atomic, so the other process writing concurrently is no data race.
        unsafe { &*self.0 }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from `mmap` with `CELL_LEN` and no reference outlives `self`.
        unsafe {
            libc::munmap(self.0.cast(), CELL_LEN);
        }
    }
}

fn new_shared_cell() -> Result<(OwnedFd, Mapping), RunError> {
    let name = CString::new("gil-lab-shared").expect("no NUL in a literal");
    // SAFETY: `name` is a valid C string; the returned fd is checked before use.
    // No MFD_CLOEXEC: the child inherits this fd across exec.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), 0) };
    if fd < 0 {
        return Err(RunError(format!(
            "cannot create shared memory for the child process: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: `fd` was just returned by memfd_create and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `fd` is a valid memfd.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), CELL_LEN as libc::off_t) } != 0 {
        return Err(RunError(format!(
            "cannot size the shared memory: {}",
            std::io::Error::last_os_error()
        )));
    }
    let map = Mapping::map(fd.as_raw_fd())?;
    Ok((fd, map))
}

/// The incrementer in a child process.
struct ChildIncrementer {
    child: Child,
    map: Mapping,
}

impl ChildIncrementer {
    fn spawn(exe: &PathBuf, victim: Victim, interval: Duration) -> Result<Self, RunError> {
        let (fd, map) = new_shared_cell()?;
        let child = Command::new(exe)
            .arg(CHILD_SUBCOMMAND)
            .arg(fd.as_raw_fd().to_string())
            .arg(interval.as_nanos().to_string())
            .arg(std::process::id().to_string())
            .arg(victim_arg(victim))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| {
                RunError(format!(
                    "cannot start a child process from {}: {e}",
                    exe.display()
                ))
            })?;
        // The child has its own descriptor and mapping now; the parent keeps only its mapping.
        drop(fd);
        Ok(Self { child, map })
    }
}

impl Isolated for ChildIncrementer {
    fn is_ready(&mut self) -> Result<bool, RunError> {
        self.check_alive()?;
        Ok(self.map.cell().ready.load(Acquire) == 1)
    }

    fn check_alive(&mut self) -> Result<(), RunError> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(RunError(format!(
                "the child process died while counting ({status})"
            ))),
            _ => Ok(()),
        }
    }

    fn go(&self) {
        self.map.cell().go.store(1, Release);
    }

    fn count(&self) -> u64 {
        self.map.cell().counter.0.load(Relaxed)
    }

    fn stop(&self) {
        self.map.cell().running.0.store(false, Relaxed);
    }

    fn finish(mut self: Box<Self>) -> Result<IncrementerOutcome, RunError> {
        let deadline = Instant::now() + EXIT_TIMEOUT;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Ok(None) => {
                    return Err(RunError(format!(
                        "the child process did not stop within {} s of being asked; it was killed",
                        EXIT_TIMEOUT.as_secs()
                    )))
                }
                Err(e) => return Err(RunError(format!("cannot wait for the child process: {e}"))),
            }
        };
        let cell = self.map.cell();
        if !status.success() || cell.done.load(Acquire) != 1 {
            return Err(RunError(format!(
                "the child process failed ({status}) before reporting its count"
            )));
        }
        Ok(IncrementerOutcome {
            count: cell.counter.0.load(Relaxed),
            elapsed: Duration::from_nanos(cell.elapsed_ns.load(Relaxed)),
            lock: None,
            latency: cell.get_latency(),
        })
    }
}

impl Drop for ChildIncrementer {
    fn drop(&mut self) {
        // Every exit path of the parent comes through here: never leave the child behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The victim as the child's last argument: `incrementer`, `server`, `io:NANOSECONDS` or
/// `latency:NANOSECONDS`.
fn victim_arg(victim: Victim) -> String {
    match victim {
        Victim::Incrementer | Victim::Server => victim.name().into(),
        Victim::Io { op: d } | Victim::Latency { period: d } => {
            format!("{}:{}", victim.name(), d.as_nanos())
        }
    }
}

/// The victim named by [`victim_arg`]'s argument.
pub fn parse_victim_arg(arg: &str) -> Result<Victim, String> {
    let nanos = |ns: &str| {
        ns.parse()
            .map(Duration::from_nanos)
            .map_err(|_| format!("bad length '{ns}' in victim '{arg}'"))
    };
    match arg.split_once(':') {
        None if arg == "incrementer" => Ok(Victim::Incrementer),
        None if arg == "server" => Ok(Victim::Server),
        Some(("io", ns)) => nanos(ns).map(|op| Victim::Io { op }),
        Some(("latency", ns)) => nanos(ns).map(|period| Victim::Latency { period }),
        _ => Err(format!("unknown victim '{arg}'")),
    }
}

/// The child side: what `gil-lab __isolated-incrementer FD INTERVAL_NS PARENT_PID VICTIM` runs.
///
/// An interpreter of its own: a fresh lock, the victim as its only thread.
pub fn child_main(
    fd: RawFd,
    interval: Duration,
    parent: u32,
    victim: Victim,
) -> Result<(), RunError> {
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and has no memory effects.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    let parent_alive = || std::os::unix::process::parent_id() == parent;
    if !parent_alive() {
        return Err(RunError("the parent process is gone".into()));
    }
    let map = Mapping::map(fd)?;
    let cell = map.cell();
    cell.running.0.store(true, Relaxed);
    cell.ready.store(1, Release);
    wait_for_go(|| cell.go.load(Acquire) == 1 || !parent_alive());
    if !parent_alive() {
        return Err(RunError("the parent process is gone".into()));
    }
    let started = Instant::now();
    let gil = Gil::new(interval);
    let mut t = gil.attach(1);
    let out = run_victim(&mut t, victim, &cell.running.0, &cell.counter.0);
    drop(t);
    let out = out.map_err(RunError)?;
    if let Some(latency) = &out.latency {
        cell.put_latency(latency);
    }
    cell.elapsed_ns
        .store(started.elapsed().as_nanos() as u64, Relaxed);
    cell.done.store(1, Release);
    Ok(())
}
