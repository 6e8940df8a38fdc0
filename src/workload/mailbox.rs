//! The time-sensitive victims over shared memory: the page's way of running them, where there are
//! no sockets. The client is a task of its own (a Web Worker of the pool in the browser, an OS
//! thread natively, where the unit tests run it), under no emulated lock, exactly as the socket
//! client of the native victims is: only the victim's side waits for the lock.
//!
//! A [`Mailbox`] is the loopback: a queue of requests and a queue of answers behind one mutex,
//! with a condition variable for each direction. A blocking receive waits on it with the lock
//! released, as a socket's `recv` does; every wait has the same short timeout as the socket
//! victims', so the victim notices the cleared running flag and the client notices the end.
//!
//! - [`latency`]: the client posts its send stamp every period; the victim's latency runs from
//!   that stamp to the moment it holds the lock again (ccbench's latency test).
//! - [`server`]: the client posts a request, waits for the answer, posts the next; the victim
//!   receives and answers each with the lock released around both calls (the echo server).

use super::LatencyStats;
use crate::gil::ThreadState;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use web_time::Instant;

/// How long a blocking call waits before its task looks at its flag again.
const POLL: Duration = Duration::from_millis(20);

/// How long the victim waits for its client to leave once the run is over.
const CLIENT_EXIT: Duration = Duration::from_secs(5);

/// The most latencies a run keeps.
const MAX_SAMPLES: usize = 1 << 22;

/// What crosses the mailbox, guarded by its mutex.
#[derive(Default)]
struct Slots {
    /// Requests sent and not yet received: the client's send stamps.
    requests: VecDeque<Instant>,
    /// Answers sent and not yet received (the server's echo: the request's stamp back).
    answers: VecDeque<Instant>,
    /// The victim has left: the client stops.
    closed: bool,
    /// The client has left (with its error, if it had one).
    client_done: Option<Result<(), String>>,
    /// The server client's round trips, in nanoseconds, handed over when it leaves.
    round_trips: Vec<u64>,
}

/// A loopback in memory between a victim and its client.
#[derive(Default)]
pub struct Mailbox {
    slots: Mutex<Slots>,
    /// Signalled when a request arrives, or when the client leaves.
    to_victim: Condvar,
    /// Signalled when an answer arrives, or when the victim leaves.
    to_client: Condvar,
}

impl Mailbox {
    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits up to `timeout` on `cond` until `ready` says so; returns the guard either way.
    fn wait_until<'a>(
        &self,
        mut slots: MutexGuard<'a, Slots>,
        cond: &Condvar,
        timeout: Duration,
        ready: impl Fn(&Slots) -> bool,
    ) -> MutexGuard<'a, Slots> {
        let deadline = Instant::now() + timeout;
        while !ready(&slots) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            slots = cond
                .wait_timeout(slots, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        slots
    }

    /// The client sends a request stamped `at`.
    fn send_request(&self, at: Instant) {
        self.lock().requests.push_back(at);
        self.to_victim.notify_one();
    }

    /// The victim's blocking receive: the oldest request's stamp, or `None` after `timeout`.
    fn recv_request(&self, timeout: Duration) -> Option<Instant> {
        let mut slots = self.wait_until(self.lock(), &self.to_victim, timeout, |s| {
            !s.requests.is_empty() || s.client_done.is_some()
        });
        slots.requests.pop_front()
    }

    /// The victim's blocking send of an answer.
    fn send_answer(&self, stamp: Instant) {
        self.lock().answers.push_back(stamp);
        self.to_client.notify_one();
    }

    /// The client's wait for an answer: `None` after `timeout` or once the victim has left.
    fn recv_answer(&self, timeout: Duration) -> Option<Instant> {
        let mut slots = self.wait_until(self.lock(), &self.to_client, timeout, |s| {
            !s.answers.is_empty() || s.closed
        });
        slots.answers.pop_front()
    }

    /// The client sleeps until `until`, or until the victim leaves; true if it has left.
    fn sleep_client(&self, until: Instant) -> bool {
        let now = Instant::now();
        let slots = self.wait_until(
            self.lock(),
            &self.to_client,
            until.saturating_duration_since(now),
            |s| s.closed,
        );
        slots.closed
    }

    fn is_closed(&self) -> bool {
        self.lock().closed
    }

    fn client_left(&self) -> bool {
        self.lock().client_done.is_some()
    }

    /// The victim leaves: tells the client, waits for it to go, and returns its error, if any.
    fn close(&self) -> Result<(), String> {
        let mut slots = self.lock();
        slots.closed = true;
        self.to_client.notify_all();
        slots = self.wait_until(slots, &self.to_victim, CLIENT_EXIT, |s| {
            s.client_done.is_some()
        });
        match slots.client_done.take() {
            Some(r) => r,
            None => Err(format!(
                "the client did not leave within {} s of the run's end",
                CLIENT_EXIT.as_secs()
            )),
        }
    }

    /// The client has left.
    fn client_done(&self, result: Result<(), String>, round_trips: Vec<u64>) {
        let mut slots = self.lock();
        slots.round_trips = round_trips;
        slots.client_done = Some(result);
        self.to_victim.notify_all();
    }
}

/// A client's work: runs until the victim leaves, then hands back its result and (the server's
/// client) its round trips in nanoseconds.
type ClientBody = Box<dyn FnOnce(&Mailbox) -> (Result<(), String>, Vec<u64>) + Send>;

/// Starts `body` as the client task: on a Web Worker of the pool in the browser, on an OS thread
/// natively. Either way a task of no interpreter, which never takes the emulated lock.
/// (`body` is boxed: one spawned task type for both clients, which keeps the page's `.wasm` from
/// carrying a copy of the pool's spawn machinery per client.)
fn start_client(name: &str, mailbox: Arc<Mailbox>, body: ClientBody) -> Result<(), String> {
    let task = move || {
        let (result, round_trips) = body(&mailbox);
        mailbox.client_done(result, round_trips);
    };
    #[cfg(target_arch = "wasm32")]
    {
        let _ = name;
        rayon::spawn(task);
        Ok(())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::thread::Builder::new()
            .name(name.into())
            .spawn(task)
            .map(drop)
            .map_err(|e| format!("cannot start the {name} thread: {e}"))
    }
}

/// The latency victim over a mailbox: answers the client's requests until `running` is cleared.
/// Publishes the number answered in `counter`; returns it with the latencies.
pub fn latency(
    ts: &mut impl ThreadState,
    period: Duration,
    running: &AtomicBool,
    counter: &AtomicU64,
) -> Result<(u64, LatencyStats), String> {
    let mailbox = Arc::new(Mailbox::default());
    start_client(
        "latency client",
        mailbox.clone(),
        Box::new(move |m: &Mailbox| {
            let mut next = Instant::now();
            while !m.is_closed() {
                if Instant::now() < next {
                    if m.sleep_client(next) {
                        break;
                    }
                    continue;
                }
                m.send_request(Instant::now());
                // A late wake-up does not send a burst to catch up: one request per period from now.
                next = (next + period).max(Instant::now());
            }
            (Ok(()), Vec::new())
        }),
    )?;
    let mut samples: Vec<u64> = Vec::new();
    while running.load(Relaxed) {
        // The blocking receive, with the lock released; the stamp is read with the lock back.
        let got = ts.allow_threads(|| mailbox.recv_request(POLL));
        let now = Instant::now();
        match got {
            Some(sent) => {
                if samples.len() < MAX_SAMPLES {
                    samples.push(now.saturating_duration_since(sent).as_nanos() as u64);
                }
                counter.fetch_add(1, Relaxed);
            }
            None if mailbox.client_left() => break,
            None => {}
        }
        ts.checkpoint();
    }
    mailbox.close()?;
    Ok((counter.load(Relaxed), LatencyStats::from_ns(&mut samples)))
}

/// The server victim over a mailbox: answers the client's requests (an echo) until `running` is
/// cleared. Publishes the number answered in `counter` and returns it, with each request's round
/// trip as the client saw it (send to answer).
pub fn server(
    ts: &mut impl ThreadState,
    running: &AtomicBool,
    counter: &AtomicU64,
) -> Result<(u64, LatencyStats), String> {
    let mailbox = Arc::new(Mailbox::default());
    start_client(
        "server client",
        mailbox.clone(),
        Box::new(move |m: &Mailbox| {
            let mut times = Vec::new();
            while !m.is_closed() {
                let sent = Instant::now();
                m.send_request(sent);
                // Wait for this request's answer (the victim may be slow: keep waiting until it
                // answers or leaves).
                loop {
                    match m.recv_answer(POLL) {
                        Some(echo) if echo == sent => {
                            if times.len() < MAX_SAMPLES {
                                times.push(sent.elapsed().as_nanos() as u64);
                            }
                            break;
                        }
                        Some(_) => {
                            return (Err("the server client got a wrong answer".into()), times)
                        }
                        None if m.is_closed() => return (Ok(()), times),
                        None => {}
                    }
                }
            }
            (Ok(()), times)
        }),
    )?;
    while running.load(Relaxed) {
        // recv with the lock released; the handler's Python code needs it back.
        match ts.allow_threads(|| mailbox.recv_request(POLL)) {
            Some(stamp) => {
                ts.checkpoint();
                // send with the lock released.
                ts.allow_threads(|| mailbox.send_answer(stamp));
                counter.fetch_add(1, Relaxed);
            }
            None if mailbox.client_left() => break,
            None => {}
        }
        ts.checkpoint();
    }
    mailbox.close()?;
    let mut times = std::mem::take(&mut mailbox.lock().round_trips);
    Ok((counter.load(Relaxed), LatencyStats::from_ns(&mut times)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gil::FreeThread;

    /// Runs `victim` on a free thread for `for_`, then clears the flag.
    fn run_for(
        for_: Duration,
        victim: impl FnOnce(&mut FreeThread, &AtomicBool, &AtomicU64) -> Result<(u64, LatencyStats), String>
            + Send,
    ) -> (u64, LatencyStats) {
        let running = AtomicBool::new(true);
        let counter = AtomicU64::new(0);
        std::thread::scope(|s| {
            let h = s.spawn(|| victim(&mut FreeThread::default(), &running, &counter));
            std::thread::sleep(for_);
            running.store(false, Relaxed);
            h.join()
                .expect("the victim panicked")
                .expect("the victim failed")
        })
    }

    #[test]
    fn the_latency_client_sends_once_per_period_and_each_request_is_timed() {
        let (n, stats) = run_for(Duration::from_millis(300), |ts, r, c| {
            latency(ts, Duration::from_millis(10), r, c)
        });
        // 30 periods in 300 ms; a busy machine may lose some to late wake-ups, never add any.
        assert!((10..=32).contains(&n), "{n} requests in 300 ms at 10 ms");
        assert_eq!(stats.n, n, "every request answered is timed");
        // Nobody holds a lock: a request waits only for the victim's wake-up.
        assert!(
            stats.p50_ms < 5.0,
            "a request waited {} ms (p50) with no lock held",
            stats.p50_ms
        );
        assert!(stats.p50_ms <= stats.p99_ms && stats.p99_ms <= stats.max_ms);
    }

    #[test]
    fn the_server_answers_each_request_before_the_next_is_sent() {
        let (n, stats) = run_for(Duration::from_millis(200), server);
        assert!(n > 100, "only {n} round trips in 200 ms with no lock held");
        // The client's count of round trips is at most one behind the victim's answers.
        assert!(
            stats.n + 1 >= n && stats.n <= n,
            "the client timed {} round trips, the victim answered {n}",
            stats.n
        );
    }

    #[test]
    fn a_victim_that_stops_at_once_lets_its_client_leave() {
        for server_victim in [false, true] {
            let running = AtomicBool::new(false);
            let counter = AtomicU64::new(0);
            let mut ts = FreeThread::default();
            let out = if server_victim {
                server(&mut ts, &running, &counter)
            } else {
                latency(&mut ts, Duration::from_millis(1), &running, &counter)
            };
            let (n, _) = out.expect("a client that leaves on time is no error");
            assert_eq!(n, 0);
        }
    }
}
