// Glue between the page and the Rust module: start the workers, forward events, call frame().
// No logic lives here; the Rust `Page` owns the state and draws everything.
//
// Three ways to run, chosen by what the browser allows:
// - cross-origin isolated: a pool of Web Workers sharing the wasm memory (threads);
// - not isolated, at top level on a secure origin: coi.js installs a service worker that adds the
//   isolation headers and reloads once;
// - otherwise (an iframe in a blog, or the reload did not help): cooperative mode, where each
//   interpreter runs on a worker of its own with a memory of its own (coop-worker.js).

const embed = document.documentElement.classList.contains("embed");

function copyButton(el, text, input) {
  const label = el.textContent;
  navigator.clipboard?.writeText(text).then(
    () => { el.textContent = "Copied"; setTimeout(() => (el.textContent = label), 1500); },
    () => document.getElementById(input)?.select(),
  );
}

/** Cooperative mode: starts the workers of each run the page asks for, forwards their messages. */
function coopDriver(page, wasm) {
  const mainJS = String(wasm.coopMainJs());
  const module = wasm.coopModule();
  const workerUrl = new URL("coop-worker.js", document.baseURI);
  let current = null;
  const end = () => {
    current?.workers.forEach((w) => w.terminate());
    current = null;
  };
  const spawn = (role, job, port) => {
    const w = new Worker(workerUrl, { type: "module", name: `gil-lab ${role}` });
    w.onmessage = ({ data: d }) => {
      if (d.type === "events") page.coopEvents(job.run, d.epochMs, d.goMs, d.events);
      if (!current || current.job !== job) return;
      if (d.type === "live") page.coopLive(job.run, d.count, d.elapsedS, d.goMs);
      else if (d.type === "result") {
        page.coopResult(job.run, d.result);
        end();
      } else if (d.type === "error") {
        page.coopFailed(d.message);
        end();
      }
    };
    w.onerror = (e) => {
      e.preventDefault();
      if (current?.job === job) {
        page.coopFailed(e.message || "a Web Worker could not start");
        end();
      }
    };
    w.postMessage({ type: "gil-lab:init", mainJS, module, job, role, port }, [port]);
    return w;
  };
  return () => {
    if (current) return;
    const text = page.coopNext();
    if (!text) return;
    const job = JSON.parse(text);
    const channel = new MessageChannel();
    current = { job, workers: [] };
    current.workers.push(spawn("interpreter", job, channel.port1));
    if (job.isolated) current.workers.push(spawn("isolated", job, channel.port2));
  };
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
    page.action(el.dataset.action, el.dataset.run);
  });
  const onInput = (e) => page.input(e.target.name === "scenario" ? "scenario" : e.target.id);
  document.addEventListener("input", onInput);
  document.addEventListener("change", onInput);

  let pump = null;
  const frame = () => {
    page.frame();
    pump?.();
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);

  if (page.isolated()) {
    const t0 = performance.now();
    try {
      await wasm.initThreadPool(wasm.poolSize());
      page.poolReady(performance.now() - t0);
    } catch (e) {
      page.poolFailed(String(e && e.message || e));
    }
    return;
  }
  const coi = window.gilLabCoi || { state: "none" };
  if (coi.state === "registering") {
    await new Promise((resolve) => {
      addEventListener("gil-lab-coi", resolve, { once: true });
      setTimeout(resolve, 5000);
    });
  }
  if (coi.state === "reloading") return; // the page reloads, isolated this time
  if (typeof Worker === "undefined") return page.cannotRun();
  pump = coopDriver(page, wasm);
  page.coopReady();
}

if (window.wasmBindings) start();
else addEventListener("TrunkApplicationStarted", start, { once: true });
