//! Where runs happen: the native and web back ends, which expose the same
//! [`crate::runner::Platform`].
//!
//! - `native`: `std::thread`s, and real child processes sharing a memory-mapped cell.
//! - `web`: Web Workers from a wasm-bindgen-rayon pool sharing the wasm memory; an "isolated"
//!   incrementer is a worker with a lock of its own.

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(target_arch = "wasm32")]
pub mod web;
