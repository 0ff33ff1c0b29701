//! Starts N confined sandboxes one after another and reports start times
//! and memory per idle sandbox, then removes them. Run by
//! `bench/sandboxes.sh` (as root): `confined_bench N`.

use layerlab_labs::confine::Confine;
use layerlab_labs::sandbox::{Owner, Sandbox};
use std::time::Instant;

/// A field of /proc/PID/status or smaps_rollup, in KiB.
fn kib(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let conf = Confine::default();
    let mut boxes = Vec::with_capacity(n);
    let mut starts = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let key = format!("bench-{i}/router");
        match Sandbox::create_confined(&key, Owner::Process(std::process::id()), &conf) {
            Ok(sb) => boxes.push(sb),
            Err(e) => {
                eprintln!("sandbox {i}: {e}");
                break;
            }
        }
        starts.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    // Let them settle: idle means nothing runs but the holder.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (mut rss, mut pss, mut cg) = (Vec::new(), Vec::new(), Vec::new());
    for sb in &boxes {
        let c = sb.confined.as_ref().expect("confined");
        let pids = c.cgroups.pids();
        rss.push(
            pids.iter()
                .map(|p| kib(&format!("/proc/{p}/status"), "VmRSS:"))
                .sum::<u64>() as f64,
        );
        pss.push(
            pids.iter()
                .map(|p| kib(&format!("/proc/{p}/smaps_rollup"), "Pss:"))
                .sum::<u64>() as f64,
        );
        cg.push(c.cgroups.memory_usage().unwrap_or(0) as f64 / 1024.0);
    }
    // One command entered (setpriv, nsenter, bash): what every check pays.
    let mut enter: Vec<f64> = (0..50)
        .filter_map(|_| {
            let sb = boxes.first()?;
            let t = Instant::now();
            let out = sb.run("true", std::time::Duration::from_secs(5));
            (out.exit == 0).then(|| t.elapsed().as_secs_f64() * 1000.0)
        })
        .collect();
    enter.sort_by(|a, b| a.total_cmp(b));
    let t = Instant::now();
    for sb in &boxes {
        sb.destroy();
    }
    let teardown = t.elapsed().as_secs_f64() * 1000.0 / boxes.len().max(1) as f64;
    for v in [&mut starts, &mut rss, &mut pss, &mut cg] {
        v.sort_by(|a, b| a.total_cmp(b));
    }
    if boxes.is_empty() {
        eprintln!("no sandbox started");
        std::process::exit(1);
    }
    println!("sandboxes started        {} of {n}", boxes.len());
    println!(
        "start ms                 median {:.1}  p95 {:.1}  max {:.1}",
        pct(&starts, 0.5),
        pct(&starts, 0.95),
        pct(&starts, 1.0)
    );
    println!(
        "idle RSS KiB (sum)       median {:.0}  p95 {:.0}",
        pct(&rss, 0.5),
        pct(&rss, 0.95)
    );
    println!(
        "idle PSS KiB (sum)       median {:.0}  p95 {:.0}",
        pct(&pss, 0.5),
        pct(&pss, 0.95)
    );
    println!(
        "cgroup memory KiB        median {:.0}  p95 {:.0}",
        pct(&cg, 0.5),
        pct(&cg, 0.95)
    );
    if !enter.is_empty() {
        println!(
            "enter + `true` ms        median {:.1}  p95 {:.1}",
            pct(&enter, 0.5),
            pct(&enter, 0.95)
        );
    }
    println!("teardown ms per sandbox  {teardown:.1}");
}
