//! What the reader does (buttons, links, downloads) and what the cooperative workers post.

use super::super::params;
use super::super::source::{Cooperative, RunSource, Threaded};
use super::runs::Runs;
use super::{Mode, Page, PageState};
use crate::coop::wire::{self, Job, PageMessage};
use crate::report::{CsvExporter, Exporter, Format, JsonExporter};
use crate::scenario::SweepReport;
use wasm_bindgen::{JsCast, JsValue};

impl Page {
    /// A button with `data-action` was pressed; `arg` is its `data-run`, if any.
    pub fn action(&mut self, name: &str, arg: Option<String>) {
        match name {
            "run" => self.run(),
            "stop" => {
                if let Some(s) = &self.runs.source {
                    s.shared().request_stop();
                    self.dom
                        .set_text("status", "Stopping after the run in progress…");
                    self.update_buttons();
                }
            }
            "download-csv" => self.download(Format::Csv),
            "download-json" => self.download(Format::Json),
            "download-trace" => self.download_trace(),
            "tl-pause" => self.toggle_pause(),
            "tl-zoom-in" => self.timeline_zoom(0.5, -1.0),
            "tl-zoom-out" => self.timeline_zoom(2.0, -1.0),
            "tl-whole" => self.instrument.view.whole(),
            "story-next" => self.story_go(1),
            "story-back" => self.story_go(-1),
            "show-run" => {
                self.runs.pinned = arg.and_then(|a| a.parse().ok());
                self.reset_view();
                self.sync_run_picker();
                self.render_tables();
                if let Some(c) = self.dom.el("timeline-figure") {
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
                .dom
                .select("timeline-run")
                .map(|s| s.value())
                .unwrap_or_default();
            self.runs.pinned = v.parse().ok();
            self.reset_view();
            self.redraw_timeline();
            self.render_tables();
            return;
        }
        if id == "timeline-compare" {
            let v = self
                .dom
                .select("timeline-compare")
                .map(|s| s.value())
                .unwrap_or_default();
            self.instrument.compare = v.parse().ok();
            self.instrument.selected = None;
            self.update_readout();
            self.redraw_timeline();
            return;
        }
        self.form.read(&self.dom);
        self.update_share();
        // Show the new layout of the table (new columns, new rows) before anything runs.
        if self.runs.source.is_none() && self.state != PageState::Error {
            self.render_tables();
        }
        self.update_buttons();
    }

    pub(super) fn run(&mut self) {
        let Some(mode) = self.mode() else { return };
        if self.state == PageState::Running || self.state == PageState::Error {
            return;
        }
        if let Some(e) = &self.form.error {
            self.dom.set_text("status", &format!("Cannot run: {e}"));
            return;
        }
        let config = self.form.config.clone();
        if let (Mode::Cooperative, Some(why)) = (mode, crate::coop::unsupported(&config)) {
            let why = crate::report::markup::sentence(&why);
            self.dom.set_text("status", &format!("Cannot run: {why}"));
            return;
        }
        self.runs = Runs::new(match mode {
            Mode::Threads => Box::new(Threaded::start(config)) as Box<dyn RunSource>,
            Mode::Cooperative => Box::new(Cooperative::new(config)),
        });
        self.instrument = Default::default();
        self.dom.set_text("tl-pause", "Pause");
        self.dom.set_attr("tl-pause", "aria-pressed", "false");
        self.last_live = None;
        self.redraw_timeline();
        self.replace_address();
        self.set_state(PageState::Running);
        self.show_verdict();
        self.story_shown = None;
        self.show_story();
        self.sync_run_picker();
        self.render_tables();
        self.update_buttons();
    }

    /// Cooperative mode: the next run for Web Workers to start, if any.
    pub fn next_job(&mut self) -> Option<Job> {
        let now_ms = self.now_ms();
        self.runs.source.as_mut()?.cooperative()?.next_job(now_ms)
    }

    /// Cooperative mode: a message a worker posted. Returns whether its run is over, so its
    /// workers may be ended.
    pub fn worker_message(&mut self, text: &str) -> bool {
        let Some(source) = self.runs.source.as_mut().and_then(|s| s.cooperative()) else {
            return true;
        };
        match wire::from_text::<PageMessage>(text, "worker") {
            Ok(message) => source.worker_message(message),
            Err(e) => {
                source.worker_failed(&e);
                true
            }
        }
    }

    /// Cooperative mode: a worker of the run in progress failed outside its messages.
    pub fn worker_failed(&mut self, message: &str) {
        if let Some(source) = self.runs.source.as_mut().and_then(|s| s.cooperative()) {
            source.worker_failed(message);
        }
    }

    /// `story=1&step=2&` in the guided story, else nothing.
    fn story_query(&self) -> String {
        self.story
            .map_or_else(String::new, |n| format!("story=1&step={}&", n + 1))
    }

    /// Puts the settings run (and the story's step) in the address bar, without a reload.
    pub(super) fn replace_address(&self) {
        let url = format!(
            "?{}{}{}",
            if self.embed { "embed=1&" } else { "" },
            self.story_query(),
            params::to_query(&self.form.config)
        );
        if let Ok(h) = self.window.history() {
            let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&url));
        }
    }

    /// The URL that reproduces the current settings (and the story's step).
    pub fn share_url(&self) -> String {
        let loc = self.window.location();
        format!(
            "{}{}?{}{}",
            loc.origin().unwrap_or_default(),
            loc.pathname().unwrap_or_default(),
            self.story_query(),
            params::to_query(&self.form.config)
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
            "<iframe src=\"{origin}{path}?embed=1&{story}{query}\" title=\"gil-lab: a Python thread and a \
             process beside a CPU-heavy thread, live\" style=\"width:100%;max-width:760px;\
             height:640px;border:0\" loading=\"lazy\" allow=\"cross-origin-isolated\"></iframe>\
             <script src=\"{origin}{dir}embed-host.js\" async></script>",
            story = self.story_query(),
            query = params::to_query(&self.form.config),
        )
    }

    fn download(&self, format: Format) {
        if self.runs.results.is_empty() {
            return;
        }
        let report = SweepReport {
            config: self.runs.config(&self.form.config),
            results: self.runs.results.clone(),
        };
        // The two exporters by name, not `format.exporter()`: that would link the table and
        // Markdown exporters into the `.wasm` too.
        let bytes = match format {
            Format::Json => JsonExporter.serialize(&report),
            _ => CsvExporter.serialize(&report),
        };
        // The exporters write UTF-8 (`from_utf8_lossy` would link 0.8 KB more code into the page).
        let text = String::from_utf8(bytes).unwrap_or_default();
        let mime = match format {
            Format::Json => "application/json",
            _ => "text/csv",
        };
        let name = format!("gil-lab-sweep.{}", format.extension());
        let _ = self.save(&text, &name, mime);
    }

    pub(super) fn save(&self, text: &str, name: &str, mime: &str) -> Result<(), JsValue> {
        // A string part, not a view of wasm memory: Blob refuses views of shared memory.
        let parts = js_sys::Array::of1(&JsValue::from_str(text));
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type(mime);
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
        let url = web_sys::Url::create_object_url_with_blob(&blob)?;
        let a: web_sys::HtmlAnchorElement = self.dom.doc().create_element("a")?.dyn_into()?;
        a.set_href(&url);
        a.set_download(name);
        a.click();
        web_sys::Url::revoke_object_url(&url)
    }
}
