//! The page's state on the main thread: settings, the sweep it started, what it has read of it,
//! and the DOM it keeps up to date. Called only from the main thread, so it never waits: it reads
//! the sweep through [`Sweep`]'s non-blocking accessors and draws what it has.

use super::canvas::{self, Palette};
use super::html::{self, LiveCell};
use super::params::{self, FromUrl};
use super::sweep::{Status, Sweep, LOG_CAPACITY};
use super::timeline::{LaneState, Timeline};
use crate::gil::EventLog;
use crate::report::Format;
use crate::scenario::{
    parse_delays, parse_interval_ms, parse_load, RunResult, Scenario, SweepConfig, SweepReport,
};
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Document, Element, HtmlCanvasElement, HtmlElement, HtmlInputElement, HtmlSelectElement, Window,
};

/// `<html data-state>` values of DESIGN.md section 5.
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

/// Whether the pool of workers can take work.
#[derive(Clone, Debug, PartialEq)]
enum Pool {
    Starting,
    /// Started in `ms`; `at_ms` after navigation (the page is interactive from then on).
    Ready {
        ms: f64,
        at_ms: f64,
    },
    Unavailable,
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

    /// The one quiet line that says how the page runs.
    fn line(self) -> String {
        match self {
            Mode::Threads => format!(
                "Mode: threads. {} Web Workers share one memory, one per Python thread.",
                crate::platform::web::POOL_SIZE
            ),
            Mode::Cooperative => "Mode: no shared memory here, so each interpreter's threads \
                 take turns on one Web Worker, under the same lock rules."
                .into(),
        }
    }
}

/// The run the page is running in cooperative mode, and the clock of each run's log.
#[derive(Debug, Default)]
struct Coop {
    in_flight: Option<usize>,
    /// Per started run: when its log began, in milliseconds since the Unix epoch of the
    /// performance clock (`timeOrigin + now()`).
    epochs: Vec<f64>,
    /// Per started run: its start signal on the same clock, once a worker said; time 0 of the
    /// run's timeline, as in threads mode, where the signal follows the log's start at once.
    zeros: Vec<Option<f64>>,
    /// Events a worker logged ahead of time (`coop::Interpreter::announce`), held back until
    /// the run's clock reaches them: (run, event).
    pending: Vec<(usize, crate::gil::Event)>,
}

impl Coop {
    /// The start signal of run `run` (the first a worker reports), on the performance clock.
    fn zero(&mut self, run: usize, go_ms: f64) -> Option<f64> {
        let z = self.zeros.get_mut(run)?;
        Some(*z.get_or_insert(go_ms))
    }

    /// How far run `run`'s start signal is after the start of its log, in microseconds.
    fn shift_us(&self, run: usize) -> Option<u64> {
        let zero = (*self.zeros.get(run)?)?;
        Some(((zero - self.epochs.get(run)?) * 1e3).max(0.0) as u64)
    }
}

/// One started run as the page knows it.
struct RunView {
    log: Arc<EventLog>,
    cursor: u64,
    timeline: Timeline,
}

/// Everything the main thread holds.
pub struct Page {
    window: Window,
    doc: Document,
    state: PageState,
    pool: Pool,
    mode: Option<Mode>,
    coop: Coop,
    autorun: bool,
    embed: bool,
    /// The settings in the form (valid ones; `form_error` says when they are not).
    config: SweepConfig,
    form_error: Option<String>,
    sweep: Option<Arc<Sweep>>,
    runs: Vec<RunView>,
    results: Vec<RunResult>,
    /// The run whose timeline is shown; `None` follows the live run.
    pinned: Option<usize>,
    palette: Palette,
    dark: Option<bool>,
    dark_query: Option<web_sys::MediaQueryList>,
    canvas_width: i32,
    last_live: Option<(usize, u64)>,
    timeline_drawn_for: Option<DrawKey>,
    /// What `set_html` last wrote, per element id.
    rendered: RefCell<HashMap<&'static str, String>>,
    /// The progress bar's value as last written.
    progress: Cell<f64>,
    /// The window width at the last layout check.
    window_width: f64,
}

fn is_cross_origin_isolated(window: &Window) -> bool {
    js_sys::Reflect::get(window, &JsValue::from_str("crossOriginIsolated"))
        .map(|v| v.as_bool() == Some(true))
        .unwrap_or(false)
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
        let pairs = query_pairs(&search);
        let FromUrl {
            config,
            autorun,
            embed,
            notices,
        } = params::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut page = Self {
            window,
            doc,
            state: PageState::Idle,
            pool: Pool::Starting,
            mode: None,
            coop: Coop::default(),
            autorun,
            embed,
            config,
            form_error: None,
            sweep: None,
            runs: Vec::new(),
            results: Vec::new(),
            pinned: None,
            palette: Palette::default(),
            dark: None,
            dark_query,
            canvas_width: 0,
            last_live: None,
            timeline_drawn_for: None,
            rendered: RefCell::default(),
            progress: Cell::new(-1.0),
            window_width: 0.0,
        };
        page.fill_form();
        page.read_form();
        page.show_notices(&notices);
        page.update_share();
        page.render_tables();
        if page.isolated() {
            page.set_status("Starting the Web Workers…");
        } else {
            // The script decides: a reload with the service worker, or the cooperative mode.
            page.set_status("Starting…");
        }
        page.update_buttons();
        Some(page)
    }

    /// No shared memory and no way to run without it: the plain explanation.
    pub fn cannot_run(&mut self) {
        self.pool = Pool::Unavailable;
        self.show("not-isolated", true);
        self.set_attr_root("data-error", "not-isolated");
        self.set_state(PageState::Error);
        self.set_status("This page cannot run here: see the explanation above.");
        self.set_text(
            "pool-info",
            "No Web Workers: shared memory needs a cross-origin isolated page.",
        );
        self.update_buttons();
    }

    fn set_mode(&mut self, mode: Mode) {
        self.mode = Some(mode);
        self.set_text("mode", &mode.line());
        self.show("mode", true);
        self.set_attr_root("data-mode", mode.name());
    }

    /// Shared memory is unavailable: runs go to workers that share none ([`crate::coop`]).
    pub fn coop_ready(&mut self) {
        let at_ms = self.window.performance().map_or(0.0, |p| p.now());
        self.pool = Pool::Ready { ms: 0.0, at_ms };
        self.set_mode(Mode::Cooperative);
        self.set_text(
            "pool-info",
            "No shared memory on this page: each interpreter runs on a Web Worker of its own.",
        );
        self.set_status(self.ready_text());
        self.update_buttons();
        if self.autorun && self.form_error.is_none() {
            self.run();
        }
    }

    /// Cooperative mode: the next run to start, as JSON for the script that starts its workers
    /// (`run`, `scenario`, `delay_s`, `load`, `interval_ms`, and `isolated`: whether the
    /// incrementer needs a worker of its own). `None` while a run is going on or none is left.
    pub fn coop_next(&mut self) -> Option<String> {
        if self.mode != Some(Mode::Cooperative) || self.coop.in_flight.is_some() {
            return None;
        }
        let sweep = self.sweep.clone()?;
        let (i, cfg, _log) = sweep.begin_run()?;
        let epoch = self.abs_now_ms();
        self.coop.epochs.truncate(i);
        self.coop.epochs.push(epoch);
        self.coop.zeros.truncate(i);
        self.coop.zeros.push(None);
        self.coop.in_flight = Some(i);
        Some(
            serde_json::json!({
                "run": i,
                "scenario": cfg.scenario.name(),
                "delay_s": cfg.delay.as_secs_f64(),
                "load": cfg.load.name(),
                "interval_ms": cfg.interval.as_secs_f64() * 1e3,
                "isolated": crate::coop::needs_isolated_worker(cfg.scenario),
            })
            .to_string(),
        )
    }

    /// Cooperative mode: events of run `run`, timed in microseconds from `epoch_ms` (the worker's
    /// `timeOrigin + now()` when its clock began); `go_ms`: its start signal on that clock.
    pub fn coop_events(&mut self, run: usize, epoch_ms: f64, go_ms: f64, events: &[f64]) {
        let Some(zero) = self.coop.zero(run, go_ms) else {
            return;
        };
        let Some((log, now)) = self.coop_log(run) else {
            return;
        };
        for e in crate::coop::decode_events(events, (epoch_ms - zero) * 1e3) {
            if e.t_us > now {
                self.coop.pending.push((run, e));
            } else {
                log.push_event(e);
            }
        }
    }

    /// Cooperative mode: run `run`'s event log and the time now on the worker's clock.
    fn coop_log(&self, run: usize) -> Option<(Arc<EventLog>, u64)> {
        let log = self.sweep.as_ref()?.try_log(run)?;
        let now = log
            .now_us()
            .saturating_sub(self.coop.shift_us(run).unwrap_or(0));
        Some((log, now))
    }

    /// Cooperative mode: moves the events held back for run `run` into its log, those due by its
    /// clock (all of them with `all`).
    fn coop_release(&mut self, run: usize, all: bool) {
        if self.coop.pending.is_empty() {
            return;
        }
        let Some((log, now)) = self.coop_log(run) else {
            return;
        };
        self.coop.pending.retain(|(r, e)| {
            let due = *r == run && (all || e.t_us <= now);
            if due {
                log.push_event(*e);
            }
            !due
        });
    }

    /// Cooperative mode: the incrementer of run `run` has counted `count` in `elapsed_s`; it
    /// started at `go_ms` (`timeOrigin + now()` of its worker).
    pub fn coop_live(&mut self, run: usize, count: f64, elapsed_s: f64, go_ms: f64) {
        if self.coop.in_flight != Some(run) {
            return;
        }
        let (Some(zero), Some(sweep)) = (self.coop.zero(run, go_ms), &self.sweep) else {
            return;
        };
        let go_us = ((go_ms - zero) * 1e3).max(1.0) as u64;
        sweep.set_live(count as u64, (elapsed_s * 1e6) as u64, go_us);
    }

    /// Cooperative mode: run `run` finished; `result` is [`crate::coop::encode_result`]'s.
    pub fn coop_result(&mut self, run: usize, result: &[f64]) {
        if self.coop.in_flight != Some(run) {
            return;
        }
        self.coop_release(run, true);
        self.coop.in_flight = None;
        let Some(sweep) = self.sweep.clone() else {
            return;
        };
        match crate::coop::decode_result(result) {
            Some(r) => sweep.push_result(r),
            None => sweep.fail(format!("run {} sent a result that cannot be read", run + 1)),
        }
    }

    /// Cooperative mode: a worker of the run in progress failed.
    pub fn coop_failed(&mut self, message: &str) {
        self.coop.in_flight = None;
        if let Some(sweep) = &self.sweep {
            sweep.fail(format!("a Web Worker stopped: {message}"));
        }
    }

    fn ready_text(&self) -> &'static str {
        if self.embed {
            "Ready. Press Run."
        } else {
            "Ready. Choose settings, then Run."
        }
    }

    fn abs_now_ms(&self) -> f64 {
        self.window
            .performance()
            .map_or(0.0, |p| p.time_origin() + p.now())
    }

    /// Whether the page may use shared memory (served with COOP and COEP).
    pub fn isolated(&self) -> bool {
        is_cross_origin_isolated(&self.window)
    }

    /// The pool is up after `ms` milliseconds.
    pub fn pool_ready(&mut self, ms: f64) {
        let at_ms = self.window.performance().map_or(0.0, |p| p.now());
        self.pool = Pool::Ready { ms, at_ms };
        self.set_mode(Mode::Threads);
        self.set_text(
            "pool-info",
            &format!(
                "{} Web Workers ready in {ms:.0} ms.",
                crate::platform::web::POOL_SIZE
            ),
        );
        self.set_status(self.ready_text());
        self.update_buttons();
        if self.autorun && self.form_error.is_none() {
            self.run();
        }
    }

    /// The pool could not start.
    pub fn pool_failed(&mut self, message: &str) {
        self.pool = Pool::Unavailable;
        self.set_text("pool-info", "The Web Workers could not start.");
        self.fail(&format!("The Web Workers could not start: {message}"));
    }

    fn fail(&mut self, message: &str) {
        self.set_text("error-text", message);
        self.show("error", true);
        self.set_state(PageState::Error);
        self.set_status("Stopped by an error.");
        self.update_buttons();
    }

    // ---- Actions -------------------------------------------------------------------------------

    /// A button with `data-action` was pressed; `arg` is its `data-run`, if any.
    pub fn action(&mut self, name: &str, arg: Option<String>) {
        match name {
            "run" => self.run(),
            "stop" => {
                if let Some(s) = &self.sweep {
                    s.request_stop();
                    self.set_status("Stopping after the run in progress…");
                    self.update_buttons();
                }
            }
            "download-csv" => self.download(Format::Csv, "csv", "text/csv"),
            "download-json" => self.download(Format::Json, "json", "application/json"),
            "show-run" => {
                self.pinned = arg.and_then(|a| a.parse().ok());
                self.sync_run_picker();
                self.render_tables();
                if let Some(c) = self.el("timeline-figure") {
                    c.scroll_into_view();
                }
            }
            _ => {}
        }
    }

    /// A form control changed (`id` is the element's id, or `scenario` for a checkbox).
    pub fn input(&mut self, id: &str) {
        if id == "timeline-run" {
            let v = self
                .el("timeline-run")
                .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
                .map(|s| s.value())
                .unwrap_or_default();
            self.pinned = v.parse().ok();
            self.timeline_drawn_for = None;
            self.render_tables();
            return;
        }
        self.read_form();
        self.update_share();
        if self.state != PageState::Running && self.state != PageState::Error {
            // Show the new layout of the table (new columns, new rows) before anything runs.
            if self.sweep.is_none() {
                self.render_tables();
            }
        }
        self.update_buttons();
    }

    fn run(&mut self) {
        if self.state == PageState::Running || self.pool_ms().is_none() {
            return;
        }
        if let Some(e) = &self.form_error {
            self.set_status(&format!("Cannot run: {e}"));
            return;
        }
        let config = self.config.clone();
        self.sweep = Some(match self.mode {
            Some(Mode::Cooperative) => Sweep::external(config),
            _ => Sweep::start(config),
        });
        self.coop = Coop::default();
        self.runs.clear();
        self.results.clear();
        self.pinned = None;
        self.last_live = None;
        self.timeline_drawn_for = None;
        let url = format!(
            "?{}{}",
            if self.embed { "embed=1&" } else { "" },
            params::to_query(&self.config)
        );
        if let Ok(h) = self.window.history() {
            let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&url));
        }
        self.set_state(PageState::Running);
        self.sync_run_picker();
        self.render_tables();
        self.update_buttons();
    }

    fn pool_ms(&self) -> Option<f64> {
        match self.pool {
            Pool::Ready { ms, .. } => Some(ms),
            _ => None,
        }
    }

    /// The URL that reproduces the current settings.
    pub fn share_url(&self) -> String {
        let loc = self.window.location();
        format!(
            "{}{}?{}",
            loc.origin().unwrap_or_default(),
            loc.pathname().unwrap_or_default(),
            params::to_query(&self.config)
        )
    }

    /// The snippet that embeds the compact view with the current settings in a blog post: an
    /// iframe, and the optional script that fits its height to the content.
    pub fn embed_code(&self) -> String {
        let loc = self.window.location();
        let origin = loc.origin().unwrap_or_default();
        let path = loc.pathname().unwrap_or_default();
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        format!(
            "<iframe src=\"{origin}{path}?embed=1&{query}\" title=\"gil-lab: a Python thread and a \
             process beside a CPU-heavy thread, live\" style=\"width:100%;max-width:760px;\
             height:640px;border:0\" loading=\"lazy\" allow=\"cross-origin-isolated\"></iframe>\
             <script src=\"{origin}{dir}embed-host.js\" async></script>",
            query = params::to_query(&self.config),
        )
    }

    fn report(&self) -> SweepReport {
        let config = self
            .sweep
            .as_ref()
            .map_or_else(|| self.config.clone(), |s| s.config.clone());
        SweepReport {
            config,
            results: self.results.clone(),
        }
    }

    fn download(&self, format: Format, ext: &str, mime: &str) {
        if self.results.is_empty() {
            return;
        }
        let bytes = format.exporter().serialize(&self.report());
        let text = String::from_utf8_lossy(&bytes);
        let _ = self.save(&text, &format!("gil-lab-sweep.{ext}"), mime);
    }

    fn save(&self, text: &str, name: &str, mime: &str) -> Result<(), JsValue> {
        // A string part, not a view of wasm memory: Blob refuses views of shared memory.
        let parts = js_sys::Array::of1(&JsValue::from_str(text));
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type(mime);
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob)?;
        let a: web_sys::HtmlAnchorElement = self.doc.create_element("a")?.dyn_into()?;
        a.set_href(&url);
        a.set_download(name);
        a.click();
        web_sys::Url::revoke_object_url(&url)
    }

    /// A JSON snapshot of the page's state, for scripts and embeds.
    pub fn snapshot(&self) -> String {
        let snapshot = Snapshot {
            state: self.state.name(),
            mode: self.mode.map(Mode::name),
            pool_ms: self.pool_ms(),
            ready_ms: match self.pool {
                Pool::Ready { at_ms, .. } => Some(at_ms),
                _ => None,
            },
            runs_total: self.sweep.as_ref().map_or(0, |s| s.runs().len()),
            runs_done: self.results.len(),
            live: self.live_cell().map(|l| LiveSnapshot {
                scenario: l.scenario,
                delay_s: l.delay_s,
                count: l.count,
                elapsed_s: l.elapsed_s,
            }),
            results: &self.results,
        };
        serde_json::to_string(&snapshot).unwrap_or_default()
    }

    // ---- The frame -----------------------------------------------------------------------------

    /// Called every animation frame: read what the workers did, update the page.
    pub fn frame(&mut self) {
        let mut results_changed = false;
        if let Some(sweep) = self.sweep.clone() {
            results_changed = self.poll(&sweep);
            self.update_status(&sweep);
        }
        // Read first, while the layout of the last frame is still clean (cheap); the canvas and
        // the chart are measured again only when this changed (a resize, a scroll bar).
        let window_width = self
            .doc
            .document_element()
            .map_or(0.0, |e| f64::from(e.client_width()));
        let resized = window_width != self.window_width;
        self.window_width = window_width;
        let live_key = self.live_cell().map(|l| (self.runs.len(), l.count));
        if results_changed || resized {
            self.render_tables();
        } else if live_key != self.last_live {
            self.render_live();
        }
        self.last_live = live_key;
        self.draw_timeline(resized);
    }

    /// Reads new logs, events and results. Returns whether the results changed.
    fn poll(&mut self, sweep: &Arc<Sweep>) -> bool {
        if let (Some(Mode::Cooperative), Some(run)) = (self.mode, self.coop.in_flight) {
            self.coop_release(run, false);
        }
        while self.runs.len() < sweep.started() {
            let i = self.runs.len();
            let Some(log) = sweep.try_log(i) else { break };
            self.runs.push(RunView {
                log,
                cursor: 0,
                timeline: Timeline::new(sweep.runs()[i].scenario),
            });
            self.sync_run_picker();
        }
        for run in self.runs.iter_mut().filter(|r| !r.timeline.finished) {
            read_events(run);
        }
        let mut changed = false;
        if sweep.results_len() > self.results.len() {
            if let Some(new) = sweep.try_results_since(self.results.len()) {
                for r in new {
                    let i = self.results.len();
                    if let Some(run) = self.runs.get_mut(i) {
                        read_events(run);
                        run.timeline.finish(&r);
                    }
                    self.results.push(r);
                    changed = true;
                }
            }
        }
        if let Some(live) = sweep.live() {
            // A cooperative interpreter cannot report while it is inside a `z * z`: its clock
            // goes on here, up to the controller's wake-up, as the pool's controller reports it.
            let zero = self.coop.zeros.get(live.run).copied().flatten();
            if let (Some(Mode::Cooperative), Some(zero)) = (self.mode, zero) {
                let delay = sweep.runs()[live.run].delay.as_secs_f64();
                let here = ((self.abs_now_ms() - zero) / 1e3).min(delay + 1e-3);
                if here > live.elapsed_s {
                    sweep.set_live(live.count, (here * 1e6) as u64, 0);
                }
            }
            // Cooperative runs start a while after their log (the workers load first): their
            // time axis starts at the start signal instead.
            let shift = match self.mode {
                Some(Mode::Cooperative) => self.coop.shift_us(live.run),
                _ => Some(0),
            };
            if let (Some(run), Some(shift)) = (self.runs.get_mut(live.run), shift) {
                let now = run.log.now_us().saturating_sub(shift);
                run.timeline.set_go(live.go_us);
                run.timeline.advance(now);
            }
        }
        changed
    }

    fn update_status(&mut self, sweep: &Arc<Sweep>) {
        let total = sweep.runs().len();
        match sweep.status() {
            Status::Running => {
                let text = match sweep.live() {
                    Some(l) => {
                        let cfg = &sweep.runs()[l.run];
                        format!(
                            "Run {} of {total}: {} with a {} s delay, {}.",
                            l.run + 1,
                            cfg.scenario,
                            params::short_number(cfg.delay.as_secs_f64()),
                            if l.elapsed_s > cfg.delay.as_secs_f64() {
                                "waiting for the controller to stop it".to_string()
                            } else {
                                format!("{:.1} s", l.elapsed_s)
                            }
                        )
                    }
                    None => "Starting the next run…".into(),
                };
                self.set_status(&text);
                self.set_progress(sweep);
            }
            Status::Failed => {
                if self.state != PageState::Error {
                    let msg = sweep
                        .error()
                        .unwrap_or_else(|| "a run failed for an unknown reason".into());
                    self.fail(&format!("The sweep stopped: {msg}"));
                }
            }
            status @ (Status::Done | Status::Stopped) => {
                // Done only once every result has been read and shown.
                if self.state == PageState::Running && self.results.len() == sweep.results_len() {
                    self.set_progress(sweep);
                    self.set_status(&if status == Status::Done {
                        if self.embed {
                            format!("Done: {total} runs. The full demo has more settings.")
                        } else {
                            format!("Done: {total} runs. Download the results or change the settings and run again.")
                        }
                    } else {
                        format!("Stopped after {} of {total} runs.", self.results.len())
                    });
                    self.render_tables();
                    self.set_state(PageState::Done);
                    self.update_buttons();
                }
            }
        }
    }

    fn set_progress(&self, sweep: &Sweep) {
        let runs = sweep.runs();
        let total: f64 = runs
            .iter()
            .map(|r| r.delay.as_secs_f64())
            .sum::<f64>()
            .max(1e-9);
        let done: f64 = runs[..self.results.len().min(runs.len())]
            .iter()
            .map(|r| r.delay.as_secs_f64())
            .sum();
        let live = sweep
            .live()
            .map_or(0.0, |l| l.elapsed_s.min(runs[l.run].delay.as_secs_f64()));
        let value = ((done + live) / total).min(1.0);
        if (value - self.progress.get()).abs() < 0.002 {
            return;
        }
        self.progress.set(value);
        if let Some(p) = self.el("progress") {
            let _ = p.set_attribute("value", &format!("{value:.3}"));
        }
    }

    fn live_cell(&self) -> Option<LiveCell> {
        let sweep = self.sweep.as_ref()?;
        let live = sweep.live()?;
        let cfg = sweep.runs().get(live.run)?;
        Some(LiveCell {
            scenario: cfg.scenario,
            delay_s: cfg.delay.as_secs_f64(),
            count: live.count,
            elapsed_s: live.elapsed_s,
        })
    }

    // ---- Rendering -----------------------------------------------------------------------------

    fn shown_run(&self) -> Option<usize> {
        self.pinned
            .filter(|&i| i < self.runs.len())
            .or_else(|| self.runs.len().checked_sub(1))
    }

    fn sweep_config(&self) -> SweepConfig {
        self.sweep
            .as_ref()
            .map_or_else(|| self.config.clone(), |s| s.config.clone())
    }

    /// Everything that depends on the results and the live count.
    fn render_tables(&mut self) {
        self.render_live();
        self.render_results();
    }

    /// The counters and the seed's table: about ten times a second while a run goes on.
    fn render_live(&self) {
        let config = self.sweep_config();
        let live = self.live_cell();
        self.set_html("counters", &html::counters(&config, &self.results, live));
        self.set_html(
            "seed-table",
            &html::seed_table(&config, &self.results, live),
        );
    }

    /// The run list and the chart: when a run finishes or the layout changes.
    fn render_results(&mut self) {
        let config = self.sweep_config();
        self.set_html(
            "results-body",
            &html::results_rows(&self.results, self.pinned),
        );
        let width = self.el("chart").map_or(560, |e| e.client_width());
        self.set_html(
            "chart",
            &html::chart_svg(&config, &self.results, f64::from(width)),
        );
        self.set_html("chart-legend", &html::chart_legend(&config));
        self.show("results-empty", self.results.is_empty());
    }

    fn sync_run_picker(&self) {
        let Some(sweep) = &self.sweep else { return };
        let mut opts = format!(
            "<option value=\"live\"{}>Follow the live run</option>",
            if self.pinned.is_none() {
                " selected"
            } else {
                ""
            }
        );
        for (i, cfg) in sweep.runs().iter().enumerate().take(self.runs.len()) {
            opts.push_str(&format!(
                "<option value=\"{i}\"{}>{}: {} at {} s</option>",
                if self.pinned == Some(i) {
                    " selected"
                } else {
                    ""
                },
                i + 1,
                html::esc(cfg.scenario.name()),
                params::short_number(cfg.delay.as_secs_f64())
            ));
        }
        self.set_html("timeline-run", &opts);
        self.show("timeline-run", true);
    }

    fn draw_timeline(&mut self, resized: bool) {
        let Some(canvas) = self
            .el("timeline")
            .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok())
        else {
            return;
        };
        let dark = self.dark_query.as_ref().is_some_and(|m| m.matches());
        // Reading the canvas's width forces a layout: only after a resize.
        let width = if resized || self.canvas_width == 0 {
            canvas.client_width()
        } else {
            self.canvas_width
        };
        if self.dark != Some(dark) || self.canvas_width != width {
            self.palette = Palette::read(&self.window, &canvas);
            self.dark = Some(dark);
            self.canvas_width = width;
            self.timeline_drawn_for = None;
        }
        let shown = self.shown_run();
        // A live timeline is redrawn about 30 times a second: smooth enough for a growing bar,
        // and half the painting of every frame.
        let key = DrawKey {
            run: shown,
            now_us: shown.map_or(0, |i| self.runs[i].timeline.now_us / FRAME_US * FRAME_US),
            finished: shown.is_some_and(|i| self.results.get(i).is_some()),
        };
        if self.timeline_drawn_for == Some(key) {
            return;
        }
        let summary_due = self.timeline_drawn_for.is_none_or(|k| {
            k.run != key.run
                || k.finished != key.finished
                || key.now_us / 250_000 != k.now_us / 250_000
        });
        self.timeline_drawn_for = Some(key);
        let sweep = self.sweep.clone();
        let data = shown.and_then(|i| {
            let cfg = sweep.as_ref()?.runs().get(i)?;
            Some((&self.runs[i].timeline, cfg))
        });
        let result = shown.and_then(|i| self.results.get(i));
        canvas::draw(
            &self.window,
            &canvas,
            self.canvas_width,
            &self.palette,
            data,
            result,
        );
        if summary_due {
            self.set_html("timeline-summary", &self.timeline_summary(shown));
            let title = shown
                .and_then(|i| Some((i, sweep.as_ref()?.runs().get(i)?)))
                .map_or_else(
                    || "Nothing has run yet".to_string(),
                    |(i, cfg)| {
                        format!(
                            "{} · delay {} s{}",
                            cfg.scenario,
                            params::short_number(cfg.delay.as_secs_f64()),
                            if self.results.get(i).is_some() {
                                ""
                            } else {
                                " · live"
                            }
                        )
                    },
                );
            self.set_text("timeline-title", &title);
        }
    }

    fn timeline_summary(&self, shown: Option<usize>) -> String {
        let Some(i) = shown else {
            return String::new();
        };
        let Some(cfg) = self.sweep.as_ref().and_then(|s| s.runs().get(i)) else {
            return String::new();
        };
        let t = &self.runs[i].timeline;
        let end = t.now_us.max(1);
        let titles = canvas::lane_titles(cfg);
        let mut out = String::new();
        for (lane, title) in t.lanes.iter().zip(titles.iter()) {
            if lane.spans.iter().all(|s| s.state == LaneState::Released)
                && lane.op_starts.is_empty()
            {
                continue;
            }
            let s = lane.shares(end);
            let total = end as f64 / 1e6;
            let mut parts = Vec::new();
            if s.no_lock_s > 0.0 {
                parts.push(format!(
                    "ran with no lock {}",
                    html::percent(s.no_lock_s / total)
                ));
            }
            if s.holding_s + s.asked_s > 0.0 {
                parts.push(format!(
                    "held the lock {}",
                    html::percent((s.holding_s + s.asked_s) / total)
                ));
            }
            if s.waiting_s > 0.0 {
                parts.push(format!(
                    "waited for it {}",
                    html::percent(s.waiting_s / total)
                ));
            }
            if !lane.op_starts.is_empty() {
                parts.push(format!("{} operations", lane.op_starts.len()));
            }
            out.push_str(&format!(
                "<li><b>{}</b>: {}</li>",
                html::esc(title),
                html::esc(&parts.join(", "))
            ));
        }
        if let Some(r) = self.results.get(i) {
            out.push_str(&format!(
                "<li><b>late stop</b>: the controller woke at {} s and cleared the flag {} later.</li>",
                params::short_number(r.delay_s),
                html::seconds(r.stop_lag_s)
            ));
        }
        if t.lanes.iter().any(|l| l.capped_at_us.is_some()) {
            out.push_str(&format!(
                "<li>The lock changed hands more than {} times on one lane: the rest of the run \
                 is drawn as a grey bar.</li>",
                super::timeline::MAX_SPANS
            ));
        }
        if t.lost > 0 {
            out.push_str(&format!(
                "<li>{} early events were dropped from the picture (the log keeps the last {}).</li>",
                t.lost, LOG_CAPACITY
            ));
        }
        out
    }

    // ---- The form ------------------------------------------------------------------------------

    fn checkboxes(&self) -> Vec<HtmlInputElement> {
        let Ok(list) = self.doc.query_selector_all("input[name=scenario]") else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|n| n.dyn_into::<HtmlInputElement>().ok())
            .collect()
    }

    fn input_el(&self, id: &str) -> Option<HtmlInputElement> {
        self.el(id).and_then(|e| e.dyn_into().ok())
    }

    fn fill_form(&self) {
        for cb in self.checkboxes() {
            let on = cb
                .value()
                .parse::<Scenario>()
                .is_ok_and(|s| self.config.scenarios.contains(&s));
            cb.set_checked(on);
        }
        if let Some(i) = self.input_el("delays") {
            i.set_value(&params::delay_list(&self.config.delays).replace(',', ", "));
        }
        if let Some(s) = self
            .el("load")
            .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
        {
            s.set_value(self.config.load.name());
        }
        if let Some(i) = self.input_el("interval") {
            i.set_value(&params::ms(self.config.interval));
        }
    }

    fn read_form(&mut self) {
        let mut errors = Vec::new();
        let checked: Vec<Scenario> = self
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
        if let Some(i) = self.input_el("delays") {
            match parse_delays(&i.value()) {
                Ok(d) => self.config.delays = d,
                Err(e) => errors.push(e.0),
            }
        }
        if let Some(s) = self
            .el("load")
            .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
        {
            match parse_load(&s.value()) {
                Ok(l) => self.config.load = l,
                Err(e) => errors.push(e.0),
            }
        }
        if let Some(i) = self.input_el("interval") {
            match parse_interval_ms(&i.value()) {
                Ok(d) => self.config.interval = d,
                Err(e) => errors.push(e.0),
            }
        }
        self.form_error = (!errors.is_empty()).then(|| errors.join("; "));
        match &self.form_error {
            Some(e) => {
                self.set_text("form-error", &format!("{}.", capitalise(e)));
                self.show("form-error", true);
            }
            None => self.show("form-error", false),
        }
        let est = self.config.total_delay().as_secs_f64();
        self.set_text(
            "estimate",
            &format!(
                "{} runs, about {} s (more with a load: see the late stop).",
                self.config.scenarios.len() * self.config.delays.len(),
                params::short_number(est.round())
            ),
        );
    }

    fn update_share(&mut self) {
        let url = self.share_url();
        if let Some(i) = self.input_el("share-url") {
            i.set_value(&url);
        }
        if let Some(a) = self.el("full-demo") {
            let _ = a.set_attribute("href", &url);
        }
        if !self.embed {
            let code = self.embed_code();
            if let Some(i) = self.input_el("embed-code") {
                i.set_value(&code);
            }
        }
    }

    fn update_buttons(&self) {
        let running = self.state == PageState::Running;
        let can_run = !running
            && self.pool_ms().is_some()
            && self.form_error.is_none()
            && self.state != PageState::Error;
        self.set_disabled("run", !can_run);
        let stopping = self.sweep.as_ref().is_some_and(|s| s.stop_requested());
        self.set_disabled("stop", !running || stopping);
        let none = self.results.is_empty() || running;
        self.set_disabled("download-csv", none);
        self.set_disabled("download-json", none);
        if let Some(b) = self.el("run") {
            b.set_text_content(Some(if self.results.is_empty() {
                "Run"
            } else {
                "Run again"
            }));
        }
        if let Some(f) = self.el("settings") {
            let _ = f.set_attribute("aria-busy", if running { "true" } else { "false" });
        }
    }

    fn show_notices(&self, notices: &[String]) {
        if notices.is_empty() {
            return;
        }
        let items: String = notices
            .iter()
            .map(|n| format!("<li>{}</li>", html::esc(n)))
            .collect();
        self.set_html("notice-list", &items);
        self.show("notice", true);
    }

    // ---- DOM helpers ---------------------------------------------------------------------------

    fn el(&self, id: &str) -> Option<Element> {
        self.doc.get_element_by_id(id)
    }

    fn set_text(&self, id: &str, text: &str) {
        if let Some(e) = self.el(id) {
            if e.text_content().as_deref() != Some(text) {
                e.set_text_content(Some(text));
            }
        }
    }

    /// Replaces an element's content, unless it already shows exactly this (compared with what
    /// was last written, without reading the DOM back).
    fn set_html(&self, id: &'static str, html: &str) {
        let mut rendered = self.rendered.borrow_mut();
        if rendered.get(id).map(String::as_str) == Some(html) {
            return;
        }
        if let Some(e) = self.el(id) {
            e.set_inner_html(html);
            rendered.insert(id, html.to_string());
        }
    }

    fn show(&self, id: &str, visible: bool) {
        if let Some(e) = self.el(id).and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
            e.set_hidden(!visible);
        }
    }

    fn set_disabled(&self, id: &str, disabled: bool) {
        if let Some(e) = self.el(id) {
            let _ = e.toggle_attribute_with_force("disabled", disabled);
        }
    }

    fn set_status(&self, text: &str) {
        self.set_text("status", text);
    }

    fn set_attr_root(&self, name: &str, value: &str) {
        if let Some(root) = self.doc.document_element() {
            let _ = root.set_attribute(name, value);
        }
    }

    fn set_state(&mut self, state: PageState) {
        self.state = state;
        self.set_attr_root("data-state", state.name());
    }
}

/// What [`Page::snapshot`] returns.
#[derive(Serialize)]
struct Snapshot<'a> {
    state: &'static str,
    mode: Option<&'static str>,
    pool_ms: Option<f64>,
    ready_ms: Option<f64>,
    runs_total: usize,
    runs_done: usize,
    live: Option<LiveSnapshot>,
    results: &'a [RunResult],
}

#[derive(Serialize)]
struct LiveSnapshot {
    scenario: Scenario,
    delay_s: f64,
    count: u64,
    elapsed_s: f64,
}

/// How often a live timeline is redrawn, in microseconds of its clock.
const FRAME_US: u64 = 33_000;

/// What the timeline canvas last showed: nothing to redraw while it is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DrawKey {
    run: Option<usize>,
    now_us: u64,
    finished: bool,
}

fn read_events(run: &mut RunView) {
    let out = run.log.read_since(run.cursor);
    run.cursor = out.cursor;
    run.timeline.lost += out.lost;
    for e in &out.events {
        run.timeline.apply(e);
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
