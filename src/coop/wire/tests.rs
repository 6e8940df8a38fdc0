//! Round trips of every message through the wire format.

use super::*;
use crate::gil::EventKind;
use crate::scenario::SweepConfig;
use std::time::Duration;

fn round_trip<T: Wire>(value: &T) -> T {
    from_text(&to_text(value), "test").expect("reads back")
}

fn sample_result() -> RunResult {
    let lock = LockStats {
        takes: 3,
        switches: 2,
        requests_raised: 1,
        requests_received: 1,
        held_s: 0.25,
        waited_s: 0.5,
        longest_hold_s: 0.125,
    };
    RunResult {
        scenario: Scenario::ProcessLoad,
        delay_s: 0.5,
        count: 123_456_789,
        elapsed_s: 0.51,
        stop_lag_s: 0.01,
        rate_per_s: 2.4e8,
        switches: 7,
        switch_interval_ms: 5.0,
        workers: vec![
            WorkerReport {
                worker: Role::Controller.worker(),
                role: Role::Controller,
                isolated: false,
                lock: Some(lock.clone()),
            },
            WorkerReport {
                worker: Role::Incrementer.worker(),
                role: Role::Incrementer,
                isolated: true,
                lock: None,
            },
        ],
        load: Some(LoadReport {
            ops: 12,
            restarts: 0,
            op_s: vec![0.001, 0.003],
            op_bits: vec![7, 14],
        }),
        loads: 1,
        latency_ms: Some(LatencyStats {
            n: 3,
            mean_ms: 5.25,
            p50_ms: 5.0,
            p90_ms: 6.5,
            p99_ms: 7.0,
            max_ms: 7.125,
        }),
    }
}

#[test]
fn a_result_survives_the_wire() {
    let r = sample_result();
    assert_eq!(round_trip(&r), r);
}

#[test]
fn an_outcome_survives_the_wire() {
    let o = IncrementerOutcome {
        count: 42,
        elapsed: Duration::from_micros(1_500_000),
        lock: Some(LockStats {
            takes: 1,
            ..LockStats::default()
        }),
        latency: None,
    };
    let msg = PeerMessage::Exit { outcome: o.clone() };
    let PeerMessage::Exit { outcome } = round_trip(&msg) else {
        panic!("an exit message reads back as one");
    };
    assert_eq!(outcome, o);
}

#[test]
fn events_cross_as_the_logs_packed_word() {
    let e = Event {
        t_us: 1_000,
        kind: EventKind::Request,
        worker: 3,
        by: 2,
    };
    let msg = PageMessage::Events {
        run: 4,
        epoch_ms: 1.5,
        go_ms: 2.5,
        events: vec![e],
    };
    let back = round_trip(&msg);
    assert_eq!(back, msg);
    assert_eq!(back.run(), 4);
    assert_eq!(to_text(&e), e.pack().to_string());
    let unknown = e.pack() & !(0xff << 16) | (99 << 16);
    let err = from_text::<Event>(&unknown.to_string(), "test").unwrap_err();
    assert!(err.contains("not an event of a known kind"), "{err}");
}

#[test]
fn every_page_and_peer_message_reads_back() {
    for m in [
        PageMessage::Live {
            run: 1,
            count: 9,
            elapsed_s: 0.1,
            go_ms: 3.0,
        },
        PageMessage::Result {
            run: 2,
            result: sample_result(),
        },
        PageMessage::Failed {
            run: 0,
            message: "it broke".into(),
        },
    ] {
        assert_eq!(round_trip(&m), m);
    }
    for m in [PeerMessage::Ready, PeerMessage::Go, PeerMessage::Stop] {
        assert_eq!(round_trip(&m), m);
    }
    let tick = WorkerInput::Tick;
    assert_eq!(to_text(&tick), "tick");
    assert_eq!(to_text(&PeerMessage::Go), "go");
    let peer = WorkerInput::Peer {
        message: PeerMessage::Go,
    };
    assert_eq!(round_trip(&peer), peer);
}

#[test]
fn strings_floats_and_options_cross_exactly() {
    let failed = PageMessage::Failed {
        run: 7,
        message: "a panic: 'x' ≠ y, at  two  spaces ".into(),
    };
    assert_eq!(round_trip(&failed), failed);
    let live = PageMessage::Live {
        run: 0,
        count: u64::MAX,
        elapsed_s: 0.1 + 0.2,
        go_ms: -0.0,
    };
    let PageMessage::Live {
        elapsed_s, go_ms, ..
    } = round_trip(&live)
    else {
        panic!("a live message reads back as one");
    };
    assert_eq!(elapsed_s.to_bits(), (0.1f64 + 0.2).to_bits());
    assert_eq!(go_ms.to_bits(), (-0.0f64).to_bits());
    assert_eq!(
        to_text(&PageMessage::Live {
            run: 1,
            count: 2,
            elapsed_s: 1.0,
            go_ms: 0.0
        }),
        format!("live 1 2 {} 0", 1.0f64.to_bits())
    );
    assert_eq!(round_trip(&Some(String::new())), Some(String::new()));
    assert_eq!(round_trip(&None::<u8>), None);
}

#[test]
fn a_cut_short_or_overlong_message_gets_a_sentence() {
    let text = to_text(&PageMessage::Failed {
        run: 1,
        message: "why".into(),
    });
    for bad in [
        &text[..text.len() - 1],
        "failed 1 9 why",
        "failed 1",
        "live 1 2 3",
        "live x 2 3 4",
        "nope",
        "",
    ] {
        let e = from_text::<PageMessage>(bad, "worker").unwrap_err();
        assert!(
            e.starts_with("a worker message cannot be read ("),
            "{bad}: {e}"
        );
    }
    let e = from_text::<PeerMessage>("go go", "peer").unwrap_err();
    assert!(e.contains("past its end"), "{e}");
    // A huge length is read item by item, never allocated up front.
    assert!(from_text::<Vec<u64>>("18446744073709551615 1", "test").is_err());
}

#[test]
fn a_job_carries_a_run_and_the_workers_it_needs() {
    let cfg = SweepConfig {
        scenarios: vec![Scenario::ThreadLoad, Scenario::ProcessLoad],
        ..SweepConfig::default()
    };
    let runs: Vec<RunConfig> = cfg.runs().collect();
    let thread = Job::new(0, &runs[0]);
    assert!(!thread.has_isolated());
    let process = round_trip(&Job::new(1, &runs[1]));
    assert!(process.has_isolated());
    for k in &process.workers {
        assert_eq!(WorkerKind::from_name(k.name()), Some(*k));
        assert_eq!(to_text(k), k.name());
    }
    assert_eq!(process.config, runs[1]);
}

#[test]
fn every_setting_crosses_exactly() {
    let cfg = RunConfig {
        load: Load::Short {
            op: Duration::from_nanos(1_234),
        },
        victim: Victim::Io {
            op: Duration::from_micros(77),
        },
        interval: Duration::from_nanos(33_333),
        ..RunConfig::new(
            Scenario::FreeThreadLoad,
            Duration::from_nanos(1_500_000_001),
        )
    };
    assert_eq!(round_trip(&cfg), cfg);
    for load in [Load::BIGNUM, Load::RELEASE] {
        let c = RunConfig { load, ..cfg };
        assert_eq!(round_trip(&c), c);
    }
    let c = RunConfig {
        victim: Victim::Incrementer,
        ..cfg
    };
    assert_eq!(round_trip(&c), c);
}

#[test]
fn a_bad_job_or_message_gets_a_sentence() {
    let job = to_text(&Job::new(
        0,
        &RunConfig::new(Scenario::Thread, Duration::ZERO),
    ));
    for (bad, why) in [
        (job.replace(" thread ", " threads "), "unknown scenario"),
        (
            job.replace(" bignum ", " bigger "),
            "no load is called 'bigger'",
        ),
        (
            job.replace(" incrementer ", " victim "),
            "no victim is called",
        ),
        (job.replace(" interpreter", " everything"), "no worker kind"),
    ] {
        let e = from_text::<Job>(&bad, "job").unwrap_err();
        assert!(
            e.starts_with("a job message cannot be read") && e.contains(why),
            "{e}"
        );
    }
    let e = from_text::<PageMessage>("{\"nope\":1}", "worker").unwrap_err();
    assert!(e.contains("worker message cannot be read"), "{e}");
}
