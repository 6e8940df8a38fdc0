//! The settings form and what it owns: the settings it holds, filled from the URL and read back
//! on every change with the CLI's parsers, and what is wrong with them.

use super::super::{html, params};
use super::dom::Dom;
use crate::scenario::{
    parse_delays, parse_intervals, parse_load, parse_loads, parse_victim, Scenario, SweepConfig,
};

/// The form's state.
pub(super) struct Form {
    /// The settings in the form (valid ones; `error` says when they are not).
    pub(super) config: SweepConfig,
    /// What is wrong with the rest, in the CLI's words.
    pub(super) error: Option<String>,
}

impl Form {
    /// A form holding `config`, not yet read back.
    pub(super) fn new(config: SweepConfig) -> Self {
        Self {
            config,
            error: None,
        }
    }

    /// Sets the controls to the settings held.
    pub(super) fn fill(&self, dom: &Dom) {
        for cb in dom.checkboxes() {
            let on = cb
                .value()
                .parse::<Scenario>()
                .is_ok_and(|s| self.config.scenarios.contains(&s));
            cb.set_checked(on);
        }
        if let Some(i) = dom.input("delays") {
            i.set_value(&params::delay_list(&self.config.delays).replace(',', ", "));
        }
        if let Some(s) = dom.select("load") {
            s.set_value(self.config.load.name());
        }
        if let Some(s) = dom.select("victim") {
            s.set_value(self.config.victim.name());
        }
        if let Some(i) = dom.input("interval") {
            i.set_value(&params::interval_list(&self.config.intervals).replace(',', ", "));
        }
        if let Some(i) = dom.input("loads") {
            let loads: Vec<String> = self.config.loads.iter().map(u8::to_string).collect();
            i.set_value(&loads.join(", "));
        }
    }

    /// Reads the controls back, shows what is wrong and the sweep's estimated length.
    pub(super) fn read(&mut self, dom: &Dom) {
        let mut errors = Vec::new();
        let checked: Vec<Scenario> = dom
            .checkboxes()
            .iter()
            .filter(|c| c.checked())
            .filter_map(|c| c.value().parse().ok())
            .collect();
        // Keep the order the settings had (the URL's), then add new ones in checkbox order.
        let mut scenarios: Vec<Scenario> = self
            .config
            .scenarios
            .iter()
            .copied()
            .filter(|s| checked.contains(s))
            .collect();
        let added: Vec<Scenario> = checked
            .iter()
            .copied()
            .filter(|s| !scenarios.contains(s))
            .collect();
        scenarios.extend(added);
        if scenarios.is_empty() {
            errors.push("choose at least one scenario".to_string());
        } else {
            self.config.scenarios = scenarios;
        }
        if let Some(i) = dom.input("delays") {
            match parse_delays(&i.value()) {
                Ok(d) => self.config.delays = d,
                Err(e) => errors.push(e.0),
            }
        }
        // A load or victim of the kind already held keeps its settings (the URL's op_us, io_us,
        // period_ms), which the form has no field for.
        if let Some(s) = dom.select("load") {
            match parse_load(&s.value()) {
                Ok(l) if l.name() == self.config.load.name() => {}
                Ok(l) => self.config.load = l,
                Err(e) => errors.push(e.0),
            }
        }
        if let Some(s) = dom.select("victim") {
            match parse_victim(&s.value()) {
                Ok(v) if v.name() == self.config.victim.name() => {}
                Ok(v) => self.config.victim = v,
                Err(e) => errors.push(e.0),
            }
        }
        if let Some(i) = dom.input("loads") {
            match parse_loads(&i.value()) {
                Ok(l) => self.config.loads = l,
                Err(e) => errors.push(e.0),
            }
        }
        if let Some(i) = dom.input("interval") {
            match parse_intervals(&i.value()) {
                Ok(d) => self.config.intervals = d,
                Err(e) => errors.push(e.0),
            }
        }
        if let Err(e) = self.config.clone().settled(true) {
            errors.push(e.0);
        }
        self.error = (!errors.is_empty()).then(|| errors.join("; "));
        match &self.error {
            Some(e) => {
                dom.set_text("form-error", &crate::report::markup::sentence(e));
                dom.show("form-error", true);
            }
            None => dom.show("form-error", false),
        }
        let est = self.config.total_delay().as_secs_f64();
        dom.set_text(
            "estimate",
            &format!(
                "{} runs, about {} s (more with a load: see the late stop).",
                self.config.scenarios.len()
                    * self.config.delays.len()
                    * self.config.intervals.len(),
                html::short_number(est.round())
            ),
        );
    }
}
