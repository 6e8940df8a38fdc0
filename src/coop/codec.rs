//! Plain numbers between a page and workers that share no memory: events, outcomes and results
//! as `f64` arrays.

use crate::gil::{Event, EventKind, LockStats};
use crate::runner::IncrementerOutcome;
use crate::scenario::{Role, RunResult, Scenario, WorkerReport};
use crate::workload::LoadReport;
use std::time::Duration;

/// Events as numbers: `t_us, kind, worker, by` for each.
pub fn encode_events(events: &[Event]) -> Vec<f64> {
    events
        .iter()
        .flat_map(|e| {
            [
                e.t_us as f64,
                f64::from(e.kind as u8),
                f64::from(e.worker),
                f64::from(e.by),
            ]
        })
        .collect()
}

/// The events of [`encode_events`], each moved by `offset_us` (never before 0).
pub fn decode_events(v: &[f64], offset_us: f64) -> Vec<Event> {
    v.chunks_exact(4)
        .filter_map(|c| {
            let kind = EventKind::from_u8(c[1] as u8)?;
            Some(Event {
                t_us: (c[0] + offset_us).max(0.0) as u64,
                kind,
                worker: c[2] as u8,
                by: c[3] as u8,
            })
        })
        .collect()
}

fn push_stats(out: &mut Vec<f64>, lock: Option<&LockStats>) {
    match lock {
        Some(s) => out.extend([
            1.0,
            s.takes as f64,
            s.switches as f64,
            s.requests_raised as f64,
            s.requests_received as f64,
            s.held_s,
            s.waited_s,
            s.longest_hold_s,
        ]),
        None => out.extend([0.0; 8]),
    }
}

/// Reads numbers in order.
struct Reader<'a>(std::slice::Iter<'a, f64>);

impl Reader<'_> {
    fn f(&mut self) -> Option<f64> {
        self.0.next().copied()
    }

    fn u(&mut self) -> Option<u64> {
        self.f().filter(|v| *v >= 0.0).map(|v| v as u64)
    }

    fn stats(&mut self) -> Option<Option<LockStats>> {
        let has = self.f()? != 0.0;
        let s = LockStats {
            takes: self.u()?,
            switches: self.u()?,
            requests_raised: self.u()?,
            requests_received: self.u()?,
            held_s: self.f()?,
            waited_s: self.f()?,
            longest_hold_s: self.f()?,
        };
        Some(has.then_some(s))
    }
}

/// An isolated incrementer's outcome as numbers.
pub fn encode_outcome(o: &IncrementerOutcome) -> Vec<f64> {
    let mut out = vec![o.count as f64, o.elapsed.as_secs_f64()];
    push_stats(&mut out, o.lock.as_ref());
    out
}

/// The outcome of [`encode_outcome`]; `None` if the numbers do not make one.
pub fn decode_outcome(v: &[f64]) -> Option<IncrementerOutcome> {
    let mut r = Reader(v.iter());
    Some(IncrementerOutcome {
        count: r.u()?,
        elapsed: Duration::try_from_secs_f64(r.f()?).ok()?,
        lock: r.stats()?,
    })
}

/// A run's result as numbers.
pub fn encode_result(res: &RunResult) -> Vec<f64> {
    let scenario = Scenario::ALL.iter().position(|s| *s == res.scenario);
    let mut out = vec![
        scenario.map_or(-1.0, |i| i as f64),
        res.delay_s,
        res.count as f64,
        res.elapsed_s,
        res.stop_lag_s,
        res.rate_per_s,
        res.switches as f64,
        res.switch_interval_ms,
        res.workers.len() as f64,
    ];
    for w in &res.workers {
        out.extend([
            f64::from(w.worker),
            match w.role {
                Role::Controller => 0.0,
                Role::Incrementer => 1.0,
                Role::Load => 2.0,
            },
            if w.isolated { 1.0 } else { 0.0 },
        ]);
        push_stats(&mut out, w.lock.as_ref());
    }
    match &res.load {
        Some(l) => {
            out.extend([1.0, l.ops as f64, l.restarts as f64, l.op_s.len() as f64]);
            out.extend(&l.op_s);
        }
        None => out.push(0.0),
    }
    out
}

/// The result of [`encode_result`]; `None` if the numbers do not make one.
pub fn decode_result(v: &[f64]) -> Option<RunResult> {
    let mut r = Reader(v.iter());
    let scenario = *Scenario::ALL.get(r.u()? as usize)?;
    let delay_s = r.f()?;
    let count = r.u()?;
    let elapsed_s = r.f()?;
    let stop_lag_s = r.f()?;
    let rate_per_s = r.f()?;
    let switches = r.u()?;
    let switch_interval_ms = r.f()?;
    let n = r.u()?.min(8);
    let mut workers = Vec::new();
    for _ in 0..n {
        let worker = r.u()? as u8;
        let role = match r.u()? {
            0 => Role::Controller,
            1 => Role::Incrementer,
            _ => Role::Load,
        };
        let isolated = r.f()? != 0.0;
        workers.push(WorkerReport {
            worker,
            role,
            isolated,
            lock: r.stats()?,
        });
    }
    let load = if r.f()? != 0.0 {
        let ops = r.u()?;
        let restarts = r.u()?;
        let len = r.u()?.min(LoadReport::MAX_TIMED_OPS as u64);
        let op_s = (0..len).map(|_| r.f()).collect::<Option<Vec<_>>>()?;
        Some(LoadReport {
            ops,
            restarts,
            op_s,
        })
    } else {
        None
    };
    Some(RunResult {
        scenario,
        delay_s,
        count,
        elapsed_s,
        stop_lag_s,
        rate_per_s,
        switches,
        switch_interval_ms,
        workers,
        load,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{assemble, RunParts, INCREMENTER, LOAD};
    use crate::scenario::RunConfig;

    #[test]
    fn results_outcomes_and_events_survive_the_numbers() {
        let cfg = RunConfig::new(Scenario::ProcessLoad, Duration::from_millis(50));
        let r = assemble(
            &cfg,
            RunParts {
                incrementer: IncrementerOutcome {
                    count: 7,
                    elapsed: Duration::from_millis(51),
                    lock: Some(LockStats::default()),
                },
                load: Some((LoadReport::default(), Some(LockStats::default()))),
                ..RunParts::default()
            },
        );
        assert_eq!(decode_result(&encode_result(&r)), Some(r));
        let o = IncrementerOutcome {
            count: 12345,
            elapsed: Duration::from_millis(1500),
            lock: Some(LockStats {
                takes: 1,
                held_s: 1.5,
                ..LockStats::default()
            }),
        };
        assert_eq!(decode_outcome(&encode_outcome(&o)), Some(o));
        assert_eq!(decode_outcome(&[1.0]), None);
        let e = Event {
            t_us: 1_000,
            kind: EventKind::Request,
            worker: LOAD,
            by: INCREMENTER,
        };
        let back = decode_events(&encode_events(&[e]), 500.0);
        assert_eq!(back, [Event { t_us: 1_500, ..e }]);
    }
}
