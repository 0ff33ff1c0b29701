// A workshop in the browser: the real `layerlab serve --workshop` binary,
// Debian's headless Chromium (playwright-core), two browser contexts = two
// learners. Each joins with the code, opens the router lab, types the first
// step's solution into the terminal in the page (a PTY in their own
// confined sandbox), checks the step and sees it turn green; neither sees
// the other's shell or results.
//
// Run by `cargo xtask browser-test` (see browser.test.mjs for the
// environment it sets). Needs root for confined sandboxes: skipped, saying
// so, otherwise.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { chromium, env, freePort, terminalText } from "./support.mjs";

const ARTIFACTS = env("LAYERLAB_ARTIFACTS");
const ROOT = process.getuid?.() === 0;
const CODE = "WORK-SHOP-" + Math.floor(Math.random() * 1e6);

let server;
let serverLog = "";
let base;
let browser;
let workDir;


before(async () => {
  if (!ROOT) return;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  workDir = fs.mkdtempSync(path.join(ARTIFACTS, "workshop-"));
  // Sandboxes run as an unprivileged uid: their state folder must be reachable.
  fs.chmodSync(workDir, 0o755);
  fs.writeFileSync(
    path.join(workDir, "plan.toml"),
    `title = "Browser workshop"\nlabs = ["router"]\njoin_code = "${CODE}"\n`,
  );
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(
    env("LAYERLAB_BIN"),
    ["serve", "--port", String(port), "--workshop", path.join(workDir, "plan.toml"), "--data", path.join(workDir, "data")],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LAYERLAB_SANDBOX_DIR: path.join(workDir, "sandboxes") } },
  );
  server.stdout.on("data", (d) => (serverLog += d));
  server.stderr.on("data", (d) => (serverLog += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/api/health`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (server.exitCode !== null || Date.now() > deadline) {
      throw new Error(`layerlab serve --workshop did not come up on ${base}:\n${serverLog}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launch({
    executablePath: env("CHROMIUM"),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
  }
});

/** A learner in their own browser context, joined through the join page. */
async function learner(name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => {
    // A refused request (this test's own 403 probe) is logged by Chromium too.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) page.errors.push(m.text());
  });
  // The app sends a visitor without a session to the join page.
  await page.goto(base + "/");
  assert.equal(new URL(page.url()).pathname, "/join");
  await page.locator('input[name="code"]').fill(CODE.toLowerCase());
  await page.locator('input[name="name"]').fill(name);
  await page.locator("form button").click();
  await page.waitForURL(base + "/");
  const you = await page.evaluate(async () => (await (await fetch("/api/workshop")).json()).you);
  assert.equal(you.name, name);
  page.learnerId = you.id;
  return page;
}

/** Waits for `selector`; on timeout, says what the page and the server showed. */
async function waitOrExplain(page, selector, timeout) {
  try {
    await page.locator(selector).waitFor({ timeout });
  } catch (e) {
    const text = async (s) => ((await page.locator(s).count()) ? await page.locator(s).first().textContent() : "(none)");
    throw new Error(
      `${selector} did not appear in ${timeout} ms\nlab status: ${await text("#lab-status")}\n` +
        `terminal: ${await terminalText(page)}\nserver log (tail):\n${serverLog.slice(-3000)}\n${e.message}`,
    );
  }
}


/** Types into the page's terminal and waits until `until` shows in it. */
async function typeInTerminal(page, line, until) {
  await page.locator("#lab-terminal .xterm-helper-textarea").focus();
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
  const deadline = Date.now() + 20_000;
  while (!(await terminalText(page)).includes(until)) {
    if (Date.now() > deadline) {
      throw new Error(`the terminal never showed ${until}:\n${(await terminalText(page)).slice(-1500)}`);
    }
    await page.waitForTimeout(100);
  }
}

test("two learners each get a terminal in their own sandbox and see only their own green steps", async (t) => {
  if (!ROOT) {
    t.skip("skipped: workshop sandboxes are confined, which needs root (CI runs as root)");
    return;
  }
  const ada = await learner("Ada");
  const bob = await learner("Bob");
  assert.notEqual(ada.learnerId, bob.learnerId);

  for (const page of [ada, bob]) {
    await page.goto(base + "/lab/router");
    await page.locator(".page.lab h1").waitFor();
    await page.locator("#lab-start").click();
    await waitOrExplain(page, "#lab-status.pill.on", 30_000);
    await waitOrExplain(page, "#lab-terminal .xterm", 30_000);
  }

  // Ada builds step 1 in her terminal; Bob only looks around in his.
  // The awaited text is computed by the shell, so the typed line alone never matches.
  await typeInTerminal(ada, "ip netns add client && ip netns add router && ip netns add server && echo ada-$((40+2))", "ada-42");
  await typeInTerminal(bob, "echo bob-$((2+3)) $(ip netns list | wc -l)", "bob-5 0");
  const bobScreen = await terminalText(bob);
  assert.ok(!bobScreen.includes("ada-"), "Bob's terminal shows Ada's shell");

  for (const page of [ada, bob]) {
    await page.locator("#lab-check").click();
  }
  await waitOrExplain(ada, '.lab-steps li[data-step="1"].passed', 60_000);
  await waitOrExplain(bob, "#lab-step-result.error", 60_000);
  assert.equal(await bob.locator('.lab-steps li[data-step="1"].passed').count(), 0, "Bob's step is green without his work");

  // The server's reports agree: Ada's step passed, Bob's did not.
  const report = async (page) =>
    page.evaluate(async () => (await (await fetch("/api/labs/router/report")).json()).steps[0].passed);
  assert.equal(await report(ada), true);
  assert.equal(await report(bob), false);

  // Bob cannot reach Ada's progress through the API either.
  const status = await bob.evaluate(async (id) => (await fetch(`/api/learners/${id}/progress`)).status, ada.learnerId);
  assert.equal(status, 403);

  await ada.screenshot({ path: path.join(ARTIFACTS, "workshop-ada.png") });
  await bob.screenshot({ path: path.join(ARTIFACTS, "workshop-bob.png") });
  for (const page of [ada, bob]) {
    assert.deepEqual(page.errors, [], "the page logged errors");
    await page.context().close();
  }
});
