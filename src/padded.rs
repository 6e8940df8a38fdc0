//! [`CachePadded`]: a value alone on its cache line.
//!
//! The incrementer stores its count and loads two flags every iteration, while other threads read
//! the count (the observer), set the flags, or lock the mutex that sits beside the eval breaker in
//! [`crate::gil::Gil`]. Each hot value gets a line of its own so that none of those accesses pulls
//! the incrementer's lines away from its core.

use core::ops::Deref;

/// `T`, aligned and padded to 128 bytes (two 64-byte lines, as the adjacent-line prefetcher pairs
/// them).
#[repr(C, align(128))]
#[derive(Debug, Default)]
pub struct CachePadded<T>(pub T);

impl<T> CachePadded<T> {
    /// Wraps `value`.
    pub const fn new(value: T) -> Self {
        Self(value)
    }
}

impl<T> Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
