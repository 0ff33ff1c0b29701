//! Every Linux lab, for real: in a fresh sandbox, each step's checks fail
//! before its solution and pass after it, and the host's network is
//! identical before and after. The real `layerlab` binary is on the
//! sandbox's PATH, as for a learner (`layerlab hello-server`).
//!
//! Needs root (network namespaces, iptables). CI runs as root; elsewhere the
//! tests say they were skipped.

use layerlab_core::lab::{CheckKind, Lab, Mode, Needs};
use layerlab_labs::runner;
use layerlab_labs::sandbox::{Owner, Sandbox};
use std::process::Command;

fn root() -> bool {
    let ok = unsafe { libc::geteuid() } == 0;
    if !ok {
        eprintln!("skipped: the Linux lab tests need root (network namespaces, iptables)");
    }
    ok
}

fn sh(script: &str) -> String {
    let o = Command::new("bash")
        .args(["-c", script])
        .output()
        .expect("bash");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Everything a lab could disturb on the host, normalised.
fn host_network() -> String {
    sh(
        "ip -o link show | sed 's/^[0-9]*: //' | cut -d' ' -f1,2,3 | sort; \
        echo ---; ip route show table all | sort; \
        echo ---; ip -6 route show | sort; \
        echo ---; iptables-save 2>/dev/null | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//' ; \
        echo ---; ip netns list; \
        echo ---; sysctl -n net.ipv4.ip_forward",
    )
}

fn once(step: &layerlab_core::lab::Step) -> layerlab_core::lab::Step {
    let mut s = step.clone();
    for c in &mut s.checks {
        if !matches!(c.mode, Mode::Consistently { .. }) {
            c.mode = Mode::Once;
        }
    }
    s
}

/// The SYN's source port in a saved capture, read by tcpdump (not by us).
fn syn_port_by_tcpdump(sb: &Sandbox, saved: &str) -> String {
    let path = sb.dir.join(format!("{saved}.pcap"));
    let text = sh(&format!("tcpdump -nn -r {} 2>/dev/null", path.display()));
    let line = text
        .lines()
        .find(|l| l.contains("Flags [S],"))
        .unwrap_or_else(|| panic!("no SYN in {}:\n{text}", path.display()));
    // "IP 10.0.0.1.42924 > 10.0.0.2.8080: Flags [S], ..."
    let src = line.split_whitespace().nth(2).expect("source");
    src.rsplit('.').next().expect("port").to_string()
}

/// The learner's answer for a step, worked out independently of the check.
fn answer_for(sb: &Sandbox, lab: &Lab, step: &layerlab_core::lab::Step) -> Option<String> {
    step.checks.iter().find_map(|c| match &c.kind {
        CheckKind::Answer(a) => Some(match (&a.saved, &a.run) {
            (Some(saved), _) if a.prompt.contains("source port") => syn_port_by_tcpdump(sb, saved),
            (_, Some(run)) => {
                // The command's own output is the answer when the question
                // asks what the system shows; the test reads it by itself.
                sb.run(run, std::time::Duration::from_secs(10))
                    .stdout
                    .trim()
                    .to_string()
            }
            _ => panic!(
                "lab {}: teach the test how to answer `{}`",
                lab.id, a.prompt
            ),
        }),
        _ => None,
    })
}

fn run_lab(lab: &Lab) {
    let sb = Sandbox::create(
        &format!("test-{}", lab.id),
        Owner::Process(std::process::id()),
    )
    .expect("sandbox");
    for (i, step) in lab.steps.iter().enumerate() {
        let quick = Lab {
            steps: lab.steps.iter().map(once).collect(),
            ..lab.clone()
        };
        let before = runner::run_step(&sb, &quick, i, None);
        for c in &before.checks {
            assert!(
                !c.passed,
                "lab {} step {} check `{}` passes before its solution: {}",
                lab.id,
                i + 1,
                c.title,
                c.message
            );
        }
        runner::solve_step(&sb, step)
            .unwrap_or_else(|e| panic!("lab {} step {}: solution failed: {e}", lab.id, i + 1));
        let answer = answer_for(&sb, lab, step);
        let after = runner::run_step(&sb, lab, i, answer.as_deref());
        for c in &after.checks {
            assert!(
                c.passed,
                "lab {} step {} check `{}` fails after its solution: {}\n{:?}\n{}",
                lab.id,
                i + 1,
                c.title,
                c.message,
                c.mismatches,
                c.evidence
            );
        }
        if answer.is_some() {
            let wrong = runner::run_step(&sb, lab, i, Some("1"));
            assert!(
                !wrong.passed,
                "lab {} step {}: a wrong answer passed",
                lab.id,
                i + 1
            );
        }
    }
    sb.destroy();
}

#[test]
fn every_linux_lab_fails_before_and_passes_after_each_solution_without_touching_the_host() {
    if !root() {
        return;
    }
    // SAFETY: set before any thread starts.
    unsafe { std::env::set_var("LAYERLAB_EXE", env!("CARGO_BIN_EXE_layerlab")) };
    let labs: Vec<&Lab> = layerlab_labs::labs()
        .iter()
        .filter(|l| l.needs == Needs::Sandbox)
        .collect();
    assert!(!labs.is_empty());
    let before = host_network();
    std::thread::scope(|s| {
        for lab in &labs {
            s.spawn(|| run_lab(lab));
        }
    });
    assert_eq!(before, host_network(), "a lab changed the host's network");
}
