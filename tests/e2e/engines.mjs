// The page in Firefox and WebKit: one suite per engine, each engine behind the same small driver
// (open a URL, evaluate in the page or its iframe, take a screenshot, read console errors where
// the engine reports them). Called from run.mjs, which owns the servers and the PASS/FAIL lines.
//
// - Firefox: Debian's firefox-esr, driven headless by puppeteer-core over WebDriver BiDi.
// - WebKit: Debian's WebKitWebDriver driving MiniBrowser under xvfb-run, through
//   selenium-webdriver. The driver has no BiDi, so console messages cannot be read; about one
//   session in 40 hangs on a call, so every call has a time limit and a hung test runs once more
//   in a fresh session (counted as a retry, lib.mjs). `webkit({ sharedArrayBuffer: true })` starts
//   the driver with JSC_useSharedArrayBuffer=1, a debug switch of JavaScriptCore that readers do
//   not have: with it WebKitGTK exposes SharedArrayBuffer and the isolated page runs its threads,
//   which is how the threads path is tried in Safari's engine here.
//
// For each engine: the full page on a server with the isolation headers, the full page on a
// header-less server (service-worker path), and the embed in a plain blog page on another origin
// (cooperative mode). Each reports the mode it ran in and the phenomenon's ratios, and is checked
// with axe-core once done (run.mjs checks every state and both schemes in Chromium).

import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { Hung, measured, phenomenon, ROWS } from "./lib.mjs";

const FIREFOX = process.env.FIREFOX || "/usr/bin/firefox-esr";
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER || "/usr/bin/WebKitWebDriver";
const MINIBROWSER =
  process.env.MINIBROWSER || "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const CALL_MS = 30_000;

/** `promise`, or a `Hung` error after `ms`. */
function limit(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Hung(`${what}: no answer in ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- Firefox ------------------------------------------------------------------------------------

/** `serviceWorkers: false` turns them off (a header-less page then runs cooperatively). */
export async function firefox({ serviceWorkers = true } = {}) {
  const { default: puppeteer } = await import("puppeteer-core");
  const extraPrefsFirefox = serviceWorkers ? {} : { "dom.serviceWorkers.enabled": false };
  const browser = await limit(
    puppeteer.launch({ browser: "firefox", executablePath: FIREFOX, headless: true, extraPrefsFirefox }),
    60_000,
    "starting Firefox",
  );
  const version = (await browser.version()).replace(/^firefox\//i, "");
  return {
    name: "Firefox",
    version,
    consoleErrors: true,
    async open(url, { width = 1280, height = 900 } = {}) {
      // A context of its own: no service worker or storage carries over between tests.
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      await page.setViewport({ width, height });
      const errors = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(`console: ${m.text()}`);
      });
      page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
      await limit(page.goto(url, { waitUntil: "domcontentloaded" }), CALL_MS, "opening").catch(() => {});
      const frame = () => page.frames().find((f) => f !== page.mainFrame());
      return {
        errors,
        eval: (fn, arg) => limit(page.evaluate(fn, arg), CALL_MS, "evaluating"),
        frameEval: (fn, arg) => limit(frame().evaluate(fn, arg), CALL_MS, "evaluating in the iframe"),
        shot: (file) => limit(page.screenshot({ path: file, fullPage: true }), CALL_MS, "screenshot"),
        // A real click (a user gesture, which window.open needs), and a tab it opened.
        click: (selector) => limit(page.click(selector), CALL_MS, "clicking"),
        popup: async (urlPart) => {
          const target = await limit(context.waitForTarget((t) => t.url().includes(urlPart)), CALL_MS, "waiting for the new tab");
          const tab = await target.page();
          return { eval: (fn, arg) => limit(tab.evaluate(fn, arg), CALL_MS, "evaluating in the new tab") };
        },
        close: () => limit(context.close(), CALL_MS, "closing").catch(() => {}),
      };
    },
    close: () => limit(browser.close(), CALL_MS, "closing Firefox").catch(() => {}),
  };
}

// ---- WebKit -------------------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => {
        c.end();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (ok) return true;
    await sleep(200);
  }
  return false;
}

export async function webkit({ sharedArrayBuffer = false } = {}) {
  const { Builder } = await import("selenium-webdriver");
  const port = await freePort();
  // The driver and every MiniBrowser it starts share one virtual screen, tall enough for the
  // whole page: element screenshots paint cross-origin iframes black, so the shots are of the
  // viewport.
  const driverProcess = spawn(
    "xvfb-run",
    ["-a", "-s", "-screen 0 1280x2100x24", WEBKIT_DRIVER, `--port=${port}`],
    {
      stdio: "ignore",
      detached: true,
      env: sharedArrayBuffer ? { ...process.env, JSC_useSharedArrayBuffer: "1" } : process.env,
    },
  );
  const stopDriver = () => {
    try {
      process.kill(-driverProcess.pid, "SIGTERM");
    } catch {}
  };
  if (!(await waitForPort(port, 20_000))) {
    stopDriver();
    throw new Error(`WebKitWebDriver did not listen on port ${port}`);
  }
  const capabilities = {
    browserName: "MiniBrowser",
    "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] },
  };
  let version = "?";
  return {
    name: sharedArrayBuffer ? "WebKit (JSC_useSharedArrayBuffer=1)" : "WebKit",
    tag: sharedArrayBuffer ? "webkit-sab" : "webkit",
    get version() {
      return version;
    },
    consoleErrors: false,
    async open(url, { width = 1280, height = 2000 } = {}) {
      const driver = await limit(
        new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities(capabilities).build(),
        CALL_MS,
        "starting a MiniBrowser session",
      );
      try {
        const caps = await driver.getCapabilities();
        version = caps.get("browserVersion") || version;
        await limit(driver.manage().window().setRect({ width, height }), CALL_MS, "sizing").catch(() => {});
        await limit(driver.get(url), CALL_MS, "opening");
      } catch (e) {
        await limit(driver.quit(), CALL_MS, "quitting").catch(() => {});
        throw e;
      }
      const run = (fn, arg) =>
        driver.executeScript(`return (${fn.toString()})(arguments[0]);`, arg === undefined ? null : arg);
      return {
        errors: null,
        eval: (fn, arg) => limit(run(fn, arg), CALL_MS, "evaluating"),
        frameEval: async (fn, arg) => {
          await limit(driver.switchTo().frame(0), CALL_MS, "entering the iframe");
          try {
            return await limit(run(fn, arg), CALL_MS, "evaluating in the iframe");
          } finally {
            await limit(driver.switchTo().defaultContent(), CALL_MS, "leaving the iframe").catch(() => {});
          }
        },
        shot: async (file) => {
          const png = await limit(driver.takeScreenshot(), CALL_MS, "screenshot");
          (await import("node:fs")).writeFileSync(file, Buffer.from(png, "base64"));
        },
        close: () => limit(driver.quit(), CALL_MS, "quitting").catch(() => {}),
      };
    },
    close: async () => stopDriver(),
  };
}

// ---- The suite ----------------------------------------------------------------------------------

const FOUR = "scenarios=thread,thread+load,process,process+load";

/** What a finished (or failed) page shows, read inside the page. */
const READ = () => {
  const root = document.documentElement;
  const mode = document.getElementById("mode");
  const error = document.getElementById("error-text");
  return {
    state: root.dataset.state,
    mode: root.dataset.mode || null,
    error: root.dataset.error || null,
    errorText: error && !document.getElementById("error").hidden ? error.textContent : "",
    modeLine: mode && !mode.hidden ? mode.textContent : "",
    isolated: self.crossOriginIsolated === true,
    sab: typeof SharedArrayBuffer !== "undefined",
    navigation: (performance.getEntriesByType("navigation")[0] || {}).type || null,
  };
};

const FINISHED = () => ["done", "error"].includes(document.documentElement.dataset.state);

/** axe-core's violations, run inside the page; `src` is axe.min.js, loaded on the first call. */
export const AXE_RUN = async (src) => {
  if (!window.axe) (0, eval)(src);
  const r = await window.axe.run(document, { resultTypes: ["violations"] });
  return r.violations.map((x) => `${x.id} (${x.impact}) x${x.nodes.length}`);
};

/** Polls `fn` (through reloads and slow calls) until it is true or `ms` pass. */
async function until(evaluate, fn, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await evaluate(fn)) return true;
    } catch (e) {
      if (e instanceof Hung) throw e;
      // Navigating (the service worker's reload): try again.
    }
    await sleep(500);
  }
  return false;
}

/**
 * One engine's pages. `env`: { isolatedUrl, plainServer() -> {url, close}, blogServer(html)
 * -> {url, close}, shots, info, timeoutMs, delays, axe, pages (default all three: "isolated",
 * "no-headers", "embed"), expectThreads (the isolated page must run threads) }. Returns the
 * summary rows for the README's Browsers table.
 */
export async function engineSuite(engine, env) {
  const { info } = env;
  const tag = engine.tag || engine.name.toLowerCase();
  const pages = env.pages || ["isolated", "no-headers", "embed"];
  const summary = [];
  const query = `?${FOUR}&delays=${env.delays}&autorun=1`;

  // One test, opened fresh; run once more in a fresh session (lib.mjs, `measured`) when only
  // its measured checks missed or the engine hung.
  const test = async (label, shotName, open, read, expect) => {
    let row = null; // the last attempt's, for the table
    await measured(`${engine.name}, ${label}`, async (defer) => {
      let tab = null;
      try {
        const t0 = Date.now();
        tab = await open();
        const done = await until(read.evaluate(tab), FINISHED, env.timeoutMs);
        const seen = await read.evaluate(tab)(READ);
        const rows = await read.evaluate(tab)(ROWS);
        const seconds = ((Date.now() - t0) / 1000).toFixed(1);
        defer("the autorun reaches data-state=done", done && seen.state === "done",
          `state=${seen.state}, ${seconds} s${seen.errorText ? `: ${seen.errorText}` : ""}`);
        defer("#results has the four rows", rows.length === 4 && rows.every((r) => r.count > 0 && r.elapsed > 0), `${rows.length} rows`);
        const q = phenomenon(rows, defer, { mode: seen.mode });
        for (const [name, ok, detail] of expect(seen)) defer(name, ok, detail);
        if (env.axe && seen.state === "done") {
          const v = await read.evaluate(tab)(AXE_RUN, env.axe).catch((e) => `axe could not run: ${e.message}`);
          defer("axe: no violations (light, done)", Array.isArray(v) && v.length === 0, Array.isArray(v) ? v.slice(0, 3).join(" | ") : v);
        }
        if (tab.errors) {
          defer("no console errors and no page errors", tab.errors.length === 0, tab.errors.slice(0, 3).join(" | "));
        }
        const file = path.join(env.shots, `${tag}-${shotName}.png`);
        await tab.shot(file).then(() => info(`${engine.name}, ${label}: screenshot ${file}`), (e) => info(`${engine.name}, ${label}: no screenshot (${e.message})`));
        info(`${engine.name}, ${label}: mode ${seen.mode}${seen.modeLine ? ` ("${seen.modeLine}")` : ""}, isolated ${seen.isolated}, SharedArrayBuffer ${seen.sab}; late stop ${rows.map((r) => `${r.scenario} ${(r.stopLag * 1e3).toFixed(1)} ms`).join(", ")}`);
        row = { engine: engine.name, version: engine.version, page: label, mode: seen.mode, ...q };
      } finally {
        await tab?.close();
      }
    });
    if (row) summary.push(row);
  };

  const inPage = { evaluate: (tab) => tab.eval };
  const inFrame = { evaluate: (tab) => tab.frameEval };

  // 1. The full page with the isolation headers.
  if (pages.includes("isolated")) {
    await test("full page, isolated", "isolated", () => engine.open(env.isolatedUrl + query), inPage, (s) => [
      ["cross-origin isolated", s.isolated, ""],
      env.expectThreads
        ? ["threads mode (SharedArrayBuffer exists)", s.sab && s.mode === "threads", `mode=${s.mode}, SharedArrayBuffer=${s.sab}`]
        : [
            "threads where shared memory exists, else cooperative with a reason",
            s.sab ? s.mode === "threads" : s.mode === "cooperative" && /SharedArrayBuffer|shared memory to a Web Worker/.test(s.modeLine),
            `mode=${s.mode}, SharedArrayBuffer=${s.sab}`,
          ],
    ]);
  }

  // 2. The full page on a server that sends no headers: the service worker, or cooperative mode.
  if (pages.includes("no-headers")) {
    const server = await env.plainServer();
    try {
      await test("full page, no headers", "no-headers", () => engine.open(server.url + query), inPage, (s) => [
        ["a mode that runs (no error)", ["threads", "cooperative"].includes(s.mode) && !s.error, `mode=${s.mode}, isolated=${s.isolated}, navigation=${s.navigation}`],
      ]);
    } finally {
      server.close();
    }
  }

  // 3. The embed in a plain page on another origin.
  if (pages.includes("embed")) {
    const server = await env.plainServer();
    const src = `${server.url}?embed=1&${FOUR}&delays=${env.delays}&autorun=1`;
    const blog = await env.blogServer(
      `<iframe src="${src}" title="gil-lab" style="width:100%;max-width:760px;height:1400px;border:0" allow="cross-origin-isolated"></iframe>`,
    );
    try {
      await test("embed, plain page", "embed", () => engine.open(blog.url, { width: 800, height: 1500 }), inFrame, (s) => [
        ["the embed runs in cooperative mode", s.mode === "cooperative" && !s.isolated, `mode=${s.mode}, isolated=${s.isolated}`],
      ]);
    } finally {
      blog.close();
      server.close();
    }
  }
  return summary;
}
