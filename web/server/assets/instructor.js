// The instructor's dashboard: the class grid from /api/workshop/grid,
// kept live by /api/workshop/events (SSE). Plain DOM, no framework; every
// text goes in through textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let grid = null; // the last /api/workshop/grid answer, updated by events
let clockSkew = 0; // server clock minus ours (ms)

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
}

async function getJson(url, opts) {
  const res = await fetch(url, { credentials: "same-origin", ...opts });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `${res.status} ${res.statusText}`);
  return body;
}

async function refresh() {
  grid = await getJson("/api/workshop/grid");
  clockSkew = grid.now_ms - Date.now();
  $("title").textContent = grid.title;
  document.title = `${grid.title} · dashboard`;
  const sel = $("lab");
  if (sel.options.length === 1) {
    for (const l of grid.labs) sel.append(el("option", { value: l.id }, l.title));
  }
  render();
}

// "Stuck": a step whose latest attempt failed after at least N attempts, or
// no check at all for M minutes while some step is still not passed.
function stuck(row, labs) {
  const n = Number($("fails").value) || 3;
  const idleMs = (Number($("idle").value) || 10) * 60000;
  const now = Date.now() + clockSkew;
  let last = row.joined * 1000;
  let open = false;
  for (const lab of labs) {
    for (const c of row.labs[lab.id] || []) {
      if (!c.passed && c.attempts >= n) return true;
      if (!c.passed) open = true;
      if (c.last_ms && c.last_ms > last) last = c.last_ms;
    }
  }
  return open && now - last >= idleMs;
}

function render() {
  if (!grid) return;
  const only = $("lab").value;
  const labs = grid.labs.filter((l) => !only || l.id === only);
  const head = el("tr", {}, el("th", { class: "learner", rowspan: "2" }, "Learner"));
  const sub = el("tr");
  for (const l of labs) {
    head.append(el("th", { colspan: String(l.steps.length) }, l.title));
    l.steps.forEach((s, i) => sub.append(el("th", { title: s }, String(i + 1))));
  }
  head.append(el("th", { rowspan: "2", title: "quiz questions right (latest answer) of those answered" }, "Quizzes"));
  $("grid").tHead.replaceChildren(head, sub);
  const body = $("grid").tBodies[0];
  body.replaceChildren();
  let shown = 0;
  let nStuck = 0;
  for (const row of grid.learners) {
    const isStuck = stuck(row, labs);
    if (isStuck) nStuck++;
    if ($("stuck").checked && !isStuck) continue;
    shown++;
    const tr = el("tr", { class: isStuck ? "stuck" : "", "data-learner": row.id });
    tr.append(el("td", { class: "learner" }, el("button", { type: "button", onclick: () => drill(row, labs[0]) }, row.name)));
    for (const l of labs) {
      (row.labs[l.id] || []).forEach((c, i) => {
        const state = c.passed ? "passed" : c.attempts ? "failed" : "none";
        const text = c.passed ? "✓" : c.attempts ? `✗${c.attempts}` : "·";
        tr.append(
          el("td", {
            class: state,
            "data-lab": l.id,
            "data-step": String(i + 1),
            title: `${l.steps[i]}: ${state}, ${c.attempts} attempt(s)`,
            onclick: () => drill(row, l, i + 1),
          }, text),
        );
      });
    }
    tr.append(el("td", { class: "quiz", title: `${row.lessons_read} lesson(s) read` }, `${row.quiz_right}/${row.quiz_answered}`));
    body.append(tr);
  }
  $("summary").textContent =
    `Join code ${grid.join_code} · ${grid.learners.length} learners · ${nStuck} stuck` +
    (shown !== grid.learners.length ? ` · showing ${shown}` : "");
}

function applyEvent(kind, e) {
  if (!grid) return;
  if (kind === "join") {
    if (grid.learners.some((r) => r.id === e.id)) return;
    const labs = {};
    for (const l of grid.labs) labs[l.id] = l.steps.map(() => ({ passed: false, attempts: 0, first_ms: null, last_ms: null }));
    grid.learners.push({ id: e.id, name: e.name, joined: e.joined, labs, quiz_right: 0, quiz_answered: 0, lessons_read: 0 });
  } else if (kind === "check") {
    const row = grid.learners.find((r) => r.id === e.learner);
    const cell = row && row.labs[e.lab] && row.labs[e.lab][e.step - 1];
    if (!cell) return refresh(); // something the grid does not know yet
    cell.passed = e.passed;
    cell.attempts = Math.max(cell.attempts, e.attempt);
    cell.first_ms = cell.first_ms ?? e.at_ms;
    cell.last_ms = Math.max(cell.last_ms || 0, e.at_ms);
  }
  render();
}

let quizTimer;

function listen() {
  const es = new EventSource("/api/workshop/events");
  es.addEventListener("open", () => {
    $("live").textContent = "live";
    $("live").className = "on";
    refresh().catch(showError); // catch what happened while we were away
  });
  es.addEventListener("error", () => {
    $("live").textContent = "reconnecting…";
    $("live").className = "off";
  });
  es.addEventListener("check", (m) => applyEvent("check", JSON.parse(m.data)));
  es.addEventListener("join", (m) => applyEvent("join", JSON.parse(m.data)));
  // Quiz totals count each question's latest answer: the grid recounts them.
  es.addEventListener("quiz", () => {
    clearTimeout(quizTimer);
    quizTimer = setTimeout(() => refresh().catch(showError), 500);
  });
  // We fell behind and missed events: the grid is the truth.
  es.addEventListener("resync", () => refresh().catch(showError));
}

function showError(err) {
  $("summary").textContent = `Error: ${err.message}`;
}

function fmtMs(ms) {
  if (ms == null) return "—";
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

async function drill(row, lab, onlyStep) {
  const box = $("detail");
  box.hidden = false;
  box.replaceChildren(el("p", {}, "Loading…"));
  let d;
  try {
    d = await getJson(`/api/workshop/learners/${encodeURIComponent(row.id)}/labs/${encodeURIComponent(lab.id)}`);
  } catch (err) {
    box.replaceChildren(el("p", {}, `Error: ${err.message}`));
    return;
  }
  const labPick = el("select", { onchange: (ev) => drill(row, grid.labs.find((l) => l.id === ev.target.value)) });
  for (const l of grid.labs) {
    const o = el("option", { value: l.id }, l.title);
    if (l.id === lab.id) o.selected = true;
    labPick.append(o);
  }
  const out = [el("h2", {}, `${d.name} — `, labPick)];
  const hintText = el("textarea", { rows: "2", cols: "60", placeholder: "a hint for this learner" });
  const status = el("span", { role: "status" });
  out.push(
    el("p", {},
      el("button", { type: "button", onclick: async () => {
        status.textContent = "resetting…";
        try {
          await getJson(`/api/workshop/learners/${encodeURIComponent(row.id)}/labs/${encodeURIComponent(lab.id)}/reset`, { method: "POST" });
          status.textContent = "sandbox reset";
        } catch (err) { status.textContent = `reset failed: ${err.message}`; }
      } }, "Reset their sandbox"),
      " ", hintText, " ",
      el("button", { type: "button", onclick: async () => {
        try {
          await getJson(`/api/workshop/learners/${encodeURIComponent(row.id)}/hints`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ lab: lab.id, step: onlyStep ?? null, text: hintText.value }),
          });
          status.textContent = "hint sent";
          hintText.value = "";
        } catch (err) { status.textContent = `hint failed: ${err.message}`; }
      } }, "Reveal hint"),
      " ", status),
  );
  for (const s of d.steps) {
    if (onlyStep && s.step !== onlyStep) continue;
    out.push(el("h3", {}, `Step ${s.step}: ${s.title} — ${s.attempts.length} attempt(s), time to pass ${fmtMs(s.time_to_pass_ms)}`));
    const lastFail = [...s.attempts].reverse().find((a) => !a.result.passed);
    for (const a of s.attempts) {
      const when = new Date(a.result.checked_at_ms).toLocaleTimeString();
      const item = el("details", a === lastFail ? { open: "" } : {},
        el("summary", {}, `#${a.attempt} ${a.result.passed ? "passed" : "failed"} at ${when}`));
      for (const c of a.result.checks) {
        item.append(el("p", {}, `${c.passed ? "✓" : "✗"} ${c.title}: ${c.message}`));
        for (const m of c.mismatches) {
          item.append(el("p", { class: "mismatch" }, `${m.path}: expected ${m.expected}, observed ${m.observed}`));
        }
        if (c.evidence) item.append(el("pre", {}, c.evidence));
      }
      if (a.capture_summary) item.append(el("pre", {}, a.capture_summary));
      out.push(item);
    }
  }
  box.replaceChildren(...out);
}

for (const id of ["lab", "stuck", "fails", "idle"]) $(id).addEventListener("input", render);
// "no progress for M minutes" changes with the clock alone.
setInterval(render, 30000);
refresh().catch(showError);
listen();
