//! The page's settings and its URL parameters (`scenarios`, `delays`, `load`, `victim`,
//! `interval_ms`, `intervals`, `loads`, `op_us`, `io_us`, `period_ms`, `autorun`, `embed`,
//! `story`, `step`),
//! checked with the same parsers and rules as the command line: a bad value becomes a notice and
//! its default, never a crash.

use crate::scenario::{
    load_with_op, parse_delays, parse_interval_ms, parse_intervals, parse_io_us, parse_load,
    parse_loads, parse_op_us, parse_period_ms, parse_scenarios, parse_victim, victim_with,
    ConfigError, Scenario, SweepConfig,
};
use crate::workload::{Load, Victim, DEFAULT_IO_OP, DEFAULT_PERIOD, DEFAULT_SHORT_OP};
use std::time::Duration;

/// The parameters the page understands.
pub const KNOWN: [&str; 14] = [
    "scenarios",
    "delays",
    "load",
    "victim",
    "interval_ms",
    "intervals",
    "loads",
    "op_us",
    "io_us",
    "period_ms",
    "autorun",
    "embed",
    "story",
    "step",
];

/// What the page runs when nothing else is asked: the seed's four scenarios over 1, 2 and 3 s.
pub fn default_config() -> SweepConfig {
    SweepConfig {
        delays: [1, 2, 3].map(Duration::from_secs).to_vec(),
        ..SweepConfig::default()
    }
}

/// What the compact view for blogs (`embed=1`) runs when nothing else is asked: one comparison,
/// the counting thread against the counting process beside the seed's load, for 2 s.
pub fn embed_config() -> SweepConfig {
    SweepConfig {
        delays: vec![Duration::from_secs(2)],
        scenarios: vec![Scenario::ThreadLoad, Scenario::ProcessLoad],
        ..default_config()
    }
}

/// What the guided story (`story=1`) runs: [`super::story::RUNS`] at one delay (the first of
/// `delays` if given, else 2 s), the seed's load and counter, the interval and load count asked.
pub fn story_config(asked: &SweepConfig, delays_given: bool) -> SweepConfig {
    let mut c = embed_config();
    if delays_given {
        c.delays = vec![asked.delays[0]];
    }
    c.scenarios = super::story::RUNS.to_vec();
    c.intervals = vec![asked.intervals[0]];
    c.loads = vec![asked.loads[0]];
    c
}

fn is_yes(v: &str) -> bool {
    matches!(v.trim(), "1" | "true" | "yes")
}

fn is_no(v: &str) -> bool {
    matches!(v.trim(), "0" | "false" | "no" | "")
}

/// Settings read from a URL, with a sentence for each value that could not be used.
#[derive(Clone, Debug, PartialEq)]
pub struct FromUrl {
    /// The settings, defaults where a value was missing or bad.
    pub config: SweepConfig,
    /// `autorun=1`.
    pub autorun: bool,
    /// `embed=1`: the compact view for an iframe in a blog post.
    pub embed: bool,
    /// `story=1`: the guided story, at this step (from 0; the URL's `step` counts from 1). It
    /// runs [`story_config`] at once.
    pub story: Option<usize>,
    /// One sentence per problem, saying what was used instead.
    pub notices: Vec<String>,
}

/// Reads `pairs` (decoded `key=value` pairs of a query string, in order).
pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> FromUrl {
    let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
    let embed = pairs.iter().any(|(k, v)| *k == "embed" && is_yes(v));
    let defaults = if embed {
        embed_config()
    } else {
        default_config()
    };
    let mut out = FromUrl {
        config: defaults.clone(),
        autorun: false,
        embed,
        story: None,
        notices: Vec::new(),
    };
    let (mut story, mut step) = (false, None);
    let mut delays_given = false;
    let mut one_interval = None;
    // The settings of a load or victim, applied once both are known (in any order).
    let (mut op, mut io, mut period) = (None, None, None);
    for (key, value) in pairs {
        // Each value is parsed and stored, or its error kept with what is used instead (one
        // sentence built below: one format per notice keeps the page's `.wasm` small).
        let parsed: Result<(), ConfigError> = match key {
            "scenarios" => parse_scenarios(value).map(|s| out.config.scenarios = s),
            "delays" => parse_delays(value).map(|d| {
                out.config.delays = d;
                delays_given = true;
            }),
            "load" => parse_load(value).map(|l| out.config.load = l),
            "victim" => parse_victim(value).map(|v| out.config.victim = v),
            "loads" => parse_loads(value).map(|l| out.config.loads = l),
            "op_us" => parse_op_us(value).map(|d| op = Some(d)),
            "io_us" => parse_io_us(value).map(|d| io = Some(d)),
            "period_ms" => parse_period_ms(value).map(|d| period = Some(d)),
            "interval_ms" => parse_interval_ms(value).map(|i| {
                out.config.intervals = vec![i];
                one_interval = Some(i);
            }),
            "intervals" => parse_intervals(value).map(|i| out.config.intervals = i),
            "autorun" if is_yes(value) => {
                out.autorun = true;
                Ok(())
            }
            "story" if is_yes(value) => {
                story = true;
                Ok(())
            }
            "autorun" | "embed" | "story" if is_yes(value) || is_no(value) => Ok(()),
            "step" => match value.trim().parse::<usize>() {
                Ok(n) if (1..=super::story::TITLES.len()).contains(&n) => {
                    step = Some(n - 1);
                    Ok(())
                }
                _ => Err(ConfigError(format!(
                    "step={} is not a step of the story; write a number from 1 to {}",
                    value.trim(),
                    super::story::TITLES.len()
                ))),
            },
            "story" => Err(ConfigError(format!(
                "story={} is not understood; write story=1 for the guided story",
                value.trim()
            ))),
            "autorun" => Err(ConfigError(format!(
                "autorun={} is not understood; write autorun=1 to start at once",
                value.trim()
            ))),
            "embed" => Err(ConfigError(format!(
                "embed={} is not understood; write embed=1 for the compact view",
                value.trim()
            ))),
            other => Err(ConfigError(format!(
                "the parameter '{other}' is not one this page knows ({})",
                KNOWN.join(", ")
            ))),
        };
        let problem = parsed.err().map(|e| {
            let used = match key {
                "scenarios" => scenario_list(&defaults.scenarios),
                "delays" => delay_list(&defaults.delays) + " s",
                "load" => defaults.load.name().to_string(),
                "victim" => defaults.victim.name().to_string(),
                "loads" => String::from("1 load thread"),
                "op_us" => us(DEFAULT_SHORT_OP) + " us",
                "io_us" => us(DEFAULT_IO_OP) + " us",
                "period_ms" => ms(DEFAULT_PERIOD) + " ms",
                "interval_ms" | "intervals" => ms(defaults.interval()) + " ms",
                "autorun" => return format!("{e}. Waiting for the Run button."),
                "embed" => return format!("{e}. Showing the full page."),
                "story" => return format!("{e}. Showing the page without it."),
                "step" => return format!("{e}. Starting at step 1."),
                _ => return format!("{e}; it was ignored."),
            };
            format!("{e}. Using {used}.")
        });
        out.notices.extend(problem.map(|p| notice(&p)));
    }
    // A setting of a load or victim other than the one chosen: the CLI's sentence, and ignored.
    match load_with_op(out.config.load, op) {
        Ok(l) => out.config.load = l,
        Err(e) => out.notices.push(notice(&format!("{e}. It was ignored."))),
    }
    for (io, period) in [(io, None), (None, period)] {
        match victim_with(out.config.victim, io, period) {
            Ok(v) => out.config.victim = v,
            Err(e) => out.notices.push(notice(&format!("{e}. It was ignored."))),
        }
    }
    match out.config.clone().settled(delays_given) {
        Ok(config) => out.config = config,
        Err(e) => {
            // The ways URL values that each parse can clash: several intervals or load counts
            // with several delays, or both swept.
            let fallback = one_interval.unwrap_or(defaults.interval());
            let loads = out.config.loads[0];
            out.notices.push(notice(&format!(
                "{e}. Using the interval {} ms and {loads} load thread{}.",
                ms(fallback),
                if loads == 1 { "" } else { "s" }
            )));
            out.config.intervals = vec![fallback];
            out.config.loads = vec![loads];
            if let Ok(c) = out.config.clone().settled(delays_given) {
                out.config = c;
            }
        }
    }
    if story {
        out.config = story_config(&out.config, delays_given);
        out.story = Some(step.unwrap_or(0));
        out.autorun = true;
    } else if step.is_some() {
        out.notices.push(notice(
            "the parameter 'step' picks a step of the guided story; add story=1 to see it",
        ));
    }
    out
}

fn notice(s: &str) -> String {
    crate::report::markup::capitalise(s)
}

/// A duration in microseconds, shortest form.
fn us(d: Duration) -> String {
    super::html::short_number(d.as_secs_f64() * 1e6)
}

/// The query string (without `?`) that reproduces `config`.
pub fn to_query(config: &SweepConfig) -> String {
    let interval = if config.sweeps_intervals() {
        format!("intervals={}", interval_list(&config.intervals))
    } else {
        format!("interval_ms={}", ms(config.interval()))
    };
    let mut q = format!(
        "scenarios={}&delays={}&load={}&victim={}&{interval}",
        scenario_list(&config.scenarios).replace('+', "%2B"),
        delay_list(&config.delays),
        config.load.name(),
        config.victim.name(),
    );
    // The newer settings only where they differ from their defaults, so the seed's links stay
    // as short as they were.
    if config.loads != [1] {
        let loads: Vec<String> = config.loads.iter().map(u8::to_string).collect();
        q.push_str(&format!("&loads={}", loads.join(",")));
    }
    match config.load {
        Load::Short { op } if op != DEFAULT_SHORT_OP => q.push_str(&format!("&op_us={}", us(op))),
        _ => {}
    }
    match config.victim {
        Victim::Io { op } if op != DEFAULT_IO_OP => q.push_str(&format!("&io_us={}", us(op))),
        Victim::Latency { period } if period != DEFAULT_PERIOD => {
            q.push_str(&format!("&period_ms={}", ms(period)))
        }
        _ => {}
    }
    q
}

/// `0.1,1,5,20`: milliseconds, shortest form.
pub fn interval_list(intervals: &[Duration]) -> String {
    intervals
        .iter()
        .map(|&d| ms(d))
        .collect::<Vec<_>>()
        .join(",")
}

/// `thread,process` as the URL and the command line write it.
pub fn scenario_list(scenarios: &[Scenario]) -> String {
    scenarios
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(",")
}

/// `1,2,0.5`: seconds, shortest form.
pub fn delay_list(delays: &[Duration]) -> String {
    delays
        .iter()
        .map(|d| super::html::short_number(d.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(",")
}

/// A duration in milliseconds, shortest form.
pub fn ms(d: Duration) -> String {
    super::html::short_number(d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::INTERVAL_SWEEP_DELAY;

    #[test]
    fn the_story_runs_its_three_runs_at_once_from_the_step_asked() {
        let u = from_pairs([
            ("story", "1"),
            ("step", "3"),
            ("delays", "1.5,3"),
            ("scenarios", "thread"),
        ]);
        assert!(u.notices.is_empty(), "{:?}", u.notices);
        assert_eq!(u.story, Some(2), "step 3 counts from 1");
        assert!(u.autorun, "the story runs at once");
        assert_eq!(u.config.scenarios, super::super::story::RUNS);
        assert_eq!(
            u.config.delays,
            [Duration::from_millis(1500)],
            "the first delay"
        );
        assert_eq!(
            from_pairs([("story", "1")]).config.delays,
            [Duration::from_secs(2)]
        );

        let far = from_pairs([("story", "1"), ("step", "9")]);
        assert_eq!(far.story, Some(0));
        assert_eq!(
            far.notices,
            ["Step=9 is not a step of the story; write a number from 1 to 5. Starting at step 1."]
        );
        let alone = from_pairs([("step", "2")]);
        assert_eq!(alone.story, None);
        assert!(
            alone.notices[0].contains("add story=1"),
            "{:?}",
            alone.notices
        );
        let off = from_pairs([("story", "0")]);
        assert!(off.story.is_none() && off.notices.is_empty() && !off.autorun);
        let odd = from_pairs([("story", "maybe")]);
        assert_eq!(odd.story, None);
        assert_eq!(
            odd.notices,
            ["Story=maybe is not understood; write story=1 for the guided story. Showing the page \
              without it."]
        );
    }

    #[test]
    fn an_interval_sweep_comes_from_the_url_and_goes_back_into_the_link() {
        let u = from_pairs([("intervals", "0.1,1,5,20"), ("victim", "io")]);
        assert!(u.notices.is_empty(), "{:?}", u.notices);
        assert_eq!(u.config.intervals.len(), 4);
        assert_eq!(
            u.config.delays,
            [INTERVAL_SWEEP_DELAY],
            "no delay given: one delay, as on the command line"
        );
        assert!(to_query(&u.config).ends_with("&victim=io&intervals=0.1,1,5,20"));
        let back = from_pairs(
            to_query(&u.config)
                .split('&')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k, if k == "scenarios" { "thread" } else { v })),
        );
        assert_eq!(back.config.intervals, u.config.intervals);
    }

    #[test]
    fn the_whole_decision_comes_from_the_url_and_goes_back_into_the_link() {
        let u = from_pairs([
            ("victim", "latency"),
            ("period_ms", "20"),
            ("scenarios", "thread+load,process+load,interpreter+load"),
            ("loads", "2"),
            ("load", "short"),
            ("op_us", "40000"),
        ]);
        assert!(u.notices.is_empty(), "{:?}", u.notices);
        assert_eq!(u.config.loads, [2]);
        assert_eq!(
            u.config.victim,
            Victim::Latency {
                period: Duration::from_millis(20)
            }
        );
        assert_eq!(
            u.config.load,
            Load::Short {
                op: Duration::from_millis(40)
            }
        );
        let q = to_query(&u.config);
        assert!(
            q.ends_with("&loads=2&op_us=40000&period_ms=20"),
            "the link keeps every setting: {q}"
        );
        let back = from_pairs(
            q.split('&')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| {
                    (
                        k,
                        if k == "scenarios" {
                            "thread+load,process+load,interpreter+load"
                        } else {
                            v
                        },
                    )
                }),
        );
        assert_eq!(back.config, u.config);
        // The seed's link stays as it was.
        assert!(!to_query(&default_config()).contains("loads"));
    }

    #[test]
    fn bad_settings_of_the_newer_parameters_are_notices_with_defaults() {
        let u = from_pairs([("loads", "9"), ("op_us", "40000"), ("period_ms", "0")]);
        assert_eq!(u.notices.len(), 3, "{:?}", u.notices);
        assert!(u.notices[0].contains("load threads is out of range; choose 1 to 4"));
        assert!(u.notices[1].contains("request period 0 ms is out of range"));
        // op_us parsed, but the load is bignum: the CLI's sentence, and ignored.
        assert!(
            u.notices[2].contains("choose the short load") && u.notices[2].contains("ignored"),
            "{:?}",
            u.notices
        );
        assert_eq!(u.config, default_config());
        // Several load counts and several delays clash, as on the command line.
        let clash = from_pairs([("loads", "1,2"), ("delays", "1,2")]);
        assert_eq!(clash.notices.len(), 1, "{:?}", clash.notices);
        assert!(clash.notices[0].contains("give one delay"));
        assert_eq!(clash.config.loads, [1]);
    }

    #[test]
    fn several_intervals_with_several_delays_is_a_notice_and_one_interval() {
        let u = from_pairs([
            ("interval_ms", "1"),
            ("delays", "1,2"),
            ("intervals", "1,5"),
        ]);
        assert_eq!(u.notices.len(), 1, "{:?}", u.notices);
        assert!(u.notices[0].contains("give one delay (e.g. 2 s)"));
        assert_eq!(u.config.intervals, [Duration::from_millis(1)]);
        let bad = from_pairs([("intervals", "0.1,x")]);
        assert!(
            bad.notices[0].contains("'x' is not a number"),
            "{:?}",
            bad.notices
        );
        assert_eq!(bad.config, default_config());
    }
}
