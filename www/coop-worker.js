// A Web Worker of gil-lab's cooperative mode, used where workers cannot share memory (an iframe in
// a page that is not cross-origin isolated). It instantiates the page's wasm module with a memory
// of its own and runs one of:
// - "interpreter": a run's interpreter, its threads taking turns under the GIL's rules
//   (CoopInterpreter, src/coop.rs);
// - "isolated": the incrementer of an interpreter of its own, a process (CoopIsolated).
// The two talk over a MessagePort; both post events, live counts and the result to the page.
// No logic here: Rust decides, this file moves messages.

const SLICE_MS = 8; // run this long, then let messages in
const LIVE_MS = 100; // live counts this often

let wasm;
let me;
let port;
let job;
let role;
let epochMs = 0;
let goMs = 0;
let lastLive = 0;
let waitingIsolated = false;

const now = () => performance.timeOrigin + performance.now();
const tick = new MessageChannel();
tick.port1.onmessage = () => loop();
const again = () => tick.port2.postMessage(0);

function fail(e) {
  let message = String((e && e.message) || e);
  try {
    const p = wasm && wasm.panicMessage && wasm.panicMessage();
    if (p) message = p;
  } catch {}
  postMessage({ type: "error", message });
}

function flush(force) {
  const events = me.takeEvents();
  if (events.length) postMessage({ type: "events", epochMs, goMs, events });
  const counts = role === "isolated" || !job.isolated;
  const t = now();
  if (counts && (force || t - lastLive >= LIVE_MS)) {
    lastLive = t;
    postMessage({ type: "live", count: me.count(), elapsedS: me.elapsedS(), goMs });
  }
}

function start() {
  if (role === "interpreter" && job.isolated) port.postMessage({ type: "go" });
  me.go();
  goMs = now();
  loop();
}

function loop() {
  let r;
  try {
    r = me.step(SLICE_MS);
  } catch (e) {
    return fail(e);
  }
  if (role === "isolated") {
    if (r) {
      flush(true);
      port.postMessage({ type: "exit", outcome: me.outcome() });
    } else {
      flush(false);
      again();
    }
    return;
  }
  flush(r === -4);
  if (r === -4) postMessage({ type: "result", result: me.result() });
  else if (r === -3) waitingIsolated = true; // resumed by "exit"
  else if (r === -2) {
    port.postMessage({ type: "stop" });
    again();
  } else if (r >= 0) setTimeout(loop, r);
  else again();
}

function onPort({ data: m }) {
  if (m.type === "ready" || m.type === "go") start();
  else if (m.type === "stop") me.stop();
  else if (m.type === "exit") {
    try {
      me.isolatedFinished(m.outcome);
    } catch (e) {
      return fail(e);
    }
    if (waitingIsolated) {
      waitingIsolated = false;
      loop();
    }
  }
}

onmessage = async ({ data }) => {
  if (!data || data.type !== "gil-lab:init") return;
  try {
    ({ job, role, port } = data);
    wasm = await import(data.mainJS);
    await wasm.default({ module_or_path: data.module });
    const Kind = role === "isolated" ? wasm.CoopIsolated : wasm.CoopInterpreter;
    me = new Kind(job.scenario, job.delay_s, job.load, job.interval_ms);
    epochMs = now() - me.nowUs() / 1000;
    port.onmessage = onPort;
    if (role === "isolated") port.postMessage({ type: "ready" });
    else if (!job.isolated) start();
    // else: the isolated incrementer says "ready" when it is at its start barrier.
  } catch (e) {
    fail(e);
  }
};
