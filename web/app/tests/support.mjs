// What the browser test files share: the environment `cargo xtask
// browser-test` sets, playwright's Chromium driver, a free port, and the
// lab terminal's text.

import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";

/** An environment variable `cargo xtask browser-test` sets. */
export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through \`cargo xtask browser-test\``);
  return v;
};

const require = createRequire(path.resolve(env("LAYERLAB_NPM"), "node_modules", "noop.js"));
/** playwright-core's Chromium driver (it ships no browser: Debian's is used). */
export const { chromium } = require("playwright-core");

/** A TCP port free on loopback right now. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * The lab terminal's scrollback and screen, read through xterm's API (the
 * DOM renderer only draws while the terminal is in view).
 */
export async function terminalText(page) {
  return page.evaluate(() => {
    const term = document.querySelector("#lab-terminal")?.llTerm?.term;
    if (!term) return "";
    const b = term.buffer.active;
    const lines = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
    return lines.join("\n");
  });
}

/**
 * Answers question `i` of a lesson's quiz on the page with the right answer
 * (from the lesson's own data) and clicks Check. Answers which kind it was.
 */
export async function answerRight(page, i, q) {
  const box = page.locator(`.question[data-question="${i}"]`);
  const kind = Object.keys(q.kind)[0];
  const data = q.kind[kind];
  if (kind === "single" || kind === "multiple") {
    const picks = data.choices.flatMap((c, k) => (c.correct ? [k] : []));
    for (const k of picks) await box.locator(".choice input").nth(k).check();
  } else if (kind === "numeric") {
    await box.locator(".free-answer input").fill(String(data.answer));
  } else {
    await box.locator(".free-answer input").fill(data.answer);
  }
  await box.locator("button.check").click();
  return kind;
}
