//! The time-sensitive victims: a thread that answers requests arriving over a real loopback
//! socket, beside the CPU work. The client is a plain OS thread started by the victim under no
//! emulated lock (a thread of no interpreter), so only the victim's side waits for the lock, as in
//! CPython's `Tools/ccbench` latency test and the echo-server experiment.
//!
//! - [`latency`]: the client sends a datagram every period, stamped with its send time; the victim
//!   waits for it in a blocking receive with the lock released, takes the lock back, and records
//!   the time from the send stamp to that moment: when a Python thread could first act on it.
//! - [`server`]: the client sends a request, waits for the answer, sends the next; the victim
//!   loops a blocking receive and a blocking send, the lock released around each, and counts the
//!   requests answered.
//!
//! Every blocking call has a short timeout, so the victim notices the cleared running flag (with
//! the lock held, as Python's `while running.value` does) and the client notices the end.

use super::LatencyStats;
use crate::gil::ThreadState;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use web_time::Instant;

/// How long a blocking call waits before its thread looks at its flag again.
const POLL: Duration = Duration::from_millis(20);

/// The most latencies a run keeps (a day at one request per 10 ms fits in far fewer).
const MAX_SAMPLES: usize = 1 << 22;

/// Why a network victim could not run: the sentence says which socket and why.
fn net_error(what: &str, e: io::Error) -> String {
    format!("the {what} could not use the loopback network: {e}")
}

/// The client thread, and the flag that ends it.
struct Client {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Result<(), String>>>,
}

impl Client {
    fn start(
        name: &str,
        body: impl FnOnce(&AtomicBool) -> Result<(), String> + Send + 'static,
    ) -> Result<Self, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(&flag))
            .map_err(|e| format!("cannot start the {name} thread: {e}"))?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }

    fn alive(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_finished())
    }

    /// Ends the client and returns its error, if it had one.
    fn end(mut self) -> Result<(), String> {
        self.stop.store(true, Relaxed);
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err("the client thread panicked".into()),
            None => Ok(()),
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// The latency victim: answers the client's datagrams until `running` is cleared. Publishes the
/// number answered in `counter`; returns it with the latencies.
pub fn latency(
    ts: &mut impl ThreadState,
    period: Duration,
    running: &AtomicBool,
    counter: &AtomicU64,
) -> Result<(u64, LatencyStats), String> {
    let what = "latency victim";
    let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| net_error(what, e))?;
    sock.set_read_timeout(Some(POLL))
        .map_err(|e| net_error(what, e))?;
    let to = sock.local_addr().map_err(|e| net_error(what, e))?;
    // One clock for both ends: the client stamps its sends on it, the victim reads it on arrival.
    let epoch = Instant::now();
    let client = Client::start("latency client", move |stop| {
        let what = "latency client";
        let out = UdpSocket::bind("127.0.0.1:0").map_err(|e| net_error(what, e))?;
        let mut next = Instant::now();
        while !stop.load(Relaxed) {
            let now = Instant::now();
            if now < next {
                std::thread::sleep((next - now).min(POLL));
                continue;
            }
            let sent = epoch.elapsed().as_nanos() as u64;
            out.send_to(&sent.to_le_bytes(), to)
                .map_err(|e| net_error(what, e))?;
            // A late wake-up does not send a burst to catch up: one request per period from now.
            next = (next + period).max(Instant::now());
        }
        Ok(())
    })?;
    let mut samples: Vec<u64> = Vec::new();
    let mut buf = [0u8; 16];
    while running.load(Relaxed) {
        // The blocking receive, with the lock released; the stamp is read with the lock back.
        let got = ts.allow_threads(|| sock.recv(&mut buf));
        let now_ns = epoch.elapsed().as_nanos() as u64;
        match got {
            Ok(8) => {
                let sent = u64::from_le_bytes(buf[..8].try_into().expect("8 bytes"));
                if samples.len() < MAX_SAMPLES {
                    samples.push(now_ns.saturating_sub(sent));
                }
                counter.fetch_add(1, Relaxed);
            }
            Ok(_) => {}
            Err(e) if is_timeout(&e) => {
                if !client.alive() {
                    break;
                }
            }
            Err(e) => return Err(net_error(what, e)),
        }
        ts.checkpoint();
    }
    client.end()?;
    Ok((counter.load(Relaxed), LatencyStats::from_ns(&mut samples)))
}

/// Reads exactly `buf.len()` bytes, waiting in steps of [`POLL`]; `Ok(false)` if the other end
/// closed, or if `stop()` said to give up before any byte came.
fn read_full(stream: &mut TcpStream, buf: &mut [u8], stop: impl Fn() -> bool) -> io::Result<bool> {
    let mut have = 0;
    while have < buf.len() {
        match stream.read(&mut buf[have..]) {
            Ok(0) => return Ok(false),
            Ok(n) => have += n,
            // Half a message is never dropped: only a wait with nothing read gives up.
            Err(e) if is_timeout(&e) => {
                if have == 0 && stop() {
                    return Ok(false);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The server victim: answers the client's requests (an 8-byte echo) until `running` is cleared.
/// Publishes the number answered in `counter` and returns it, with each request's round trip as
/// the client saw it (send to answer).
pub fn server(
    ts: &mut impl ThreadState,
    running: &AtomicBool,
    counter: &AtomicU64,
) -> Result<(u64, LatencyStats), String> {
    let what = "server victim";
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| net_error(what, e))?;
    let addr = listener.local_addr().map_err(|e| net_error(what, e))?;
    let round_trips = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let kept = round_trips.clone();
    let client = Client::start("server client", move |stop| {
        let what = "server client";
        let mut s = TcpStream::connect(addr).map_err(|e| net_error(what, e))?;
        s.set_nodelay(true).map_err(|e| net_error(what, e))?;
        s.set_read_timeout(Some(POLL))
            .map_err(|e| net_error(what, e))?;
        let mut times = Vec::new();
        let mut seq = 0u64;
        let mut answer = [0u8; 8];
        while !stop.load(Relaxed) {
            let sent = Instant::now();
            if s.write_all(&seq.to_le_bytes()).is_err() {
                break; // the server has closed: the run is over
            }
            match read_full(&mut s, &mut answer, || stop.load(Relaxed)) {
                Ok(true) if u64::from_le_bytes(answer) == seq => {
                    if times.len() < MAX_SAMPLES {
                        times.push(sent.elapsed().as_nanos() as u64);
                    }
                }
                Ok(true) => return Err(format!("the {what} got a wrong answer")),
                Ok(false) | Err(_) => break,
            }
            seq += 1;
        }
        *kept.lock().unwrap_or_else(|p| p.into_inner()) = times;
        Ok(())
    })?;
    // Accept without blocking for ever: a client that failed to connect ends the run.
    listener
        .set_nonblocking(true)
        .map_err(|e| net_error(what, e))?;
    let mut stream = loop {
        match ts.allow_threads(|| listener.accept()) {
            Ok((s, _)) => break s,
            Err(e) if is_timeout(&e) => {
                if !running.load(Relaxed) || !client.alive() {
                    client.end()?;
                    return Ok((0, LatencyStats::default()));
                }
                ts.allow_threads(|| std::thread::sleep(Duration::from_micros(200)));
            }
            Err(e) => return Err(net_error(what, e)),
        }
    };
    let setup = |s: &TcpStream| -> io::Result<()> {
        s.set_nonblocking(false)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(POLL))
    };
    setup(&stream).map_err(|e| net_error(what, e))?;
    let mut buf = [0u8; 8];
    while running.load(Relaxed) {
        // recv with the lock released; the handler's Python code needs it back.
        let got = ts.allow_threads(|| read_full(&mut stream, &mut buf, || true));
        match got {
            Ok(true) => {
                ts.checkpoint();
                // send with the lock released.
                ts.allow_threads(|| stream.write_all(&buf))
                    .map_err(|e| net_error(what, e))?;
                counter.fetch_add(1, Relaxed);
            }
            Ok(false) if !client.alive() => break,
            Ok(false) => {}
            Err(e) => return Err(net_error(what, e)),
        }
        ts.checkpoint();
    }
    drop(stream);
    client.end()?;
    let mut times = std::mem::take(&mut *round_trips.lock().unwrap_or_else(|p| p.into_inner()));
    Ok((counter.load(Relaxed), LatencyStats::from_ns(&mut times)))
}
