//! Gradebook figures: `record_check` latency (p50/p99) from one thread and
//! from four sharing one `Gradebook` and from 100 async tasks through
//! `spawn_blocking` (while a fifth reads class reports,
//! as a dashboard would), rows per second, file size per
//! 1,000 attempts, class report and reopen (integrity check) times.
//!
//! `cargo run -p layerlab-server --example gradebook_bench [--release] -- [ATTEMPTS] [DIR]`
//! (DIR: where the database goes, default a temp folder; put it on the
//! disk the server would use — the fsync per commit is what is measured.)

use layerlab_core::lab::{CheckResult, Mismatch, StepResult};
use layerlab_server::gradebook::Gradebook;
use layerlab_server::workshop::Member;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LEARNERS: usize = 100;

/// A result the size of a real one: three checks, one failing with a
/// mismatch and a hint, evidence as a runner writes it.
fn result(step: usize, passed: bool, at: u64) -> StepResult {
    let check = |i: usize, ok: bool| {
        CheckResult {
        title: format!("check {i}: the route to 10.0.{i}.0/24 goes via the router"),
        kind: "route".into(),
        passed: ok,
        points: if ok { 1 } else { 0 },
        max_points: 1,
        attempts: 3,
        duration_ms: 40 + i as u64,
        message: if ok {
            "10.0.2.0/24 via 10.0.1.1 dev veth-c".into()
        } else {
            "no route to 10.0.2.0/24 in namespace `client`: packets leave by the default route".into()
        },
        mismatches: if ok {
            vec![]
        } else {
            vec![Mismatch::new("routes[10.0.2.0/24].via", "10.0.1.1", "(none)")]
        },
        evidence: "default via 10.0.1.254 dev veth-c\n10.0.1.0/24 dev veth-c proto kernel scope link src 10.0.1.2".into(),
        hint: (!ok).then(|| "ip -n client route add 10.0.2.0/24 via 10.0.1.1".into()),
    }
    };
    StepResult {
        step,
        title: "Route through the router".into(),
        passed,
        checked_at_ms: at,
        checks: vec![check(1, true), check(2, passed), check(3, true)],
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(what: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    println!(
        "{what}: {} attempts in {:.2} s = {:.0} rows/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        wall.as_secs_f64(),
        lat.len() as f64 / wall.as_secs_f64(),
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(2000, |a| a.parse().expect("ATTEMPTS is a number"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = args.next().map_or(tmp.path().to_owned(), Into::into);
    let path = dir.join("gradebook-bench.db");
    let _ = std::fs::remove_file(&path);
    let book = Arc::new(Gradebook::open(&path).unwrap());
    for i in 0..LEARNERS {
        book.add_member(&Member {
            id: format!("l-{i:012x}"),
            name: format!("Learner {i}"),
            joined: i as u64,
        })
        .unwrap();
    }
    fn record(book: &Gradebook, i: usize) -> Duration {
        let learner = format!("l-{:012x}", i % LEARNERS);
        let t = Instant::now();
        book.record_check(
            &learner,
            "router",
            &result(1 + i / LEARNERS % 4, i.is_multiple_of(3), i as u64),
            None,
        )
        .unwrap();
        t.elapsed()
    }

    let start = Instant::now();
    let lat: Vec<Duration> = (0..n).map(|i| record(&book, i)).collect();
    report("1 thread ", lat, start.elapsed());

    // A dashboard reading the whole class all along, on the read connection.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let dashboard = {
        let (book, done) = (book.clone(), done.clone());
        let labs = layerlab_labs::labs();
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                book.class_report(&labs[..1]).unwrap();
                reads += 1;
            }
            reads
        })
    };
    let start = Instant::now();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let book = book.clone();
            std::thread::spawn(move || {
                (0..n / 4)
                    .map(|i| record(&book, n + t * (n / 4) + i))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    report("4 threads", lat, start.elapsed());
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    println!(
        "  meanwhile a 5th thread made {} class reports",
        dashboard.join().unwrap()
    );

    // The server's way: one task per learner on a multi-threaded runtime,
    // each recording through spawn_blocking every 200 ms (500 writes/s in
    // all: ten times the 100 learners re-checking every 2 s of issue #17).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let per_learner = n / LEARNERS;
    let start = Instant::now();
    let lat: Vec<Duration> = runtime.block_on(async {
        let tasks: Vec<_> = (0..LEARNERS)
            .map(|l| {
                let book = book.clone();
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    // Spread the learners over the period.
                    tokio::time::sleep(Duration::from_millis(2 * l as u64)).await;
                    let mut tick = tokio::time::interval(Duration::from_millis(200));
                    for i in 0..per_learner {
                        tick.tick().await;
                        let book = book.clone();
                        let t = Instant::now();
                        tokio::task::spawn_blocking(move || {
                            record(&book, 2 * n + i * LEARNERS + l)
                        })
                        .await
                        .unwrap();
                        lat.push(t.elapsed());
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    report(
        "100 tasks, spawn_blocking, 500/s offered",
        lat,
        start.elapsed(),
    );

    let total = 2 * n + per_learner * LEARNERS;
    let labs = layerlab_labs::labs();
    let router = labs
        .iter()
        .find(|l| l.id == "router")
        .map(std::slice::from_ref);
    let t = Instant::now();
    let class = book.class_report(router.unwrap_or(&labs[..1])).unwrap();
    let csv = class.to_csv();
    println!(
        "class report + CSV ({} learners, {} rows): {:.1} ms",
        class.learners.len(),
        csv.lines().count() - 1,
        t.elapsed().as_secs_f64() * 1e3
    );
    drop(class);
    drop(Arc::try_unwrap(book).expect("threads are done")); // checkpoints the WAL
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "file: {:.1} MiB for {total} attempts = {:.0} KiB per 1,000 attempts",
        size as f64 / (1 << 20) as f64,
        size as f64 / 1024.0 / (total as f64 / 1000.0)
    );
    let t = Instant::now();
    let again = Gradebook::open(&path).unwrap();
    println!(
        "reopen (integrity check, migrations): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    drop(again);
}
