//! Events told ahead of their time: the one place that knows of them.
//!
//! A thread inside a long turn (one `z * z`) cannot be interrupted, and in the browser its worker
//! cannot post a message until the turn ends. Yet some of what happens meanwhile is certain: the
//! lock stays with the holder, so blocked threads wake and wait for it at their dates, and the
//! first waiter whose round sees no switch asks for a drop at its date. So before a long turn the
//! scheduler tells the reader those events ([`Scheduler`]'s `announce`), and a timeline drawn
//! while the turn runs shows them as they come due. Three rules keep that invisible to
//! everything else:
//!
//! - the lock's state changes only when the clock gets there: an announcement is written to no
//!   log, it only joins the events the reader takes ([`Scheduler::take_events`]);
//! - the reader gets each event once: when the lock logs an event that was announced, that copy
//!   is dropped ([`Announced`]);
//! - the reader shows an event only once its clock reaches the event's date ([`HeldBack`]).

use super::{Clock, CoopThread, Place, Scheduler};
use crate::gil::{Event, EventKind};

impl<T: CoopThread<C>, C: Clock> Scheduler<T, C> {
    /// Before a long turn of `holder`: tells what will surely happen while it runs. Blocked
    /// threads wake and wait for the lock, and the first of the waiters whose round sees no switch
    /// asks for a drop.
    pub(super) fn announce(&mut self, holder: crate::gil::WorkerId) {
        let Some(p) = &self.lock else { return };
        let interval = p.interval();
        let mut first_request = p.next_request();
        for e in &self.threads {
            if let Place::Blocked(t) = e.place {
                let wait = self.log.stamp(t, EventKind::Wait, e.id, e.id);
                self.ahead.announce(wait);
                if !p.drop_request() && first_request.is_none_or(|(r, _)| t + interval < r) {
                    first_request = Some((t + interval, e.id));
                }
            }
        }
        if let Some((t, by)) = first_request {
            let request = self.log.stamp(t, EventKind::Request, holder, by);
            self.ahead.announce(request);
        }
    }
}

/// The announcements a scheduler has made, for the events it hands its reader.
#[derive(Debug, Default)]
pub struct Announced {
    /// Told, and not yet handed out.
    fresh: Vec<Event>,
    /// Handed out, and not yet come: when the lock logs one of these, the copy is dropped.
    told: Vec<Event>,
}

impl Announced {
    /// Tells `e` ahead of its time, unless it was told already.
    pub fn announce(&mut self, e: Event) {
        if !self.fresh.contains(&e) && !self.told.contains(&e) {
            self.fresh.push(e);
        }
    }

    /// What the reader gets of `logged` (events the lock logged, oldest first): the events that
    /// were not told already, then the fresh announcements. Every event due by `settled_us` has
    /// been logged: an announcement not logged by then will not be (and is forgotten).
    pub fn pass(&mut self, mut logged: Vec<Event>, settled_us: u64) -> Vec<Event> {
        logged.retain(|e| {
            if let Some(i) = self.told.iter().position(|t| t == e) {
                self.told.swap_remove(i);
                return false;
            }
            // Come before it could be told: it goes out once, as logged.
            self.fresh.retain(|f| f != e);
            true
        });
        self.told.retain(|e| e.t_us > settled_us);
        self.fresh.retain(|e| e.t_us > settled_us);
        self.told.extend_from_slice(&self.fresh);
        logged.append(&mut self.fresh);
        logged
    }
}

/// The reader's half: events dated after the reader's clock wait here until it gets there.
#[derive(Clone, Debug, Default)]
pub struct HeldBack {
    pending: Vec<Event>,
}

impl HeldBack {
    /// Of `events`, those due by `now_us`, in order; the others are held back.
    pub fn admit(&mut self, events: impl IntoIterator<Item = Event>, now_us: u64) -> Vec<Event> {
        let mut due = Vec::new();
        for e in events {
            if e.t_us > now_us {
                self.pending.push(e);
            } else {
                due.push(e);
            }
        }
        due
    }

    /// The events held back that are due by `now_us` (all of them with `None`), oldest first.
    pub fn release(&mut self, now_us: Option<u64>) -> Vec<Event> {
        let mut due = Vec::new();
        self.pending.retain(|e| {
            let now = now_us.is_none_or(|n| e.t_us <= n);
            if now {
                due.push(*e);
            }
            !now
        });
        crate::small_sort::insertion_sort_by(&mut due, |a, b| a.t_us.cmp(&b.t_us));
        due
    }

    /// Whether nothing is held back.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t_us: u64, kind: EventKind, worker: u8, by: u8) -> Event {
        Event::new(t_us, kind, worker, by)
    }

    #[test]
    fn an_announced_event_reaches_the_reader_once() {
        let mut a = Announced::default();
        let request = ev(5_000, EventKind::Request, 3, 1);
        let op = ev(100, EventKind::OpStart, 3, 3);
        a.announce(request);
        a.announce(request);
        assert_eq!(a.pass(vec![op], 100), [op, request], "told once");
        a.announce(request);
        assert_eq!(a.pass(vec![], 200), [], "told already");
        let drop = ev(5_100, EventKind::Drop, 3, 3);
        assert_eq!(
            a.pass(vec![request, drop], 5_100),
            [drop],
            "the lock's own copy is dropped"
        );
        assert_eq!(a.pass(vec![request], 6_000), [request], "a new request");
    }

    #[test]
    fn an_announcement_that_did_not_come_true_is_forgotten_once_its_time_is_past() {
        let mut a = Announced::default();
        let wait = ev(1_000, EventKind::Wait, 1, 1);
        a.announce(wait);
        assert_eq!(a.pass(vec![], 0), [wait]);
        assert_eq!(a.pass(vec![], 2_000), []);
        assert_eq!(a.pass(vec![wait], 3_000), [wait], "no longer a copy");
        a.announce(ev(4_000, EventKind::Wait, 1, 1));
        let came = ev(4_000, EventKind::Wait, 1, 1);
        assert_eq!(
            a.pass(vec![came], 4_000),
            [came],
            "come before it was told: once"
        );
        a.announce(ev(5_000, EventKind::Wait, 1, 1));
        assert_eq!(a.pass(vec![], 6_000), [], "past and not logged: never told");
    }

    #[test]
    fn the_reader_holds_back_what_its_clock_has_not_reached() {
        let mut h = HeldBack::default();
        let (a, b, c) = (
            ev(10, EventKind::Take, 1, 1),
            ev(30, EventKind::Wait, 1, 1),
            ev(20, EventKind::Request, 3, 1),
        );
        assert_eq!(h.admit([a, b, c], 15), [a]);
        assert!(!h.is_empty());
        assert_eq!(h.release(Some(19)), []);
        assert_eq!(h.release(Some(25)), [c]);
        assert_eq!(h.release(None), [b]);
        assert!(h.is_empty());
    }
}
