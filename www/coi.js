// Runs first, before the module (a classic script in <head>).
// 1. Marks the compact view for blogs (?embed=1) so its layout applies from the first paint.
// 2. On a static host that sends no COOP/COEP headers (GitHub Pages...), installs coi-sw.js, a
//    service worker that adds them, and reloads once so the page is cross-origin isolated and the
//    threads can share memory. Only at top level: an iframe inherits its parent's isolation, which
//    no header of ours can give. If the page is still not isolated after that one reload, app.js
//    runs the cooperative mode instead (no shared memory needed).
(function () {
  "use strict";
  var q = new URLSearchParams(location.search);
  if (/^(1|true|yes)$/.test((q.get("embed") || "").trim())) {
    document.documentElement.classList.add("embed");
  }
  // If the module itself cannot start (a browser that refuses shared wasm memory on a page that
  // is not cross-origin isolated), say so instead of "Loading…" forever.
  var failed = function (e) {
    if (window.gilLab || window.wasmBindings) return;
    var text = document.getElementById("error-text");
    if (!text) return;
    document.documentElement.dataset.state = "error";
    document.documentElement.dataset.error = "module";
    text.textContent = "The WebAssembly module could not start in this browser here (" +
      ((e.reason && e.reason.message) || e.reason || e.message) +
      "). Try another browser, or open the full demo on a page of its own.";
    document.getElementById("error").hidden = false;
    var status = document.getElementById("status");
    if (status) status.textContent = "Stopped: see the message above.";
  };
  addEventListener("error", failed);
  addEventListener("unhandledrejection", failed);
  var KEY = "gil-lab-coi-reloaded";
  var state = { state: "none" };
  window.gilLabCoi = state;
  var done = function (s) {
    state.state = s;
    dispatchEvent(new Event("gil-lab-coi"));
  };
  try {
    if (self.crossOriginIsolated) {
      sessionStorage.removeItem(KEY);
      return;
    }
    if (window.top !== window || !window.isSecureContext || !("serviceWorker" in navigator)) return;
    if (sessionStorage.getItem(KEY)) return; // reloaded once already: fall back, never loop
  } catch (e) {
    return; // storage blocked: no reload guard, so no reload
  }
  state.state = "registering";
  navigator.serviceWorker.register("coi-sw.js").then(
    function (reg) {
      if (!reg) return done("failed");
      var reload = function () {
        try {
          sessionStorage.setItem(KEY, "1");
        } catch (e) {
          return done("failed");
        }
        done("reloading");
        location.reload();
      };
      if (navigator.serviceWorker.controller) return reload();
      navigator.serviceWorker.addEventListener("controllerchange", reload, { once: true });
      // A worker that never takes control (blocked, or a browser quirk): fall back.
      setTimeout(function () {
        if (state.state === "registering") done("failed");
      }, 4000);
      if (reg.active && !reg.installing && !reg.waiting) reg.active.postMessage("claim");
    },
    function () {
      done("failed");
    },
  );
})();
