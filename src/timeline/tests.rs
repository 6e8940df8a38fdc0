//! Unit tests of the timeline: literal event lists in, spans and shares out.

use super::*;
use crate::gil::EventKind::*;
use crate::runner::LOAD;
use crate::scenario::{Role, WorkerReport};
use std::time::Duration;

use crate::gil::Event;
fn ev(t_us: u64, kind: EventKind, worker: u8, by: u8) -> Event {
    Event::new(t_us, kind, worker, by)
}

fn span(state: LaneState, start_us: u64, end_us: u64) -> Span {
    Span {
        state,
        start_us,
        end_us,
    }
}

fn timeline(scenario: Scenario, events: &[Event]) -> Timeline {
    let mut t = Timeline::uncapped(scenario);
    for e in events {
        t.apply(e);
    }
    t
}

fn result(scenario: Scenario, delay_s: f64, elapsed_s: f64, stop_lag_s: f64) -> RunResult {
    RunResult {
        scenario,
        delay_s,
        count: 0,
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

/// A shared-lock run in the seed's order: the controller starts the workers and sleeps; the
/// incrementer and the load take turns (one drop request answered); the controller wakes,
/// waits for the load, clears the flag and everybody leaves.
fn seed_events() -> Vec<Event> {
    vec![
        ev(0, Take, CONTROLLER, CONTROLLER),
        ev(100, Drop, CONTROLLER, CONTROLLER),
        ev(110, Take, INCREMENTER, INCREMENTER),
        ev(120, Wait, LOAD, LOAD),
        ev(5_120, Request, INCREMENTER, LOAD),
        ev(5_130, Drop, INCREMENTER, INCREMENTER),
        ev(5_131, Take, LOAD, LOAD),
        ev(5_132, Wait, INCREMENTER, INCREMENTER),
        ev(5_140, OpStart, LOAD, LOAD),
        ev(1_000_100, Wait, CONTROLLER, CONTROLLER),
        ev(1_005_100, Request, LOAD, CONTROLLER),
        ev(2_000_000, Drop, LOAD, LOAD),
        ev(2_000_010, Take, CONTROLLER, CONTROLLER),
        ev(2_000_020, Drop, CONTROLLER, CONTROLLER),
        ev(2_000_030, Take, INCREMENTER, INCREMENTER),
        ev(2_000_040, Drop, INCREMENTER, INCREMENTER),
        ev(2_000_041, Exit, INCREMENTER, INCREMENTER),
        ev(2_000_050, Take, LOAD, LOAD),
        ev(2_000_060, Drop, LOAD, LOAD),
        ev(2_000_061, Exit, LOAD, LOAD),
        ev(2_000_070, Take, CONTROLLER, CONTROLLER),
        ev(2_000_080, Drop, CONTROLLER, CONTROLLER),
        ev(2_000_081, Exit, CONTROLLER, CONTROLLER),
    ]
}

#[test]
fn smoke_seed_run_gives_holding_waiting_and_asked_spans() {
    let t = timeline(Scenario::ThreadLoad, &seed_events());
    use LaneState::*;
    assert_eq!(
        t.lanes[1].spans,
        [
            span(Holding, 110, 5_120),
            span(AskedToDrop, 5_120, 5_130),
            span(Released, 5_130, 5_132),
            span(Waiting, 5_132, 2_000_030),
            span(Holding, 2_000_030, 2_000_040),
            span(Released, 2_000_040, 2_000_040),
        ]
    );
    assert_eq!(
        t.lanes[2].spans,
        [
            span(Waiting, 120, 5_131),
            span(Holding, 5_131, 1_005_100),
            span(AskedToDrop, 1_005_100, 2_000_000),
            span(Released, 2_000_000, 2_000_050),
            span(Holding, 2_000_050, 2_000_060),
            span(Released, 2_000_060, 2_000_060),
        ]
    );
    assert_eq!(t.lanes[2].op_starts, [5_140]);
    assert!(t.lanes.iter().all(|l| l.exited));
    assert_eq!(t.now_us, 2_000_081);
    assert_eq!(t.events, 23);
    assert_eq!(t.first_event_us, Some(0));
}

#[test]
fn drop_requests_are_instants_on_the_lane_of_the_waiter_that_raised_them() {
    let t = timeline(Scenario::ThreadLoad, &seed_events());
    let at = |w: WorkerId| t.lane(w).map(|l| l.requests.clone()).unwrap_or_default();
    assert_eq!(
        at(LOAD),
        [DropRequest {
            t_us: 5_120,
            holder: INCREMENTER
        }]
    );
    assert_eq!(
        at(CONTROLLER),
        [DropRequest {
            t_us: 1_005_100,
            holder: LOAD
        }]
    );
    assert!(at(INCREMENTER).is_empty());
}

#[test]
fn controller_events_date_the_start_the_wake_up_and_the_cleared_flag() {
    let t = timeline(Scenario::ThreadLoad, &seed_events());
    assert_eq!(t.go_us, 100);
    assert_eq!(t.woke_us, Some(1_000_100));
    assert_eq!(t.flag_cleared_us, Some(2_000_010));
}

#[test]
fn a_controller_that_takes_the_lock_at_once_wakes_and_clears_the_flag_together() {
    let t = timeline(
        Scenario::Thread,
        &[
            ev(0, Take, CONTROLLER, CONTROLLER),
            ev(50, Drop, CONTROLLER, CONTROLLER),
            ev(1_000_050, Take, CONTROLLER, CONTROLLER),
            ev(1_000_060, Drop, CONTROLLER, CONTROLLER),
            ev(1_000_200, Take, CONTROLLER, CONTROLLER),
        ],
    );
    assert_eq!(t.woke_us, Some(1_000_050));
    assert_eq!(t.flag_cleared_us, Some(1_000_050));
}

#[test]
fn held_time_sums_holding_and_asked_spans_and_holds_join_them() {
    let t = timeline(Scenario::ThreadLoad, &seed_events());
    let load = t.lanes[2].shares(u64::MAX);
    assert!((load.held_s() - (1_994_869.0 + 10.0) / 1e6).abs() < 1e-12);
    assert!((load.asked_s - 994_900.0 / 1e6).abs() < 1e-12);
    assert!((load.waiting_s - 5_011.0 / 1e6).abs() < 1e-12);
    assert_eq!(
        t.lanes[2].holds(),
        [(5_131, 2_000_000), (2_000_050, 2_000_060)]
    );
    assert_eq!(t.lanes[1].holds(), [(110, 5_130), (2_000_030, 2_000_040)]);
    // Clipping at an end time counts only what came before it.
    assert!((t.lanes[1].shares(1_110).holding_s - 1_000.0 / 1e6).abs() < 1e-12);
}

#[test]
fn a_request_to_a_thread_not_holding_changes_nothing_on_its_lane() {
    let t = timeline(
        Scenario::ThreadLoad,
        &[
            ev(10, Wait, INCREMENTER, INCREMENTER),
            ev(20, Request, INCREMENTER, LOAD),
        ],
    );
    assert_eq!(t.lanes[1].spans, [span(LaneState::Waiting, 10, 10)]);
    assert_eq!(t.lanes[2].requests.len(), 1);
}

#[test]
fn events_out_of_order_never_make_a_span_go_backwards() {
    let t = timeline(
        Scenario::Thread,
        &[
            ev(100, Take, INCREMENTER, INCREMENTER),
            ev(90, Drop, INCREMENTER, INCREMENTER),
        ],
    );
    assert_eq!(t.lanes[1].spans, [span(LaneState::Released, 100, 100)]);
    assert!(t.lanes[1].spans.iter().all(|s| s.end_us >= s.start_us));
}

#[test]
fn unknown_workers_are_ignored() {
    let t = timeline(Scenario::Thread, &[ev(5, Take, 9, 9)]);
    assert!(t.lanes.iter().all(|l| l.spans.is_empty()));
    assert_eq!(t.now_us, 5);
}

#[test]
fn the_page_cap_stops_a_lane_and_says_where() {
    let mut t = Timeline::new(Scenario::Thread);
    for i in 0..(MAX_SPANS as u64 + 10) {
        t.apply(&ev(2 * i, Take, INCREMENTER, INCREMENTER));
        t.apply(&ev(2 * i + 1, Drop, INCREMENTER, INCREMENTER));
    }
    assert_eq!(t.lanes[1].spans.len(), MAX_SPANS);
    assert_eq!(t.lanes[1].capped_at_us, Some(MAX_SPANS as u64));
    let mut all = Timeline::uncapped(Scenario::Thread);
    for i in 0..(MAX_SPANS as u64 + 10) {
        all.apply(&ev(2 * i, Take, INCREMENTER, INCREMENTER));
        all.apply(&ev(2 * i + 1, Drop, INCREMENTER, INCREMENTER));
    }
    assert_eq!(all.lanes[1].capped_at_us, None);
    assert_eq!(all.lanes[1].holds().len(), MAX_SPANS + 10);
}

#[test]
fn free_mode_lanes_run_from_the_start_signal_to_the_result() {
    let mut t = timeline(
        Scenario::FreeThreadLoad,
        &[ev(300, OpStart, LOAD, LOAD), ev(900, OpStart, LOAD, LOAD)],
    );
    t.set_go(200);
    t.advance(1_500_000);
    t.finish(&result(Scenario::FreeThreadLoad, 1.0, 1.25, 0.25));
    use LaneState::*;
    assert_eq!(
        t.lanes[1].spans,
        [
            span(NoLock, 200, 1_250_200),
            span(Released, 1_250_200, 1_250_200)
        ]
    );
    assert_eq!(
        t.lanes[2].spans,
        [
            span(NoLock, 200, 1_500_000),
            span(Released, 1_500_000, 1_500_000)
        ]
    );
    assert!(t.lanes[0].spans.is_empty());
    // No controller events: the moments come from the result.
    assert_eq!(t.woke_us, Some(1_000_200));
    assert_eq!(t.flag_cleared_us, Some(1_250_200));
}

#[test]
fn an_isolated_incrementer_that_logged_nothing_is_drawn_from_its_result() {
    let mut t = timeline(
        Scenario::ProcessLoad,
        &[
            ev(0, Take, CONTROLLER, CONTROLLER),
            ev(1_000, Drop, CONTROLLER, CONTROLLER),
        ],
    );
    t.advance(3_000_000);
    t.finish(&result(Scenario::ProcessLoad, 2.0, 2.5, 0.5));
    let inc = &t.lanes[1];
    assert!(inc.inferred && inc.exited);
    assert_eq!(
        inc.spans,
        [
            span(LaneState::Holding, 1_000, 2_501_000),
            span(LaneState::Released, 2_501_000, 2_501_000)
        ]
    );
}

#[test]
fn an_isolated_incrementer_that_logged_keeps_its_own_spans() {
    let mut t = timeline(
        Scenario::Process,
        &[
            ev(0, Take, CONTROLLER, CONTROLLER),
            ev(10, Drop, CONTROLLER, CONTROLLER),
            ev(20, Take, INCREMENTER, INCREMENTER),
            ev(90, Drop, INCREMENTER, INCREMENTER),
        ],
    );
    t.finish(&result(Scenario::Process, 0.0, 0.5, 0.0));
    assert!(!t.lanes[1].inferred);
    assert_eq!(t.lanes[1].holds(), [(20, 90)]);
}

#[test]
fn log_capacity_grows_with_the_run_and_the_switch_rate_within_bounds() {
    use std::time::Duration;
    let mut run = RunConfig::new(Scenario::ThreadLoad, Duration::from_secs(2));
    assert_eq!(log_capacity(&run), 1 << 16);
    run.interval = Duration::from_micros(100);
    // 4 s of 80 000 lock events and 2 000 operations a second.
    assert!((4 * 82_000 - 2..=4 * 82_000 + 2).contains(&log_capacity(&run)));
    run.interval = Duration::from_micros(10);
    run.delay = Duration::from_secs(60);
    assert_eq!(log_capacity(&run), 1 << 22);
}

#[test]
fn a_recorder_whose_log_overflowed_says_how_many_events_it_lost() {
    let recorder = Recorder::with_capacity(4);
    let log = recorder.log();
    for t in 0..5u64 {
        log.push_event(ev(10 * t, Take, INCREMENTER, INCREMENTER));
        log.push_event(ev(10 * t + 5, Drop, INCREMENTER, INCREMENTER));
    }
    let t = recorder.finish(Scenario::Thread, &result(Scenario::Thread, 0.0, 0.0, 0.0));
    assert_eq!((t.lost, t.events, t.first_event_us), (6, 4, Some(30)));
    assert_eq!(t.lanes[1].holds(), [(30, 35), (40, 45)]);
    assert!(t.finished);
}

#[test]
fn lane_titles_name_the_interpreter_of_each_worker() {
    use std::time::Duration;
    let run = RunConfig::new(Scenario::ProcessLoad, Duration::from_secs(1));
    assert_eq!(
        lane_titles(&run),
        [
            "controller (main thread)",
            "incrementer (own process, own lock)",
            "load: z = z * z (thread)"
        ]
    );
    let free = RunConfig {
        load: Load::SHORT,
        ..RunConfig::new(Scenario::FreeThreadLoad, Duration::from_secs(1))
    };
    assert_eq!(
        lane_titles(&free)[2],
        "load: short operations (thread, no lock)"
    );
}

#[test]
fn a_release_operation_is_drawn_as_c_code_running_with_the_lock_released() {
    let t = timeline(
        Scenario::ThreadLoad,
        &[
            ev(100, Take, LOAD, LOAD),
            ev(100, ReleaseStart, LOAD, LOAD),
            ev(110, Drop, LOAD, LOAD),
            ev(5_000, Wait, LOAD, LOAD),
            ev(6_000, Take, LOAD, LOAD),
            // A plain drop (a sleep) after that is not C code.
            ev(7_000, Drop, LOAD, LOAD),
            ev(8_000, Take, LOAD, LOAD),
        ],
    );
    use LaneState::*;
    assert_eq!(
        t.lanes[2].spans,
        [
            span(Holding, 100, 110),
            span(RunsReleased, 110, 5_000),
            span(Waiting, 5_000, 6_000),
            span(Holding, 6_000, 7_000),
            span(Released, 7_000, 8_000),
            span(Holding, 8_000, 8_000),
        ]
    );
    assert_eq!(t.lanes[2].op_starts, [100], "one operation");
    let shares = t.lanes[2].shares(8_000);
    assert!((shares.runs_released_s - 0.00489).abs() < 1e-9);
    assert!(!RunsReleased.holds_lock());
}

#[test]
fn a_forced_switch_while_starting_is_not_the_wake_up() {
    // A slow start (seen in a browser's cooperative mode): the load asked the controller to drop
    // before it slept; it dropped, took the lock back, and only then slept its 2 s.
    let (c, l) = (CONTROLLER, LOAD);
    let events = [
        ev(0, Take, c, c),
        ev(100, Wait, l, l),
        ev(3_780, Request, c, l),
        ev(8_500, Drop, c, c),
        ev(8_500, Take, l, l),
        ev(8_500, Wait, c, c),
        ev(46_341, Take, c, c),
        ev(46_361, Drop, c, c),
        ev(2_046_361, Wait, c, c),
        ev(2_179_960, Take, c, c),
    ];
    let mut t = Timeline::uncapped(Scenario::ThreadLoad);
    t.set_delay(Duration::from_secs(2));
    for e in &events {
        t.apply(e);
    }
    assert_eq!(t.go_us, 8_500);
    assert_eq!(t.woke_us, Some(2_046_361));
    assert_eq!(t.flag_cleared_us, Some(2_179_960));
    // Without the delay the first wait after a drop is all there is to go by.
    let t = timeline(Scenario::ThreadLoad, &events);
    assert_eq!(t.woke_us, Some(8_500));
}
