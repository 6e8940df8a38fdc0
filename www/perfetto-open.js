// The "Open in Perfetto" button's code, loaded by app.js on the first click only (it is not part
// of what the page loads up front).

/**
 * Opens Perfetto UI in a new tab and hands it the shown run's trace, as Perfetto's "deep
 * linking" documentation describes: PING until it answers PONG, then post the trace's bytes.
 */
export function openInPerfetto(page) {
  const say = (text) => (document.getElementById("timeline-readout").textContent = text);
  const text = page.traceJson();
  if (!text) return;
  // What Perfetto is handed: the trace's bytes, a title and a file name.
  const trace = () => ({
    buffer: new TextEncoder().encode(text).buffer,
    title: `gil-lab: ${document.getElementById("timeline-title").textContent}`,
    fileName: page.traceName(),
  });
  const fallback = (why) => {
    page.action("download-trace");
    say(`${why} The trace was downloaded instead: open it in Perfetto with “Open trace file”.`);
  };
  if (self.crossOriginIsolated) return perfettoViaRelay(trace, say, fallback);
  const url = "https://ui.perfetto.dev";
  const tab = window.open(url, "_blank");
  if (!tab) return fallback("The browser blocked the new tab.");
  say("Waiting for Perfetto to answer…");
  let tries = 0;
  const stop = () => {
    clearInterval(ping);
    removeEventListener("message", answer);
  };
  const answer = (e) => {
    if (e.origin !== url || e.data !== "PONG") return;
    stop();
    const perfetto = trace();
    tab.postMessage({ perfetto }, url, [perfetto.buffer]);
    say("The trace is in the Perfetto tab.");
  };
  const ping = setInterval(() => {
    // A cross-origin isolated page loses its handle on a tab of another origin once it loads.
    if (tab.closed) return stop(), fallback("Perfetto's tab was closed before it answered.");
    if (++tries > 150) return stop(), fallback("Perfetto did not answer within 30 s.");
    tab.postMessage("PING", url);
  }, 200);
  addEventListener("message", answer);
}

/**
 * On a cross-origin isolated page, which is cut off from any tab of another site: opens
 * perfetto.html, a page of this site served without the isolation headers, and hands it the
 * trace over a BroadcastChannel; that page does Perfetto's handshake (www/perfetto.js).
 */
function perfettoViaRelay(trace, say, fallback) {
  const id = crypto.randomUUID();
  const channel = new BroadcastChannel(`gil-lab-perfetto:${id}`);
  const late = setTimeout(() => (channel.close(), fallback("The Perfetto tab did not answer within 10 s.")), 10_000);
  channel.onmessage = (e) => {
    if (e.data?.type === "received") return clearTimeout(late), channel.close();
    if (e.data?.type !== "ready") return;
    channel.postMessage({ type: "trace", ...trace() });
    say("The trace is in the new tab: press “Open Perfetto” there (one more click, for the pop-up).");
  };
  if (!window.open(new URL(`perfetto.html#${id}`, location.href), "_blank")) {
    clearTimeout(late);
    channel.close();
    fallback("The browser blocked the new tab.");
  } else say("Opening a tab to pass the trace on to Perfetto…");
}

