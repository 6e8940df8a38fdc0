// Glue between the page and the Rust module: start the pool, forward events, call frame().
// No logic lives here; the Rust `Page` owns the state and draws everything.

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

  document.addEventListener("click", (e) => {
    const el = e.target.closest("[data-action]");
    if (!el || el.disabled) return;
    if (el.dataset.action === "copy-link") {
      navigator.clipboard?.writeText(page.shareUrl()).then(
        () => { el.textContent = "Copied"; setTimeout(() => (el.textContent = "Copy"), 1500); },
        () => document.getElementById("share-url").select(),
      );
      return;
    }
    page.action(el.dataset.action, el.dataset.run);
  });
  const onInput = (e) => page.input(e.target.name === "scenario" ? "scenario" : e.target.id);
  document.addEventListener("input", onInput);
  document.addEventListener("change", onInput);

  const frame = () => {
    page.frame();
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);

  if (!page.isolated()) return;
  const t0 = performance.now();
  try {
    await wasm.initThreadPool(wasm.poolSize());
    page.poolReady(performance.now() - t0);
  } catch (e) {
    page.poolFailed(String(e && e.message || e));
  }
}

if (window.wasmBindings) start();
else addEventListener("TrunkApplicationStarted", start, { once: true });
