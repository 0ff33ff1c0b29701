//! Load for `bench/class.sh` (issue #17, "grades the server can stand
//! behind"): N learners on a running workshop server, each with the router
//! lab's sandbox, re-check their current step every 2 s (`quick`),
//! staggered; each solves a step after a few failing checks, so steps turn
//! green over time, while the instructor's dashboard listens to the class
//! events. Measures every check (request → its final `step` event; a result
//! the event says is `recorded` is in the gradebook by then: live re-checks
//! repeating the last verdict are not stored, and those of an unchanged
//! sandbox are answered from its last observation), and for every step
//! turning green the delay from the learner's acknowledgment to the
//! dashboard's event.
//!
//! At 2/3 of the run the server is killed (-9) with checks in flight and
//! restarted on the same data; every acknowledged result must then be in
//! the gradebook, read through the restarted server (drill-down: each
//! attempt by its time; grid: counts and green cells) and, at the end,
//! offline through `layerlab workshop export`. Learners then go on (their
//! sandboxes were swept: they redo their solved steps first) for the last
//! third.
//!
//! The script drives the server's life over stdin/stdout: this prints
//! `kill` (the script kills and answers `killed`), `restart` (answer `up`
//! once healthy), `stop` (the script stops the server, exports the
//! gradebook and answers `exported FILE`); human lines start `report `, the
//! last line is `result {JSON}`.
//!
//! `class_load PORT CODE N SECS TOKEN [STEPS]` (STEPS: the router lab's
//! first STEPS steps are worked through, default 4; step 5 waits for
//! packets by design, 1–3 s per check)

mod support;

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{Error, EventStream, Who, http, percentile};
use tokio::sync::watch;

const LAB: &str = "router";
/// How often each learner's page re-checks its current step.
const PERIOD: Duration = Duration::from_secs(2);
/// Longest any one request may take before it counts as failed.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A result the learner received in full (its final `step` event): the
/// server had put it in the gradebook before sending it.
#[derive(Debug, Clone)]
struct Ack {
    learner: usize,
    step: usize,
    passed: bool,
    at_ms: u64,
    when: Instant,
    /// The step's first pass for this learner: it turned green.
    green: bool,
}

/// What one phase's learners measured.
#[derive(Default)]
struct Tally {
    /// Results stored as attempts (the server's `recorded`): what must
    /// survive the kill.
    acks: Vec<Ack>,
    /// Every check answered, stored or not.
    checks: usize,
    /// Live re-checks answered from the last observation of an unchanged
    /// sandbox (`checked_at_ms` before the request was sent).
    replayed: usize,
    check_ms: Vec<f64>,
    /// Of each check's time: running its checks, and everything else.
    run_ms: Vec<f64>,
    wait_ms: Vec<f64>,
    /// Check latency per step (their checks differ: step 3 has six, two
    /// of them pings).
    by_step: BTreeMap<usize, Vec<f64>>,
    solve_ms: Vec<f64>,
    errors: BTreeMap<String, usize>,
    /// Checks that failed although the learner had solved the step.
    failed_after_solve: usize,
    /// Per learner, when their first result came back in this phase.
    first_ack: HashMap<usize, Instant>,
}

impl Tally {
    fn error(&mut self, what: &str, e: &Error) {
        let text: String = format!("{what}: {e}").chars().take(90).collect();
        *self.errors.entry(text).or_default() += 1;
    }
}

/// One learner's progress through the lab.
struct Learner {
    i: usize,
    cookie: String,
    /// Current step (1-based).
    step: usize,
    fails: u32,
    /// Failing checks before this learner solves the current step.
    want: u32,
    rng: u64,
    /// Steps solved so far (a prefix of the lab).
    solved: usize,
    /// Of those, how many are in the current sandbox (0 after a restart).
    in_sandbox: usize,
    green: HashSet<usize>,
}

impl Learner {
    fn new(i: usize, cookie: String) -> Learner {
        let mut l = Learner {
            i,
            cookie,
            step: 1,
            fails: 0,
            want: 0,
            rng: 0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9),
            solved: 0,
            in_sandbox: 0,
            green: HashSet::new(),
        };
        l.want = l.draw();
        l
    }

    /// 2 to 6 failing checks before solving (xorshift: no dependency, same
    /// class every run).
    fn draw(&mut self) -> u32 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        2 + (self.rng % 5) as u32
    }

    async fn solve(&mut self, port: u16, step: usize, tally: &Mutex<Tally>) -> bool {
        let t = Instant::now();
        let path = format!("/api/labs/{LAB}/steps/{step}/solve");
        let answer = tokio::time::timeout(
            REQUEST_LIMIT,
            http(port, "POST", &path, Who::Cookie(&self.cookie), ""),
        )
        .await
        .map_err(|_| Error::from("timed out"))
        .and_then(|r| r);
        let mut tally = tally.lock().unwrap();
        match answer {
            Ok((200, _, _)) => {
                tally.solve_ms.push(ms(t.elapsed()));
                true
            }
            Ok((0, _, _)) => {
                tally.error("solve", &"the connection closed without an answer".into());
                false
            }
            Ok((status, _, body)) => {
                tally.error("solve", &format!("{status} {body}").into());
                false
            }
            Err(e) => {
                tally.error("solve", &e);
                false
            }
        }
    }

    /// One re-check of the current step, as the learner's page does it.
    async fn tick(&mut self, port: u16, max: usize, tally: &Mutex<Tally>) {
        // A fresh sandbox (after a restart): redo the solved steps first.
        while self.in_sandbox < self.solved {
            if !self.solve(port, self.in_sandbox + 1, tally).await {
                return;
            }
            self.in_sandbox += 1;
        }
        let t = Instant::now();
        let sent_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let result = tokio::time::timeout(REQUEST_LIMIT, check(port, &self.cookie, self.step))
            .await
            .map_err(|_| Error::from("timed out"))
            .and_then(|r| r);
        let Checked {
            passed,
            at_ms,
            run_ms,
            recorded,
        } = match result {
            Ok(r) => r,
            Err(e) => {
                tally.lock().unwrap().error("check", &e);
                return;
            }
        };
        let when = Instant::now();
        let replayed = at_ms < sent_ms;
        let run_ms = if replayed { 0.0 } else { run_ms };
        let green = passed && self.green.insert(self.step);
        {
            let mut tally = tally.lock().unwrap();
            tally.checks += 1;
            tally.replayed += usize::from(replayed);
            tally.check_ms.push(ms(when - t));
            tally.run_ms.push(run_ms);
            tally
                .by_step
                .entry(self.step)
                .or_default()
                .push(ms(when - t));
            tally.wait_ms.push(ms(when - t) - run_ms);
            tally.first_ack.entry(self.i).or_insert(when);
            if recorded {
                tally.acks.push(Ack {
                    learner: self.i,
                    step: self.step,
                    passed,
                    at_ms,
                    when,
                    green,
                });
            }
            if !passed && self.solved >= self.step {
                tally.failed_after_solve += 1;
            }
        }
        if passed {
            if self.step < max {
                self.step += 1;
                self.fails = 0;
                self.want = self.draw();
            }
        } else {
            self.fails += 1;
            if self.fails >= self.want
                && self.solved < self.step
                && self.solve(port, self.step, tally).await
            {
                self.solved = self.step;
                self.in_sandbox = self.step;
            }
        }
    }
}

/// What a check request answered in its final event.
struct Checked {
    passed: bool,
    /// When the server decided it (ms since the epoch).
    at_ms: u64,
    /// The time its checks took to run (their `duration_ms`, summed): the
    /// rest of the request's time was spent waiting, recording, talking.
    run_ms: f64,
    /// Whether the server stored it as an attempt.
    recorded: bool,
}

/// `POST .../check {"quick":true}` read to its final event.
async fn check(port: u16, cookie: &str, step: usize) -> Result<Checked, Error> {
    let path = format!("/api/labs/{LAB}/steps/{step}/check");
    let mut events = EventStream::open(
        port,
        "POST",
        &path,
        Who::Cookie(cookie),
        r#"{"quick":true}"#,
    )
    .await?;
    while let Some(e) = events.next().await? {
        match e.event.as_str() {
            "step" => {
                let v: Value = serde_json::from_str(&e.data)?;
                if v["step"].as_u64() != Some(step as u64) {
                    return Err(format!("asked for step {step}, got {}", v["step"]).into());
                }
                let checks = v["checks"].as_array().ok_or("step event without checks")?;
                return Ok(Checked {
                    passed: v["passed"].as_bool().ok_or("step event without `passed`")?,
                    at_ms: v["checked_at_ms"]
                        .as_u64()
                        .ok_or("step event without `checked_at_ms`")?,
                    run_ms: checks
                        .iter()
                        .filter_map(|c| c["duration_ms"].as_u64())
                        .sum::<u64>() as f64,
                    recorded: v["recorded"]
                        .as_bool()
                        .ok_or("step event without `recorded`")?,
                });
            }
            "error" => return Err(format!("error event {}", e.data).into()),
            _ => {}
        }
    }
    Err("the stream ended without a step event".into())
}

/// Runs every learner until `stop` turns true; each task answers its learner.
fn run_phase(
    port: u16,
    max: usize,
    learners: Vec<Learner>,
    stop: &watch::Sender<bool>,
    tally: &Arc<Mutex<Tally>>,
) -> Vec<JoinHandleLearner> {
    let n = learners.len() as u32;
    let mut tasks = Vec::new();
    for mut l in learners {
        let mut stop = stop.subscribe();
        let tally = tally.clone();
        // Staggered: the class's checks spread evenly over the period.
        let start = tokio::time::Instant::now() + PERIOD * l.i as u32 / n;
        tasks.push(tokio::spawn(async move {
            let mut every = tokio::time::interval_at(start, PERIOD);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = stop.changed() => {}
                }
                if *stop.borrow() {
                    break;
                }
                l.tick(port, max, &tally).await;
            }
            l
        }));
    }
    tasks
}

type JoinHandleLearner = tokio::task::JoinHandle<Learner>;

/// A check run as the dashboard heard it.
#[derive(Debug, Clone)]
struct Heard {
    learner: String,
    step: usize,
    passed: bool,
    at_ms: u64,
    when: Instant,
    wall_ms: u64,
}

#[derive(Default)]
struct DashLog {
    checks: Vec<Heard>,
    resyncs: usize,
    ended: Option<String>,
}

/// Opens the instructor's event stream and records it until it ends.
async fn dashboard(
    port: u16,
    token: &str,
    log: Arc<Mutex<DashLog>>,
) -> Result<tokio::task::JoinHandle<()>, Error> {
    let mut events =
        EventStream::open(port, "GET", "/api/workshop/events", Who::Bearer(token), "").await?;
    Ok(tokio::spawn(async move {
        let ended = loop {
            match events.next().await {
                Ok(Some(e)) if e.event == "check" => {
                    let (when, wall_ms) = (Instant::now(), wall_ms());
                    let Ok(v) = serde_json::from_str::<Value>(&e.data) else {
                        break format!("bad check event {}", e.data);
                    };
                    log.lock().unwrap().checks.push(Heard {
                        learner: v["learner"].as_str().unwrap_or("").to_string(),
                        step: v["step"].as_u64().unwrap_or(0) as usize,
                        passed: v["passed"].as_bool().unwrap_or(false),
                        at_ms: v["at_ms"].as_u64().unwrap_or(0),
                        when,
                        wall_ms,
                    });
                }
                Ok(Some(e)) if e.event == "resync" => log.lock().unwrap().resyncs += 1,
                Ok(Some(_)) => {}
                Ok(None) => break "ended".to_string(),
                Err(e) => break e.to_string(),
            }
        };
        log.lock().unwrap().ended = Some(ended);
    }))
}

/// What the restarted server shows of the acknowledged results.
#[derive(Debug, Default)]
struct Found {
    acked: usize,
    /// Found attempt by attempt (drill-down: same step, time and outcome).
    found: usize,
    lost: Vec<String>,
    /// Steps whose last acknowledged result was a pass, and of those the
    /// ones the grid shows green.
    green_acked: usize,
    green_shown: usize,
    /// (learner, step) cells with fewer attempts than acknowledged.
    grid_short: usize,
}

/// Acknowledged results per learner and step, in order.
fn by_cell(acks: &[Ack]) -> BTreeMap<(usize, usize), Vec<&Ack>> {
    let mut cells: BTreeMap<(usize, usize), Vec<&Ack>> = BTreeMap::new();
    for a in acks {
        cells.entry((a.learner, a.step)).or_default().push(a);
    }
    cells
}

/// Reads every acknowledged result back from a running server.
async fn verify_live(port: u16, token: &str, ids: &[String], acks: &[Ack]) -> Result<Found, Error> {
    let mut f = Found {
        acked: acks.len(),
        ..Found::default()
    };
    let learners: HashSet<usize> = acks.iter().map(|a| a.learner).collect();
    for i in learners {
        let path = format!("/api/workshop/learners/{}/labs/{LAB}", ids[i]);
        let (status, _, body) = http(port, "GET", &path, Who::Bearer(token), "").await?;
        if status != 200 {
            return Err(format!("drill-down {}: {status} {body}", ids[i]).into());
        }
        let v: Value = serde_json::from_str(&body)?;
        let mut kept: HashMap<(usize, u64, bool), usize> = HashMap::new();
        for s in v["steps"].as_array().ok_or("drill-down without steps")? {
            for a in s["attempts"].as_array().ok_or("step without attempts")? {
                let r = &a["result"];
                let key = (
                    r["step"].as_u64().unwrap_or(0) as usize,
                    r["checked_at_ms"].as_u64().unwrap_or(0),
                    r["passed"].as_bool().unwrap_or(false),
                );
                *kept.entry(key).or_default() += 1;
            }
        }
        for a in acks.iter().filter(|a| a.learner == i) {
            match kept.get_mut(&(a.step, a.at_ms, a.passed)) {
                Some(k) if *k > 0 => {
                    *k -= 1;
                    f.found += 1;
                }
                _ => f.lost.push(format!(
                    "{} step {} at {} passed {}",
                    ids[i], a.step, a.at_ms, a.passed
                )),
            }
        }
    }
    let (status, _, body) = http(port, "GET", "/api/workshop/grid", Who::Bearer(token), "").await?;
    if status != 200 {
        return Err(format!("grid: {status} {body}").into());
    }
    let grid: Value = serde_json::from_str(&body)?;
    let rows: HashMap<&str, &Value> = grid["learners"]
        .as_array()
        .ok_or("grid without learners")?
        .iter()
        .filter_map(|r| Some((r["id"].as_str()?, &r["labs"][LAB])))
        .collect();
    for ((i, step), cell) in by_cell(acks) {
        let shown = rows.get(ids[i].as_str()).map(|r| &r[step - 1]);
        let attempts = shown.and_then(|c| c["attempts"].as_u64()).unwrap_or(0);
        if (attempts as usize) < cell.len() {
            f.grid_short += 1;
        }
        if cell.last().is_some_and(|a| a.passed) {
            f.green_acked += 1;
            if shown.is_some_and(|c| c["passed"] == json!(true)) {
                f.green_shown += 1;
            }
        }
    }
    Ok(f)
}

/// What `layerlab workshop export --format json` holds of the acknowledged
/// results (offline, from the file): per learner and step, at least as
/// many attempts, the last one no earlier, green where the last
/// acknowledged result was green. Answers (results missing, cells wrong,
/// rows in the file).
fn verify_export(file: &str, ids: &[String], acks: &[Ack]) -> Result<(usize, usize, u64), Error> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    let mut cells: HashMap<(&str, usize), &Value> = HashMap::new();
    let mut rows = 0;
    for l in v["learners"].as_array().ok_or("export without learners")? {
        for lab in l["labs"].as_array().ok_or("learner without labs")? {
            if lab["lab"] != json!(LAB) {
                continue;
            }
            for s in lab["steps"].as_array().ok_or("lab without steps")? {
                rows += s["attempts"].as_u64().unwrap_or(0);
                let id = l["id"].as_str().unwrap_or("");
                cells.insert((id, s["step"].as_u64().unwrap_or(0) as usize), s);
            }
        }
    }
    let (mut missing, mut wrong) = (0, 0);
    for ((i, step), acked) in by_cell(acks) {
        let Some(s) = cells.get(&(ids[i].as_str(), step)) else {
            missing += acked.len();
            continue;
        };
        let kept = s["attempts"].as_u64().unwrap_or(0) as usize;
        missing += acked.len().saturating_sub(kept);
        let last = acked.iter().map(|a| a.at_ms).max().unwrap_or(0);
        let green = acked.last().is_some_and(|a| a.passed);
        if s["last_checked_ms"].as_u64().unwrap_or(0) < last
            || (green && s["passed"] != json!(true))
        {
            wrong += 1;
        }
    }
    Ok((missing, wrong, rows))
}

/// Sorted copy.
fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn quantiles(v: &[f64]) -> Value {
    let v = sorted(v.to_vec());
    json!({
        "n": v.len(),
        "p50": round(percentile(&v, 0.5)),
        "p99": round(percentile(&v, 0.99)),
        "max": round(percentile(&v, 1.0)),
    })
}

fn round(x: f64) -> Value {
    if x.is_finite() {
        json!((x * 10.0).round() / 10.0)
    } else {
        Value::Null
    }
}

/// The dashboard's delay for every green acknowledged in a phase: from the
/// learner's acknowledgment (negative: the dashboard heard first), and
/// from the server's decision (`checked_at_ms`); plus greens never heard.
fn dashboard_delays(acks: &[Ack], ids: &[String], heard: &[Heard]) -> (Vec<f64>, Vec<f64>, usize) {
    let by_key: HashMap<(&str, usize, u64), &Heard> = heard
        .iter()
        .filter(|h| h.passed)
        .map(|h| ((h.learner.as_str(), h.step, h.at_ms), h))
        .collect();
    let (mut after_ack, mut after_green, mut missed) = (Vec::new(), Vec::new(), 0);
    for a in acks.iter().filter(|a| a.green) {
        match by_key.get(&(ids[a.learner].as_str(), a.step, a.at_ms)) {
            Some(h) => {
                after_ack.push(if h.when >= a.when {
                    ms(h.when - a.when)
                } else {
                    -ms(a.when - h.when)
                });
                after_green.push(h.wall_ms as f64 - a.at_ms as f64);
            }
            None => missed += 1,
        }
    }
    (after_ack, after_green, missed)
}

/// Results written per second: the mean over the phase and the busiest
/// second, from the dashboard's events (one per gradebook write).
fn write_rate(heard: &[Heard], secs: f64) -> (f64, usize) {
    let mut per_second: HashMap<u64, usize> = HashMap::new();
    for h in heard {
        *per_second.entry(h.wall_ms / 1000).or_default() += 1;
    }
    (
        heard.len() as f64 / secs,
        per_second.values().copied().max().unwrap_or(0),
    )
}

/// This process's CPU time (s), from /proc/self/stat.
fn own_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}

/// The script's side of the conversation: lines on stdout, answers on
/// stdin (read on a thread of its own).
struct Script {
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl Script {
    fn new() -> Script {
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Script { lines }
    }

    fn say(&self, line: &str) -> Result<(), Error> {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
        Ok(())
    }

    async fn expect(&mut self, prefix: &str) -> Result<String, Error> {
        let line = self.lines.recv().await.ok_or("the script went away")?;
        line.strip_prefix(prefix)
            .map(|s| s.trim().to_string())
            .ok_or_else(|| format!("expected `{prefix}` from the script, got {line:?}").into())
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).ok_or("PORT")?.parse()?;
    let code = args.get(2).ok_or("CODE")?.clone();
    let n: usize = args.get(3).ok_or("N")?.parse()?;
    let secs: f64 = args.get(4).ok_or("SECS")?.parse()?;
    let token = args.get(5).ok_or("TOKEN")?.clone();
    let max: usize = args.get(6).map_or(Ok(4), |s| s.parse())?;
    if !(1..=5).contains(&max) {
        return Err("STEPS is 1 to 5 (step 6 wants an answer)".into());
    }
    let mut script = Script::new();

    // The class arrives: join, start the sandbox.
    let (mut ids, mut learners, mut starts) = (Vec::new(), Vec::new(), Vec::new());
    let joined = Instant::now();
    for i in 0..n {
        let (id, cookie) = support::join(port, &code, &format!("learner {i}")).await?;
        let t = Instant::now();
        let path = format!("/api/labs/{LAB}/start");
        let (status, _, body) = http(port, "POST", &path, Who::Cookie(&cookie), "").await?;
        if status != 200 {
            return Err(format!("start {i}: {status} {body}").into());
        }
        starts.push(ms(t.elapsed()));
        ids.push(id);
        learners.push(Learner::new(i, cookie));
    }
    let setup_s = joined.elapsed().as_secs_f64();
    eprintln!("{n} learners joined and started in {setup_s:.1} s");

    // Phase 1: the class works; the dashboard listens.
    let dash1 = Arc::new(Mutex::new(DashLog::default()));
    dashboard(port, &token, dash1.clone()).await?;
    let before_kill = Duration::from_secs_f64(secs * 2.0 / 3.0);
    let after_restart = Duration::from_secs_f64(secs / 3.0);
    let tally1 = Arc::new(Mutex::new(Tally::default()));
    let (stop, _) = watch::channel(false);
    let phase1 = Instant::now();
    let tasks = run_phase(port, max, learners, &stop, &tally1);
    tokio::time::sleep(before_kill).await;
    let acks_at_kill = tally1.lock().unwrap().acks.len();
    // No new requests from here on: those in flight meet the kill.
    stop.send_replace(true);
    script.say("kill")?;
    script.expect("killed").await?;
    let phase1_s = phase1.elapsed().as_secs_f64();
    let mut learners = Vec::new();
    for t in tasks {
        learners.push(t.await?);
    }
    let tally1 = Arc::into_inner(tally1)
        .ok_or("phase 1 still running")?
        .into_inner()?;
    eprintln!(
        "killed after {phase1_s:.1} s: {} results acknowledged ({} during the kill)",
        tally1.acks.len(),
        tally1.acks.len() - acks_at_kill
    );

    // Restart on the same data; everything acknowledged must be there.
    script.say("restart")?;
    let restart = Instant::now();
    script.expect("up").await?;
    let restart_s = restart.elapsed().as_secs_f64();
    let after = verify_live(port, &token, &ids, &tally1.acks).await?;
    eprintln!(
        "restarted in {restart_s:.2} s: {} of {} acknowledged results found, {} green steps of {} shown",
        after.found, after.acked, after.green_shown, after.green_acked
    );

    // Phase 2: the class goes on (fresh sandboxes: solved steps redone).
    for l in &mut learners {
        l.in_sandbox = 0;
    }
    let dash2 = Arc::new(Mutex::new(DashLog::default()));
    let listening = dashboard(port, &token, dash2.clone()).await?;
    let tally2 = Arc::new(Mutex::new(Tally::default()));
    stop.send_replace(false);
    let phase2 = Instant::now();
    let tasks = run_phase(port, max, learners, &stop, &tally2);
    tokio::time::sleep(after_restart).await;
    stop.send_replace(true);
    let mut learners = Vec::new();
    for t in tasks {
        learners.push(t.await?);
    }
    let phase2_s = phase2.elapsed().as_secs_f64();
    let tally2 = Arc::into_inner(tally2)
        .ok_or("phase 2 still running")?
        .into_inner()?;
    // Let the dashboard hear the last results.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all: Vec<Ack> = tally1.acks.iter().chain(&tally2.acks).cloned().collect();
    let end = verify_live(port, &token, &ids, &all).await?;

    // Offline: the file alone, after the server stopped (the dashboard
    // closed first: an open stream would hold up its graceful stop).
    listening.abort();
    script.say("stop")?;
    let file = script.expect("exported").await?;
    let (export_missing, export_wrong, rows) = verify_export(&file, &ids, &all)?;

    let (d1, d2) = (dash1.lock().unwrap(), dash2.lock().unwrap());
    let (ack1, green1, missed1) = dashboard_delays(&tally1.acks, &ids, &d1.checks);
    let (ack2, green2, missed2) = dashboard_delays(&tally2.acks, &ids, &d2.checks);
    let (rate1, peak1) = write_rate(&d1.checks, phase1_s);
    let (rate2, peak2) = write_rate(&d2.checks, phase2_s);
    let recovery: Vec<f64> = tally2
        .first_ack
        .values()
        .map(|t| ms(t.duration_since(phase2)) / 1e3)
        .collect();
    let steps_done: Vec<usize> = learners.iter().map(|l| l.green.len()).collect();
    let lost = after.lost.len() + end.lost.len() + export_missing;
    let phase = |t: &Tally, s: f64, d: &DashLog, ack: &[f64], green: &[f64], missed, rate, peak| {
        json!({
            "seconds": round(s),
            "checks": t.checks,
            "checks_per_s": round(t.checks as f64 / s),
            "replayed": t.replayed,
            "stored": t.acks.len(),
            "check_ms": quantiles(&t.check_ms),
            "check_ms_by_step": t.by_step.iter().map(|(s, v)| (s.to_string(), quantiles(v))).collect::<serde_json::Map<_, _>>(),
            "check_run_ms": quantiles(&t.run_ms),
            "check_wait_ms": quantiles(&t.wait_ms),
            "solves": t.solve_ms.len(),
            "solve_ms": quantiles(&t.solve_ms),
            "greens": t.acks.iter().filter(|a| a.green).count(),
            "dashboard_after_ack_ms": quantiles(ack),
            "dashboard_after_green_ms": quantiles(green),
            "dashboard_missed": missed,
            "dashboard_resyncs": d.resyncs,
            "dashboard_stream_end": d.ended,
            "writes_per_s": round(rate),
            "writes_peak_per_s": peak,
            "failed_after_solve": t.failed_after_solve,
            "errors": t.errors,
        })
    };
    let result = json!({
        "learners": n,
        "steps": max,
        "setup_s": round(setup_s),
        "start_ms": quantiles(&starts),
        "before_kill": phase(&tally1, phase1_s, &d1, &ack1, &green1, missed1, rate1, peak1),
        "restart": {
            "seconds": round(restart_s),
            "acked_before_kill": after.acked,
            "found_after_restart": after.found,
            "lost": after.lost.len(),
            "lost_examples": after.lost.iter().take(5).collect::<Vec<_>>(),
            "green_acked": after.green_acked,
            "green_shown_on_grid": after.green_shown,
            "grid_cells_short": after.grid_short,
        },
        "after_restart": phase(&tally2, phase2_s, &d2, &ack2, &green2, missed2, rate2, peak2),
        "first_result_after_restart_s": quantiles(&recovery),
        "end": {
            "acked": end.acked,
            "found_live": end.found,
            "lost_live": end.lost.len(),
            "green_acked": end.green_acked,
            "green_shown_on_grid": end.green_shown,
            "grid_cells_short": end.grid_short,
            "export_rows": rows,
            "export_missing": export_missing,
            "export_cells_wrong": export_wrong,
            "steps_green_per_learner": quantiles(&steps_done.iter().map(|&s| s as f64).collect::<Vec<_>>()),
        },
        "lost": lost,
        "client_cpu_s": round(own_cpu_s()),
    });

    let q = |v: &Value, k: &str| format!("{}/{}/{}", v[k]["p50"], v[k]["p99"], v[k]["max"]);
    let b = &result["before_kill"];
    let a = &result["after_restart"];
    let lines = [
        format!(
            "{n} learners, router steps 1-{max}, one quick check per learner every {} s; setup {setup_s:.1} s",
            PERIOD.as_secs()
        ),
        format!(
            "before kill ({phase1_s:.0} s): {} checks ({}/s of {} offered; {} answered from an unchanged sandbox's last look, {} stored as attempts), check latency p50/p99/max {} ms (goal p99 <= 250), {} errors",
            b["checks"],
            b["checks_per_s"],
            n as f64 / PERIOD.as_secs_f64(),
            b["replayed"],
            b["stored"],
            q(b, "check_ms"),
            tally1.errors.values().sum::<usize>()
        ),
        format!(
            "  of which running the step's checks p50/p99/max {} ms, the rest (waiting for a turn, recording, HTTP) {} ms",
            q(b, "check_run_ms"),
            q(b, "check_wait_ms")
        ),
        format!(
            "  check latency by step p50/p99: {}",
            b["check_ms_by_step"]
                .as_object()
                .map(|m| m
                    .iter()
                    .map(|(s, v)| format!("{s}: {}/{} ms", v["p50"], v["p99"]))
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ),
        format!(
            "  {} steps turned green; dashboard after the learner's ack p50/p99/max {} ms, after the server's decision {} ms (goal <= 1000); {} not heard",
            b["greens"],
            q(b, "dashboard_after_ack_ms"),
            q(b, "dashboard_after_green_ms"),
            missed1
        ),
        format!(
            "  gradebook writes {}/s (busiest second {}); solves {} (p50/p99 {}/{} ms)",
            b["writes_per_s"], peak1, b["solves"], b["solve_ms"]["p50"], b["solve_ms"]["p99"]
        ),
        format!(
            "kill -9 with checks in flight (requests cut by it: {}, listed below); restart took {restart_s:.2} s; acknowledged before kill {}, found after restart {}, lost {}; green steps shown on the grid {} of {}",
            tally1.errors.values().sum::<usize>(),
            after.acked,
            after.found,
            after.lost.len(),
            after.green_shown,
            after.green_acked
        ),
        format!(
            "after restart ({phase2_s:.0} s, sandboxes swept: solved steps redone): {} checks, latency p50/p99/max {} ms; first result per learner after {} s (p50/p99/max); dashboard after ack {} ms; writes {}/s; {} errors",
            a["checks"],
            q(a, "check_ms"),
            q(&result, "first_result_after_restart_s").replace("\"", ""),
            q(a, "dashboard_after_ack_ms"),
            a["writes_per_s"],
            tally2.errors.values().sum::<usize>()
        ),
        format!(
            "end: {} results acknowledged, {} found live, {} rows in the offline export ({} missing, {} cells wrong); lost = {lost}",
            end.acked, end.found, rows, export_missing, export_wrong
        ),
    ];
    for l in lines {
        script.say(&format!("report {l}"))?;
    }
    for (what, t) in [("before kill", &tally1), ("after restart", &tally2)] {
        for (e, count) in &t.errors {
            script.say(&format!("report   {what}: {count} x {e}"))?;
        }
    }
    script.say(&format!("result {result}"))?;
    Ok(())
}
