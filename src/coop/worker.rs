//! One Web Worker of the cooperative mode: runs its part of a run in time slices and says what to
//! send where. `www/coop-worker.js` only carries messages: it hands every input (a tick, a peer's
//! message, the end of a hashing) to a method of [`CoopWorker`] and delivers the [`Outbox`] it
//! gets back.
//!
//! A run has one worker for its interpreter (controller, incrementer thread and load thread taking
//! turns under the lock) and, for `process` and `free-thread` scenarios, one for the incrementer in
//! an interpreter of its own. The two meet at a start barrier over their port: the isolated one
//! says `ready`, the interpreter answers `go` and starts too; when the controller clears the
//! running flag the interpreter says `stop`, and the isolated one answers `exit` with its outcome.
//!
//! Target-independent: the worker runs on a [`Clock`] it is given (the browser's worker passes
//! [`RealClock`]), and the performance clock's reading comes in as an argument (`now_ms`), so it
//! is tested natively on a [`crate::coop::ScriptedClock`].

use super::wire::{self, Job, PageMessage, PeerMessage, WorkerInput, WorkerKind};
use super::{Clock, Interpreter, IsolatedIncrementer, RealClock, Step};
use crate::workload::Load;
use std::time::Duration;

/// How long a worker runs before it lets messages in.
pub const SLICE: Duration = Duration::from_millis(8);

/// About the shortest wait a browser's timer gives once timers nest.
const SHORTEST_TIMER: Duration = Duration::from_millis(4);

/// How often a worker reports the live count, in milliseconds.
const LIVE_EVERY_MS: f64 = 100.0;

/// What a worker must send after handling one input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outbox {
    /// Messages for the page (text of [`PageMessage`]).
    pub to_page: Vec<String>,
    /// Messages for the run's other worker (text of [`PeerMessage`]).
    pub to_peer: Vec<String>,
    /// Hand [`WorkerInput::Tick`] back after this many milliseconds (0: as soon as the event
    /// loop has let other messages in); `None`: wait for a message.
    pub tick_ms: Option<f64>,
    /// The load has dropped the lock around one release operation: hash a buffer of this many
    /// bytes on the hashing worker, then call [`CoopWorker::offload_done`].
    pub offload: Option<usize>,
}

impl Outbox {
    fn page(&mut self, m: &PageMessage) {
        self.to_page.push(wire::to_text(m));
    }

    fn peer(&mut self, m: &PeerMessage) {
        self.to_peer.push(wire::to_text(m));
    }
}

/// The size of the release load's buffer when the worker of `kind` for `job` (the wire text of
/// [`Job`]) needs a hashing worker beside it (the interpreter of a run whose load releases
/// the lock), else `None`. Asked before the worker is made, so that its clock starts once the
/// hashing worker is ready.
pub fn hasher_bytes(job: &str, kind: WorkerKind) -> Option<usize> {
    let cfg = wire::from_text::<Job>(job, "job").ok()?.config;
    match (kind, cfg.load) {
        (WorkerKind::Interpreter, Load::Release { bytes }) if cfg.scenario.has_load() => {
            Some(bytes)
        }
        _ => None,
    }
}

enum Part<C: Clock> {
    Interpreter(Box<Interpreter<C>>),
    Isolated(Box<IsolatedIncrementer<C>>),
}

/// The state of one cooperative worker, on a clock `C`.
pub struct CoopWorker<C: Clock = RealClock> {
    job: Job,
    part: Part<C>,
    /// When this worker's log clock began, in ms on the performance clock.
    epoch_ms: f64,
    /// Its start signal on that clock (0 before).
    go_ms: f64,
    last_live_ms: f64,
    /// The interpreter waits for the isolated incrementer's outcome.
    waiting_isolated: bool,
    failed: bool,
}

impl<C: Clock> CoopWorker<C> {
    /// A worker on `clock` for its `kind` of part in `job` (text of [`Job`]), at the start
    /// barrier; `now_ms` is the performance clock. The outbox holds what to do first.
    pub fn new(
        job: &str,
        kind: WorkerKind,
        now_ms: f64,
        clock: C,
    ) -> Result<(Self, Outbox), String> {
        let job: Job = wire::from_text(job, "job")?;
        let cfg = job.config;
        let part = match kind {
            WorkerKind::Interpreter => Part::Interpreter(Box::new(Interpreter::new(cfg, clock))),
            WorkerKind::Isolated => Part::Isolated(Box::new(IsolatedIncrementer::new(cfg, clock))),
        };
        let clock_us = match &part {
            Part::Interpreter(i) => i.now_us(),
            Part::Isolated(i) => i.now_us(),
        };
        let mut me = Self {
            job,
            part,
            epoch_ms: now_ms - clock_us as f64 / 1e3,
            go_ms: 0.0,
            last_live_ms: 0.0,
            waiting_isolated: false,
            failed: false,
        };
        let mut out = Outbox::default();
        match me.part {
            // At the barrier: the interpreter gives the start signal.
            Part::Isolated(_) => out.peer(&PeerMessage::Ready),
            Part::Interpreter(_) if !me.job.has_isolated() => me.start(now_ms, &mut out),
            Part::Interpreter(_) => {}
        }
        Ok((me, out))
    }

    /// Its clock.
    pub fn clock(&self) -> &C {
        match &self.part {
            Part::Interpreter(i) => i.clock(),
            Part::Isolated(i) => i.clock(),
        }
    }

    /// Handles one input (text of [`WorkerInput`]) at `now_ms`.
    pub fn handle(&mut self, input: &str, now_ms: f64) -> Outbox {
        match wire::from_text::<WorkerInput>(input, "worker") {
            Ok(input) => self.handle_input(input, now_ms),
            Err(e) => {
                let mut out = Outbox::default();
                if !self.failed {
                    self.fail(e, &mut out);
                }
                out
            }
        }
    }

    /// Handles one input at `now_ms`.
    pub fn handle_input(&mut self, input: WorkerInput, now_ms: f64) -> Outbox {
        let mut out = Outbox::default();
        if self.failed {
            return out;
        }
        match input {
            WorkerInput::Tick => self.slice(now_ms, &mut out),
            WorkerInput::Peer { message } => self.peer(message, now_ms, &mut out),
        }
        out
    }

    /// Handles a message from the run's other worker (text of [`PeerMessage`]).
    pub fn handle_peer(&mut self, text: &str, now_ms: f64) -> Outbox {
        match wire::from_text::<PeerMessage>(text, "peer") {
            Ok(message) => self.handle_input(WorkerInput::Peer { message }, now_ms),
            Err(e) => {
                let mut out = Outbox::default();
                if !self.failed {
                    self.fail(e, &mut out);
                }
                out
            }
        }
    }

    /// The hashing worker has finished the operation of the last [`Outbox::offload`] at
    /// `now_ms`: the load takes the lock back. No tick is asked for: one is always pending while
    /// the load is away.
    pub fn offload_done(&mut self, _now_ms: f64) -> Outbox {
        if let Part::Interpreter(i) = &mut self.part {
            if !self.failed {
                i.offload_done();
            }
        }
        Outbox::default()
    }

    /// The page message saying this worker failed with `message` (a panic, a worker error).
    pub fn failure(run: usize, message: String) -> String {
        wire::to_text(&PageMessage::Failed { run, message })
    }

    fn fail(&mut self, message: String, out: &mut Outbox) {
        self.failed = true;
        out.tick_ms = None;
        out.to_page.push(Self::failure(self.job.run, message));
    }

    fn start(&mut self, now_ms: f64, out: &mut Outbox) {
        match &mut self.part {
            Part::Interpreter(i) => {
                if self.job.has_isolated() {
                    out.peer(&PeerMessage::Go);
                }
                i.go();
            }
            Part::Isolated(i) => i.go(),
        }
        self.go_ms = now_ms;
        out.tick_ms = Some(0.0);
    }

    fn peer(&mut self, message: PeerMessage, now_ms: f64, out: &mut Outbox) {
        match (message, &mut self.part) {
            (PeerMessage::Ready, Part::Interpreter(_)) | (PeerMessage::Go, Part::Isolated(_)) => {
                self.start(now_ms, out)
            }
            (PeerMessage::Stop, Part::Isolated(i)) => i.stop(),
            (PeerMessage::Exit { outcome }, Part::Interpreter(i)) => {
                i.isolated_finished(outcome);
                if std::mem::take(&mut self.waiting_isolated) {
                    out.tick_ms = Some(0.0);
                }
            }
            // Named by its wire text: `{:?}` would link the Debug impls (and float formatting).
            (m, _) => self.fail(
                format!(
                    "a worker got a message not meant for it: {}",
                    wire::to_text(&m)
                ),
                out,
            ),
        }
    }

    /// One time slice of work, then what to report.
    fn slice(&mut self, now_ms: f64, out: &mut Outbox) {
        let counts_here = matches!(self.part, Part::Isolated(_)) || !self.job.has_isolated();
        match &mut self.part {
            Part::Isolated(i) => {
                let step = i.step(SLICE);
                let stopped = step == Step::Done;
                self.flush(now_ms, counts_here, stopped, out);
                let Part::Isolated(i) = &self.part else {
                    return;
                };
                match step {
                    Step::Done => out.peer(&PeerMessage::Exit {
                        outcome: i.outcome(),
                    }),
                    // The I/O victim's call: slept here when short, as the interpreter does.
                    Step::Idle(d) if d < SHORTEST_TIMER => {
                        i.clock().sleep(d);
                        out.tick_ms = Some(0.0);
                    }
                    Step::Idle(d) => out.tick_ms = Some(d.as_secs_f64() * 1e3),
                    _ => out.tick_ms = Some(0.0),
                }
            }
            Part::Interpreter(i) => {
                let end = i.clock().now() + SLICE;
                let mut step = i.step(SLICE);
                // Short idles (the I/O victim's calls) are slept here, within the slice: a
                // browser's timer waits at least about 4 ms once timers nest, and even a message
                // to itself costs a round through the event loop per 100 µs call.
                while let Step::Idle(d) = step {
                    let left = end.saturating_duration_since(i.clock().now());
                    if d >= SHORTEST_TIMER || d >= left {
                        break;
                    }
                    i.clock().sleep(d);
                    step = i.step(left.saturating_sub(d));
                }
                self.flush(now_ms, counts_here, step == Step::Done, out);
                match step {
                    Step::Done => {
                        if let Part::Interpreter(i) = &self.part {
                            let result = i.result();
                            out.page(&PageMessage::Result {
                                run: self.job.run,
                                result,
                            });
                        }
                    }
                    Step::WaitIsolated => self.waiting_isolated = true,
                    Step::StopIsolated => {
                        out.peer(&PeerMessage::Stop);
                        out.tick_ms = Some(0.0);
                    }
                    // A short idle at the end of the slice: slept too (an atomic wait, which a
                    // worker may do; its memory is shared), then the next slice at once.
                    Step::Idle(d) if d < SHORTEST_TIMER => {
                        if let Part::Interpreter(i) = &self.part {
                            i.clock().sleep(d);
                        }
                        out.tick_ms = Some(0.0);
                    }
                    Step::Idle(d) => out.tick_ms = Some(d.as_secs_f64() * 1e3),
                    Step::Again => out.tick_ms = Some(0.0),
                    // The hashing runs on a worker of its own (as C code that released the GIL
                    // runs beside Python's threads) while this one goes on with the others.
                    Step::Offload(bytes) => {
                        out.offload = Some(bytes);
                        out.tick_ms = Some(0.0);
                    }
                }
            }
        }
    }

    /// Sends new events, and the live count (about every 100 ms, or now with `force`) when this
    /// worker is where the run's incrementer counts.
    fn flush(&mut self, now_ms: f64, counts_here: bool, force: bool, out: &mut Outbox) {
        let (events, count, elapsed_s) = match &mut self.part {
            Part::Interpreter(i) => (i.take_events(), i.count(), i.elapsed_s()),
            Part::Isolated(i) => (i.take_events(), i.count(), i.elapsed_s()),
        };
        let run = self.job.run;
        if !events.is_empty() {
            out.page(&PageMessage::Events {
                run,
                epoch_ms: self.epoch_ms,
                go_ms: self.go_ms,
                events,
            });
        }
        if counts_here && (force || now_ms - self.last_live_ms >= LIVE_EVERY_MS) {
            self.last_live_ms = now_ms;
            out.page(&PageMessage::Live {
                run,
                count,
                elapsed_s,
                go_ms: self.go_ms,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coop::ScriptedClock;
    use crate::scenario::{RunConfig, RunResult, Scenario};
    use web_time::Instant;

    /// How long the hashing worker takes over one release operation, in the script.
    const HASH: Duration = Duration::from_millis(12);

    fn job(scenario: Scenario) -> String {
        let cfg = RunConfig::new(scenario, Duration::from_millis(30));
        wire::to_text(&Job::new(0, &cfg))
    }

    fn tick() -> String {
        wire::to_text(&WorkerInput::Tick)
    }

    fn result_of(page: &[PageMessage]) -> Option<RunResult> {
        page.iter().find_map(|m| match m {
            PageMessage::Result { result, .. } => Some(result.clone()),
            _ => None,
        })
    }

    /// A run's workers on scripted clocks that share an origin, driven as the browser would:
    /// the earliest tick or end of a hashing first, peer messages delivered at once (the
    /// receiver's clock catching up with the sender's), release operations hashed elsewhere in
    /// [`HASH`].
    struct Browser {
        t0: Instant,
        workers: Vec<CoopWorker<ScriptedClock>>,
        ticks: Vec<Option<Instant>>,
        hashing: Vec<(Instant, usize)>,
        page: Vec<PageMessage>,
    }

    impl Browser {
        fn clock() -> ScriptedClock {
            let origin = crate::coop::RealClock.now();
            ScriptedClock::new(origin, Duration::from_micros(50), Duration::from_millis(20))
        }

        fn now_ms(&self, i: usize) -> f64 {
            let now = self.workers[i].clock().now();
            now.saturating_duration_since(self.t0).as_secs_f64() * 1e3
        }

        fn deliver(&mut self, i: usize, out: Outbox) {
            let now = self.workers[i].clock().now();
            for m in &out.to_page {
                self.page
                    .push(wire::from_text(m, "page").expect("a page message"));
            }
            if let Some(ms) = out.tick_ms {
                self.ticks[i] = Some(now + Duration::from_secs_f64(ms / 1e3));
            }
            if out.offload.is_some() {
                self.hashing.push((now + HASH, i));
            }
            for m in out.to_peer {
                let other = (i + 1) % self.workers.len();
                self.workers[other].clock().advance_to(now);
                let now_ms = self.now_ms(other);
                let o = self.workers[other].handle_peer(&m, now_ms);
                self.deliver(other, o);
            }
        }

        /// Drives the workers (each with what it must do first) until the run's result.
        fn run(workers: Vec<(CoopWorker<ScriptedClock>, Outbox)>) -> Vec<PageMessage> {
            let t0 = workers[0].0.clock().now();
            let (workers, first): (Vec<_>, Vec<_>) = workers.into_iter().unzip();
            let mut b = Browser {
                t0,
                ticks: vec![None; workers.len()],
                workers,
                hashing: Vec::new(),
                page: Vec::new(),
            };
            for (i, out) in first.into_iter().enumerate() {
                b.deliver(i, out);
            }
            for _ in 0..1_000_000 {
                if result_of(&b.page).is_some() {
                    return b.page;
                }
                let next_tick = (0..b.ticks.len())
                    .filter_map(|i| b.ticks[i].map(|t| (t, i)))
                    .min();
                let hash = b.hashing.iter().copied().enumerate().min_by_key(|h| h.1);
                match (next_tick, hash) {
                    (_, Some((k, (t, i)))) if next_tick.is_none_or(|(at, _)| t <= at) => {
                        b.hashing.swap_remove(k);
                        b.workers[i].clock().advance_to(t);
                        let now_ms = b.now_ms(i);
                        let o = b.workers[i].offload_done(now_ms);
                        b.deliver(i, o);
                    }
                    (Some((t, i)), _) => {
                        b.ticks[i] = None;
                        b.workers[i].clock().advance_to(t);
                        let now_ms = b.now_ms(i);
                        let o = b.workers[i].handle(&tick(), now_ms);
                        b.deliver(i, o);
                    }
                    _ => panic!("every worker waits: the run is stuck"),
                }
            }
            panic!("the run did not end");
        }
    }

    fn worker(job: &str, kind: WorkerKind) -> (CoopWorker<ScriptedClock>, Outbox) {
        CoopWorker::new(job, kind, 0.0, Browser::clock()).expect("a valid job")
    }

    #[test]
    fn a_release_load_hashes_beside_the_interpreter_which_goes_on_counting() {
        let cfg = RunConfig {
            load: crate::workload::Load::RELEASE,
            ..RunConfig::new(Scenario::ThreadLoad, Duration::from_millis(150))
        };
        let j = wire::to_text(&Job::new(0, &cfg));
        let bytes = hasher_bytes(&j, WorkerKind::Interpreter);
        assert_eq!(bytes, Some(crate::workload::DEFAULT_RELEASE_BYTES));
        assert_eq!(hasher_bytes(&j, WorkerKind::Isolated), None);
        let page = Browser::run(vec![worker(&j, WorkerKind::Interpreter)]);
        let r = result_of(&page).expect("the run ends with its result");
        let load = r.load.as_ref().expect("a load report");
        // Each hash takes HASH with the lock free, and the incrementer takes it meanwhile.
        assert!(load.ops >= 5, "{load:?}");
        assert!(
            load.op_s.iter().all(|&s| s >= HASH.as_secs_f64()),
            "{load:?}"
        );
        assert!(r.count > 0, "the incrementer counted meanwhile");
        let plain = job(Scenario::ThreadLoad);
        assert_eq!(hasher_bytes(&plain, WorkerKind::Interpreter), None);
    }

    #[test]
    fn a_thread_run_ends_with_a_result_on_one_worker() {
        let (w, out) = worker(&job(Scenario::Thread), WorkerKind::Interpreter);
        assert_eq!(out.tick_ms, Some(0.0), "no peer: it starts at once");
        let page = Browser::run(vec![(w, out)]);
        let r = result_of(&page).expect("the run ends with its result");
        assert_eq!(r.scenario, Scenario::Thread);
        assert!(r.count > 0);
        assert!(page.iter().any(|m| matches!(m, PageMessage::Live { .. })));
        let again = Browser::run(vec![worker(
            &job(Scenario::Thread),
            WorkerKind::Interpreter,
        )]);
        assert_eq!(again, page, "the same script, the same messages");
    }

    #[test]
    fn a_process_run_meets_at_the_barrier_and_ends_with_the_outcome() {
        let j = job(Scenario::Process);
        let (interp, out_i) = worker(&j, WorkerKind::Interpreter);
        assert_eq!(out_i, Outbox::default(), "the interpreter waits for ready");
        let (iso, out_s) = worker(&j, WorkerKind::Isolated);
        assert_eq!(out_s.to_peer, [wire::to_text(&PeerMessage::Ready)]);
        let page = Browser::run(vec![(interp, out_i), (iso, out_s)]);
        let r = result_of(&page).expect("the run ends with its result");
        assert_eq!(r.scenario, Scenario::Process);
        assert!(
            r.count > 0,
            "the isolated incrementer's count reached the result"
        );
    }

    #[test]
    fn a_bad_job_or_input_is_a_sentence_not_a_panic() {
        assert!(CoopWorker::new("{}", WorkerKind::Interpreter, 0.0, Browser::clock()).is_err());
        let (mut w, _) = worker(&job(Scenario::Thread), WorkerKind::Interpreter);
        let out = w.handle("nonsense", 0.0);
        assert_eq!(out.tick_ms, None);
        let m: PageMessage = wire::from_text(&out.to_page[0], "page").unwrap();
        assert!(matches!(m, PageMessage::Failed { run: 0, .. }));
        assert_eq!(
            w.handle(&tick(), 0.0),
            Outbox::default(),
            "a failed worker stays quiet"
        );
    }
}
