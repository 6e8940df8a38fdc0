// gil-lab's Perfetto relay (perfetto.html). The full page is cross-origin isolated (COOP
// same-origin, for shared memory), which severs it from any tab of another site, so it cannot do
// Perfetto's postMessage handshake itself. It opens this page instead, of the same site and served
// WITHOUT the isolation headers, and passes the trace over a BroadcastChannel named in the URL's
// fragment; this page then opens Perfetto UI (on a click: browsers open tabs only on one), sends
// PING until Perfetto answers PONG, and posts the trace, as Perfetto's deep-linking docs describe.
"use strict";

(function () {
  const PERFETTO = "https://ui.perfetto.dev";
  const status = document.getElementById("relay-status");
  const openButton = document.getElementById("relay-open");
  const downloadButton = document.getElementById("relay-download");
  const say = (text) => (status.textContent = text);
  let trace = null;

  const id = location.hash.slice(1);
  if (!/^[0-9a-f-]{8,64}$/.test(id) || typeof BroadcastChannel === "undefined") {
    say("No trace came with this tab: open it with “Open in Perfetto” on the gil-lab page.");
    return;
  }
  const channel = new BroadcastChannel(`gil-lab-perfetto:${id}`);
  let asks = 0;
  const ask = setInterval(() => {
    if (++asks > 40) {
      clearInterval(ask);
      channel.close();
      return say("The gil-lab tab sent no trace: press “Open in Perfetto” there again.");
    }
    channel.postMessage({ type: "ready" });
  }, 250);
  channel.postMessage({ type: "ready" });
  channel.onmessage = (e) => {
    const d = e.data;
    if (!d || d.type !== "trace" || !(d.buffer instanceof ArrayBuffer) || trace) return;
    clearInterval(ask);
    channel.postMessage({ type: "received" });
    channel.close();
    trace = { buffer: d.buffer, title: String(d.title || "gil-lab"), fileName: String(d.fileName || "gil-lab-trace.json") };
    document.title = `${trace.title}: open in Perfetto`;
    openButton.disabled = false;
    downloadButton.disabled = false;
    say(`The trace (${Math.ceil(d.buffer.byteLength / 1000)} KB) is here: press “Open Perfetto”.`);
    openButton.focus();
  };

  downloadButton.addEventListener("click", () => {
    if (!trace) return;
    const url = URL.createObjectURL(new Blob([trace.buffer], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = trace.fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say("The trace was downloaded: open it in Perfetto with “Open trace file”.");
  });

  openButton.addEventListener("click", () => {
    if (!trace) return;
    const tab = window.open(PERFETTO, "_blank");
    if (!tab) return say("The browser blocked the new tab: allow pop-ups for this site, or download the trace.");
    openButton.disabled = true;
    say("Waiting for Perfetto…");
    let tries = 0;
    const stop = () => {
      clearInterval(ping);
      removeEventListener("message", answer);
      openButton.disabled = false;
    };
    const answer = (e) => {
      if (e.source !== tab || e.origin !== PERFETTO || e.data !== "PONG") return;
      stop();
      // A copy: the button may send it again to another Perfetto tab.
      const buffer = trace.buffer.slice(0);
      tab.postMessage({ perfetto: { buffer, title: trace.title, fileName: trace.fileName } }, PERFETTO, [buffer]);
      say("The trace is in the Perfetto tab.");
    };
    const ping = setInterval(() => {
      if (tab.closed) return stop(), say("The Perfetto tab was closed before it answered: press “Open Perfetto” again.");
      if (++tries > 150) return stop(), say("Perfetto did not answer within 30 s: download the trace and open it there with “Open trace file”.");
      tab.postMessage("PING", PERFETTO);
    }, 200);
    addEventListener("message", answer);
  });
})();
