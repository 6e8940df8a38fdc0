//! The JSON the project writes, through one writer: the sweep's export (top-level `config` and
//! `results`, the same for the CLI and the web page's downloads), `gil-lab run --json`, the
//! `--reference` comparison, the Chrome trace and the page's snapshot.
//!
//! Written by hand rather than through serde_json: the page ships this code in its `.wasm`, and a
//! small writer of the few shapes the contract has is a fraction of serde_json's size
//! (BENCHMARKS.md, "Page weight"). Its layout and numbers are those of `serde_json`'s pretty
//! printer, so that files read the same as before; serde_json only reads JSON (the reference's
//! output) and checks this writer in tests.

use super::Exporter;
use crate::gil::LockStats;
use crate::scenario::{Role, RunResult, SweepConfig, SweepReport};
use crate::workload::{LatencyStats, Load, LoadReport, Victim};
use std::fmt::Write;
use std::time::Duration;

/// The report, pretty-printed, with a trailing newline.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn serialize(&self, report: &SweepReport) -> Vec<u8> {
        let mut j = Json::default();
        j.open('{');
        j.key("config").config(&report.config);
        j.key("results").results(&report.results);
        j.close('}');
        j.finish_file()
    }
}

/// What `gil-lab run --json` prints: the run's result with, as `load_ops`, the load's operations
/// one by one (for bignum, the size of each step's result beside its time, to set against
/// CPython's); pretty-printed, with a trailing newline.
pub fn run_json(r: &RunResult) -> Vec<u8> {
    let mut j = Json::default();
    j.open('{');
    j.result_members(r);
    j.key("load_ops").open('[');
    if let Some(l) = &r.load {
        for (k, &seconds) in l.op_s.iter().enumerate() {
            j.item().open('{');
            j.key("bits");
            match l.op_bits.get(k) {
                Some(&b) => j.u64(b),
                None => j.null(),
            };
            j.key("seconds").f64(seconds);
            j.close('}');
        }
    }
    j.close(']');
    j.close('}');
    j.finish_file()
}

/// A JSON text laid out as serde_json's pretty printer lays it out: two spaces per level, one
/// member or element per line, `[]` and `{}` when empty. The caller writes a key (objects) or
/// calls [`Json::item`] (arrays) before each value.
#[derive(Debug, Default)]
pub struct Json {
    out: String,
    depth: usize,
    /// Nothing written since the last `[` or `{`.
    empty: bool,
    /// On one line with no spaces, as serde_json's `to_string` writes (see [`Json::compact`]).
    compact: bool,
}

impl Json {
    /// A writer of compact JSON: no newlines, no space after `:`, as serde_json's `to_string`.
    pub fn compact() -> Self {
        Self {
            compact: true,
            ..Self::default()
        }
    }

    /// The text written.
    pub fn finish(self) -> String {
        self.out
    }

    /// The text written, as the bytes of a file: with a trailing newline.
    pub fn finish_file(self) -> Vec<u8> {
        let mut out = self.out.into_bytes();
        out.push(b'\n');
        out
    }

    /// Starts an object (`{`) or an array (`[`).
    pub fn open(&mut self, bracket: char) -> &mut Self {
        self.out.push(bracket);
        self.depth += 1;
        self.empty = true;
        self
    }

    /// Ends the innermost object (`}`) or array (`]`).
    pub fn close(&mut self, bracket: char) -> &mut Self {
        self.depth -= 1;
        if !self.empty {
            self.newline();
        }
        self.out.push(bracket);
        self.empty = false;
        self
    }

    fn newline(&mut self) {
        if self.compact {
            return;
        }
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    /// Before an element of an array.
    pub fn item(&mut self) -> &mut Self {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        self.newline();
        self
    }

    /// A member's key; its value comes next.
    pub fn key(&mut self, key: &str) -> &mut Self {
        self.item().str(key);
        self.out.push_str(if self.compact { ":" } else { ": " });
        self
    }

    /// A string, escaped as serde_json escapes: quotes, backslashes and control characters.
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                '\u{8}' => self.out.push_str("\\b"),
                '\u{c}' => self.out.push_str("\\f"),
                c if c < ' ' => {
                    let _ = write!(self.out, "\\u{:04x}", c as u32);
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
        self
    }

    /// An unsigned integer.
    pub fn u64(&mut self, n: u64) -> &mut Self {
        let _ = write!(self.out, "{n}");
        self
    }

    /// A signed integer.
    pub fn i64(&mut self, n: i64) -> &mut Self {
        let _ = write!(self.out, "{n}");
        self
    }

    /// `true` or `false`.
    pub fn bool(&mut self, b: bool) -> &mut Self {
        self.out.push_str(if b { "true" } else { "false" });
        self
    }

    /// `null`.
    pub fn null(&mut self) -> &mut Self {
        self.out.push_str("null");
        self
    }

    /// A float, as serde_json writes it: the shortest digits that read back to the same value,
    /// plain from 1e-5 to below 1e16 (always with a fraction: `2.0`), with an exponent outside
    /// (`1e+16`, `1.5e-7`); `null` when not finite.
    pub fn f64(&mut self, x: f64) -> &mut Self {
        if !x.is_finite() {
            return self.null();
        }
        if x.is_sign_negative() {
            self.out.push('-');
        }
        // `{:e}` gives the shortest round-trip digits: `1.2345e3`, `5e-7`, `0e0`.
        let sci = format!("{:e}", x.abs());
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let mut digits = mantissa.replace('.', "");
        let exp: i32 = exp.parse().unwrap_or(0);
        round_tie_to_even(x.abs(), &mut digits);
        let mantissa = match digits.split_at(1) {
            (first, "") => first.to_string(),
            (first, rest) => format!("{first}.{rest}"),
        };
        let n = digits.len() as i32;
        let out = &mut self.out;
        if (-5..=15).contains(&exp) {
            if n - 1 <= exp {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', (exp + 1 - n) as usize));
                out.push_str(".0");
            } else if exp >= 0 {
                let (int, frac) = digits.split_at(exp as usize + 1);
                let _ = write!(out, "{int}.{frac}");
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
                out.push_str(&digits);
            }
        } else {
            let _ = write!(
                out,
                "{mantissa}e{}{}",
                if exp < 0 { '-' } else { '+' },
                exp.abs()
            );
        }
        self
    }

    /// A float, or `null` for `None`.
    pub fn opt_f64(&mut self, x: Option<f64>) -> &mut Self {
        match x {
            Some(x) => self.f64(x),
            None => self.null(),
        }
    }

    /// An array of floats.
    pub fn f64s(&mut self, xs: impl IntoIterator<Item = f64>) -> &mut Self {
        self.open('[');
        for x in xs {
            self.item().f64(x);
        }
        self.close(']')
    }

    /// The contract's `config`: `load`, `op_us` (the short load's operation, else null),
    /// `loads` (load threads, or null when several were swept) and `load_counts`, `victim`,
    /// `io_us` and `period_ms` (the io and latency victims' settings, else null),
    /// `switch_interval_ms` (the interval, or null when several were swept),
    /// `switch_intervals_ms`, `delays` (seconds) and `scenarios`.
    pub fn config(&mut self, c: &SweepConfig) -> &mut Self {
        let ms = |d: &Duration| d.as_secs_f64() * 1e3;
        let us = |d: &Duration| d.as_secs_f64() * 1e6;
        self.open('{');
        self.key("load").str(c.load.name());
        let op = match &c.load {
            Load::Short { op } => Some(us(op)),
            _ => None,
        };
        self.key("op_us").opt_f64(op);
        self.key("loads");
        match c.loads.as_slice() {
            [n] => self.u64((*n).into()),
            _ => self.null(),
        };
        self.key("load_counts").open('[');
        for &n in &c.loads {
            self.item().u64(n.into());
        }
        self.close(']');
        self.key("victim").str(c.victim.name());
        let (io, period) = match &c.victim {
            Victim::Io { op } => (Some(us(op)), None),
            Victim::Latency { period } => (None, Some(ms(period))),
            _ => (None, None),
        };
        self.key("io_us").opt_f64(io);
        self.key("period_ms").opt_f64(period);
        let single = (c.intervals.len() == 1).then(|| ms(&c.intervals[0]));
        self.key("switch_interval_ms").opt_f64(single);
        self.key("switch_intervals_ms")
            .f64s(c.intervals.iter().map(ms));
        self.key("delays")
            .f64s(c.delays.iter().map(Duration::as_secs_f64));
        self.key("scenarios").open('[');
        for s in &c.scenarios {
            self.item().str(s.name());
        }
        self.close(']');
        self.close('}')
    }

    /// The `results` array of the contract (also the page's snapshot).
    pub fn results(&mut self, results: &[RunResult]) -> &mut Self {
        self.open('[');
        for r in results {
            self.item().result(r);
        }
        self.close(']')
    }

    fn result(&mut self, r: &RunResult) {
        self.open('{');
        self.result_members(r);
        self.close('}');
    }

    /// A result's members, without the braces (`run --json` adds one).
    fn result_members(&mut self, r: &RunResult) {
        self.key("scenario").str(r.scenario.name());
        self.key("delay_s").f64(r.delay_s);
        self.key("count").u64(r.count);
        self.key("elapsed_s").f64(r.elapsed_s);
        self.key("stop_lag_s").f64(r.stop_lag_s);
        self.key("rate_per_s").f64(r.rate_per_s);
        self.key("switches").u64(r.switches);
        self.key("switch_interval_ms").f64(r.switch_interval_ms);
        self.key("workers").open('[');
        for w in &r.workers {
            self.item().open('{');
            self.key("worker").u64(w.worker.into());
            self.key("role").str(match w.role {
                Role::Controller => "controller",
                Role::Incrementer => "incrementer",
                Role::Load => "load",
            });
            self.key("isolated").bool(w.isolated);
            self.key("lock");
            self.lock(w.lock.as_ref());
            self.close('}');
        }
        self.close(']');
        self.key("load");
        match &r.load {
            Some(l) => self.load(l),
            None => {
                self.null();
            }
        }
        self.key("loads").u64(r.loads.into());
        self.key("latency_ms");
        match &r.latency_ms {
            Some(l) => self.latency(l),
            None => {
                self.null();
            }
        }
    }

    fn latency(&mut self, l: &LatencyStats) {
        self.open('{');
        self.key("mean").f64(l.mean_ms);
        self.key("p50").f64(l.p50_ms);
        self.key("p90").f64(l.p90_ms);
        self.key("p99").f64(l.p99_ms);
        self.key("max").f64(l.max_ms);
        self.key("n").u64(l.n);
        self.close('}');
    }

    fn lock(&mut self, lock: Option<&LockStats>) {
        let Some(s) = lock else {
            self.null();
            return;
        };
        self.open('{');
        self.key("takes").u64(s.takes);
        self.key("switches").u64(s.switches);
        self.key("requests_raised").u64(s.requests_raised);
        self.key("requests_received").u64(s.requests_received);
        self.key("held_s").f64(s.held_s);
        self.key("waited_s").f64(s.waited_s);
        self.key("longest_hold_s").f64(s.longest_hold_s);
        self.close('}');
    }

    fn load(&mut self, l: &LoadReport) {
        self.open('{');
        self.key("ops").u64(l.ops);
        self.key("restarts").u64(l.restarts);
        self.key("op_s").f64s(l.op_s.iter().copied());
        if !l.op_bits.is_empty() {
            self.key("op_bits").open('[');
            for &b in &l.op_bits {
                self.item().u64(b);
            }
            self.close(']');
        }
        self.close('}');
    }
}

/// Where `x` lies exactly halfway between two shortest candidates, `{:e}` takes the upper one and
/// serde_json the even one: moves `digits` (the shortest digits of `x`) down to the even one then.
/// Only values with 16 digits or more can be such a tie (the candidates must be an ulp apart).
fn round_tie_to_even(x: f64, digits: &mut String) {
    let n = digits.len();
    let last = digits.as_bytes()[n - 1];
    if n < 16 || last % 2 == 0 {
        return;
    }
    // The lower candidate followed by a 5, and then nothing: a double's exact decimal expansion
    // ends within 767 significant digits, so 800 show all of it.
    let exact = format!("{x:.800e}");
    let exact = exact
        .split_once('e')
        .map_or("", |(m, _)| m)
        .replace('.', "");
    let lower = format!("{}{}", &digits[..n - 1], char::from(last - 1));
    let tail = exact.strip_prefix(&lower).and_then(|t| t.strip_prefix('5'));
    if tail.is_some_and(|t| t.bytes().all(|b| b == b'0')) {
        *digits = lower;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::grid::fixtures::{report, result};
    use crate::scenario::RunResult;
    use crate::scenario::Scenario::{Thread, ThreadLoad};
    use std::time::Duration;

    #[test]
    fn contract_fields_pretty_printed_with_trailing_newline() {
        let r = report(
            &[Thread, ThreadLoad],
            &[0.5],
            vec![RunResult {
                elapsed_s: 0.5,
                stop_lag_s: 0.0,
                rate_per_s: 2.0,
                ..result(Thread, 0.5, 1)
            }],
        );
        let text = String::from_utf8(JsonExporter.serialize(&r)).expect("JSON is UTF-8");
        assert_eq!(
            text,
            r#"{
  "config": {
    "load": "bignum",
    "op_us": null,
    "loads": 1,
    "load_counts": [
      1
    ],
    "victim": "incrementer",
    "io_us": null,
    "period_ms": null,
    "switch_interval_ms": 5.0,
    "switch_intervals_ms": [
      5.0
    ],
    "delays": [
      0.5
    ],
    "scenarios": [
      "thread",
      "thread+load"
    ]
  },
  "results": [
    {
      "scenario": "thread",
      "delay_s": 0.5,
      "count": 1,
      "elapsed_s": 0.5,
      "stop_lag_s": 0.0,
      "rate_per_s": 2.0,
      "switches": 0,
      "switch_interval_ms": 5.0,
      "workers": [],
      "load": null,
      "loads": 0,
      "latency_ms": null
    }
  ]
}
"#
        );
    }

    /// A report with every field and every shape: three roles, lock statistics and none, a load
    /// with and without `op_bits`, a non-finite number, the largest count.
    fn full_report() -> SweepReport {
        use crate::gil::LockStats;
        use crate::scenario::{Role, Scenario::ProcessLoad, WorkerReport};
        use crate::workload::{Load, LoadReport, Victim};
        let lock = LockStats {
            takes: 3,
            switches: 2,
            requests_raised: 1,
            requests_received: 1,
            held_s: 1.0 / 3.0,
            waited_s: 2.5e-7,
            longest_hold_s: 0.125,
        };
        let worker = |worker, role, isolated, lock| WorkerReport {
            worker,
            role,
            isolated,
            lock,
        };
        let full = RunResult {
            workers: vec![
                worker(1, Role::Controller, false, Some(lock)),
                worker(2, Role::Incrementer, true, None),
                worker(3, Role::Load, false, None),
            ],
            load: Some(LoadReport {
                ops: 12,
                restarts: 1,
                op_s: vec![1e-5, 0.001, 3.5, 1e20],
                op_bits: vec![7, 14],
            }),
            rate_per_s: 1.23456789e17,
            latency_ms: Some(LatencyStats {
                n: 7,
                mean_ms: 5.5,
                p50_ms: 5.25,
                p90_ms: 6.0,
                p99_ms: 16.125,
                max_ms: 17.0,
            }),
            ..result(ProcessLoad, 0.1, u64::MAX)
        };
        let no_bits = RunResult {
            load: Some(LoadReport {
                op_s: vec![],
                ..LoadReport::default()
            }),
            stop_lag_s: f64::NAN,
            ..result(Thread, 2.0, 0)
        };
        let mut r = report(&[Thread, ProcessLoad], &[0.1, 2.0], vec![full, no_bits]);
        r.config.load = Load::RELEASE;
        r.config.victim = Victim::IO;
        r.config.intervals = vec![Duration::from_micros(100), Duration::from_millis(20)];
        r.config.loads = vec![1, 3];
        r
    }

    fn parse(bytes: &[u8]) -> serde_json::Value {
        let text = std::str::from_utf8(bytes).expect("JSON is UTF-8");
        assert!(text.ends_with("}\n"), "one document and a newline: {text}");
        serde_json::from_str(text).expect("valid JSON")
    }

    #[test]
    fn every_field_of_the_contract_reads_back_with_its_value() {
        use serde_json::json;
        let r = full_report();
        let lock = json!({
            "takes": 3, "switches": 2, "requests_raised": 1, "requests_received": 1,
            "held_s": 1.0 / 3.0, "waited_s": 2.5e-7, "longest_hold_s": 0.125,
        });
        let expected = json!({
            "config": {
                "load": "release",
                "op_us": null,
                "loads": null,
                "load_counts": [1, 3],
                "victim": "io",
                "io_us": 100.0,
                "period_ms": null,
                "switch_interval_ms": null,
                "switch_intervals_ms": [0.1, 20.0],
                "delays": [0.1, 2.0],
                "scenarios": ["thread", "process+load"],
            },
            "results": [
                {
                    "scenario": "process+load", "delay_s": 0.1, "count": u64::MAX,
                    "elapsed_s": 0.1 + 0.001, "stop_lag_s": 0.001, "rate_per_s": 1.23456789e17,
                    "switches": 0, "switch_interval_ms": 5.0,
                    "workers": [
                        {"worker": 1, "role": "controller", "isolated": false, "lock": lock},
                        {"worker": 2, "role": "incrementer", "isolated": true, "lock": null},
                        {"worker": 3, "role": "load", "isolated": false, "lock": null},
                    ],
                    "load": {
                        "ops": 12, "restarts": 1, "op_s": [1e-5, 0.001, 3.5, 1e20],
                        "op_bits": [7, 14],
                    },
                    "loads": 1,
                    "latency_ms": {
                        "mean": 5.5, "p50": 5.25, "p90": 6.0, "p99": 16.125, "max": 17.0, "n": 7,
                    },
                },
                {
                    "scenario": "thread", "delay_s": 2.0, "count": 0, "elapsed_s": 2.0 + 0.001,
                    "stop_lag_s": null, "rate_per_s": 0.0, "switches": 0,
                    "switch_interval_ms": 5.0, "workers": [],
                    "load": {"ops": 0, "restarts": 0, "op_s": []},
                    "loads": 0,
                    "latency_ms": null,
                },
            ],
        });
        assert_eq!(parse(&JsonExporter.serialize(&r)), expected);
        let empty = report(&[], &[], vec![]);
        let value = parse(&JsonExporter.serialize(&empty));
        assert_eq!(value["config"]["scenarios"], json!([]));
        assert_eq!(value["config"]["switch_interval_ms"], json!(5.0));
        assert_eq!(value["results"], json!([]));
    }

    #[test]
    fn a_run_is_its_result_and_the_load_operations_one_by_one() {
        use serde_json::json;
        let r = full_report();
        let run = parse(&run_json(&r.results[0]));
        let mut expected = parse(&JsonExporter.serialize(&r))["results"][0].clone();
        expected["load_ops"] = json!([
            {"bits": 7, "seconds": 1e-5},
            {"bits": 14, "seconds": 0.001},
            {"bits": null, "seconds": 3.5},
            {"bits": null, "seconds": 1e20},
        ]);
        assert_eq!(run, expected);
        assert_eq!(
            parse(&run_json(&result(Thread, 1.0, 5)))["load_ops"],
            json!([])
        );
    }

    #[test]
    fn floats_and_strings_as_serde_json_writes_them() {
        let mut samples = vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            0.5,
            2.5e-7,
            1e-5,
            1.5e-5,
            9.99e-6,
            1e15,
            1e16,
            1.5e16,
            123456.789,
            1e300,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            2.0f64.powi(53),
            1.0 / 3.0,
            4.35,
            0.3,
            // Exactly halfway between two shortest candidates: serde_json takes the even one.
            1_889_498_858_277_455.0 + 0.25,
            1_889_498_858_277_455.0 + 0.75,
            2_251_799_813_685_248.5,
        ];
        // A deterministic spread over every magnitude and digit count (xorshift over bit patterns).
        let mut bits = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let x = f64::from_bits(bits);
            if x.is_finite() {
                samples.push(x);
            }
            // And values as runs measure them: few digits, at every scale the plain form covers.
            let unit = (bits >> 11) as f64 / (1u64 << 53) as f64;
            let scale = 10f64.powi((bits % 26) as i32 - 8);
            samples.push(unit * scale);
            samples.push((unit * 1000.0).round() / 1000.0 * scale);
        }
        for x in samples {
            let mut j = Json::default();
            j.f64(x);
            assert_eq!(
                j.finish(),
                serde_json::to_string(&x).expect("a number"),
                "{x:e}"
            );
        }
        for s in [
            "plain",
            "quote \" back \\ slash",
            "tab\tnew\nline\r\u{8}\u{c}\u{1}\u{1f}",
            "é ✓ \u{7f}",
        ] {
            let mut j = Json::default();
            j.str(s);
            assert_eq!(j.finish(), serde_json::to_string(s).expect("a string"));
        }
    }

    #[test]
    fn non_finite_numbers_become_null_instead_of_failing() {
        let r = report(
            &[Thread],
            &[0.0],
            vec![RunResult {
                rate_per_s: f64::INFINITY,
                ..result(Thread, 0.0, 0)
            }],
        );
        let value: serde_json::Value =
            serde_json::from_slice(&JsonExporter.serialize(&r)).expect("valid JSON");
        assert!(value["results"][0]["rate_per_s"].is_null());
    }
}
