// A Web Worker of gil-lab's cooperative mode, used where Web Workers cannot share memory. It
// instantiates the page's wasm module with a memory of its own and runs one part of a run (the
// interpreter, or an incrementer in an interpreter of its own) as a `CoopWorker`. No logic here:
// Rust decides what to do with each input; this file hands inputs in and carries out what comes
// back (messages for the page, for the run's other worker over a MessagePort, the next tick, and
// the release load's hashing for the hashing worker).
//
// The same file is the hashing worker: the page starts one beside an interpreter whose load
// releases the lock (C code that released the GIL runs beside the interpreter's threads) and
// joins the two with a MessagePort; it hashes one buffer per message on that port and answers.
// The page starts it, not the interpreter's worker: in Firefox driven over WebDriver BiDi a
// `new Worker` inside a worker sometimes never returns (about 1 in 50), and the run then hung.

let wasm;
let me;
let port;
let hasher;
let dead = false;

const now = () => performance.timeOrigin + performance.now();
// A tick "at once" still lets queued messages in first: a message to ourselves.
const soon = new MessageChannel();
soon.port1.onmessage = () => run(() => me.tick(now()));

function fail(e) {
  if (dead) return;
  dead = true;
  let message = String((e && e.message) || e);
  try {
    message = (wasm && wasm.panicMessage()) || message;
  } catch {}
  postMessage({ failed: message });
}

function run(input) {
  if (dead) return;
  let out;
  try {
    out = input();
    for (const m of out.toPage()) postMessage(m);
    for (const m of out.toPeer()) port.postMessage(m);
    const bytes = out.offload();
    if (bytes !== undefined) hasher.postMessage(bytes);
    const ms = out.tick();
    out.free();
    if (ms === undefined) return;
    if (ms > 0) setTimeout(() => run(() => me.tick(now())), ms);
    else soon.port2.postMessage(0);
  } catch (e) {
    fail(e);
  }
}

/** Resolves once the hashing worker at the end of port `p` has its buffer. Its failures go to
 * the page, which ends the run. */
function hasherReady(p) {
  return new Promise((resolve) => {
    hasher = p;
    hasher.onmessage = () => {
      hasher.onmessage = () => run(() => me.offloadDone(now()));
      resolve();
    };
  });
}

onmessage = async ({ data }) => {
  if (data && data.type === "gil-lab:hasher") {
    try {
      wasm = await import(data.mainJS);
      await wasm.default({ module_or_path: data.module });
      const h = new wasm.ReleaseHasher(data.bytes);
      data.port.onmessage = () => {
        try {
          h.hash();
          data.port.postMessage("done");
        } catch (e) {
          fail(e);
        }
      };
      data.port.postMessage("ready");
    } catch (e) {
      fail(e);
    }
    return;
  }
  if (!data || data.type !== "gil-lab:init") return;
  try {
    port = data.port;
    wasm = await import(data.mainJS);
    await wasm.default({ module_or_path: data.module });
    // The hashing worker is ready before this worker's clock starts, so the run waits for nothing.
    if (data.hasher) await hasherReady(data.hasher);
    me = new wasm.CoopWorker(data.job, data.kind, now());
    port.onmessage = ({ data: m }) => run(() => me.fromPeer(m, now()));
    run(() => me.first());
  } catch (e) {
    fail(e);
  }
};
