// Browser tests: the real `layerlab serve` binary, Debian's headless
// Chromium, driven by playwright-core (which ships no browser).
//
// Run by `cargo xtask browser-test` (part of `cargo xtask test`), which sets:
//   LAYERLAB_BIN        the server binary (with the built app embedded)
//   LAYERLAB_NPM        the npm prefix holding playwright-core
//   LAYERLAB_ARTIFACTS  where screenshots and measured budgets go
//   CHROMIUM            /usr/bin/chromium
//
// Every expectation comes from the server's own API (the course outline,
// lessons with their quiz answers, journeys with their frames), so the test
// follows the content instead of hard-coding it.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { answerRight, chromium, env, freePort, terminalText } from "./support.mjs";

const ARTIFACTS = env("LAYERLAB_ARTIFACTS");

// The budgets.
const BUDGET_TRANSFER_BYTES = 400 * 1024;
const BUDGET_FIRST_LESSON_MS = 1000;
const BUDGET_SCRIPT_MS_PER_FRAME = 4;

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let server;
let sandboxDir;
let serverLog = "";
let base;
let browser;
let outline;
const budgets = {};


async function api(p) {
  const r = await fetch(base + p);
  assert.equal(r.status, 200, `${p} answered ${r.status}`);
  return r.json();
}

function lessons() {
  return outline.chapters.flatMap((c) => c.lessons);
}

/** A fresh page that fails the test on any script error. */
async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ...options });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") page.errors.push(m.text());
  });
  return page;
}

async function closePage(page) {
  assert.deepEqual(page.errors, [], "the page logged errors");
  await page.context().close();
}

/** Waits for `selector`; on timeout, says what the lab bar showed and what the server logged. */
async function waitOrExplain(page, selector, timeout) {
  try {
    await page.locator(selector).waitFor({ timeout });
  } catch (e) {
    const text = async (s) => ((await page.locator(s).count()) ? await page.locator(s).first().textContent() : "(none)");
    throw new Error(
      `${selector} did not appear in ${timeout} ms\n` +
        `lab status: ${await text("#lab-status")}\n` +
        `step result: ${await text("#lab-step-result")}\n` +
        `message: ${await text(".lab-message")}\n` +
        `server log (tail):\n${serverLog.slice(-4000)}\n${e.message}`,
    );
  }
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, name) });
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // Lab sandboxes of this server live apart from any the developer runs.
  sandboxDir = fs.mkdtempSync(path.join(ARTIFACTS, "sandboxes-"));
  server = spawn(env("LAYERLAB_BIN"), ["serve", "--port", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LAYERLAB_SANDBOX_DIR: sandboxDir },
  });
  server.stdout.on("data", (d) => (serverLog += d));
  server.stderr.on("data", (d) => (serverLog += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/api/health`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (server.exitCode !== null || Date.now() > deadline) {
      throw new Error(`layerlab serve did not come up on ${base}:\n${serverLog}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  outline = await api("/api/course");
  browser = await chromium.launch({
    executablePath: env("CHROMIUM"),
    headless: true,
    args: CHROMIUM_ARGS,
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    // The server removes the sandboxes it started on its way out.
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  }
  fs.writeFileSync(path.join(ARTIFACTS, "budgets.json"), JSON.stringify(budgets, null, 2) + "\n");
  console.log("measured budgets:", JSON.stringify(budgets, null, 2));
});

describe("course and lessons", () => {
  test("the course opens, a lesson link leads to the lesson, and its quiz grades and saves", async () => {
    const page = await newPage();
    await page.goto(base + "/");
    const first = lessons()[0];
    await page.locator(".chapter-card .lesson-list a", { hasText: first.title }).first().click();
    await page.waitForURL(`${base}/lesson/${first.id}`);
    await page.locator("h1", { hasText: first.title }).waitFor();
    const lesson = await api(`/api/lessons/${first.id}`);
    // Every section heading is rendered; the last one titles the quiz.
    const blocks = lesson.body.blocks;
    const h2s = blocks.filter((b) => b.heading?.level === 2).length - (blocks.at(-1).heading ? 1 : 0);
    assert.equal(await page.locator(".lesson-body h2").count(), h2s, "every section heading is rendered");
    if (blocks.at(-1).heading) {
      const title = blocks.at(-1).heading.content.map((i) => i.text?.text ?? "").join("");
      assert.equal(await page.locator("#quiz h2").innerText(), title);
    }
    await shot(page, "lesson.png");

    // Answer every question right, from the lesson's own quiz data, except
    // the first, answered wrong first to see the explanation of a mistake.
    const quiz = lesson.quiz;
    assert.ok(quiz.length > 0, "the first lesson has a quiz");
    for (const [i, q] of quiz.entries()) {
      const box = page.locator(`.question[data-question="${i}"]`);
      const kind = await answerRight(page, i, q);
      const data = q.kind[kind];
      if (kind === "single" || kind === "multiple") {
        const right = data.choices.findIndex((c) => c.correct);
        const li = box.locator(".choice").nth(right);
        await assert.doesNotReject(li.locator(".explain").waitFor());
        assert.match(await li.getAttribute("class"), /\bright\b/);
      } else {
        await box.locator(".verdict.right").waitFor();
        assert.match(await box.locator(".verdict").innerText(), new RegExp(data.explain.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
      }
    }
    await page.locator(".quiz-summary:not(.hidden)").waitFor();
    assert.match(await page.locator(".quiz-summary .score").innerText(), new RegExp(`Score: ${quiz.length}/${quiz.length}`));
    const saved = JSON.parse(await page.evaluate(() => localStorage.getItem("layerlab.progress")));
    assert.equal(saved.version, 1);
    assert.equal(saved.lessons[first.id].quiz.best, quiz.length);
    assert.equal(saved.last_lesson, first.id);
    const badge = page.locator(".sidebar li.active .mark");
    assert.equal(await badge.innerText(), `✓ ${quiz.length}/${quiz.length}`);

    // Try again: a wrong pick is marked wrong and explained.
    await page.locator(".quiz-summary button").click();
    const q0 = quiz[0];
    const kind0 = Object.keys(q0.kind)[0];
    if (kind0 === "single") {
      const wrong = q0.kind.single.choices.findIndex((c) => !c.correct);
      const box = page.locator('.question[data-question="0"]');
      await box.locator(".choice input").nth(wrong).check();
      await box.locator("button.check").click();
      const li = box.locator(".choice").nth(wrong);
      await li.locator(".explain").waitFor();
      assert.match(await li.getAttribute("class"), /\bwrong\b/);
      assert.ok((await li.locator(".explain").innerText()).includes(q0.kind.single.choices[wrong].explain.slice(0, 15)));
    }

    // Progress survives a reload (localStorage, core's JSON).
    await page.reload();
    await page.locator("h1", { hasText: first.title }).waitFor();
    assert.equal(await page.locator(".sidebar li.active .mark").innerText(), `✓ ${quiz.length}/${quiz.length}`);
    await closePage(page);
  });

  test("a deep link renders its lesson within the budget, and history and keys navigate", async () => {
    const all = lessons();
    const target = all[Math.min(4, all.length - 3)];
    const next = all[all.indexOf(target) + 1];
    const after = all[all.indexOf(target) + 2];
    const page = await newPage();
    await page.goto(`${base}/lesson/${target.id}`);
    await page.waitForFunction(() => performance.getEntriesByName("layerlab:lesson-rendered").length > 0);
    const timing = await page.evaluate(() => {
      const mark = performance.getEntriesByName("layerlab:lesson-rendered")[0].startTime;
      const nav = performance.getEntriesByType("navigation")[0];
      const res = performance.getEntriesByType("resource");
      const sum = (re, key) => res.filter((r) => re.test(r.name)).reduce((n, r) => n + r[key], 0);
      return {
        renderedMs: mark,
        domContentLoadedMs: nav.domContentLoadedEventEnd,
        transfer: {
          wasm: sum(/\.wasm$/, "encodedBodySize"),
          js: sum(/\.js$/, "encodedBodySize"),
          css: sum(/\.css$/, "encodedBodySize"),
          total: sum(/\.(wasm|js|css)$/, "encodedBodySize"),
          totalWithHeaders: sum(/\.(wasm|js|css)$/, "transferSize"),
        },
      };
    });
    budgets.firstLessonRenderedMs = Math.round(timing.renderedMs);
    budgets.transferredBytes = timing.transfer;
    assert.ok(timing.renderedMs <= BUDGET_FIRST_LESSON_MS, `first lesson rendered after ${timing.renderedMs} ms`);
    assert.ok(timing.transfer.wasm > 0 && timing.transfer.js > 0 && timing.transfer.css > 0, JSON.stringify(timing.transfer));
    assert.ok(timing.transfer.total <= BUDGET_TRANSFER_BYTES, `transferred ${timing.transfer.total} bytes`);
    assert.equal(await page.locator("h1").innerText(), target.title);

    // A link to the next lesson, then back and forward through history.
    await page.locator(".pager-next").click();
    await page.waitForURL(`${base}/lesson/${next.id}`);
    await page.locator("h1", { hasText: next.title }).waitFor();
    await page.goBack();
    await page.waitForURL(`${base}/lesson/${target.id}`);
    await page.locator("h1", { hasText: target.title }).waitFor();
    await page.goForward();
    await page.locator("h1", { hasText: next.title }).waitFor();

    // Keys: n for the next lesson, ? for help, Esc to close it, / for the glossary.
    await page.keyboard.press("n");
    await page.waitForURL(`${base}/lesson/${after.id}`);
    await page.locator("h1", { hasText: after.title }).waitFor();
    await page.keyboard.press("?");
    await page.locator(".dialog", { hasText: "next lesson" }).waitFor();
    await page.keyboard.press("Escape");
    await page.locator(".dialog").waitFor({ state: "detached" });
    await page.keyboard.press("/");
    await page.waitForURL(`${base}/glossary`);
    await page.locator("#glossary-search:focus").waitFor();
    await closePage(page);
  });

  test("the glossary finds a term and links to its lesson", async () => {
    const entry = outline.glossary[Math.floor(outline.glossary.length / 2)];
    const page = await newPage();
    await page.goto(`${base}/glossary`);
    await page.locator("#glossary-search").fill(entry.term);
    const firstTerm = page.locator(".glossary .term dt").first();
    assert.equal(await firstTerm.innerText(), entry.term);
    await page.locator(".glossary .term").first().locator("a").click();
    await page.waitForURL(`${base}/lesson/${entry.lesson}`);
    await closePage(page);
  });

  test("dark and light themes follow the system and the toggle, on a laptop and a tablet", async () => {
    const lesson = lessons().find((l) => l.journeys.length > 0) ?? lessons()[0];
    const dark = await newPage({ colorScheme: "dark" });
    await dark.goto(`${base}/lesson/${lesson.id}`);
    await dark.locator("h1", { hasText: lesson.title }).waitFor();
    const bg = () => dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const darkBg = await bg();
    await dark.locator(".lesson-body pre").first().scrollIntoViewIfNeeded();
    await shot(dark, "lesson-dark.png");
    await dark.locator(".theme-toggle").click();
    assert.equal(await dark.evaluate(() => document.documentElement.dataset.theme), "light");
    assert.notEqual(await bg(), darkBg, "the toggle changes the colours");
    assert.equal(await dark.evaluate(() => localStorage.getItem("layerlab.theme")), "light");
    await closePage(dark);

    const tablet = await newPage({ viewport: { width: 820, height: 1180 }, hasTouch: true });
    await tablet.goto(`${base}/lesson/${lesson.id}`);
    await tablet.locator("h1", { hasText: lesson.title }).waitFor();
    const overflow = await tablet.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a tablet`);
    assert.equal(await tablet.locator(".sidebar").isVisible(), true);
    const box = await tablet.locator(".sidebar").boundingBox();
    assert.ok(box.x + box.width <= 0, "the course tree is a drawer on a tablet");
    await tablet.locator(".drawer-toggle").click();
    await tablet.waitForFunction(() => document.querySelector(".sidebar").getBoundingClientRect().x >= 0);
    await tablet.locator(".drawer-toggle").click();
    await tablet.waitForFunction(() => {
      const b = document.querySelector(".sidebar").getBoundingClientRect();
      return b.x + b.width <= 0;
    });
    await shot(tablet, "lesson-tablet.png");
    await closePage(tablet);
  });
});

/** The journey with a DNAT hop (a hop that rewrites ipv4.dst), from the API. */
async function dnatJourney() {
  const list = await api("/api/journeys");
  assert.ok(list.length > 0, "the server has journeys");
  const ordered = [...list].sort((a, b) => (b.id === "dnat-conntrack") - (a.id === "dnat-conntrack"));
  for (const info of ordered) {
    const j = await api(`/api/journeys/${info.id}`);
    const hop = j.hops.findIndex((h) => h.changed.includes("ipv4.dst"));
    if (hop > 0) return { journey: j, dnatHop: hop };
  }
  throw new Error("no journey rewrites ipv4.dst");
}

/** Dotted IPv4 destination of an Ethernet frame without VLAN tags. */
function ipv4Dst(frame) {
  assert.equal((frame[12] << 8) | frame[13], 0x0800, "an IPv4 frame");
  return frame.slice(30, 34).join(".");
}

describe("packet journeys", () => {
  test("a journey plays to its last hop, highlights the DNAT rewrite, and stays cheap per frame", async () => {
    const { journey, dnatHop } = await dnatJourney();
    const n = journey.hops.length;
    const page = await newPage();
    await page.goto(`${base}/journey/${journey.id}`);
    await page.locator(".journey[data-hop='0']").waitFor();
    assert.equal(await page.locator(".node").count(), journey.nodes.length, "every place is drawn");
    assert.equal(await page.locator("circle.stop").count(), n);

    // Record what is highlighted at every hop as the packet plays.
    await page.evaluate(() => {
      window.__hops = {};
      const root = document.querySelector(".journey");
      const record = () => {
        window.__hops[root.dataset.hop] = [...document.querySelectorAll("tr.field.changed:not(.derived)")].map((r) => ({
          path: r.dataset.path,
          before: r.querySelector(".before")?.textContent ?? null,
          now: r.querySelector(".now").textContent,
        }));
      };
      record();
      new MutationObserver(() => queueMicrotask(record)).observe(root, { attributes: true, attributeFilter: ["data-hop"], subtree: false });
      // Frames and long frames while playing.
      window.__frames = 0;
      window.__loaf = [];
      const tick = () => {
        window.__frames++;
        if (root.dataset.playing === "true") requestAnimationFrame(tick);
      };
      window.__startCounting = () => requestAnimationFrame(tick);
      try {
        new PerformanceObserver((l) => window.__loaf.push(...l.getEntries().map((e) => e.duration))).observe({ type: "long-animation-frame" });
      } catch {
        /* older Chromium: long frames then show only in the metric below */
      }
    });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");
    const metric = async (name) => (await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === name).value;

    await page.locator('.speed-button[data-speed="2"]').click();
    const scriptBefore = await metric("ScriptDuration");
    const taskBefore = await metric("TaskDuration");
    const t0 = Date.now();
    await page.locator("#play").click();
    await page.evaluate(() => window.__startCounting());
    await page.locator(".journey[data-playing='true']").waitFor();

    // Mid-journey: wait for the middle hop, then catch the packet in flight.
    const mid = Math.floor((n - 1) / 2);
    await page.locator(`.journey[data-hop='${mid}']`).waitFor({ timeout: 60_000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(700);
    await shot(page, "journey-mid.png");

    await page.locator(`.journey[data-hop='${n - 1}'][data-playing='false']`).waitFor({ timeout: 120_000 });
    const elapsed = (Date.now() - t0) / 1000;
    const scriptSec = (await metric("ScriptDuration")) - scriptBefore;
    const taskSec = (await metric("TaskDuration")) - taskBefore;
    const frames = await page.evaluate(() => window.__frames);
    const loaf = await page.evaluate(() => window.__loaf);
    const perFrameMs = (scriptSec * 1000) / frames;
    budgets.animation = {
      journey: journey.id,
      hops: n,
      seconds: Number(elapsed.toFixed(1)),
      frames,
      scriptingMsPerFrame: Number(perFrameMs.toFixed(3)),
      mainThreadTaskMsPerFrame: Number(((taskSec * 1000) / frames).toFixed(3)),
      longAnimationFrames: loaf.length,
    };
    assert.ok(frames > 30 * elapsed * 0.5, `only ${frames} frames in ${elapsed}s: the animation did not run`);
    assert.ok(perFrameMs <= BUDGET_SCRIPT_MS_PER_FRAME, `scripting ${perFrameMs} ms per frame`);

    // The packet sits on the last stop.
    const centre = async (loc) => {
      const b = await loc.boundingBox();
      return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    };
    const packet = await centre(page.locator("#packet .packet-body"));
    const last = await centre(page.locator(`circle.stop[data-stop='${n - 1}']`));
    assert.ok(Math.hypot(packet.x - last.x, packet.y - last.y) < 2, `packet at ${JSON.stringify(packet)}, last hop at ${JSON.stringify(last)}`);

    // The DNAT hop highlighted the rewritten destination with its old value,
    // both read from the journey's real frames.
    const seen = await page.evaluate(() => window.__hops);
    const dst = (seen[dnatHop] ?? []).find((f) => f.path === "ipv4.dst");
    assert.ok(dst, `hop ${dnatHop} highlighted ${JSON.stringify(seen[dnatHop])}`);
    assert.equal(dst.now, ipv4Dst(journey.hops[dnatHop].frame));
    assert.equal(dst.before, ipv4Dst(journey.hops[dnatHop - 1].frame));
    assert.notEqual(dst.before, dst.now);
    assert.ok(!(seen[0] ?? []).length, "nothing is highlighted at the first hop");

    // Step back to the DNAT hop with the keyboard: its bytes are marked in the hex view.
    for (let i = n - 1; i > dnatHop; i--) await page.keyboard.press("ArrowLeft");
    await page.locator(`.journey[data-hop='${dnatHop}']`).waitFor();
    const marked = await page.evaluate(() => [...document.querySelectorAll(".hex-dump .byte")].flatMap((b, i) => (b.classList.contains("marked") ? [i] : [])));
    for (const off of [30, 31, 32, 33]) assert.ok(marked.includes(off), `byte ${off} of ipv4.dst is marked: ${marked}`);
    await page.locator("#step-forward").click();
    await page.locator(`.journey[data-hop='${dnatHop + 1}']`).waitFor();
    await closePage(page);
  });

  test("with reduced motion the packet jumps from hop to hop instead of gliding", async () => {
    const { journey } = await dnatJourney();
    const page = await newPage({ reducedMotion: "reduce" });
    await page.goto(`${base}/journey/${journey.id}`);
    await page.locator(".journey[data-hop='0']").waitFor();
    await page.locator('.speed-button[data-speed="4"]').click();
    await page.locator("#play").click();
    // Positions are read in the same frame as the stops (clicks may scroll).
    const samples = [];
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      samples.push(await page.evaluate(() => {
        const centre = (el) => {
          const b = el.getBoundingClientRect();
          return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
        };
        return {
          packet: centre(document.querySelector("#packet .packet-body")),
          stops: [...document.querySelectorAll("circle.stop")].map(centre),
          hop: document.querySelector(".journey").dataset.hop,
        };
      }));
      await page.waitForTimeout(25);
    }
    assert.ok(Number(samples.at(-1).hop) >= 2, `played to hop ${samples.at(-1).hop}`);
    for (const s of samples) {
      const near = s.stops.some((p) => Math.hypot(p.x - s.packet.x, p.y - s.packet.y) < 1.5);
      assert.ok(near, `packet seen between hops at ${JSON.stringify(s.packet)} (hop ${s.hop})`);
    }
    await closePage(page);
  });
});

/** Types `line` and Enter into the lab page's terminal (xterm.js). */
async function typeInTerminal(page, line) {
  await page.locator("#lab-terminal .xterm-helper-textarea").focus();
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
}

/**
 * Waits until the terminal's buffer (scrollback and screen, read through
 * xterm's API: the DOM renderer only draws while the terminal is in view)
 * matches `re`.
 */
async function terminalShows(page, re, timeout = 30_000) {
  const until = Date.now() + timeout;
  for (;;) {
    const text = await terminalText(page);
    if (re.test(text.replace(/\s+/g, " "))) return text;
    if (Date.now() > until) {
      fs.writeFileSync(path.join(ARTIFACTS, "terminal-failed.txt"), text);
      throw new Error(`the terminal never showed ${re}; it ends with:\n${text.slice(-1500)}\nserver log (tail):\n${serverLog.slice(-2000)}`);
    }
    await page.waitForTimeout(100);
  }
}

describe("labs", () => {
  const hostNamespaces = () => {
    try {
      return execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    } catch {
      return "";
    }
  };

  test("a sandbox lab check runs from the page: red with the reason, then green after the solution", async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip("skipped: sandbox labs need root (CI runs as root)");
      return;
    }
    const lab = await api("/api/labs/handshake");
    const step = lab.steps[0];
    const hostBefore = hostNamespaces();
    const page = await newPage();

    // The lesson that practises it links to the lab page.
    const lesson = (await Promise.all(lessons().map((l) => api(`/api/lessons/${l.id}`)))).find((l) => (l.labs ?? []).includes(lab.id));
    assert.ok(lesson, "a lesson links the handshake lab");
    await page.goto(`${base}/lesson/${lesson.id}`);
    await page.locator(`a[href="/lab/${lab.id}"]`).first().click();
    await page.locator(".page.lab h1").waitFor();
    assert.equal(await page.locator(".page.lab h1").textContent(), lab.title);
    assert.equal(await page.locator(".lab-steps li").count(), lab.steps.length);
    assert.equal(await page.locator(".lab-check-row").count(), step.checks.length);

    await page.locator("#lab-start").click();
    await waitOrExplain(page, "#lab-status.pill.on", 30_000);
    // Checked by hand before doing anything: red, with what was wrong.
    await page.locator("#lab-check").click();
    await waitOrExplain(page, "#lab-step-result.error", 60_000);
    const failed = page.locator(".lab-check-row.failed").first();
    await failed.waitFor();
    assert.ok((await failed.locator(".check-message").textContent()).length > 0, "a failed check says why");
    assert.ok(await page.locator('.lab-steps li[data-step="1"].failed').count(), "the step list shows the failure");

    // Apply the solution from the page: the same checks turn green.
    await page.locator(".lab-solution summary").click();
    await page.locator("#lab-solve").click();
    await waitOrExplain(page, '.lab-steps li[data-step="1"].passed', 60_000);
    await page.locator("#lab-step-result.ok").waitFor();
    assert.equal(await page.locator(".lab-check-row.passed").count(), step.checks.length);
    const saved = JSON.parse(await page.evaluate(() => localStorage.getItem("layerlab.progress")));
    assert.ok(saved.labs?.[lab.id]?.steps?.["1"], `progress records the step: ${JSON.stringify(saved.labs)}`);

    // The terminal runs in the sandbox, which the host does not see.
    await typeInTerminal(page, "ip netns list | tr '\\n' , ; echo :end");
    await terminalShows(page, /client,.*:end/);
    assert.doesNotMatch(hostNamespaces(), /\bclient\b/, "the sandbox's namespace is not on the host");
    await shot(page, "lab-step-passed.png");

    // A capture check's packets animate like an authored journey: solve
    // steps 2 and 3 (through the API, as a script would), check step 3
    // from the page, and replay what it captured.
    for (const n of [2, 3]) {
      const r = await fetch(`${base}/api/labs/${lab.id}/steps/${n}/solve`, { method: "POST" });
      assert.equal(r.status, 200, `solve step ${n}: ${await r.text()}`);
    }
    const captureCheck = lab.steps[2].checks.findIndex((c) => c.kind === "capture");
    assert.ok(captureCheck >= 0, "step 3 has a capture check");
    await page.locator('.lab-steps li[data-step="3"] .step-link').click();
    await page.locator("#lab-check").click();
    await waitOrExplain(page, '.lab-steps li[data-step="3"].passed', 60_000);
    await page.locator("a.replay").first().click();
    await page.locator(".journey[data-hop='0']").waitFor({ timeout: 30_000 });
    const stops = await page.locator("circle.stop").count();
    assert.ok(stops >= 2, `the capture has ${stops} packets`);
    const captured = await api(`/api/labs/${lab.id}/steps/3/checks/${captureCheck + 1}/journey`);
    assert.equal(stops, captured.hops.length, "one stop per captured packet");
    await page.locator('.speed-button[data-speed="4"]').click();
    await page.locator("#play").click();
    await page.locator(`.journey[data-hop='${stops - 1}'][data-playing='false']`).waitFor({ timeout: 120_000 });
    await page.goBack();
    await page.locator(".page.lab h1").waitFor();

    // The report for grading counts the step.
    const report = await api(`/api/labs/${lab.id}/report`);
    assert.equal(report.steps[0].passed, true);
    assert.ok(report.score > 0);

    await page.locator("#lab-stop").click();
    await page.locator("#lab-start").waitFor({ timeout: 30_000 });
    assert.equal(hostNamespaces(), hostBefore, "the host's namespaces are as before");
    await closePage(page);
  });
  test("the router lab's step 1, typed into the page's terminal, turns green", async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip("skipped: sandbox labs need root (CI runs as root)");
      return;
    }
    const lab = await api("/api/labs/router");
    const step = lab.steps[0];
    const page = await newPage();
    await page.goto(`${base}/lab/${lab.id}`);
    await page.locator(".page.lab h1").waitFor();
    await page.locator("#lab-start").click();
    await waitOrExplain(page, "#lab-status.pill.on", 30_000);
    // The terminal loads (only on lab pages) and shows the sandbox's prompt.
    await page.locator("#lab-terminal .xterm-rows").waitFor({ timeout: 30_000 });
    await terminalShows(page, /\[lab router\]/);
    const loaded = await page.evaluate(() =>
      performance.getEntriesByType("resource").filter((e) => /terminal\.(js|css)$/.test(e.name)).map((e) => [e.name, e.transferSize]),
    );
    budgets.terminalTransferBytes = loaded.reduce((n, [, size]) => n + size, 0);
    assert.equal(loaded.length, 2, `terminal.js and terminal.css loaded: ${JSON.stringify(loaded)}`);

    // Keystroke echo through the page: key → WebSocket → PTY → bash's echo
    // → WebSocket → xterm (measured, not asserted).
    const echo = await page.evaluate(async () => {
      const term = document.querySelector("#lab-terminal").llTerm.term;
      const times = [];
      for (let i = 0; i < 50; i++) {
        const t0 = performance.now();
        await new Promise((done) => {
          const d = term.onWriteParsed(() => {
            d.dispose();
            done();
          });
          term.input("q");
        });
        times.push(performance.now() - t0);
      }
      term.input("\x15"); // ^U: drop the typed q's
      return times.sort((a, b) => a - b);
    });
    budgets.terminalEchoMs = { median: echo[25], p98: echo[48], max: echo[49] };

    // Typed exactly as the lab's solution says; then checked from the page.
    for (const cmd of step.solution) await typeInTerminal(page, cmd);
    await typeInTerminal(page, "ip netns list | sort | tr '\\n' , ; echo :listed");
    await terminalShows(page, /client,router,server,:listed/);
    await page.locator("#lab-check").click();
    await waitOrExplain(page, '.lab-steps li[data-step="1"].passed', 60_000);
    // Every check row green (the live re-check may be redrawing them).
    await page.locator(".lab-check-row.passed").nth(step.checks.length - 1).waitFor({ timeout: 10_000 });
    await page.locator("#lab-terminal").scrollIntoViewIfNeeded();
    await page.locator("#lab-terminal .xterm-rows", { hasText: ":listed" }).waitFor();
    await shot(page, "lab-terminal.png");

    // A reload reconnects to the same shell: its output is replayed.
    await page.reload();
    await page.locator("#lab-terminal .xterm-rows").waitFor({ timeout: 30_000 });
    await terminalShows(page, /:listed/);

    // A paste bigger than one WebSocket message (64 KiB) arrives whole and
    // in order: `head` stops after exactly its bytes (no ^D to race the
    // paste's last pieces), and their digest must match.
    const pasted = `${"x".repeat(99)}\n`.repeat(700);
    const digest = createHash("md5").update(pasted).digest("hex");
    await typeInTerminal(page, "head -c 70000 | md5sum");
    // Once bash runs wc it turns bracketed paste off (its prompt had it on);
    // readline says so just before it puts the terminal back in line mode,
    // so give that a moment too (a paste in between is read raw).
    await page.waitForFunction(() => !document.querySelector("#lab-terminal").llTerm.term.modes.bracketedPasteMode);
    await page.waitForTimeout(300);
    await page.evaluate((text) => document.querySelector("#lab-terminal").llTerm.term.paste(text), pasted);
    await terminalShows(page, new RegExp(`\\b${digest}\\b`));

    await page.locator("#lab-stop").click();
    await page.locator("#lab-start").waitFor({ timeout: 30_000 });
    await closePage(page);
  });
});
