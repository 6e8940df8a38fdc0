// End-to-end tests of the page where it cannot share memory at first: embedded in a blog, and on
// a static host that sends no COOP/COEP headers. Called from run.mjs, which owns the browser, the
// servers and the PASS/FAIL lines.
//
// - A blogger's page (plain, on another local port) pastes the snippet of "Copy embed code": the
//   iframe is not cross-origin isolated, so the embed runs in cooperative mode; its autorun must
//   show the phenomenon in its #results rows, load at most 150 KB gzip from its own origin only, fit
//   its height through embed-host.js, and be usable at 320 px in the dark scheme.
// - The full page on the plain server at top level: the service worker (coi-sw.js) adds the
//   headers and the page reloads once into threads mode; with service workers blocked, it runs in
//   cooperative mode instead of showing an explanation.

import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { measured, phenomenon as phenomenonChecks, pageSite, ratios, ROWS } from "./lib.mjs";

const FOUR = "scenarios=thread,thread+load,process,process+load&delays=2";
/** The ceiling of run.mjs: 150 KB gzip (see there). */
const BUDGET_GZIP = 150_000;

export function blogPost(snippet) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>My blog: the GIL</title><link rel="icon" href="data:,">
<style>body{font:17px/1.6 Georgia,serif;margin:0 auto;padding:1rem;max-width:720px}
@media (prefers-color-scheme: dark){body{background:#15171a;color:#ddd}}</style></head>
<body><h1>Why my Python threads were slow</h1>
<p>Here is the experiment, live. Press Run.</p>
${snippet}
<p>As you can see, the thread starves and the process does not.</p>
</body></html>`;
}

/** Polls `fn` in `target` (a page or a frame) until it returns true, through reloads. */
async function until(target, fn, arg, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if (await target.evaluate(fn, arg)) return true;
    } catch {
      // Navigating (the service worker's reload): try again.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** For `until`: whether data-state is one of `states` (evaluated in the page). */
const stateIn = (states) => states.includes(document.documentElement.dataset.state);
const FINISHED = ["done", "error"];

const rowsOf = (target) => target.evaluate(ROWS);

/** The phenomenon's checks (lib.mjs) on the four rows, as `label: ...` lines. */
function phenomenon(rows, label, { check, info }, mode) {
  const complete = ["thread", "thread+load", "process", "process+load"].every((s) => rows.some((r) => r.scenario === s && r.delay === 2 && r.count > 0 && r.elapsed > 0));
  check(`${label}: #results has the four rows with their data attributes`, rows.length === 4 && complete, `${rows.length} rows`);
  for (const r of rows) info(`${label}: ${r.scenario} count ${r.count} in ${r.elapsed.toFixed(3)} s, late stop ${(r.stopLag * 1e3).toFixed(1)} ms`);
  return phenomenonChecks(rows, (name, ok, detail, kind) => check(`${label}: ${name}`, ok, detail, kind), { mode });
}

/** The gzip size of the dist files behind `urls`, and the URLs that are not ours. */
function budget(urls, dist, ours) {
  const files = new Set();
  const foreign = [];
  for (const u of urls) {
    if (u.startsWith("data:") || u.startsWith("blob:")) continue;
    const url = new URL(u);
    if (!ours.includes(url.origin)) {
      foreign.push(u);
      continue;
    }
    let p = decodeURIComponent(url.pathname);
    if (p.endsWith("/")) p += "index.html";
    const file = path.join(dist, path.normalize(p));
    if (file.startsWith(dist + path.sep) && fs.existsSync(file)) files.add(file);
  }
  let gzip = 0;
  const parts = [];
  for (const f of files) {
    const n = zlib.gzipSync(fs.readFileSync(f), { level: 9 }).length;
    gzip += n;
    parts.push(`${path.basename(f)} ${(n / 1024).toFixed(1)} KB`);
  }
  return { gzip, foreign, parts };
}

/** The snippet that "Copy embed code" gives on the full page served by `base`. */
async function snippetFrom(browser, base, query, { check }) {
  const context = await browser.newContext({ serviceWorkers: "block" });
  const page = await context.newPage();
  await page.goto(base + "?" + query);
  await until(page, () => !!window.gilLab && document.getElementById("embed-code").value.length > 0, null, 30_000);
  const snippet = await page.evaluate(() => document.getElementById("embed-code").value);
  const viaApi = await page.evaluate(() => window.gilLab.embedCode());
  await context.close();
  check(
    "Copy embed code gives one line: an iframe with embed=1 and allow=\"cross-origin-isolated\", and the host script",
    snippet === viaApi && !snippet.includes("\n") && /^<iframe src="[^"]*\?embed=1&[^"]*"/.test(snippet) &&
      snippet.includes('allow="cross-origin-isolated"') && snippet.includes("embed-host.js"),
    snippet.slice(0, 90),
  );
  return snippet;
}

export async function embedTests(browser, env) {
  const { plainUrl, dist, check, info, shot, watch, axe, timeoutMs } = env;
  const plainOrigin = new URL(plainUrl).origin;

  // ---- The snippet in a blog post, the seed's four scenarios -----------------------------------
  const snippet = await snippetFrom(browser, plainUrl, FOUR, env);
  const withAutorun = snippet.replace('?embed=1&', "?embed=1&autorun=1&");
  const blog = await pageSite(blogPost(withAutorun));
  try {
    // One attempt: a second one only if nothing but the measured checks missed (lib.mjs).
    let row = null;
    await measured("embed in a plain blog page", async (check) => {
      const context = await browser.newContext({ viewport: { width: 760, height: 900 } });
      try {
        const urls = [];
        context.on("request", (r) => urls.push(r.url()));
        const page = await context.newPage();
        const errors = watch(page);
        // Idle first: the snippet as copied (no autorun), waiting for its Run button.
        blog.set(blogPost(snippet));
        await page.goto(blog.url);
        const idle = await (await page.waitForSelector("iframe")).contentFrame();
        // Each state is checked with axe only once the embed is in it.
        check("embed as copied: it waits, ready (data-state=idle), within 30 s",
          await until(idle, () => document.documentElement.dataset.state === "idle", null, 30_000));
        await axe(idle, "embed, light, idle", check);
        blog.set(blogPost(withAutorun));
        const t0 = Date.now();
        await page.goto(blog.url);
        const frame = await (await page.waitForSelector("iframe")).contentFrame();
        const first = await until(frame, () => document.querySelectorAll("#results tr[data-scenario]").length >= 1, null, 60_000);
        const during = await frame.evaluate(() => document.documentElement.dataset.state).catch(() => "?");
        check("embed: a first result row within 60 s, still running when axe checks it", first && during === "running", `state=${during}`);
        await axe(frame, "embed, light, running", check);
        const done = await until(frame, stateIn, FINISHED, timeoutMs);
        const state = await frame.evaluate(() => document.documentElement.dataset.state).catch(() => "?");
        check("embed in a plain blog page: the autorun reaches data-state=done", done && state === "done", `state=${state}, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const mode = await frame.evaluate(() => ({
          isolated: self.crossOriginIsolated,
          mode: document.documentElement.dataset.mode,
          line: document.getElementById("mode").hidden ? "" : document.getElementById("mode").textContent,
        }));
        check("the embed is not isolated and runs in cooperative mode", mode.isolated === false && mode.mode === "cooperative", JSON.stringify(mode).slice(0, 120));
        check("it says so in one quiet line", /no shared memory/i.test(mode.line));
        const embedRows = await rowsOf(frame);
        phenomenon(embedRows, "embed, cooperative", { check, info }, mode.mode);
        row = { page: "embed, plain page", mode: mode.mode, ...ratios(embedRows) };
        await axe(frame, "embed, light, done", check);
        await page.waitForTimeout(300);
        const fit = await page.evaluate(() => {
          const f = document.querySelector("iframe");
          return { frame: f.getBoundingClientRect().height, styled: f.style.height };
        });
        const content = await frame.evaluate(() => Math.ceil(document.body.getBoundingClientRect().height));
        check("embed-host.js fits the iframe to its content", Math.abs(fit.frame - content) <= 2 && fit.styled !== "", `iframe ${fit.frame} px, content ${content} px`);
        await shot(page, "embed-blog");
        const b = budget(urls, dist, [plainOrigin, blog.origin]);
        info(`embed loads: ${b.parts.join(", ")}`);
        check("the embed makes no third-party request", b.foreign.length === 0, b.foreign.slice(0, 3).join(" "));
        check(`the embed loads at most ${BUDGET_GZIP / 1000} KB gzip in all`, b.gzip <= BUDGET_GZIP, `${(b.gzip / 1000).toFixed(1)} KB gzip`);
        check("no console errors in the blog page and its embed", errors.length === 0, errors.slice(0, 3).join(" | "));
      } finally {
        await context.close();
      }
    });
    if (row) env.summary(row);

    // ---- The default embed (one comparison) at 320 px, dark -------------------------------------
    const def = snippet.replace(/\?embed=1&[^"]*"/, '?embed=1&autorun=1"');
    blog.set(blogPost(def));
    const phone = await browser.newContext({
      viewport: { width: 320, height: 640 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: "dark",
    });
    const p2 = await phone.newPage();
    const e2 = watch(p2);
    await p2.goto(blog.url);
    const f2 = await (await p2.waitForSelector("iframe")).contentFrame();
    await axe(f2, "embed, dark, idle");
    const first2 = await until(f2, () => document.querySelectorAll("#results tr[data-scenario]").length >= 1, null, 60_000);
    const during2 = await f2.evaluate(() => document.documentElement.dataset.state).catch(() => "?");
    check("embed at 320 px: a first result row within 60 s, still running when axe checks it", first2 && during2 === "running", `state=${during2}`);
    await axe(f2, "embed, dark, running");
    await p2.waitForTimeout(1200);
    await shot(p2, "embed-320-dark-during");
    const ok2 = await until(f2, stateIn, FINISHED, timeoutMs);
    const rows = await rowsOf(f2);
    const by = Object.fromEntries(rows.map((r) => [r.scenario, r]));
    check("the default embed compares thread+load with process+load", ok2 && rows.length === 2 && !!by["thread+load"] && !!by["process+load"], rows.map((r) => r.scenario).join(","));
    if (by["thread+load"] && by["process+load"]) {
      const rate = (r) => r.count / r.elapsed;
      const x = rate(by["process+load"]) / Math.max(1e-9, rate(by["thread+load"]));
      check("in it the process counts at least 5 times faster than the thread", x >= 5, `${x.toFixed(1)}x by rate`);
    }
    // With no click: the verdict reads the pair it ran, and the lanes stack the two runs, the
    // starving thread on top.
    const told = await f2.evaluate(() => ({
      cases: document.getElementById("verdict").dataset.cases,
      text: document.getElementById("verdict-list").textContent,
      title: document.getElementById("timeline-title").textContent,
      stacked: document.getElementById("timeline-compare")?.value || "",
      lanes: document.getElementById("timeline-summary").textContent,
    }));
    check("the default embed's verdict compares the pair it ran (data-cases=compare, not none)",
      told.cases === "compare" && /counted \d+x faster than in a thread/.test(told.text), `${told.cases}: ${told.text.slice(0, 160)}`);
    check("the lanes show thread+load on top with process+load stacked under it, without a click",
      /^thread\+load/.test(told.title) && told.stacked !== "", `title "${told.title}", stacked run ${told.stacked}`);
    const narrow = await f2.evaluate(() => ({
      over: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      width: document.documentElement.clientWidth,
      dark: matchMedia("(prefers-color-scheme: dark)").matches,
      bg: getComputedStyle(document.body).backgroundColor,
    }));
    check("usable at 320 px: no horizontal scrolling in the embed", narrow.over <= 0, `${narrow.width} px wide, ${narrow.over} px too wide`);
    check("the embed follows the dark colour scheme", narrow.dark && narrow.bg === "rgb(17, 20, 24)", narrow.bg);
    await shot(p2, "embed-320-dark");
    await axe(f2, "embed, dark, done");
    check("no console errors at 320 px", e2.length === 0, e2.slice(0, 3).join(" | "));
    await phone.close();
  } finally {
    blog.close();
  }

  // ---- Top level on a host without COOP/COEP: the service worker, then the fallback ------------
  await topLevel(browser, env, "allow");
  await topLevel(browser, env, "block");
}

async function topLevel(browser, env, serviceWorkers) {
  const { plainUrl, info, shot, watch, timeoutMs } = env;
  const label = serviceWorkers === "allow" ? "no headers, service worker" : "no headers, service workers blocked";
  let row = null;
  await measured(label, async (check) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers });
    try {
      const page = await context.newPage();
      const errors = watch(page);
      // Every document the tab loads: the first, and the service worker's one reload.
      let documents = 0;
      page.on("request", (r) => r.isNavigationRequest() && r.frame() === page.mainFrame() && documents++);
      const t0 = Date.now();
      // The service worker may reload the page before its first load event.
      await page.goto(plainUrl + "?" + FOUR + "&autorun=1", { waitUntil: "commit" });
      const done = await until(page, stateIn, FINISHED, timeoutMs);
      const st = await page.evaluate(() => ({
        state: document.documentElement.dataset.state,
        mode: document.documentElement.dataset.mode,
        isolated: self.crossOriginIsolated,
        explained: !document.getElementById("error").hidden,
        navigation: performance.getEntriesByType("navigation")[0]?.type,
      }));
      check("the autorun reaches data-state=done", done && st.state === "done", `state=${st.state}, ${((Date.now() - t0) / 1000).toFixed(1)} s, last navigation: ${st.navigation}`);
      if (serviceWorkers === "allow") {
        check("one reload, then cross-origin isolated, threads mode", st.isolated === true && st.mode === "threads" && st.navigation === "reload" && documents === 2,
          `isolated=${st.isolated}, mode=${st.mode}, last navigation: ${st.navigation}, ${documents} documents loaded`);
        // Through the service worker: its headers on the page's files, none on the Perfetto relay.
        const coop = await page.evaluate(async () => {
          const get = async (file) => (await fetch(file, { cache: "no-store" })).headers.get("Cross-Origin-Opener-Policy");
          return { page: await get("index.html"), relay: await get("perfetto.html") };
        });
        check("the service worker adds COOP to the page's files but not to perfetto.html", coop.page === "same-origin" && coop.relay === null, JSON.stringify(coop));
        // A second visit: the service worker is in place, so the page is isolated at once.
        const again = await context.newPage();
        let againDocuments = 0;
        again.on("request", (r) => r.isNavigationRequest() && r.frame() === again.mainFrame() && againDocuments++);
        await again.goto(plainUrl + "?scenarios=thread&delays=0.5");
        const ready = await until(again, () => document.documentElement.dataset.state === "idle" && !!document.documentElement.dataset.mode, null, 30_000);
        const second = await again.evaluate(() => ({ isolated: self.crossOriginIsolated, mode: document.documentElement.dataset.mode }));
        check("a second visit is isolated at once, with no reload", ready && second.isolated && second.mode === "threads" && againDocuments === 1,
          `${JSON.stringify(second)}, ${againDocuments} documents loaded`);
      } else {
        check("cooperative mode, not the plain explanation, and no reload", st.isolated === false && st.mode === "cooperative" && !st.explained && documents === 1,
          `mode=${st.mode}, ${documents} documents loaded`);
      }
      const rows = await rowsOf(page);
      for (const r of rows) info(`${label}: ${r.scenario} count ${r.count} in ${r.elapsed.toFixed(3)} s, late stop ${(r.stopLag * 1e3).toFixed(1)} ms`);
      check("#results has the four rows", rows.length === 4, `${rows.length} rows`);
      const q = phenomenonChecks(rows, check, { mode: st.mode });
      row = { page: "full page, no headers", mode: st.mode, ...q };
      check("no console errors", errors.length === 0, errors.slice(0, 3).join(" | "));
      await shot(page, serviceWorkers === "allow" ? "laptop-service-worker" : "laptop-cooperative");
    } finally {
      await context.close();
    }
  });
  if (row && serviceWorkers === "allow") env.summary(row);
}
