// gil-lab's service worker: serves this site's own files with the cross-origin isolation headers
// that a static host (GitHub Pages...) cannot send, so the page may share memory between its Web
// Workers. It only adds headers: no caching, no other origin, nothing else, and not to perfetto.html
// (see perfetto.js). Installed by coi.js. The headers are those of xtask/isolation-headers.txt (an
// xtask unit test checks them).
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("message", (e) => {
  if (e.data === "claim") self.clients.claim();
});

self.addEventListener("fetch", (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  // The Perfetto relay must stay NOT isolated: an isolated page cannot talk to Perfetto's tab.
  if (url.pathname.endsWith("/perfetto.html")) return;
  if (req.cache === "only-if-cached" && req.mode !== "same-origin") return;
  e.respondWith(
    fetch(req).then((res) => {
      if (res.status === 0 || res.type === "opaque") return res;
      const headers = new Headers(res.headers);
      headers.set("Cross-Origin-Opener-Policy", "same-origin");
      headers.set("Cross-Origin-Embedder-Policy", "require-corp");
      headers.set("Cross-Origin-Resource-Policy", "cross-origin");
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
    }),
  );
});
