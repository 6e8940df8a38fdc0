//! gil-lab: shows, live and measured, why in CPython a CPU-heavy task belongs in a process and not
//! a thread.
//!
//! An *incrementer* counts as fast as it can while a *load* squares an ever-growing integer. Under
//! an emulation of CPython's GIL ([`gil`]) the incrementer thread starves; in an interpreter of its
//! own (a process) it does not; with no lock at all (free-threaded CPython) neither does the thread.
//! The same core runs natively (threads and real processes) and in the browser (Web Workers).

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
compile_error!(
    "gil-lab's web build needs wasm threads: build with the flags in .cargo/config.toml \
     (RUSTUP_TOOLCHAIN=nightly and -C target-feature=+atomics,+bulk-memory,+mutable-globals), \
     e.g. through `cargo xtask demo`"
);

pub mod coop;
pub mod gil;
pub mod padded;
pub mod platform;
pub mod pylong;
#[cfg(not(target_arch = "wasm32"))]
pub mod reference;
pub mod report;
pub mod runner;
pub mod scale;
pub mod scenario;
mod small_sort;
pub mod sweep;
mod sync;
pub mod timeline;
pub mod web;
pub mod workload;

pub use gil::{FreeThread, Gil, GilThread, LockStats, ThreadState};
pub use runner::{run, Platform, Progress, RunError};
pub use scenario::{ConfigError, RunConfig, RunResult, Scenario, SweepConfig, SweepReport};
pub use workload::Load;
