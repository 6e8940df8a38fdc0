//! The page's state on the main thread: settings, the sweep it started, what it has read of it,
//! and the DOM it keeps up to date. Called only from the main thread, so it never waits.
//!
//! - this file: start-up, how the page runs (its [`Mode`]), the buttons, links and notices that
//!   follow from the form and the runs, the snapshot for scripts;
//! - [`frame`]: the animation-frame loop, reading the run source;
//! - [`render`]: tables, chart and timeline;
//! - [`instrument`]: what the reader set on the timeline (pause, zoom, pan, the span pointed at,
//!   a stacked run) and the trace's download;
//! - [`actions`]: buttons, the run, downloads and links, the cooperative workers' messages;
//! - [`form`]: the settings form and the settings it holds;
//! - [`runs`]: the runs and results of the sweep started, and the run pinned;
//! - [`story`]: the guided story's card and the lanes each step speaks of;
//! - [`dom`]: the DOM writes, skipped when nothing changed.

mod actions;
mod dom;
mod form;
mod frame;
mod instrument;
mod render;
mod runs;
mod story;

use super::canvas::Palette;
use super::html;
use super::params::{self, FromUrl};
use crate::report::Json;
use dom::Dom;
use web_sys::Window;

/// `<html data-state>`: where the page is, for scripts and CSS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PageState {
    Idle,
    Running,
    Done,
    Error,
}

impl PageState {
    fn name(self) -> &'static str {
        match self {
            PageState::Idle => "idle",
            PageState::Running => "running",
            PageState::Done => "done",
            PageState::Error => "error",
        }
    }
}

/// How the page runs the experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A pool of Web Workers sharing the wasm memory: every thread on a worker of its own.
    Threads,
    /// No shared memory: each interpreter's threads take turns on one worker, under the same lock
    /// rules, and each process (or free thread) runs on a worker of its own ([`crate::coop`]).
    Cooperative,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Threads => "threads",
            Mode::Cooperative => "cooperative",
        }
    }
}

/// Whether runs can start, and since when.
#[derive(Clone, Debug, PartialEq)]
enum Ready {
    /// The page is still choosing its mode.
    Starting,
    /// Ready in `mode`; the workers took `ms` to start, `at_ms` after navigation.
    Yes { mode: Mode, ms: f64, at_ms: f64 },
    /// Nothing can run here.
    Never,
}

/// Everything the main thread holds.
pub struct Page {
    window: Window,
    dom: Dom,
    state: PageState,
    ready: Ready,
    autorun: bool,
    embed: bool,
    /// The settings form.
    form: form::Form,
    /// The sweep started: its source, runs and results.
    runs: runs::Runs,
    palette: Palette,
    dark: Option<bool>,
    dark_query: Option<web_sys::MediaQueryList>,
    canvas_width: i32,
    last_live: Option<(usize, u64)>,
    timeline_drawn_for: Option<render::DrawKey>,
    /// What the reader set on the timeline: zoom, pause, the picked span, a stacked run.
    instrument: instrument::Instrument,
    /// The window width at the last layout check.
    window_width: f64,
    /// The guided story's step (from 0), with `story=1`.
    story: Option<usize>,
    /// What the story's card last pointed the lanes at: (step, its run started, ready).
    story_shown: Option<(usize, bool, bool)>,
    /// `prefers-reduced-motion: reduce`: lanes drawn when their run ends, not as it grows.
    still: bool,
}

/// Decodes a query string (`?a=b&c=d`) into pairs. `+` stays `+` (scenario names contain it);
/// spaces in a scenario list are read back as `+`, in case a tool encoded them that way.
fn query_pairs(search: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        js_sys::decode_uri_component(s)
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| s.to_string())
    };
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let (k, mut v) = (decode(k), decode(v));
            if k == "scenarios" {
                v = v.replace(' ', "+");
            }
            (k, v)
        })
        .collect()
}

impl Page {
    /// Reads the URL, fills the form, shows notices. `None` if there is no document.
    pub fn new() -> Option<Self> {
        crate::platform::web::install_panic_hook();
        let window = web_sys::window()?;
        let doc = window.document()?;
        let search = window.location().search().unwrap_or_default();
        let dark_query = window
            .match_media("(prefers-color-scheme: dark)")
            .ok()
            .flatten();
        // `prefers-reduced-motion: reduce`: the lanes are drawn when their run ends.
        let still = window
            .match_media("(prefers-reduced-motion: reduce)")
            .ok()
            .flatten()
            .is_some_and(|m| m.matches());
        let pairs = query_pairs(&search);
        let FromUrl {
            config,
            autorun,
            embed,
            story,
            notices,
        } = params::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut page = Self {
            window,
            dom: Dom::new(doc),
            state: PageState::Idle,
            ready: Ready::Starting,
            autorun,
            embed,
            form: form::Form::new(config),
            runs: runs::Runs::default(),
            palette: Palette::default(),
            dark: None,
            dark_query,
            canvas_width: 0,
            last_live: None,
            timeline_drawn_for: None,
            instrument: instrument::Instrument::default(),
            window_width: 0.0,
            story,
            story_shown: None,
            still,
        };
        page.dom.show("story", story.is_some());
        page.show_story();
        page.form.fill(&page.dom);
        page.form.read(&page.dom);
        page.show_notices(&notices);
        page.update_share();
        page.render_tables();
        page.show_verdict();
        page.dom.set_text("status", "Starting the Web Workers…");
        page.update_buttons();
        Some(page)
    }

    /// The pool of Web Workers sharing memory started in `ms` milliseconds.
    pub fn use_threads(&mut self, ms: f64) {
        let line = format!(
            "Mode: threads. {} Web Workers share one memory, one per Python thread.",
            crate::platform::web::POOL_SIZE
        );
        self.dom.set_text(
            "pool-info",
            &format!(
                "{} Web Workers ready in {ms:.0} ms.",
                crate::platform::web::POOL_SIZE
            ),
        );
        self.set_ready(Mode::Threads, ms, &line);
    }

    /// No pool of Web Workers sharing memory here: runs go to workers that share none.
    /// `reason`, if given, says in one sentence why threads could not be used.
    pub fn use_cooperative(&mut self, reason: Option<&str>) {
        let mut line = String::from(
            "Mode: no shared memory here, so each interpreter's threads take turns on one Web \
             Worker, under the same lock rules.",
        );
        if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) {
            line = format!("{line} {}", crate::report::markup::sentence(reason));
        }
        self.dom.set_text(
            "pool-info",
            "No shared memory on this page: each interpreter runs on a Web Worker of its own.",
        );
        self.set_ready(Mode::Cooperative, 0.0, &line);
    }

    fn set_ready(&mut self, mode: Mode, ms: f64, line: &str) {
        let at_ms = self.window.performance().map_or(0.0, |p| p.now());
        self.ready = Ready::Yes { mode, ms, at_ms };
        self.dom.set_text("mode", line);
        self.dom.show("mode", true);
        self.dom.set_root_attr("data-mode", mode.name());
        self.dom.set_text("status", self.ready_text());
        self.update_buttons();
        if self.autorun && self.form.error.is_none() {
            self.run();
        }
    }

    /// No way to run here (`cause`: a short code for `data-error`, `message`: what the reader
    /// can do).
    pub fn cannot_run(&mut self, cause: &str, message: &str) {
        self.ready = Ready::Never;
        self.dom
            .set_text("pool-info", "No Web Workers can run here.");
        self.dom.set_root_attr("data-error", cause);
        self.fail(message);
    }

    fn ready_text(&self) -> &'static str {
        if self.embed {
            "Ready. Press Run."
        } else {
            "Ready. Choose settings, then Run."
        }
    }

    fn fail(&mut self, message: &str) {
        self.dom.set_text("error-text", message);
        self.dom.show("error", true);
        self.set_state(PageState::Error);
        self.dom.set_text("status", "Stopped by an error.");
        self.update_buttons();
    }

    fn set_state(&mut self, state: PageState) {
        self.state = state;
        self.dom.set_root_attr("data-state", state.name());
    }

    /// The mode runs use, once chosen.
    fn mode(&self) -> Option<Mode> {
        match self.ready {
            Ready::Yes { mode, .. } => Some(mode),
            _ => None,
        }
    }

    /// The performance clock, in ms: `timeOrigin + now()`, comparable across workers.
    fn now_ms(&self) -> f64 {
        self.window
            .performance()
            .map_or(0.0, |p| p.time_origin() + p.now())
    }

    /// A JSON snapshot of the page's state, for scripts and embeds.
    pub fn snapshot(&self) -> String {
        let (pool_ms, ready_ms) = match self.ready {
            Ready::Yes { ms, at_ms, .. } => (Some(ms), Some(at_ms)),
            _ => (None, None),
        };
        let shared = self.runs.source.as_ref().map(|s| s.shared());
        let mut j = Json::default();
        j.open('{');
        j.key("state").str(self.state.name());
        j.key("mode");
        match self.mode() {
            Some(m) => j.str(m.name()),
            None => j.null(),
        };
        j.key("pool_ms").opt_f64(pool_ms);
        j.key("ready_ms").opt_f64(ready_ms);
        j.key("runs_total")
            .u64(shared.map_or(0, |s| s.runs().len()) as u64);
        j.key("runs_done").u64(self.runs.results.len() as u64);
        j.key("live");
        match self.runs.live_cell() {
            Some(l) => {
                j.open('{');
                j.key("scenario").str(l.scenario.name());
                j.key("delay_s").f64(l.delay_s);
                j.key("count").u64(l.count);
                j.key("elapsed_s").f64(l.elapsed_s);
                j.close('}');
            }
            None => {
                j.null();
            }
        }
        j.key("results").results(&self.runs.results);
        j.close('}');
        j.finish()
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
            && self.form.error.is_none()
            && self.state != PageState::Error;
        self.dom.set_disabled("run", !can_run);
        let stopping = self
            .runs
            .source
            .as_ref()
            .is_some_and(|s| s.shared().stop_requested());
        self.dom.set_disabled("stop", !running || stopping);
        let none = self.runs.results.is_empty() || running;
        self.dom.set_disabled("download-csv", none);
        self.dom.set_disabled("download-json", none);
        if let Some(b) = self.dom.el("run") {
            b.set_text_content(Some(if self.runs.results.is_empty() {
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
