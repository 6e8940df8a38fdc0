//! The `#[wasm_bindgen]` surface of the web page: what `www/app.js` calls, and nothing else.
//!
//! The page's logic lives in the submodules; JavaScript only loads the module, starts the pool of
//! Web Workers, forwards clicks and form input, and calls [`Page::frame`] every animation frame.
//!
//! - [`sweep`]: a sweep running in the pool, and the state it shares with the main thread;
//! - [`timeline`]: a run's lock events turned into per-worker lanes;
//! - [`params`]: the URL parameters and the settings form, checked with the CLI's parsers;
//! - [`html`], [`canvas`]: drawing tables, counters, the chart and the timeline.

pub mod canvas;
pub mod html;
mod page;
pub mod params;
pub mod sweep;
pub mod timeline;

use wasm_bindgen::prelude::*;

// The pool's entry point, `initThreadPool(n)`, exported to JavaScript from here.
pub use wasm_bindgen_rayon::init_thread_pool;

/// How many Web Workers to start with `initThreadPool`: never fewer than a run's blocking tasks.
#[wasm_bindgen(js_name = poolSize)]
pub fn pool_size() -> usize {
    crate::platform::web::POOL_SIZE
}

/// The page, owned by JavaScript; one per document.
#[wasm_bindgen]
pub struct Page(page::Page);

#[wasm_bindgen]
impl Page {
    /// Reads the URL and fills the form; shows the "not isolated" explanation if shared memory is
    /// unavailable. Throws if there is no document.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<Page, JsError> {
        page::Page::new()
            .map(Page)
            .ok_or_else(|| JsError::new("gil-lab's page needs a document"))
    }

    /// Whether the page is cross-origin isolated, so the pool may start.
    pub fn isolated(&self) -> bool {
        self.0.isolated()
    }

    /// The pool started in `ms` milliseconds; runs may begin (at once with `autorun=1`).
    #[wasm_bindgen(js_name = poolReady)]
    pub fn pool_ready(&mut self, ms: f64) {
        self.0.pool_ready(ms);
    }

    /// The pool could not start.
    #[wasm_bindgen(js_name = poolFailed)]
    pub fn pool_failed(&mut self, message: &str) {
        self.0.pool_failed(message);
    }

    /// A button with `data-action="name"` was pressed (`arg`: its `data-run`).
    pub fn action(&mut self, name: &str, arg: Option<String>) {
        self.0.action(name, arg);
    }

    /// A form control changed.
    pub fn input(&mut self, id: &str) {
        self.0.input(id);
    }

    /// Reads the workers' progress and updates the page; call every animation frame.
    pub fn frame(&mut self) {
        self.0.frame();
    }

    /// The URL reproducing the current settings.
    #[wasm_bindgen(js_name = shareUrl)]
    pub fn share_url(&self) -> String {
        self.0.share_url()
    }

    /// The page's state, results and live count as JSON.
    pub fn snapshot(&self) -> String {
        self.0.snapshot()
    }
}
