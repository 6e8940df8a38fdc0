// When threads are fine, on the page: the verdict, the sweep over switch intervals, and the
// release load and the convoy in the cooperative mode. Called from run.mjs for Chromium (through
// `chromiumEngine`, the same small driver as engines.mjs's) and WebKit (engines.mjs's driver;
// its full page runs in the cooperative mode, having no SharedArrayBuffer).
//
// The ratios are the phenomenon's, measured within one run with tolerant bounds; on a busy
// 2-core machine a run whose only misses are its ratios is run once more (lib.mjs, `measured`:
// counted in the summary, within the run's retry budget).

import fs from "node:fs";
import { MEASURED, pageCases } from "./lib.mjs";

/** What a finished page shows: state, mode, rows, verdict, notices, link. */
const READ = () => {
  const root = document.documentElement;
  const verdict = document.getElementById("verdict");
  return {
    state: root.dataset.state,
    mode: root.dataset.mode || null,
    errorText: document.getElementById("error").hidden ? "" : document.getElementById("error-text").textContent,
    rows: [...document.querySelectorAll("#results tr[data-scenario]")].map((tr) => ({
      scenario: tr.dataset.scenario,
      rate: Number(tr.dataset.ratePerS),
      intervalMs: Number(tr.dataset.switchIntervalMs),
    })),
    cases: verdict ? verdict.dataset.cases.split(" ").filter(Boolean) : [],
    verdictText: verdict ? verdict.textContent : "",
    verdictLive: !!document.querySelector("#verdict [aria-live=polite]"),
    notices: [...document.querySelectorAll("#notice-list li")].map((li) => li.textContent),
    noticeShown: !document.getElementById("notice").hidden,
    seedRows: [...document.querySelectorAll("#seed-table tbody th")].map((th) => th.textContent),
    points: document.querySelectorAll("#chart circle").length,
    axis: document.querySelector("#chart svg")?.textContent.includes("switch interval (ms)") || false,
    share: document.getElementById("share-url").value,
    interval: document.getElementById("interval").value,
    timelineSummary: document.getElementById("timeline-summary").textContent,
  };
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Chromium (playwright-core) behind the driver interface of engines.mjs. */
export function chromiumEngine(browser, { serviceWorkers = "allow" } = {}) {
  return {
    name: "Chromium",
    async open(url, { width = 1280, height = 900, colorScheme = "light", reducedMotion = "no-preference" } = {}) {
      const context = await browser.newContext({ viewport: { width, height }, serviceWorkers, colorScheme, reducedMotion });
      const page = await context.newPage();
      const errors = [];
      page.on("console", (m) => m.type() === "error" && errors.push(`console: ${m.text()}`));
      page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
      await page.goto(url);
      return {
        page,
        errors,
        eval: (fn, arg) => page.evaluate(fn, arg),
        shot: (file) => page.screenshot({ path: file, fullPage: true }),
        close: () => context.close(),
      };
    },
  };
}


/** rate of `loaded` / rate of `alone` at switch interval `ms` (any, when not given). */
function ratio(rows, ms) {
  const at = (s) => rows.find((r) => r.scenario === s && (ms == null || Math.abs(r.intervalMs - ms) < 1e-9));
  const a = at("thread");
  const b = at("thread+load");
  return a && b && a.rate > 0 ? b.rate / a.rate : null;
}

const fmt = (x) => (x == null ? "-" : x.toFixed(3));

/**
 * `env`: { threadsUrl (a page that runs threads; Chromium only, or null), coopUrl (a page that
 * runs cooperatively), check, info, shots, timeoutMs }.
 */
export async function convoySuite(engine, env) {
  const { check, info } = env;
  const tag = engine.name.toLowerCase();
  const label = (s) => `${engine.name}, ${s}`;

  // A run whose ratios must hold: its measured checks are marked MEASURED (lib.mjs).
  const measured = pageCases(engine, env, READ, tag);

  if (env.threadsUrl) {
    // The interval sweep: I/O beside short operations, at 0.1 and 20 ms.
    const url = `${env.threadsUrl}?scenarios=thread,thread%2Bload&victim=io&load=short&intervals=0.1,20&delays=1&autorun=1`;
    await measured("interval sweep", url, async (s, check, tab) => {
      const ms = [...new Set(s.rows.map((r) => r.intervalMs))].sort((a, b) => a - b).join(",");
      check("one row per scenario and interval, with data-switch-interval-ms", s.rows.length === 4 && ms === "0.1,20", `${s.rows.length} rows at ${ms}`);
      check("the seed's table has one row per interval", s.seedRows.join("|") === "0.1 ms|20 ms", s.seedRows.join("|"));
      check("the chart has a point per run on the interval axis", s.points === 4 && s.axis, `${s.points} points`);
      check("the link carries the intervals", s.share.includes("intervals=0.1,20"), s.share);
      const r01 = ratio(s.rows, 0.1);
      const r20 = ratio(s.rows, 20);
      info(label(`interval sweep: io thread+load / thread ${fmt(r01)} at 0.1 ms, ${fmt(r20)} at 20 ms`));
      check("the convoy shrinks with the interval (share at 0.1 ms > at 20 ms)", r01 != null && r20 != null && r01 > r20, `${fmt(r01)} > ${fmt(r20)}`, MEASURED);
      check("the verdict gives the share at each interval and names the convoy",
        s.cases.includes("interval-shares") && s.cases.includes("convoy") && s.verdictLive, `cases: ${s.cases.join(" ")}`);
      if (tab.page) {
        const download = await Promise.all([
          tab.page.waitForEvent("download", { timeout: 10_000 }).catch(() => null),
          tab.page.click("#download-json").catch(() => null),
        ]).then(([d]) => d);
        let json = null;
        try {
          json = JSON.parse(fs.readFileSync(await download.path(), "utf8"));
        } catch {}
        const intervals = json ? json.results.map((r) => r.switch_interval_ms).join(",") : "";
        check("the JSON download carries switch_interval_ms per result, as the CLI's",
          !!json && intervals === "0.1,0.1,20,20" && json.config.switch_intervals_ms.join(",") === "0.1,20", intervals);
      }
    });

    // Bad intervals: a notice a reader can act on, and the defaults.
    for (const [query, words, expectInterval] of [
      ["intervals=0.1,x", "not a number", "5"],
      ["intervals=1,5&delays=1,2", "give one delay", "5"],
    ]) {
      const tab = await engine.open(`${env.threadsUrl}?${query}`);
      try {
        for (let i = 0; i < 60 && !(await tab.eval(() => document.getElementById("interval").value)); i++) await sleep(250);
        const s = await tab.eval(READ);
        check(label(`?${query} shows a notice saying what to change`), s.noticeShown && s.notices.some((n) => n.includes(words)), s.notices.join(" | "));
        check(label(`?${query} falls back to one interval`), s.interval === expectInterval, `field: ${s.interval}`);
      } finally {
        await tab.close();
      }
    }
  }

  if (!env.coopUrl) return;
  // `env.convoyBound`: where the engine's clock is coarse (Firefox gives a page without isolation
  // 1 ms), each 100 µs I/O call lasts about 1 ms alone, so the wait for the lock costs it less.
  const convoyBound = env.convoyBound ?? 0.3;
  // The cooperative mode: the release load hashes on a worker of its own, beside the interpreter.
  const coop = (q) => `${env.coopUrl}?scenarios=thread,thread%2Bload&delays=2&${q}&autorun=1`;
  await measured("cooperative, release", coop("load=release"), async (s, check) => {
    const r = ratio(s.rows);
    info(label(`cooperative, release: thread+load / thread ${fmt(r)}`));
    check("runs in the cooperative mode", s.mode === "cooperative", `mode=${s.mode}`);
    check("thread+load / thread >= 0.5 (the hashing runs beside the interpreter)", r != null && r >= 0.5, `ratio ${fmt(r)}`, MEASURED);
    // The verdict reads the same share: fine from 60 % on, else the cores were busy; never the
    // starved thread's "move it to a process".
    const expected = r != null && r >= 0.6 ? "release-fine" : "release-busy";
    check("the verdict reads the release load from the measured share", s.cases.includes(expected) && !s.cases.includes("move-to-process"),
      `cases: ${s.cases.join(" ")}; share ${fmt(r)} wants ${expected}`);
    check("the load's lane shows C code running with the lock released",
      s.timelineSummary.includes("ran C code with the lock released"), s.timelineSummary.slice(0, 160));
  });
  await measured("cooperative, io beside short", coop("victim=io&load=short"), async (s, check) => {
    const r = ratio(s.rows);
    info(label(`cooperative, io beside short: thread+load / thread ${fmt(r)}`));
    check("runs in the cooperative mode", s.mode === "cooperative", `mode=${s.mode}`);
    check(`thread+load / thread <= ${convoyBound} (the convoy)`, r != null && r <= convoyBound, `ratio ${fmt(r)}`, MEASURED);
    check("the verdict names the convoy", s.cases.includes("convoy"), `cases: ${s.cases.join(" ")}`);
  });
}
