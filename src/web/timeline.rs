//! The page's timeline: the one the CLI's files are drawn from ([`crate::timeline`]: spans per
//! worker from the lock's event log), with the size of the log the page reads per run.

pub use crate::timeline::*;

/// Events kept per run: enough for a 10 s run of the busiest scenario (about 1000 events/s with
/// a 5 ms interval) with room to spare; 8 bytes each (one packed word,
/// [`crate::gil::Event::pack`]).
pub const LOG_CAPACITY: usize = 1 << 15;
