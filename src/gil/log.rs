//! A bounded, lock-free log of what the lock did, for drawing a timeline.
//!
//! Writers are the workers (on the slow paths only: taking, dropping, requesting); the reader is
//! whoever draws (the page's main thread, the CLI). Each event is one `u64`, so a slot is written
//! with one store and read with one load. When the reader falls more than a ring behind, the oldest
//! events are gone and [`EventLog::read_since`] says how many were lost.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use serde::Serialize;
use web_time::Instant;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// `worker` started waiting for the lock.
    Wait = 1,
    /// `worker` took the lock.
    Take = 2,
    /// `worker` dropped the lock.
    Drop = 3,
    /// `by` asked the holder `worker` to drop the lock (a drop request).
    Request = 4,
    /// `worker` began one uninterruptible operation of a load (e.g. one `z * z`).
    OpStart = 5,
    /// `worker` finished its work and left.
    Exit = 6,
    /// `worker` began one operation of a load that runs with the lock released (C code that
    /// releases the GIL, as `hashlib` does): its next drop is around that work. Logged by the
    /// workload, not the lock, whose protocol it leaves as it is.
    ReleaseStart = 7,
}

impl EventKind {
    /// The kind numbered `v` in the packed form, if any.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Wait,
            2 => Self::Take,
            3 => Self::Drop,
            4 => Self::Request,
            5 => Self::OpStart,
            6 => Self::Exit,
            7 => Self::ReleaseStart,
            _ => return None,
        })
    }
}

/// One entry of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Microseconds since the log was created.
    pub t_us: u64,
    /// What happened.
    pub kind: EventKind,
    /// The worker it happened to.
    pub worker: u8,
    /// For [`EventKind::Request`], the worker that asked; otherwise equal to `worker`.
    pub by: u8,
}

impl Event {
    /// `kind` happening to `worker` at `t_us`, asked by `by` (for a request; else `worker`).
    pub const fn new(t_us: u64, kind: EventKind, worker: u8, by: u8) -> Self {
        Self {
            t_us,
            kind,
            worker,
            by,
        }
    }

    /// The event as the log stores it: one word (time, kind, worker, by), as it also crosses
    /// between Web Workers ([`crate::coop::wire`]).
    pub fn pack(self) -> u64 {
        (self.t_us.min((1 << 40) - 1) << 24)
            | (self.kind as u64) << 16
            | (self.worker as u64) << 8
            | self.by as u64
    }

    /// The event packed in `v` by [`Event::pack`]; `None` for an unknown kind.
    pub fn unpack(v: u64) -> Option<Self> {
        Some(Self {
            t_us: v >> 24,
            kind: EventKind::from_u8((v >> 16) as u8)?,
            worker: (v >> 8) as u8,
            by: v as u8,
        })
    }
}

/// The ring buffer of [`Event`]s shared by every lock of one run.
pub struct EventLog {
    epoch: Instant,
    next: AtomicU64,
    slots: Box<[AtomicU64]>,
}

impl std::fmt::Debug for EventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLog")
            .field("len", &self.len())
            .field("capacity", &self.slots.len())
            .finish()
    }
}

/// What [`EventLog::read_since`] returns.
#[derive(Debug, Default)]
pub struct ReadOut {
    /// Events in the order they were logged.
    pub events: Vec<Event>,
    /// Events overwritten before they could be read.
    pub lost: u64,
    /// Pass this to the next `read_since`.
    pub cursor: u64,
}

impl EventLog {
    /// A log holding the last `capacity` events (at least one), its time 0 now.
    pub fn new(capacity: usize) -> Self {
        Self::starting_at(capacity, Instant::now())
    }

    /// A log holding the last `capacity` events, its time 0 at `epoch`: for an executor that
    /// runs on a clock of its own ([`crate::coop::Clock`]).
    pub fn starting_at(capacity: usize, epoch: Instant) -> Self {
        Self {
            epoch,
            next: AtomicU64::new(0),
            slots: (0..capacity.max(1)).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// The log's time 0.
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// Microseconds since the log was created: the time axis of every event.
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Appends an event stamped now.
    pub fn push(&self, kind: EventKind, worker: u8, by: u8) {
        self.push_at(Instant::now(), kind, worker, by);
    }

    /// Appends an event that happened at `at` (never before the log's creation).
    pub fn push_at(&self, at: Instant, kind: EventKind, worker: u8, by: u8) {
        self.push_event(self.stamp(at, kind, worker, by));
    }

    /// The event that [`EventLog::push_at`] would append, not appended.
    pub fn stamp(&self, at: Instant, kind: EventKind, worker: u8, by: u8) -> Event {
        Event {
            t_us: at.saturating_duration_since(self.epoch).as_micros() as u64,
            kind,
            worker,
            by,
        }
    }

    /// Appends `event` with its own time: for events recorded elsewhere (an interpreter running
    /// in a worker that shares no memory with the reader, see [`crate::coop`]) and copied here.
    pub fn push_event(&self, event: Event) {
        let i = self.next.fetch_add(1, Relaxed);
        self.slots[(i % self.slots.len() as u64) as usize].store(event.pack(), Relaxed);
    }

    /// Total events ever pushed.
    pub fn len(&self) -> u64 {
        self.next.load(Relaxed)
    }

    /// Whether nothing was ever pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events pushed since `cursor` (0 for the first call).
    ///
    /// A writer that has claimed a slot but not yet stored into it may make the newest event
    /// missing or stale; the timeline tolerates that, the lock never reads the log.
    pub fn read_since(&self, cursor: u64) -> ReadOut {
        let end = self.len();
        let cap = self.slots.len() as u64;
        let start = cursor.max(end.saturating_sub(cap));
        let events = (start..end)
            .filter_map(|i| Event::unpack(self.slots[(i % cap) as usize].load(Relaxed)))
            .collect();
        ReadOut {
            events,
            lost: start - cursor.min(start),
            cursor: end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_round_trips() {
        let e = Event {
            t_us: 123_456_789,
            kind: EventKind::Request,
            worker: 3,
            by: 7,
        };
        assert_eq!(Event::unpack(e.pack()), Some(e));
    }

    #[test]
    fn reader_behind_by_more_than_a_ring_is_told_what_it_lost() {
        let log = EventLog::new(4);
        for w in 0..10 {
            log.push(EventKind::Take, w, w);
        }
        let out = log.read_since(0);
        assert_eq!(out.lost, 6);
        assert_eq!(out.cursor, 10);
        let workers: Vec<u8> = out.events.iter().map(|e| e.worker).collect();
        assert_eq!(workers, [6, 7, 8, 9]);
        assert!(log.read_since(out.cursor).events.is_empty());
    }

    #[test]
    fn every_kind_survives_the_packed_word_and_no_other_number_is_a_kind() {
        use EventKind::*;
        for kind in [Wait, Take, Drop, Request, OpStart, Exit, ReleaseStart] {
            let e = Event::new(42, kind, 2, 3);
            assert_eq!(Event::unpack(e.pack()), Some(e), "{kind:?}");
        }
        for v in [0u8, 8, 255] {
            assert_eq!(EventKind::from_u8(v), None, "{v}");
        }
    }

    #[test]
    fn a_time_past_the_packed_words_forty_bits_is_held_at_their_end() {
        // 2^40 microseconds is 12.7 days: later times keep the largest one that fits.
        let late = Event::new(1 << 41, EventKind::Take, 1, 1);
        let back = Event::unpack(late.pack()).expect("a kind");
        assert_eq!(back.t_us, (1 << 40) - 1);
        assert_eq!((back.kind, back.worker, back.by), (EventKind::Take, 1, 1));
    }

    #[test]
    fn the_clock_and_the_counts_of_a_log() {
        let log = EventLog::starting_at(8, Instant::now() - std::time::Duration::from_millis(5));
        assert!(
            log.now_us() >= 5_000,
            "{} us since an epoch 5 ms ago",
            log.now_us()
        );
        assert!(log.is_empty());
        log.push(EventKind::Take, 1, 1);
        assert!(!log.is_empty());
        assert_eq!(log.len(), 1);
        let text = format!("{log:?}");
        assert!(
            text.contains("len: 1") && text.contains("capacity: 8"),
            "{text}"
        );
    }

    #[test]
    fn a_reader_that_read_some_is_told_only_what_it_missed_since() {
        let log = EventLog::new(4);
        for w in 0..2 {
            log.push(EventKind::Take, w, w);
        }
        let first = log.read_since(0);
        assert_eq!((first.lost, first.cursor), (0, 2));
        for w in 2..10 {
            log.push(EventKind::Take, w, w);
        }
        // Events 2 to 5 were overwritten before this reader came back.
        let out = log.read_since(first.cursor);
        assert_eq!(out.lost, 4);
        let workers: Vec<u8> = out.events.iter().map(|e| e.worker).collect();
        assert_eq!(workers, [6, 7, 8, 9]);
    }
}
