// A Web Worker of gil-lab's cooperative mode, used where Web Workers cannot share memory. It
// instantiates the page's wasm module with a memory of its own and runs one part of a run (the
// interpreter, or an incrementer in an interpreter of its own) as a `CoopWorker`. No logic here:
// Rust decides what to do with each input; this file hands inputs in and carries out what comes
// back (messages for the page, for the run's other worker over a MessagePort, the next tick).

let wasm;
let me;
let port;
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
    const ms = out.tick();
    out.free();
    if (ms === undefined) return;
    if (ms > 0) setTimeout(() => run(() => me.tick(now())), ms);
    else soon.port2.postMessage(0);
  } catch (e) {
    fail(e);
  }
}

onmessage = async ({ data }) => {
  if (!data || data.type !== "gil-lab:init") return;
  try {
    port = data.port;
    wasm = await import(data.mainJS);
    await wasm.default({ module_or_path: data.module });
    me = new wasm.CoopWorker(data.job, data.kind, now());
    port.onmessage = ({ data: m }) => run(() => me.fromPeer(m, now()));
    run(() => me.first());
  } catch (e) {
    fail(e);
  }
};
