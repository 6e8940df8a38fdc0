//! One run's timeline in the Chrome Trace Event Format (its JSON object form), the format that
//! Perfetto (ui.perfetto.dev, "Open trace file") and chrome://tracing both open.
//!
//! One process per interpreter (the parent, and the isolated incrementer's own), one thread per
//! worker, named by `M` metadata events. Each hold of the lock is a complete (`X`) slice
//! `holding`, with the part after a drop request nested inside it as `asked to drop`, so the
//! slices named `holding` add up to the lock's own `held_s`; each wait is a `waiting` slice.
//! Drop requests, the load's operations, the controller's wake-up and the moment it cleared the
//! running flag are instant (`i`) events. Times are microseconds since the run's log began.

use super::Json;
use crate::gil::WorkerId;
#[cfg(test)]
use crate::runner::LOAD;
use crate::runner::{CONTROLLER, INCREMENTER};
use crate::scenario::{load_index, LockMode, RunConfig, RunResult};
use crate::timeline::{lane_titles, operation_name, Lane, LaneState, Timeline};

/// The process of the parent interpreter: the controller, its threads, the load.
pub const PARENT_PID: u32 = 1;
/// The process of an incrementer in an interpreter of its own.
pub const ISOLATED_PID: u32 = 2;

/// One entry of `traceEvents`. Fields in the order the format's documentation lists them, so the
/// file reads the same every time.
struct TraceEvent {
    name: String,
    cat: Option<&'static str>,
    ph: &'static str,
    ts: u64,
    dur: Option<u64>,
    pid: u32,
    tid: u32,
    /// The scope of an instant event: `t` thread, `p` process, `g` global.
    s: Option<&'static str>,
    args: Option<Arg>,
}

impl TraceEvent {
    fn metadata(name: &str, pid: u32, tid: u32, args: Arg) -> Self {
        Self {
            name: name.into(),
            cat: None,
            ph: "M",
            ts: 0,
            dur: None,
            pid,
            tid,
            s: None,
            args: Some(args),
        }
    }

    fn slice(name: &str, (pid, tid): (u32, u32), start_us: u64, end_us: u64) -> Self {
        Self {
            name: name.into(),
            cat: Some("lock"),
            ph: "X",
            ts: start_us,
            dur: Some(end_us.saturating_sub(start_us)),
            pid,
            tid,
            s: None,
            args: None,
        }
    }

    fn instant(name: &str, (pid, tid): (u32, u32), t_us: u64, scope: &'static str) -> Self {
        Self {
            name: name.into(),
            cat: Some("lock"),
            ph: "i",
            ts: t_us,
            dur: None,
            pid,
            tid,
            s: Some(scope),
            args: None,
        }
    }

    fn with_args(mut self, args: Arg) -> Self {
        self.args = Some(args);
        self
    }

    /// The event as one line of compact JSON; absent fields are left out.
    fn to_json(&self) -> String {
        let mut j = Json::compact();
        j.open('{');
        j.key("name").str(&self.name);
        if let Some(cat) = self.cat {
            j.key("cat").str(cat);
        }
        j.key("ph").str(self.ph);
        j.key("ts").u64(self.ts);
        if let Some(dur) = self.dur {
            j.key("dur").u64(dur);
        }
        j.key("pid").u64(self.pid.into());
        j.key("tid").u64(self.tid.into());
        if let Some(s) = self.s {
            j.key("s").str(s);
        }
        if let Some(Arg(key, value)) = &self.args {
            j.key("args").open('{').key(key);
            match value {
                ArgValue::Text(t) => j.str(t),
                ArgValue::Number(n) => j.u64((*n).into()),
            };
            j.close('}');
        }
        j.close('}');
        j.finish()
    }
}

/// An event's `args`: one key and its value.
struct Arg(&'static str, ArgValue);

/// The value of an [`Arg`].
enum ArgValue {
    Text(String),
    Number(u32),
}

impl From<String> for ArgValue {
    fn from(s: String) -> Self {
        ArgValue::Text(s)
    }
}

impl From<&str> for ArgValue {
    fn from(s: &str) -> Self {
        ArgValue::Text(s.into())
    }
}

impl From<u32> for ArgValue {
    fn from(n: u32) -> Self {
        ArgValue::Number(n)
    }
}

/// The run described in `otherData`, which chrome://tracing shows under "Metadata".
struct OtherData<'a> {
    generator: &'static str,
    scenario: &'a str,
    delay_s: f64,
    load: &'static str,
    switch_interval_ms: f64,
    count: u64,
    elapsed_s: f64,
    stop_lag_s: f64,
    time_origin: &'static str,
    events: u64,
    events_lost: u64,
    note: Option<String>,
}

impl OtherData<'_> {
    /// The object as compact JSON; no `note` when there is none.
    fn to_json(&self) -> String {
        let mut j = Json::compact();
        j.open('{');
        j.key("generator").str(self.generator);
        j.key("scenario").str(self.scenario);
        j.key("delay_s").f64(self.delay_s);
        j.key("load").str(self.load);
        j.key("switch_interval_ms").f64(self.switch_interval_ms);
        j.key("count").u64(self.count);
        j.key("elapsed_s").f64(self.elapsed_s);
        j.key("stop_lag_s").f64(self.stop_lag_s);
        j.key("time_origin").str(self.time_origin);
        j.key("events").u64(self.events);
        j.key("events_lost").u64(self.events_lost);
        if let Some(note) = &self.note {
            j.key("note").str(note);
        }
        j.close('}');
        j.finish()
    }
}

/// A worker's role, as the trace names it in arguments.
fn role(worker: WorkerId) -> &'static str {
    match worker {
        CONTROLLER => "controller",
        INCREMENTER => "incrementer",
        w => match load_index(w) {
            Some(i) => ["load", "load 2", "load 3", "load 4"][usize::from(i).min(3)],
            None => "unknown",
        },
    }
}

/// The trace of one finished run, as JSON text ending with a newline.
pub fn chrome_trace(timeline: &Timeline, run: &RunConfig, result: &RunResult) -> String {
    let sc = run.scenario;
    let track = |worker: WorkerId| {
        let pid = if worker == INCREMENTER && sc.isolated() {
            ISOLATED_PID
        } else {
            PARENT_PID
        };
        (pid, u32::from(worker))
    };
    let lanes: Vec<&Lane> = timeline
        .lanes
        .iter()
        .filter(|l| load_index(l.worker).is_none() || sc.has_load())
        .collect();

    let mut events = Vec::new();
    let mut parent_name = match sc.lock_mode() {
        LockMode::Shared => format!("parent interpreter, one lock ({sc})"),
        LockMode::Free => format!("parent interpreter, no lock ({sc})"),
    };
    if timeline.lost > 0 {
        // In the name, where both viewers show it: Perfetto reads no other metadata event.
        parent_name.push_str(&format!(", {} earliest events lost", timeline.lost));
    }
    let mut processes = vec![(PARENT_PID, parent_name)];
    if sc.isolated() {
        processes.push((ISOLATED_PID, "incrementer process, its own lock".into()));
    }
    for (pid, name) in processes {
        // Process metadata carries the process's main thread (tid = pid: the controller, or the
        // isolated incrementer), as Chrome writes it; Perfetto takes tids as system-wide ids.
        events.push(TraceEvent::metadata(
            "process_name",
            pid,
            pid,
            Arg("name", name.into()),
        ));
        events.push(TraceEvent::metadata(
            "process_sort_index",
            pid,
            pid,
            Arg("sort_index", pid.into()),
        ));
    }
    let titles = lane_titles(run);
    for lane in &lanes {
        let (pid, tid) = track(lane.worker);
        let mut title = titles[usize::from(lane.worker - CONTROLLER)].clone();
        if lane.inferred {
            title.push_str(", from its result");
        }
        events.push(TraceEvent::metadata(
            "thread_name",
            pid,
            tid,
            Arg("name", title.into()),
        ));
        events.push(TraceEvent::metadata(
            "thread_sort_index",
            pid,
            tid,
            Arg("sort_index", tid.into()),
        ));
    }

    for lane in &lanes {
        let at = track(lane.worker);
        push_spans(&mut events, lane, at);
        for r in &lane.requests {
            events.push(
                TraceEvent::instant("drop request", at, r.t_us, "t")
                    .with_args(Arg("holder", role(r.holder).into())),
            );
        }
        for &t in &lane.op_starts {
            events.push(TraceEvent::instant(operation_name(run.load), at, t, "t"));
        }
    }
    let controller = track(CONTROLLER);
    if let Some(t) = timeline.woke_us {
        events.push(TraceEvent::instant("controller wakes", controller, t, "g"));
    }
    if let Some(t) = timeline.flag_cleared_us {
        events.push(TraceEvent::instant("flag cleared", controller, t, "g"));
    }

    let note = (timeline.lost > 0).then(|| {
        format!(
            "the log kept the last {} events of the run and lost the {} before them: the lanes \
             begin at {} us, and a span open at that moment starts at its next event",
            timeline.events,
            timeline.lost,
            timeline.first_event_us.unwrap_or(0)
        )
    });
    let other = OtherData {
        generator: "gil-lab",
        scenario: sc.name(),
        delay_s: result.delay_s,
        load: run.load.name(),
        switch_interval_ms: run.interval.as_secs_f64() * 1e3,
        count: result.count,
        elapsed_s: result.elapsed_s,
        stop_lag_s: result.stop_lag_s,
        time_origin: "microseconds since the run's event log was created",
        events: timeline.events,
        events_lost: timeline.lost,
        note,
    };

    // Written by hand rather than by serde: the web page carries this exporter and has a weight
    // budget. A non-finite float becomes null, as serde_json writes it.
    let lines: Vec<String> = events.iter().map(TraceEvent::to_json).collect();
    format!(
        "{{\"traceEvents\":[\n{}\n],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":{}}}\n",
        lines.join(",\n"),
        other.to_json()
    )
}

/// A lane's spans as slices: a hold (holding and asked-to-drop spans in a row) is one `holding`
/// slice with the asked part nested inside it.
fn push_spans(events: &mut Vec<TraceEvent>, lane: &Lane, at: (u32, u32)) {
    let mut open_hold: Option<usize> = None;
    for span in &lane.spans {
        match span.state {
            LaneState::Holding | LaneState::AskedToDrop => {
                match open_hold {
                    Some(i) => {
                        events[i].dur = Some(span.end_us.saturating_sub(events[i].ts));
                    }
                    None => {
                        let mut hold = TraceEvent::slice("holding", at, span.start_us, span.end_us);
                        if lane.inferred {
                            hold = hold.with_args(Arg("source", "run result".into()));
                        }
                        events.push(hold);
                        open_hold = Some(events.len() - 1);
                    }
                }
                if span.state == LaneState::AskedToDrop {
                    events.push(TraceEvent::slice(
                        "asked to drop",
                        at,
                        span.start_us,
                        span.end_us,
                    ));
                }
                continue;
            }
            LaneState::Waiting => {
                events.push(TraceEvent::slice("waiting", at, span.start_us, span.end_us))
            }
            LaneState::NoLock => events.push(TraceEvent::slice(
                "running, no lock",
                at,
                span.start_us,
                span.end_us,
            )),
            LaneState::RunsReleased => events.push(TraceEvent::slice(
                "runs C code, lock released",
                at,
                span.start_us,
                span.end_us,
            )),
            LaneState::Released => {}
        }
        open_hold = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gil::{Event, EventKind::*};
    use crate::scenario::{Role, Scenario, WorkerReport};
    use std::time::Duration;

    fn ev(t_us: u64, kind: crate::gil::EventKind, worker: u8, by: u8) -> Event {
        Event::new(t_us, kind, worker, by)
    }

    fn result(scenario: Scenario, delay_s: f64, elapsed_s: f64, stop_lag_s: f64) -> RunResult {
        RunResult {
            scenario,
            delay_s,
            count: 42,
            elapsed_s,
            stop_lag_s,
            rate_per_s: 0.0,
            switches: 0,
            switch_interval_ms: 5.0,
            workers: vec![WorkerReport {
                worker: INCREMENTER,
                role: Role::Incrementer,
                isolated: scenario.isolated(),
                lock: None,
            }],
            load: None,
            loads: 0,
            latency_ms: None,
        }
    }

    fn finished(scenario: Scenario, events: &[Event], r: &RunResult) -> Timeline {
        let mut t = Timeline::uncapped(scenario);
        for e in events {
            t.apply(e);
        }
        t.advance(t.now_us);
        t.finish(r);
        t
    }

    #[test]
    fn thread_load_run_gives_named_tracks_nested_slices_and_instants() {
        let events = [
            ev(0, Take, CONTROLLER, CONTROLLER),
            ev(100, Drop, CONTROLLER, CONTROLLER),
            ev(110, Take, INCREMENTER, INCREMENTER),
            ev(120, Wait, LOAD, LOAD),
            ev(5_120, Request, INCREMENTER, LOAD),
            ev(5_130, Drop, INCREMENTER, INCREMENTER),
            ev(5_131, Take, LOAD, LOAD),
            ev(5_140, OpStart, LOAD, LOAD),
            ev(6_000, Take, CONTROLLER, CONTROLLER),
            ev(6_010, Drop, LOAD, LOAD),
            ev(6_011, Exit, LOAD, LOAD),
        ];
        let r = result(Scenario::ThreadLoad, 0.005, 0.006, 0.0);
        let run = RunConfig::new(Scenario::ThreadLoad, Duration::from_millis(5));
        let t = finished(Scenario::ThreadLoad, &events, &r);
        assert_eq!(chrome_trace(&t, &run, &r), EXPECTED_THREAD_LOAD);
    }

    const EXPECTED_THREAD_LOAD: &str = r#"{"traceEvents":[
{"name":"process_name","ph":"M","ts":0,"pid":1,"tid":1,"args":{"name":"parent interpreter, one lock (thread+load)"}},
{"name":"process_sort_index","ph":"M","ts":0,"pid":1,"tid":1,"args":{"sort_index":1}},
{"name":"thread_name","ph":"M","ts":0,"pid":1,"tid":1,"args":{"name":"controller (main thread)"}},
{"name":"thread_sort_index","ph":"M","ts":0,"pid":1,"tid":1,"args":{"sort_index":1}},
{"name":"thread_name","ph":"M","ts":0,"pid":1,"tid":2,"args":{"name":"incrementer (thread)"}},
{"name":"thread_sort_index","ph":"M","ts":0,"pid":1,"tid":2,"args":{"sort_index":2}},
{"name":"thread_name","ph":"M","ts":0,"pid":1,"tid":3,"args":{"name":"load: z = z * z (thread)"}},
{"name":"thread_sort_index","ph":"M","ts":0,"pid":1,"tid":3,"args":{"sort_index":3}},
{"name":"holding","cat":"lock","ph":"X","ts":0,"dur":100,"pid":1,"tid":1},
{"name":"holding","cat":"lock","ph":"X","ts":6000,"dur":11,"pid":1,"tid":1},
{"name":"holding","cat":"lock","ph":"X","ts":110,"dur":5020,"pid":1,"tid":2},
{"name":"asked to drop","cat":"lock","ph":"X","ts":5120,"dur":10,"pid":1,"tid":2},
{"name":"waiting","cat":"lock","ph":"X","ts":120,"dur":5011,"pid":1,"tid":3},
{"name":"holding","cat":"lock","ph":"X","ts":5131,"dur":879,"pid":1,"tid":3},
{"name":"drop request","cat":"lock","ph":"i","ts":5120,"pid":1,"tid":3,"s":"t","args":{"holder":"incrementer"}},
{"name":"z = z * z","cat":"lock","ph":"i","ts":5140,"pid":1,"tid":3,"s":"t"},
{"name":"controller wakes","cat":"lock","ph":"i","ts":6000,"pid":1,"tid":1,"s":"g"},
{"name":"flag cleared","cat":"lock","ph":"i","ts":6000,"pid":1,"tid":1,"s":"g"}
],
"displayTimeUnit":"ms",
"otherData":{"generator":"gil-lab","scenario":"thread+load","delay_s":0.005,"load":"bignum","switch_interval_ms":5.0,"count":42,"elapsed_s":0.006,"stop_lag_s":0.0,"time_origin":"microseconds since the run's event log was created","events":11,"events_lost":0}}
"#;

    #[test]
    fn a_release_operation_is_a_slice_of_c_code_without_the_lock() {
        let events = [
            ev(0, Take, LOAD, LOAD),
            ev(10, ReleaseStart, LOAD, LOAD),
            ev(20, Drop, LOAD, LOAD),
            ev(4_020, Wait, LOAD, LOAD),
        ];
        let r = result(Scenario::ThreadLoad, 0.005, 0.006, 0.0);
        let run = RunConfig::new(Scenario::ThreadLoad, Duration::from_millis(5));
        let t = finished(Scenario::ThreadLoad, &events, &r);
        let trace = chrome_trace(&t, &run, &r);
        assert!(
            trace.contains(r#"{"name":"runs C code, lock released","cat":"lock","ph":"X","ts":20,"dur":4000,"pid":1,"tid":3}"#),
            "{trace}"
        );
    }

    #[test]
    fn an_isolated_incrementer_gets_a_process_of_its_own() {
        let events = [
            ev(0, Take, CONTROLLER, CONTROLLER),
            ev(1_000, Drop, CONTROLLER, CONTROLLER),
        ];
        let r = result(Scenario::Process, 0.5, 0.5, 0.0);
        let run = RunConfig::new(Scenario::Process, Duration::from_millis(500));
        let mut t = Timeline::uncapped(Scenario::Process);
        for e in &events {
            t.apply(e);
        }
        t.advance(600_000);
        t.finish(&r);
        let text = chrome_trace(&t, &run, &r);
        for line in [
            r#"{"name":"process_name","ph":"M","ts":0,"pid":2,"tid":2,"args":{"name":"incrementer process, its own lock"}}"#,
            r#"{"name":"thread_name","ph":"M","ts":0,"pid":2,"tid":2,"args":{"name":"incrementer (own process, own lock), from its result"}}"#,
            r#"{"name":"holding","cat":"lock","ph":"X","ts":1000,"dur":500000,"pid":2,"tid":2,"args":{"source":"run result"}}"#,
        ] {
            assert!(text.contains(line), "{line} missing from {text}");
        }
        // No load lane without a load.
        assert!(!text.contains(r#""tid":3"#), "{text}");
    }

    #[test]
    fn free_mode_slices_say_no_lock_and_lost_events_are_labelled() {
        let mut t = Timeline::uncapped(Scenario::FreeThread);
        t.set_go(50);
        t.advance(1_000_000);
        t.lost = 7;
        t.events = 3;
        t.first_event_us = Some(900);
        let r = result(Scenario::FreeThread, 0.5, 0.5, 0.0);
        t.finish(&r);
        let run = RunConfig::new(Scenario::FreeThread, Duration::from_millis(500));
        let text = chrome_trace(&t, &run, &r);
        assert!(text.contains(r#"{"name":"running, no lock","cat":"lock","ph":"X","ts":50,"dur":500000,"pid":1,"tid":2}"#), "{text}");
        assert!(text.contains(r#"{"name":"process_name","ph":"M","ts":0,"pid":1,"tid":1,"args":{"name":"parent interpreter, no lock (free-thread), 7 earliest events lost"}}"#), "{text}");
        assert!(text.contains(r#""events_lost":7,"note":"the log kept the last 3 events of the run and lost the 7 before them"#), "{text}");
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("the trace is JSON");
        assert_eq!(parsed["displayTimeUnit"], "ms");
    }
}
