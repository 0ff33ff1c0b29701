// A workshop in the browser: the real `layerlab serve --workshop` binary,
// Debian's headless Chromium (playwright-core), two browser contexts = two
// learners and a third for the instructor's dashboard. Each joins with the code, opens the router lab, types the first
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
import { answerRight, chromium, env, freePort, terminalText } from "./support.mjs";

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

/** The instructor's token, from the sign-in link the server printed. */
function instructorToken() {
  const token = serverLog.match(/instructor\?token=([A-Za-z0-9_-]+)/)?.[1];
  assert.ok(token, `the server printed no sign-in link:\n${serverLog}`);
  return token;
}

/** The instructor's API, from outside any browser. */
async function asInstructor(p, init = {}) {
  const r = await fetch(base + p, {
    ...init,
    headers: { authorization: `Bearer ${instructorToken()}`, "content-type": "application/json", ...init.headers },
  });
  assert.ok(r.ok, `${p} answered ${r.status}: ${await r.clone().text()}`);
  return r.json();
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

  // The instructor, in a third context, signs in with the printed link
  // and watches the grid before anyone checks.
  const token = instructorToken();
  const teacher = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })).newPage();
  teacher.errors = [];
  teacher.on("pageerror", (e) => teacher.errors.push(String(e)));
  teacher.on("console", (m) => m.type() === "error" && teacher.errors.push(m.text()));
  await teacher.goto(`${base}/instructor?token=${token}`);
  assert.equal(new URL(teacher.url()).pathname, "/instructor", "the token leaves the address bar");
  await teacher.locator("#live.on").waitFor({ timeout: 15_000 });
  const cell = (id, state) => `#grid tr[data-learner="${id}"] td[data-lab="router"][data-step="1"].${state}`;
  await teacher.locator(cell(ada.learnerId, "none")).waitFor();

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

  // The dashboard turned both rows live (no reload): Ada green, Bob red.
  await teacher.locator(cell(ada.learnerId, "passed")).waitFor({ timeout: 15_000 });
  await teacher.locator(cell(bob.learnerId, "failed")).waitFor({ timeout: 15_000 });
  // Drilling into Bob's cell shows the evidence of his failed check.
  await teacher.locator(cell(bob.learnerId, "failed")).click();
  await teacher.locator("#detail:not([hidden])").waitFor();
  assert.match(await teacher.locator("#detail").innerText(), /namespace client/);
  // The CSV the instructor downloads says what the learners did.
  const [download] = await Promise.all([teacher.waitForEvent("download"), teacher.locator('a[href$="format=csv"]').click()]);
  const csv = fs.readFileSync(await download.path(), "utf8");
  const row = (id) => csv.split("\n").find((l) => l.startsWith(`${id},`) && l.includes(",router,1,"));
  assert.match(row(ada.learnerId) ?? "", /,true,/, csv);
  assert.match(row(bob.learnerId) ?? "", /,false,/, csv);
  await teacher.screenshot({ path: path.join(ARTIFACTS, "workshop-dashboard.png") });
  assert.deepEqual(teacher.errors, [], "the dashboard logged errors");
  await teacher.context().close();

  await ada.screenshot({ path: path.join(ARTIFACTS, "workshop-ada.png") });
  await bob.screenshot({ path: path.join(ARTIFACTS, "workshop-bob.png") });
  for (const page of [ada, bob]) {
    assert.deepEqual(page.errors, [], "the page logged errors");
    await page.context().close();
  }
});

test("in a workshop the server grades quizzes, progress follows the learner, and the instructor's hint reaches them", async (t) => {
  if (!ROOT) {
    t.skip("skipped: workshop sandboxes are confined, which needs root (CI runs as root)");
    return;
  }
  const carol = await learner("Carol");
  const outline = await carol.evaluate(async () => (await fetch("/api/course")).json());
  const first = outline.chapters.flatMap((c) => c.lessons)[0];
  const lesson = await carol.evaluate(async (id) => (await fetch(`/api/lessons/${id}`)).json(), first.id);
  const quiz = lesson.quiz;
  assert.ok(quiz.length > 0, "the first lesson has a quiz");

  // Every answer goes to the server, which grades it; the page shows its verdict.
  await carol.goto(`${base}/lesson/${first.id}`);
  await carol.locator(".question").first().waitFor();
  for (const [i, q] of quiz.entries()) {
    const [answered] = await Promise.all([
      carol.waitForResponse((r) => r.url().endsWith(`/api/lessons/${first.id}/quiz/${i + 1}`)),
      answerRight(carol, i, q),
    ]);
    assert.equal(answered.status(), 200);
    assert.equal((await answered.json()).correct, true);
  }
  await carol.locator(".quiz-summary:not(.hidden)").waitFor();
  const mark = `✓ ${quiz.length}/${quiz.length}`;
  assert.equal(await carol.locator(".sidebar li.active .mark").innerText(), mark);

  // The instructor's grid counts the server's grades, not the page's.
  const row = async () => (await asInstructor("/api/workshop/grid")).learners.find((l) => l.id === carol.learnerId);
  assert.equal((await row()).quiz_right, quiz.length);
  assert.equal((await row()).quiz_answered, quiz.length);

  // Carol's progress follows her to a fresh browser (no local storage).
  const elsewhere = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await elsewhere.context().addCookies(await carol.context().cookies());
  await elsewhere.goto(`${base}/lesson/${first.id}`);
  await elsewhere.locator(".sidebar li.active .mark", { hasText: mark }).waitFor({ timeout: 15_000 });
  await elsewhere.context().close();

  // A hint the instructor reveals to Carol shows on her lab page.
  const text = `Carol, start with ip netns add client (${Date.now()})`;
  await asInstructor(`/api/workshop/learners/${carol.learnerId}/hints`, {
    method: "POST",
    body: JSON.stringify({ lab: "router", step: 1, text }),
  });
  await carol.goto(base + "/lab/router");
  await carol.locator(".instructor-hints", { hasText: text }).waitFor({ timeout: 20_000 });
  await carol.screenshot({ path: path.join(ARTIFACTS, "workshop-hint.png") });
  assert.deepEqual(carol.errors, [], "the page logged errors");
  await carol.context().close();
});
