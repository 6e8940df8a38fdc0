//! The `#[wasm_bindgen]` surface of the web page: what `www/app.js` calls, and nothing else.
//!
//! The page's logic lives in the submodules; JavaScript only loads the module, starts the pool of
//! Web Workers, forwards clicks and form input, and calls [`Page::frame`] every animation frame.
//!
//! - [`sweep`]: a sweep running in the pool, and the state it shares with the main thread;
//! - [`timeline`]: a run's lock events turned into per-worker lanes;
//! - [`params`]: the URL parameters and the settings form, checked with the CLI's parsers;
//! - [`html`], [`canvas`]: drawing tables, counters, the chart and the timeline.
//!
//! Without shared memory (an iframe in a page that is not cross-origin isolated), the page runs in
//! cooperative mode instead: [`CoopInterpreter`] and [`CoopIsolated`] run [`crate::coop`] in
//! workers of their own, started by `www/app.js` and `www/coop-worker.js`.

pub mod canvas;
pub mod html;
mod page;
pub mod params;
pub mod sweep;
pub mod timeline;

use crate::coop::{self, Step};
use crate::scenario::RunConfig;
use std::time::Duration;
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

    /// The iframe snippet that embeds the compact view with the current settings.
    #[wasm_bindgen(js_name = embedCode)]
    pub fn embed_code(&self) -> String {
        self.0.embed_code()
    }

    /// Shared memory is unavailable and nothing else can run: show the plain explanation.
    #[wasm_bindgen(js_name = cannotRun)]
    pub fn cannot_run(&mut self) {
        self.0.cannot_run();
    }

    /// Shared memory is unavailable: runs go to workers that share none (cooperative mode).
    #[wasm_bindgen(js_name = coopReady)]
    pub fn coop_ready(&mut self) {
        self.0.coop_ready();
    }

    /// Cooperative mode: the next run to start (JSON), or `undefined`; call every frame.
    #[wasm_bindgen(js_name = coopNext)]
    pub fn coop_next(&mut self) -> Option<String> {
        self.0.coop_next()
    }

    /// Cooperative mode: events a worker of run `run` posted.
    #[wasm_bindgen(js_name = coopEvents)]
    pub fn coop_events(&mut self, run: usize, epoch_ms: f64, go_ms: f64, events: &[f64]) {
        self.0.coop_events(run, epoch_ms, go_ms, events);
    }

    /// Cooperative mode: the live count of run `run`.
    #[wasm_bindgen(js_name = coopLive)]
    pub fn coop_live(&mut self, run: usize, count: f64, elapsed_s: f64, go_ms: f64) {
        self.0.coop_live(run, count, elapsed_s, go_ms);
    }

    /// Cooperative mode: run `run` finished with this result.
    #[wasm_bindgen(js_name = coopResult)]
    pub fn coop_result(&mut self, run: usize, result: &[f64]) {
        self.0.coop_result(run, result);
    }

    /// Cooperative mode: a worker failed.
    #[wasm_bindgen(js_name = coopFailed)]
    pub fn coop_failed(&mut self, message: &str) {
        self.0.coop_failed(message);
    }
}

// ---- Cooperative mode: what its workers call (www/coop-worker.js) -----------------------------

/// The URL of this module's JavaScript, for a worker to import it.
#[wasm_bindgen(js_name = coopMainJs)]
pub fn main_js_url() -> js_sys::JsString {
    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
        static URL: js_sys::JsString;
    }
    URL.with(Clone::clone)
}

/// The compiled wasm module, for a worker to instantiate with a memory of its own.
#[wasm_bindgen(js_name = coopModule)]
pub fn wasm_module() -> JsValue {
    wasm_bindgen::module()
}

/// The message of a panic in this instance, if one happened.
#[wasm_bindgen(js_name = panicMessage)]
pub fn panic_message() -> Option<String> {
    crate::platform::web::worker_panic()
}

/// A run's settings from the page's job (already checked by the page's parsers).
fn run_config(
    scenario: &str,
    delay_s: f64,
    load: &str,
    interval_ms: f64,
) -> Result<RunConfig, JsError> {
    use crate::gil::{MAX_INTERVAL, MIN_INTERVAL};
    let err = |e: crate::ConfigError| JsError::new(&e.0);
    if !(delay_s.is_finite() && delay_s >= 0.0 && interval_ms.is_finite()) {
        return Err(JsError::new("a run needs a delay and a switch interval"));
    }
    Ok(RunConfig {
        scenario: scenario.parse().map_err(err)?,
        delay: Duration::from_secs_f64(delay_s),
        load: crate::scenario::parse_load(load).map_err(err)?,
        interval: Duration::from_nanos((interval_ms.max(0.0) * 1e6).round() as u64)
            .clamp(MIN_INTERVAL, MAX_INTERVAL),
    })
}

/// [`Step`] as one number for JavaScript: `>= 0` idle for that many milliseconds.
const AGAIN: f64 = -1.0;
const STOP_ISOLATED: f64 = -2.0;
const WAIT_ISOLATED: f64 = -3.0;
const DONE: f64 = -4.0;

/// One interpreter of a run (controller, incrementer thread, load thread) taking turns on this
/// worker: [`crate::coop::Interpreter`].
#[wasm_bindgen]
pub struct CoopInterpreter(coop::Interpreter);

#[wasm_bindgen]
impl CoopInterpreter {
    /// The interpreter of a run, at its start barrier.
    #[wasm_bindgen(constructor)]
    pub fn new(
        scenario: &str,
        delay_s: f64,
        load: &str,
        interval_ms: f64,
    ) -> Result<CoopInterpreter, JsError> {
        crate::platform::web::install_panic_hook();
        let cfg = run_config(scenario, delay_s, load, interval_ms)?;
        Ok(Self(coop::Interpreter::new(cfg)))
    }

    /// Microseconds on this interpreter's clock.
    #[wasm_bindgen(js_name = nowUs)]
    pub fn now_us(&self) -> f64 {
        self.0.now_us() as f64
    }

    /// The start signal.
    pub fn go(&mut self) {
        self.0.go();
    }

    /// Runs for about `budget_ms`: `-1` again, `-2` stop the isolated incrementer, `-3` wait for
    /// its outcome, `-4` done, `>= 0` idle for that many milliseconds.
    pub fn step(&mut self, budget_ms: f64) -> f64 {
        match self
            .0
            .step(Duration::from_secs_f64(budget_ms.max(0.0) / 1e3))
        {
            Step::Again => AGAIN,
            Step::Idle(d) => d.as_secs_f64() * 1e3,
            Step::StopIsolated => STOP_ISOLATED,
            Step::WaitIsolated => WAIT_ISOLATED,
            Step::Done => DONE,
        }
    }

    /// The incrementer's count so far.
    pub fn count(&self) -> f64 {
        self.0.count() as f64
    }

    /// Seconds since the start signal.
    #[wasm_bindgen(js_name = elapsedS)]
    pub fn elapsed_s(&self) -> f64 {
        self.0.elapsed_s()
    }

    /// Events since the last call, as numbers.
    #[wasm_bindgen(js_name = takeEvents)]
    pub fn take_events(&mut self) -> Vec<f64> {
        coop::encode_events(&self.0.take_events())
    }

    /// The isolated incrementer's outcome ([`CoopIsolated::outcome`]).
    #[wasm_bindgen(js_name = isolatedFinished)]
    pub fn isolated_finished(&mut self, outcome: &[f64]) -> Result<(), JsError> {
        let o = coop::decode_outcome(outcome)
            .ok_or_else(|| JsError::new("the isolated incrementer's outcome cannot be read"))?;
        self.0.isolated_finished(o);
        Ok(())
    }

    /// The run's result, as numbers.
    pub fn result(&self) -> Vec<f64> {
        coop::encode_result(&self.0.result())
    }
}

/// The incrementer of an interpreter of its own, or of a free-threaded one, on this worker:
/// [`crate::coop::IsolatedIncrementer`].
#[wasm_bindgen]
pub struct CoopIsolated(coop::IsolatedIncrementer);

#[wasm_bindgen]
impl CoopIsolated {
    /// The incrementer of a run, at its start barrier.
    #[wasm_bindgen(constructor)]
    pub fn new(
        scenario: &str,
        delay_s: f64,
        load: &str,
        interval_ms: f64,
    ) -> Result<CoopIsolated, JsError> {
        crate::platform::web::install_panic_hook();
        let cfg = run_config(scenario, delay_s, load, interval_ms)?;
        Ok(Self(coop::IsolatedIncrementer::new(cfg)))
    }

    /// Microseconds on this incrementer's clock.
    #[wasm_bindgen(js_name = nowUs)]
    pub fn now_us(&self) -> f64 {
        self.0.now_us() as f64
    }

    /// The start signal.
    pub fn go(&mut self) {
        self.0.go();
    }

    /// Clears its running flag.
    pub fn stop(&self) {
        self.0.stop();
    }

    /// Counts for about `budget_ms`; true once it has stopped.
    pub fn step(&mut self, budget_ms: f64) -> bool {
        self.0
            .step(Duration::from_secs_f64(budget_ms.max(0.0) / 1e3))
    }

    /// The count so far.
    pub fn count(&self) -> f64 {
        self.0.count() as f64
    }

    /// Seconds since the start signal.
    #[wasm_bindgen(js_name = elapsedS)]
    pub fn elapsed_s(&self) -> f64 {
        self.0.elapsed_s()
    }

    /// Events since the last call, as numbers.
    #[wasm_bindgen(js_name = takeEvents)]
    pub fn take_events(&mut self) -> Vec<f64> {
        coop::encode_events(&self.0.take_events())
    }

    /// What it reports once stopped, as numbers.
    pub fn outcome(&self) -> Vec<f64> {
        coop::encode_outcome(&self.0.outcome())
    }
}
