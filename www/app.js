// Glue between the page and the Rust module: pick how to run, start the workers, forward events
// and worker messages, call frame(). The Rust `Page` owns the state and draws everything.
//
// How the page runs, chosen by what the browser can really do:
// - threads: a pool of Web Workers sharing the wasm memory; only where shared memory exists and
//   can be handed to a worker (a cross-origin isolated page; WebKitGTK claims isolation but has
//   no SharedArrayBuffer, so this is probed, not assumed);
// - not isolated, at top level on a secure origin: coi.js installs a service worker that adds the
//   isolation headers and reloads once;
// - otherwise, or if the pool fails to start: cooperative mode, where each interpreter runs on a
//   worker of its own with a memory of its own (coop-worker.js).

const embed = document.documentElement.classList.contains("embed");
const POOL_TIMEOUT_MS = 20000;

function copyButton(el, text, input) {
  const label = el.textContent;
  navigator.clipboard?.writeText(text).then(
    () => { el.textContent = "Copied"; setTimeout(() => (el.textContent = label), 1500); },
    () => document.getElementById(input)?.select(),
  );
}

/** Why threads cannot run here, as a sentence; null when shared memory reaches a worker. */
async function threadsBlocked() {
  if (!self.crossOriginIsolated) return "the page is not cross-origin isolated";
  if (typeof SharedArrayBuffer === "undefined") return "this browser has no SharedArrayBuffer, even on an isolated page";
  let url;
  let probe;
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const src = "onmessage = (e) => postMessage(e.data instanceof WebAssembly.Memory);";
    url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
    probe = new Worker(url);
    const ok = await new Promise((resolve) => {
      probe.onmessage = (e) => resolve(e.data === true);
      probe.onerror = () => resolve(false);
      setTimeout(() => resolve(false), 5000);
      probe.postMessage(memory);
    });
    return ok ? null : "this browser cannot hand shared memory to a Web Worker";
  } catch (e) {
    return `this browser cannot hand shared memory to a Web Worker (${(e && e.name) || e})`;
  } finally {
    probe?.terminate();
    if (url) URL.revokeObjectURL(url);
  }
}

/** Cooperative mode: starts the workers of each run the page hands out, carries their messages. */
function coopDriver(page, wasm) {
  const mainJS = String(wasm.coopMainJs());
  const module = wasm.coopModule();
  const workerUrl = new URL("coop-worker.js", document.baseURI);
  let current = null;
  const end = () => {
    current?.forEach((w) => w.terminate());
    current = null;
  };
  const spawn = (kind, init, transfer) => {
    const w = new Worker(workerUrl, { type: "module", name: `gil-lab ${kind}` });
    w.onmessage = ({ data }) => {
      const over = typeof data === "string" ? page.workerMessage(data) : (page.workerFailed(data.failed), true);
      if (over && current?.includes(w)) end();
    };
    w.onerror = (e) => {
      e.preventDefault();
      if (!current?.includes(w)) return;
      page.workerFailed(e.message || "a Web Worker could not start");
      end();
    };
    w.postMessage({ mainJS, module, ...init }, transfer);
    return w;
  };
  return () => {
    if (current) return;
    const next = page.nextJob();
    if (!next) return;
    const job = next.text();
    const kinds = next.kinds();
    next.free();
    const channel = new MessageChannel();
    const ports = [channel.port1, channel.port2];
    current = [];
    kinds.forEach((kind, i) => {
      const init = { type: "gil-lab:init", job, kind, port: ports[i] };
      const transfer = [ports[i]];
      // A release load hashes on a worker of its own, started here and not from inside the
      // interpreter's worker (a nested `new Worker` may never return in Firefox under WebDriver).
      const bytes = wasm.coopHasherBytes(job, kind);
      if (bytes !== undefined) {
        const hashing = new MessageChannel();
        current.push(spawn("hasher", { type: "gil-lab:hasher", bytes, port: hashing.port2 }, [hashing.port2]));
        init.hasher = hashing.port1;
        transfer.push(hashing.port1);
      }
      current.push(spawn(kind, init, transfer));
    });
  };
}

/** The timeline canvas: the wheel or a pinch zooms, a drag pans, hover or tap reads a span, keys. */
function timelineInput(page, canvas) {
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  canvas.addEventListener("wheel", (e) => {
    // The plain wheel scrolls the page until the timeline has focus (a click, a tap, Tab); a
    // trackpad pinch arrives as a wheel with ctrlKey and small steps.
    if (!e.ctrlKey && document.activeElement !== canvas) return;
    e.preventDefault();
    const dy = e.deltaMode ? e.deltaY * 16 : e.deltaY;
    if (Math.abs(e.deltaX) > Math.abs(dy)) return page.timelinePan(-e.deltaX);
    page.timelineZoom(Math.exp(dy * (e.ctrlKey ? 0.01 : 0.002)), at(e)[0]);
  }, { passive: false });
  const down = new Map();
  let travel = 0;
  canvas.addEventListener("pointerdown", (e) => {
    // Keeps a drag or pinch that leaves the canvas. Throws for a pointer the browser does not
    // track (a script's synthetic event): the gesture still works inside the canvas.
    try {
      canvas.setPointerCapture(e.pointerId);
    } catch {}
    down.set(e.pointerId, at(e));
    travel = 0;
  });
  canvas.addEventListener("pointermove", (e) => {
    const p = at(e);
    const last = down.get(e.pointerId);
    if (!last) return void (e.pointerType === "mouse" && page.timelinePoint(p[0], p[1]));
    travel += Math.abs(p[0] - last[0]) + Math.abs(p[1] - last[1]);
    const other = [...down].find(([id]) => id !== e.pointerId)?.[1];
    if (other) {
      // Two pointers: a pinch, around the point between them.
      const before = Math.abs(last[0] - other[0]);
      const after = Math.abs(p[0] - other[0]);
      if (before > 8 && after > 8) page.timelineZoom(before / after, (p[0] + other[0]) / 2);
    } else if (travel > 4) page.timelinePan(p[0] - last[0]);
    down.set(e.pointerId, p);
  });
  canvas.addEventListener("pointerup", (e) => {
    const p = at(e);
    if (down.delete(e.pointerId) && down.size === 0 && travel <= 4) page.timelinePoint(p[0], p[1]);
  });
  canvas.addEventListener("pointercancel", (e) => down.delete(e.pointerId));
  canvas.addEventListener("keydown", (e) => {
    if (!e.ctrlKey && !e.metaKey && !e.altKey && page.timelineKey(e.key)) e.preventDefault();
  });
}

/** The compact view tells its parent page its height (see embed-host.js). */
function reportHeight() {
  if (window.parent === window) return;
  let last = 0;
  const post = () => {
    const h = Math.ceil(document.body.getBoundingClientRect().height);
    if (h !== last) {
      last = h;
      window.parent.postMessage({ type: "gil-lab:height", height: h }, "*");
    }
  };
  new ResizeObserver(post).observe(document.body);
  post();
}

async function start() {
  const wasm = window.wasmBindings;
  let page;
  try {
    page = new wasm.Page();
  } catch (e) {
    document.documentElement.dataset.state = "error";
    document.documentElement.dataset.error = "page";
    console.error(e);
    return;
  }
  window.gilLab = page; // for scripts and embeds: gilLab.snapshot()
  if (embed) reportHeight();

  document.addEventListener("click", (e) => {
    const el = e.target.closest("[data-action]");
    if (!el || el.disabled) return;
    if (el.dataset.action === "copy-link") return copyButton(el, page.shareUrl(), "share-url");
    if (el.dataset.action === "copy-embed") return copyButton(el, page.embedCode(), "embed-code");
    if (el.dataset.action === "open-perfetto") {
      // Its code comes on the first click (fast enough to keep the click's right to open a tab).
      return import("./perfetto-open.js").then((m) => m.openInPerfetto(page), (e) => console.error(e));
    }
    page.action(el.dataset.action, el.dataset.run);
  });
  const onInput = (e) => page.input(e.target.name === "scenario" ? "scenario" : e.target.id);
  document.addEventListener("input", onInput);
  document.addEventListener("change", onInput);
  const canvas = document.getElementById("timeline");
  if (canvas) timelineInput(page, canvas);
  // The story's card: ← and → step through it while it has focus (not inside its links).
  document.getElementById("story")?.addEventListener("keydown", (e) => {
    const to = { ArrowLeft: "story-back", ArrowRight: "story-next" }[e.key];
    if (to && !e.ctrlKey && !e.metaKey && !e.altKey) e.preventDefault(), page.action(to);
  });

  let pump = null;
  const frame = () => {
    page.frame();
    pump?.();
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);

  const coi = window.gilLabCoi || { state: "none" };
  if (coi.state === "registering") {
    await new Promise((resolve) => {
      addEventListener("gil-lab-coi", resolve, { once: true });
      setTimeout(resolve, 5000);
    });
  }
  if (coi.state === "reloading") return; // the page reloads, isolated this time

  let reason = await threadsBlocked();
  if (!reason) {
    const t0 = performance.now();
    try {
      await Promise.race([
        wasm.initThreadPool(wasm.poolSize()),
        new Promise((_, reject) => setTimeout(() => reject(new Error("no answer in time")), POOL_TIMEOUT_MS)),
      ]);
      page.useThreads(performance.now() - t0);
      return;
    } catch (e) {
      reason = `the Web Workers sharing memory did not start (${(e && e.message) || e})`;
    }
  }
  if (typeof Worker === "undefined") {
    return page.cannotRun(
      "no-workers",
      "This browser runs no Web Workers here, and the experiment needs them. Allow them for " +
        "this site, or open the page in a current Chromium, Firefox or Safari.",
    );
  }
  pump = coopDriver(page, wasm);
  // Not isolated is the usual case for an embed: nothing worth a sentence there.
  page.useCooperative(embed && !self.crossOriginIsolated ? undefined : reason);
}

if (window.wasmBindings) start();
else addEventListener("TrunkApplicationStarted", start, { once: true });
