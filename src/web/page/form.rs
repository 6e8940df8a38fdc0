//! The settings form: filled from the URL, read back on every change with the CLI's parsers, and
//! the buttons and links that follow from it.

use super::super::{html, params};
use super::{Page, PageState};
use crate::scenario::{parse_delays, parse_intervals, parse_load, parse_victim, Scenario};

impl Page {
    pub(super) fn fill_form(&self) {
        for cb in self.dom.checkboxes() {
            let on = cb
                .value()
                .parse::<Scenario>()
                .is_ok_and(|s| self.config.scenarios.contains(&s));
            cb.set_checked(on);
        }
        if let Some(i) = self.dom.input("delays") {
            i.set_value(&params::delay_list(&self.config.delays).replace(',', ", "));
        }
        if let Some(s) = self.dom.select("load") {
            s.set_value(self.config.load.name());
        }
        if let Some(s) = self.dom.select("victim") {
            s.set_value(self.config.victim.name());
        }
        if let Some(i) = self.dom.input("interval") {
            i.set_value(&params::interval_list(&self.config.intervals).replace(',', ", "));
        }
    }

    pub(super) fn read_form(&mut self) {
        let mut errors = Vec::new();
        let checked: Vec<Scenario> = self
            .dom
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
        if let Some(i) = self.dom.input("delays") {
            match parse_delays(&i.value()) {
                Ok(d) => self.config.delays = d,
                Err(e) => errors.push(e.0),
            }
        }
        if let Some(s) = self.dom.select("load") {
            match parse_load(&s.value()) {
                Ok(l) => self.config.load = l,
                Err(e) => errors.push(e.0),
            }
        }
        if let Some(s) = self.dom.select("victim") {
            match parse_victim(&s.value()) {
                Ok(v) => self.config.victim = v,
                Err(e) => errors.push(e.0),
            }
        }
        if let Some(i) = self.dom.input("interval") {
            match parse_intervals(&i.value()) {
                Ok(d) => self.config.intervals = d,
                Err(e) => errors.push(e.0),
            }
        }
        if let Err(e) = self.config.clone().settled(true) {
            errors.push(e.0);
        }
        self.form_error = (!errors.is_empty()).then(|| errors.join("; "));
        match &self.form_error {
            Some(e) => {
                self.dom
                    .set_text("form-error", &crate::report::markup::sentence(e));
                self.dom.show("form-error", true);
            }
            None => self.dom.show("form-error", false),
        }
        let est = self.config.total_delay().as_secs_f64();
        self.dom.set_text(
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

    pub(super) fn update_share(&mut self) {
        let url = self.share_url();
        if let Some(i) = self.dom.input("share-url") {
            i.set_value(&url);
        }
        self.dom.set_attr("full-demo", "href", &url);
        if !self.embed {
            let code = self.embed_code();
            if let Some(i) = self.dom.input("embed-code") {
                i.set_value(&code);
            }
        }
    }

    pub(super) fn update_buttons(&self) {
        let running = self.state == PageState::Running;
        let can_run = !running
            && self.mode().is_some()
            && self.form_error.is_none()
            && self.state != PageState::Error;
        self.dom.set_disabled("run", !can_run);
        let stopping = self
            .source
            .as_ref()
            .is_some_and(|s| s.shared().stop_requested());
        self.dom.set_disabled("stop", !running || stopping);
        let none = self.results.is_empty() || running;
        self.dom.set_disabled("download-csv", none);
        self.dom.set_disabled("download-json", none);
        if let Some(b) = self.dom.el("run") {
            b.set_text_content(Some(if self.results.is_empty() {
                "Run"
            } else {
                "Run again"
            }));
        }
        let busy = if running { "true" } else { "false" };
        self.dom.set_attr("settings", "aria-busy", busy);
    }

    pub(super) fn show_notices(&self, notices: &[String]) {
        if notices.is_empty() {
            return;
        }
        let items: String = notices
            .iter()
            .map(|n| format!("<li>{}</li>", html::escape(n)))
            .collect();
        self.dom.set_html("notice-list", &items);
        self.dom.show("notice", true);
    }
}
