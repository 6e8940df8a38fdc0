//! The page's settings and its URL parameters (`scenarios`, `delays`, `load`, `victim`,
//! `interval_ms`, `intervals`, `autorun`, `embed`), checked with the same parsers and rules as the
//! command line: a bad value becomes a notice and its default, never a crash.

use crate::scenario::{
    parse_delays, parse_interval_ms, parse_intervals, parse_load, parse_scenarios, parse_victim,
    ConfigError, Scenario, SweepConfig,
};
use std::time::Duration;

/// The parameters the page understands.
pub const KNOWN: [&str; 8] = [
    "scenarios",
    "delays",
    "load",
    "victim",
    "interval_ms",
    "intervals",
    "autorun",
    "embed",
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
        notices: Vec::new(),
    };
    let mut delays_given = false;
    let mut one_interval = None;
    for (key, value) in pairs {
        let problem = match key {
            "scenarios" => parse_scenarios(value)
                .map(|s| out.config.scenarios = s)
                .err()
                .map(|e| format!("{e}. Using {}.", scenario_list(&defaults.scenarios))),
            "delays" => parse_delays(value)
                .map(|d| {
                    out.config.delays = d;
                    delays_given = true;
                })
                .err()
                .map(|e| format!("{e}. Using {} s.", delay_list(&defaults.delays))),
            "load" => parse_load(value)
                .map(|l| out.config.load = l)
                .err()
                .map(|e| format!("{e}. Using {}.", defaults.load.name())),
            "victim" => parse_victim(value)
                .and_then(|v| {
                    if v.answers_requests() {
                        // Its client needs a socket, which a page has not.
                        return Err(ConfigError(format!(
                            "the {} victim runs in the command-line tool for now (gil-lab run \
                             --victim {})",
                            v.name(),
                            v.name()
                        )));
                    }
                    Ok(v)
                })
                .map(|v| out.config.victim = v)
                .err()
                .map(|e| format!("{e}. Using {}.", defaults.victim.name())),
            "interval_ms" => parse_interval_ms(value)
                .map(|i| {
                    out.config.intervals = vec![i];
                    one_interval = Some(i);
                })
                .err()
                .map(|e| format!("{e}. Using {} ms.", ms(defaults.interval()))),
            "intervals" => parse_intervals(value)
                .map(|i| out.config.intervals = i)
                .err()
                .map(|e| format!("{e}. Using {} ms.", ms(defaults.interval()))),
            "autorun" if is_yes(value) => {
                out.autorun = true;
                None
            }
            "autorun" if is_no(value) => None,
            "autorun" => Some(format!(
                "autorun={} is not understood; write autorun=1 to start at once. \
                 Waiting for the Run button.",
                value.trim()
            )),
            "embed" if is_yes(value) || is_no(value) => None,
            "embed" => Some(format!(
                "embed={} is not understood; write embed=1 for the compact view. \
                 Showing the full page.",
                value.trim()
            )),
            other => Some(format!(
                "the parameter '{other}' is not one this page knows ({}); it was ignored.",
                KNOWN.join(", ")
            )),
        };
        out.notices
            .extend(problem.map(|p| crate::report::markup::capitalise(p.as_str())));
    }
    match out.config.clone().settled(delays_given) {
        Ok(config) => out.config = config,
        Err(e) => {
            // The one way URL values that each parse can clash: several intervals, several delays.
            let fallback = one_interval.unwrap_or(defaults.interval());
            out.notices.push(crate::report::markup::capitalise(&format!(
                "{e}. Using the interval {} ms.",
                ms(fallback)
            )));
            out.config.intervals = vec![fallback];
        }
    }
    out
}

/// The query string (without `?`) that reproduces `config`.
pub fn to_query(config: &SweepConfig) -> String {
    let interval = if config.sweeps_intervals() {
        format!("intervals={}", interval_list(&config.intervals))
    } else {
        format!("interval_ms={}", ms(config.interval()))
    };
    format!(
        "scenarios={}&delays={}&load={}&victim={}&{interval}",
        scenario_list(&config.scenarios).replace('+', "%2B"),
        delay_list(&config.delays),
        config.load.name(),
        config.victim.name(),
    )
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
