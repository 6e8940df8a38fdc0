// The guided story (story=1) in each engine: the page runs thread, thread+load and process+load,
// and each of its five steps must quote that run's own figures (compared with the page's JSON
// snapshot, the CLI's contract), show the lanes it speaks of, keep the step in the address and in
// <html data-story-step>, answer Next, Back and the arrow keys, and pass axe. A link to a step
// opens at that step. In Chromium also: the embed's story at 320 px in the dark scheme, and
// reduced motion (the lanes drawn when a run ends, not while it grows). Called from run.mjs with
// the drivers of engines.mjs and convoy.mjs.

import path from "node:path";
import { measured, MEASURED } from "./lib.mjs";
import { AXE_RUN } from "./engines.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const STEPS = 5;

/** The story as the page shows it, read inside the page. */
const STORY = () => {
  const root = document.documentElement;
  const text = document.getElementById("story-text");
  const figs = {};
  for (const d of text.querySelectorAll("data")) (figs[d.className] = figs[d.className] || []).push(Number(d.value));
  const canvas = document.getElementById("timeline");
  return {
    state: root.dataset.state,
    mode: root.dataset.mode || null,
    step: Number(root.dataset.storyStep),
    shown: !document.getElementById("story").hidden,
    ready: text.dataset.ready === "true",
    title: document.getElementById("story-title").textContent,
    count: document.getElementById("story-count").textContent,
    text: text.textContent,
    figs,
    // The last step's other answers (static links, shown there only) and the verdict panel.
    links: [...document.querySelectorAll("#story .story-answers a")].filter((a) => a.getClientRects().length > 0).length,
    verdictShown: getComputedStyle(document.getElementById("verdict")).display !== "none",
    rows: Number(canvas.dataset.rows || 0),
    viewEnd: canvas.dataset.viewEndS === undefined ? null : Number(canvas.dataset.viewEndS),
    timelineTitle: document.getElementById("timeline-title").textContent,
    readout: document.getElementById("timeline-readout").textContent,
    search: location.search,
    verdict: [...document.querySelectorAll("#verdict-list li")].map((li) => li.textContent),
    snapshot: window.gilLab ? JSON.parse(window.gilLab.snapshot()) : null,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    backDisabled: document.getElementById("story-back").disabled,
    nextDisabled: document.getElementById("story-next").disabled,
  };
};

const NEXT = () => document.getElementById("story-next").click();
/** An arrow key pressed on the story's card (its buttons sit inside it). */
const KEY = (key) => document.getElementById("story-next").dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));

/** Polls `read` in `tab` until `ok(seen)` or `ms` pass; the last reading. */
async function until(tab, ok, ms) {
  const end = Date.now() + ms;
  let seen = null;
  while (Date.now() < end) {
    seen = await tab.eval(STORY).catch(() => seen);
    if (seen && ok(seen)) break;
    await sleep(250);
  }
  return seen;
}

/**
 * Step `n` (from 1) shown, its sentence written, and the canvas redrawn for it (the next
 * animation frame after the step changes): one row for steps 1 to 3, the thread stacked over the
 * process for 4 and 5.
 */
const drawn = (n) => (x) => x.step === n && x.ready && x.rows === (n >= 4 ? 2 : 1);
const near = (a, b, tol = 0.01) => a != null && b != null && Number.isFinite(a) && Math.abs(a - b) <= tol * Math.abs(b) + 1e-9;
const one = (s, name) => (s.figs[name] || [])[0];
const lockOf = (r, role) => r && (r.workers.find((w) => w.role === role) || {}).lock;

/** What step `n` (from 1) must say, given the runs' JSON `runs` (thread, thread+load, process+load). */
function stepChecks(n, s, runs, defer) {
  const [alone, thread, process] = runs;
  defer(`step ${n}: data-story-step=${n}, the step in the address, its sentence written`,
    s.step === n && s.search.includes(`step=${n}`) && s.ready && s.count === `Step ${n} of ${STEPS}`,
    `step=${s.step} ready=${s.ready} ${s.search}`);
  defer(`step ${n}: Back and Next enabled where there is somewhere to go`, s.backDisabled === (n === 1) && s.nextDisabled === (n === STEPS));
  if (n === 1) {
    defer("step 1 quotes the thread's own count, alone, on its lanes", one(s, "count") === alone.count && s.rows === 1,
      `${one(s, "count")} against ${alone.count}; ${s.rows} rows`);
  } else if (n === 2) {
    const longest = (lockOf(thread, "load") || {}).longest_hold_s;
    defer("step 2 quotes thread+load's count", one(s, "count") === thread.count, `${one(s, "count")} against ${thread.count}`);
    // The hold is read from the lanes (the event log); the lock timed it itself: two clocks.
    defer("step 2: the load's longest hold on the lanes is within 1 % of the lock's own statistic", near(one(s, "hold"), longest),
      `${one(s, "hold")} s against ${longest} s`, MEASURED);
    const [h0, hold, asked, released, back] = ["hold-start", "hold", "asked", "released", "back"].map((k) => one(s, k));
    // Someone (the counter, or the controller waiting to stop it) asked during that hold; the load
    // let go when it ended; the counter held the lock again only after that (when the lanes show it
    // again at all: after the run's last hold there is nothing more).
    defer("step 2: a drop was asked during that hold, the load let go at its end, and the counter held the lock only after",
      asked >= h0 && asked <= h0 + hold && near(released, h0 + hold, 1e-4) && (back === undefined || back >= released - 1e-6),
      `hold from ${h0} s for ${hold} s, asked at ${asked} s, released at ${released} s, back at ${back} s`);
    defer("step 2 points at the load being asked to drop", /load holds the lock, asked to drop at/.test(s.readout), s.readout);
  } else if (n === 3) {
    defer("step 3 quotes thread+load's late stop (within 1 %)", near(one(s, "late-stop"), thread.stop_lag_s),
      `${one(s, "late-stop")} s against ${thread.stop_lag_s} s`);
    defer("step 3 points at the controller's wait", /controller waits/.test(s.readout), s.readout);
  } else if (n === 4) {
    const faster = process.rate_per_s / thread.rate_per_s;
    defer("step 4 quotes process+load's count and how many times faster it counted (by rate, within 1 %)",
      one(s, "count") === process.count && near(one(s, "faster"), faster), `${one(s, "count")}, ${one(s, "faster")} against ${faster}`);
    defer("step 4 stacks the thread over the process (two rows)", s.rows === 2, `${s.rows} rows`);
  } else {
    defer("step 5 shows the page's verdict on the three runs and offers the other answers", s.verdictShown && s.verdict.length > 0 && s.links === 3,
      `verdict shown: ${s.verdictShown}; ${s.links} links; ${(s.verdict[0] || "").slice(0, 100)}`);
  }
  if (n < 5) {
    defer(`step ${n} keeps the verdict and the other answers for the last step`, !s.verdictShown && s.links === 0, `verdict shown: ${s.verdictShown}; ${s.links} links`);
  }
}

/**
 * `env`: { url (the page), check, info, shots, timeoutMs, axe (axe.min.js source), tag }.
 * `open(url, options)` is the engine's.
 */
export async function storySuite(engine, env) {
  const tag = env.tag || engine.name.toLowerCase();
  const label = (s) => `${engine.name}, story: ${s}`;
  const axe = async (tab, defer, what) => {
    const v = await tab.eval(AXE_RUN, env.axe).catch((e) => `axe could not run: ${e.message}`);
    defer(`axe: no violations, ${what}`, Array.isArray(v) && v.length === 0, Array.isArray(v) ? v.slice(0, 3).join(" | ") : v);
  };

  // 1. The whole story, step by step, at 1280 px.
  await measured(label("five steps from the run's own figures"), async (defer) => {
    const tab = await engine.open(`${env.url}?story=1&delays=1`, { width: 1280, height: 1400 });
    try {
      const first = await until(tab, (s) => s.step === 1 && s.state === "running", 30_000);
      defer("story=1 shows step 1 and starts the runs", !!first && first.shown && first.step === 1 && first.state === "running",
        first ? `step=${first.step} state=${first.state}` : "no answer");
      const done = await until(tab, (s) => s.state === "done" || s.state === "error", env.timeoutMs);
      defer("the story's three runs reach data-state=done", done && done.state === "done", `state=${done && done.state}`);
      const runs = (done && done.snapshot && done.snapshot.results) || [];
      defer("the runs are thread, thread+load, process+load", runs.map((r) => r.scenario).join(",") === "thread,thread+load,process+load",
        runs.map((r) => r.scenario).join(","));
      if (runs.length !== 3) return;
      env.info(label(`${done.mode}: counts ${runs.map((r) => r.count).join(", ")}; load's longest hold ${lockOf(runs[1], "load")?.longest_hold_s} s; late stop ${runs[1].stop_lag_s} s`));
      for (let n = 1; n <= STEPS; n++) {
        if (n > 1) await tab.eval(NEXT);
        const s = await until(tab, drawn(n), 5_000);
        if (!s) return defer(`step ${n} is shown`, false, "no answer");
        stepChecks(n, s, runs, defer);
        env.info(label(`step ${n}, ${s.title}: ${s.text}`));
        await axe(tab, defer, `step ${n}, light`);
        await tab.shot(path.join(env.shots, `${tag}-story-${n}.png`)).catch(() => {});
      }
      await tab.eval(KEY, "ArrowLeft");
      await tab.eval(KEY, "ArrowLeft");
      const back = await until(tab, (x) => x.step === 3, 3_000);
      defer("← twice goes back two steps", back && back.step === 3 && back.search.includes("step=3"), `step=${back && back.step}`);
      await tab.eval(KEY, "ArrowRight");
      const fwd = await until(tab, (x) => x.step === 4, 3_000);
      defer("→ goes forward a step", fwd && fwd.step === 4, `step=${fwd && fwd.step}`);
      if (tab.errors) defer("no console errors and no page errors", tab.errors.length === 0, tab.errors.slice(0, 3).join(" | "));
    } finally {
      await tab.close().catch(() => {});
    }
  });

  // 2. A link to a step (a blog post pointing at the late stop) opens there, waits for its run.
  await measured(label("a link to step 3"), async (defer) => {
    const tab = await engine.open(`${env.url}?story=1&step=3&delays=1`, { width: 1280, height: 1400 });
    try {
      const early = await until(tab, (s) => s.step === 3 && s.state === "running", 30_000);
      defer("opens at step 3, saying it waits for its run", !!early && early.step === 3 && (!early.ready || early.state !== "running"),
        early ? `step=${early.step} ready=${early.ready} ${early.text.slice(0, 80)}` : "no answer");
      const done = await until(tab, (s) => s.state === "done" || s.state === "error", env.timeoutMs);
      const runs = (done && done.snapshot && done.snapshot.results) || [];
      defer("and, the runs done, quotes the late stop", !!done && done.step === 3 && done.ready && runs.length === 3 && near(one(done, "late-stop"), runs[1].stop_lag_s),
        done ? `${one(done, "late-stop")} s against ${runs[1] && runs[1].stop_lag_s} s` : "no answer");
    } finally {
      await tab.close().catch(() => {});
    }
  });
}

/**
 * Chromium only (its driver emulates media features): the embed's story at 320 px in the dark
 * scheme, every step looked at; and reduced motion. `open(url, options)` is chromiumEngine's.
 */
export async function storyPhoneAndMotion(engine, env) {
  const label = (s) => `Chromium, story: ${s}`;
  await measured(label("the embed at 320 px, dark"), async (defer) => {
    const tab = await engine.open(`${env.url}?embed=1&story=1&delays=1`, { width: 320, height: 900, colorScheme: "dark" });
    try {
      const done = await until(tab, (s) => s.state === "done" || s.state === "error", env.timeoutMs);
      defer("the embed's story runs to the end", done && done.state === "done" && done.shown, `state=${done && done.state}`);
      const runs = (done && done.snapshot && done.snapshot.results) || [];
      if (runs.length !== 3) return;
      for (let n = 1; n <= STEPS; n++) {
        if (n > 1) await tab.eval(NEXT);
        const s = await until(tab, drawn(n), 5_000);
        if (!s) return defer(`step ${n} is shown`, false, "no answer");
        stepChecks(n, s, runs, defer);
        defer(`step ${n} fits 320 px (no sideways scrolling)`, s.overflow <= 0, `${s.overflow} px too wide`);
        const v = await tab.eval(AXE_RUN, env.axe).catch((e) => `axe could not run: ${e.message}`);
        defer(`axe: no violations, embed step ${n}, dark`, Array.isArray(v) && v.length === 0, Array.isArray(v) ? v.slice(0, 3).join(" | ") : v);
        await tab.shot(path.join(env.shots, `chromium-embed-story-320-${n}.png`)).catch(() => {});
      }
    } finally {
      await tab.close().catch(() => {});
    }
  });

  await measured(label("reduced motion"), async (defer) => {
    const tab = await engine.open(`${env.url}?story=1&delays=1`, { width: 1280, height: 1400, reducedMotion: "reduce" });
    try {
      // The first run going on (a count shown): no run drawn on the canvas yet (zero rows).
      const live = await until(tab, (s) => s.state === "running" && s.snapshot && s.snapshot.live && s.snapshot.live.count > 0 && s.snapshot.runs_done === 0, 30_000);
      defer("while the first run grows, its lanes are not drawn, and the title says why",
        !!live && live.rows === 0 && /reduced motion/.test(live.timelineTitle), live ? `${live.rows} rows; "${live.timelineTitle}"` : "no answer");
      const ended = await until(tab, (s) => s.snapshot && s.snapshot.runs_done >= 1 && s.rows === 1, 20_000);
      defer("once it has ended, its lanes are drawn whole", !!ended && ended.rows === 1 && ended.viewEnd > 0.9, ended ? `${ended.rows} rows, view end ${ended.viewEnd} s` : "no answer");
    } finally {
      await tab.close().catch(() => {});
    }
  });
}
