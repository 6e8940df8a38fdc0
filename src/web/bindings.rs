//! The `#[wasm_bindgen]` surface: what `www/app.js` and `www/coop-worker.js` call, and nothing
//! else.

use super::page;
use crate::coop::wire::{self, WorkerInput, WorkerKind};
use crate::coop::{worker, RealClock};
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
    /// Reads the URL and fills the form. Throws if there is no document.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<Page, JsError> {
        page::Page::new()
            .map(Page)
            .ok_or_else(|| JsError::new("gil-lab's page needs a document"))
    }

    /// The pool of Web Workers sharing memory started in `ms` milliseconds: threads mode.
    #[wasm_bindgen(js_name = useThreads)]
    pub fn use_threads(&mut self, ms: f64) {
        self.0.use_threads(ms);
    }

    /// No shared memory: cooperative mode; `reason` says in one sentence why, if not obvious.
    #[wasm_bindgen(js_name = useCooperative)]
    pub fn use_cooperative(&mut self, reason: Option<String>) {
        self.0.use_cooperative(reason.as_deref());
    }

    /// Nothing can run here: `cause` for `<html data-error>`, `message` for the reader.
    #[wasm_bindgen(js_name = cannotRun)]
    pub fn cannot_run(&mut self, cause: &str, message: &str) {
        self.0.cannot_run(cause, message);
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

    /// Cooperative mode: the next run for Web Workers to start (a job as text), if any;
    /// call every frame.
    #[wasm_bindgen(js_name = nextJob)]
    pub fn next_job(&mut self) -> Option<JobStart> {
        let job = self.0.next_job()?;
        Some(JobStart {
            text: wire::to_text(&job),
            kinds: job.workers.iter().map(|k| k.name().to_string()).collect(),
        })
    }

    /// Cooperative mode: a message a worker posted; `true` when its run is over.
    #[wasm_bindgen(js_name = workerMessage)]
    pub fn worker_message(&mut self, text: &str) -> bool {
        self.0.worker_message(text)
    }

    /// Cooperative mode: a worker of the run in progress failed outside its messages.
    #[wasm_bindgen(js_name = workerFailed)]
    pub fn worker_failed(&mut self, message: &str) {
        self.0.worker_failed(message);
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

    /// Zooms the timeline by `factor` (below 1: in) around the canvas pixel `x` (negative: the
    /// middle): the wheel and pinches.
    #[wasm_bindgen(js_name = timelineZoom)]
    pub fn timeline_zoom(&mut self, factor: f64, x: f64) {
        self.0.timeline_zoom(factor, x);
    }

    /// Pans the timeline by `dx` CSS pixels: a drag.
    #[wasm_bindgen(js_name = timelinePan)]
    pub fn timeline_pan(&mut self, dx: f64) {
        self.0.timeline_pan(dx);
    }

    /// Picks the span at the canvas pixel (`x`, `y`): hover or tap.
    #[wasm_bindgen(js_name = timelinePoint)]
    pub fn timeline_point(&mut self, x: f64, y: f64) {
        self.0.timeline_point(x, y);
    }

    /// A key pressed on the focused timeline; `true` if it was used.
    #[wasm_bindgen(js_name = timelineKey)]
    pub fn timeline_key(&mut self, key: &str) -> bool {
        self.0.timeline_key(key)
    }

    /// The shown run's Chrome trace (JSON), once it has finished.
    #[wasm_bindgen(js_name = traceJson)]
    pub fn trace_json(&self) -> Option<String> {
        self.0.trace_json()
    }

    /// A file name for that trace.
    #[wasm_bindgen(js_name = traceName)]
    pub fn trace_name(&self) -> String {
        self.0.trace_name()
    }
}

/// A run for the cooperative mode's Web Workers: the job to hand each, and which workers.
#[wasm_bindgen]
pub struct JobStart {
    text: String,
    kinds: Vec<String>,
}

#[wasm_bindgen]
impl JobStart {
    /// The job, as text for [`CoopWorker::new`].
    pub fn text(&self) -> String {
        self.text.clone()
    }

    /// One worker kind per Web Worker to start (`interpreter`, `isolated`).
    pub fn kinds(&self) -> Vec<String> {
        self.kinds.clone()
    }
}

// ---- Cooperative mode: its workers (www/coop-worker.js) -----------------------------------------

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

/// One cooperative Web Worker: [`worker::CoopWorker`].
#[wasm_bindgen]
pub struct CoopWorker {
    inner: worker::CoopWorker,
    first: Option<worker::Outbox>,
}

#[wasm_bindgen]
impl CoopWorker {
    /// The worker for `kind` (`interpreter` or `isolated`) of `job` (the page's text of it);
    /// `now_ms` is `performance.timeOrigin + performance.now()`.
    #[wasm_bindgen(constructor)]
    pub fn new(job: &str, kind: &str, now_ms: f64) -> Result<CoopWorker, JsError> {
        crate::platform::web::install_panic_hook();
        let kind = WorkerKind::from_name(kind)
            .ok_or_else(|| JsError::new(&format!("no worker kind is called '{kind}'")))?;
        let (inner, first) =
            worker::CoopWorker::new(job, kind, now_ms, RealClock).map_err(|e| JsError::new(&e))?;
        Ok(Self {
            inner,
            first: Some(first),
        })
    }

    /// What to do first, once.
    pub fn first(&mut self) -> Outbox {
        Outbox(self.first.take().unwrap_or_default())
    }

    /// Its time slice, asked for by [`Outbox::tick`], has come.
    pub fn tick(&mut self, now_ms: f64) -> Outbox {
        Outbox(self.inner.handle_input(WorkerInput::Tick, now_ms))
    }

    /// The run's other worker posted `message`.
    #[wasm_bindgen(js_name = fromPeer)]
    pub fn from_peer(&mut self, message: &str, now_ms: f64) -> Outbox {
        Outbox(self.inner.handle_peer(message, now_ms))
    }

    /// The hashing worker finished the operation asked for by [`Outbox::offload`].
    #[wasm_bindgen(js_name = offloadDone)]
    pub fn offload_done(&mut self, now_ms: f64) -> Outbox {
        Outbox(self.inner.offload_done(now_ms))
    }
}

/// The release load's buffer size when the worker of `kind` for `job` needs a hashing worker
/// beside it ([`worker::hasher_bytes`]).
#[wasm_bindgen(js_name = coopHasherBytes)]
pub fn coop_hasher_bytes(job: &str, kind: &str) -> Option<usize> {
    worker::hasher_bytes(job, WorkerKind::from_name(kind)?)
}

/// The cooperative mode's hashing worker: the release load's operation (SHA-256 of its buffer,
/// [`crate::workload::release_op`]) run on a Web Worker of its own, beside the interpreter, as
/// C code that released the GIL runs beside Python's threads.
#[wasm_bindgen]
pub struct ReleaseHasher {
    data: Vec<u8>,
}

#[wasm_bindgen]
impl ReleaseHasher {
    /// A hasher of a buffer of `bytes` bytes (the load's, [`crate::workload::release_buffer`]).
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: usize) -> ReleaseHasher {
        crate::platform::web::install_panic_hook();
        Self {
            data: crate::workload::release_buffer(bytes),
        }
    }

    /// One operation: hashes the whole buffer.
    pub fn hash(&self) {
        core::hint::black_box(crate::workload::release_op(&self.data));
    }
}

/// What a cooperative worker must send after one input: [`worker::Outbox`].
#[wasm_bindgen]
pub struct Outbox(worker::Outbox);

#[wasm_bindgen]
impl Outbox {
    /// Messages for the page.
    #[wasm_bindgen(js_name = toPage)]
    pub fn to_page(&self) -> Vec<String> {
        self.0.to_page.clone()
    }

    /// Messages for the run's other worker.
    #[wasm_bindgen(js_name = toPeer)]
    pub fn to_peer(&self) -> Vec<String> {
        self.0.to_peer.clone()
    }

    /// Hand back a tick after this many milliseconds (0: right after pending messages), or
    /// `undefined` to wait for a message.
    pub fn tick(&self) -> Option<f64> {
        self.0.tick_ms
    }

    /// Bytes for the hashing worker to hash now (one release operation), or `undefined`.
    pub fn offload(&self) -> Option<usize> {
        self.0.offload
    }
}
