//! Every Linux lab, for real: in a fresh sandbox, each step's checks fail
//! before its solution and pass after it, and the host's network is
//! identical before and after. The real `layerlab` binary is on the
//! sandbox's PATH, as for a learner (`layerlab hello-server`).
//!
//! Needs root (network namespaces, iptables). CI runs as root; elsewhere the
//! test is listed as ignored, with the reason.

use layerlab_core::lab::{CheckKind, Lab, Needs};
use layerlab_labs::runner;
use layerlab_labs::sandbox::{Owner, Sandbox};
use support::{host_network, sh};

#[path = "../../labs/tests/support/mod.rs"]
mod support;

/// The first line tcpdump prints for `filter` in a saved capture.
fn tcpdump_line(sb: &Sandbox, saved: &str, verbose: bool, filter: &str) -> String {
    let path = sb.dir.join(format!("{saved}.pcap"));
    let v = if verbose { "-v" } else { "" };
    let text = sh(&format!(
        "tcpdump -nn {v} -r {} '{filter}' 2>/dev/null",
        path.display()
    ));
    text.lines()
        .next()
        .unwrap_or_else(|| panic!("nothing matches {filter} in {}", path.display()))
        .to_string()
}

/// `A.B.C.D.PORT` → (`A.B.C.D`, `PORT`).
fn split_endpoint(e: &str) -> (String, String) {
    let (ip, port) = e.rsplit_once('.').expect("address.port");
    (ip.to_string(), port.to_string())
}

/// The learner's answer for a step, worked out by tcpdump, independently
/// of the check's own packet reading.
fn answer_for(sb: &Sandbox, lab: &Lab, step: &layerlab_core::lab::Step) -> Option<String> {
    if let Some(a) = service_lab_answer(sb, lab, step) {
        return Some(a);
    }
    step.checks.iter().find_map(|c| {
        let CheckKind::Answer(a) = &c.kind else {
            return None;
        };
        let p = a.prompt.to_lowercase();
        if let Some(answer) = answer_for_k8s_labs_a(sb, a, &p) {
            return Some(answer);
        }
        let syn = "tcp[tcpflags] == tcp-syn";
        Some(match (&a.saved, &a.capture) {
            (Some(saved), _) if p.contains("source port") => {
                let line = tcpdump_line(sb, saved, false, syn);
                split_endpoint(line.split_whitespace().nth(2).expect("source")).1
            }
            (Some(saved), _) if p.contains("source address") => {
                let line = tcpdump_line(sb, saved, false, syn);
                split_endpoint(line.split_whitespace().nth(2).expect("source")).0
            }
            (Some(saved), _) if p.contains("ttl") => {
                // "... IP (tos 0x0, ttl 63, id ..." for the echo request.
                let line = tcpdump_line(sb, saved, true, "icmp[icmptype] == icmp-echo");
                let i = line.find("ttl ").expect("ttl") + 4;
                line[i..].split(|ch: char| !ch.is_ascii_digit()).next().unwrap().to_string()
            }
            (None, Some(cap)) if p.contains("source address") => {
                // Capture the trigger's SYN ourselves.
                let ns = cap.netns.as_deref().map(|n| format!("ip netns exec {n} ")).unwrap_or_default();
                let script = format!(
                    "{ns}timeout 4 tcpdump -Z root -nn -l -i {} -c 1 '({}) and {syn}' 2>/dev/null & sleep 1; {} >/dev/null; wait",
                    cap.interface,
                    cap.filter.as_deref().unwrap_or("tcp"),
                    cap.trigger.as_deref().expect("trigger")
                );
                let out = sb.run(&script, std::time::Duration::from_secs(10)).stdout;
                let line = out.lines().next().unwrap_or_else(|| panic!("no SYN seen by tcpdump"));
                split_endpoint(line.split_whitespace().nth(2).expect("source")).0
            }
            _ => panic!("lab {}: teach the test how to answer `{}`", lab.id, a.prompt),
        })
    })
}

/// Answers for the chapter 3-4 labs on the real kernel (vxlan-overlay...),
/// read off tcpdump's own decoding of the saved capture.
fn answer_for_k8s_labs_a(
    sb: &Sandbox,
    a: &layerlab_core::lab::AnswerCheck,
    prompt: &str,
) -> Option<String> {
    let saved = a.saved.as_deref()?;
    if prompt.contains("outer ipv4 packet longer") {
        // `tcpdump -v -T vxlan` prints the outer `IP (... length N)` header
        // line first and the inner one after the VXLAN line.
        let path = sb.dir.join(format!("{saved}.pcap"));
        let text = sh(&format!(
            "tcpdump -nn -v -T vxlan -r {} 'udp port 8472' 2>/dev/null | head -4",
            path.display()
        ));
        let lengths: Vec<u32> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("IP ") || l.contains(" IP ("))
            .filter_map(|l| {
                let i = l.rfind("length ")? + 7;
                l[i..].trim_end_matches(')').trim().parse().ok()
            })
            .collect();
        assert!(lengths.len() >= 2, "two IP headers in {text}");
        return Some((lengths[0] - lengths[1]).to_string());
    }
    if prompt.contains("how many dns queries") {
        let path = sb.dir.join(format!("{saved}.pcap"));
        let text = sh(&format!(
            "tcpdump -nn -r {} 'udp dst port 53' 2>/dev/null",
            path.display()
        ));
        return Some(text.lines().filter(|l| l.contains("?")).count().to_string());
    }
    None
}

/// The two tests set process-wide variables (binary, sandbox folder): one
/// at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run_lab(lab: &Lab) {
    let sb = Sandbox::create(
        &format!("test-{}", lab.id),
        Owner::Process(std::process::id()),
    )
    .expect("sandbox");
    run_lab_in(lab, sb);
}

/// Fails before, solves, passes after, every step of `lab` in `sb`.
fn run_lab_in(lab: &Lab, sb: Sandbox) {
    for (i, step) in lab.steps.iter().enumerate() {
        let before = runner::check_step(&sb, &step.checked_once(), i, None, &mut |_, _| {});
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
#[cfg_attr(
    not(as_root),
    ignore = "needs root: network namespaces and iptables (CI runs as root)"
)]
fn every_linux_lab_fails_before_and_passes_after_each_solution_without_touching_the_host() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: set before any thread starts.
    unsafe { std::env::set_var("LAYERLAB_EXE", env!("CARGO_BIN_EXE_layerlab")) };
    // Sandboxes of this run only: another run on the same machine (its
    // `test-<lab>` sandboxes carry the same names) must not replace ours.
    let state = std::env::temp_dir().join(format!("layerlab-lab-test-{}", std::process::id()));
    // SAFETY: as above, before any thread starts.
    unsafe { std::env::set_var("LAYERLAB_SANDBOX_DIR", &state) };
    // LAYERLAB_LABS=cni-by-hand,pod-routes runs only those labs (while
    // writing one); unset, every sandbox lab runs.
    let only: Option<Vec<String>> = std::env::var("LAYERLAB_LABS")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let labs: Vec<&Lab> = layerlab_labs::labs()
        .iter()
        .filter(|l| l.needs == Needs::Sandbox)
        .filter(|l| only.as_ref().is_none_or(|o| o.contains(&l.id)))
        .collect();
    assert!(!labs.is_empty());
    let before = host_network();
    std::thread::scope(|s| {
        for lab in &labs {
            s.spawn(|| run_lab(lab));
        }
    });
    assert_eq!(before, host_network(), "a lab changed the host's network");
    let _ = std::fs::remove_dir_all(state);
}

#[test]
#[cfg_attr(
    not(as_root),
    ignore = "needs root: network namespaces and iptables (CI runs as root)"
)]
fn labs_pass_in_confined_sandboxes_too_router_and_dnat_by_default() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: set while no other test runs (the lock above).
    unsafe { std::env::set_var("LAYERLAB_EXE", env!("CARGO_BIN_EXE_layerlab")) };
    let state = std::env::temp_dir().join(format!("layerlab-confined-test-{}", std::process::id()));
    // SAFETY: as above.
    unsafe { std::env::set_var("LAYERLAB_SANDBOX_DIR", &state) };
    let before = host_network();
    // LAYERLAB_CONFINED_LABS=all (or a list) runs more labs confined.
    let wanted = std::env::var("LAYERLAB_CONFINED_LABS").unwrap_or_else(|_| "router,dnat".into());
    let ids: Vec<String> = layerlab_labs::labs()
        .iter()
        .filter(|l| l.needs == Needs::Sandbox)
        .map(|l| l.id.clone())
        .filter(|id| wanted == "all" || wanted.split(',').any(|w| w.trim() == id))
        .collect();
    assert!(!ids.is_empty(), "no sandbox lab matches {wanted}");
    for id in &ids {
        let lab = layerlab_labs::labs()
            .iter()
            .find(|l| &l.id == id)
            .expect("lab");
        let sb = Sandbox::create_confined(
            &format!("test-learner/{id}"),
            Owner::Process(std::process::id()),
            &layerlab_labs::confine::Confine::default(),
        )
        .expect("confined sandbox");
        assert!(sb.confined.is_some());
        run_lab_in(lab, sb);
    }
    assert_eq!(
        before,
        host_network(),
        "a confined lab changed the host's network"
    );
    let _ = std::fs::remove_dir_all(state);
}

/// Answers for the Service labs (kube-proxy, NetworkPolicy, NodePort,
/// Ingress by hand), worked out from the system by other means than the
/// check's own command.
fn service_lab_answer(sb: &Sandbox, lab: &Lab, step: &layerlab_core::lab::Step) -> Option<String> {
    let prompt = step.checks.iter().find_map(|c| match &c.kind {
        CheckKind::Answer(a) => Some(a.prompt.as_str()),
        _ => None,
    })?;
    match lab.id.as_str() {
        "ingress-by-hand" => Some(haproxy_backend_for_status(sb, prompt)),
        _ => None,
    }
}

/// The backend HAProxy logged for the last request with the status the
/// prompt names (404 or 503), read from the access log in Rust rather
/// than with the check's awk.
fn haproxy_backend_for_status(sb: &Sandbox, prompt: &str) -> String {
    let status = ["404", "503"]
        .into_iter()
        .find(|s| prompt.contains(s))
        .unwrap_or_else(|| panic!("teach the test which status `{prompt}` asks about"));
    let log = sb
        .run(
            "cat /tmp/ingress/access.log",
            std::time::Duration::from_secs(5),
        )
        .stdout;
    log.lines()
        .rev()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (f.len() > 5 && f[5] == status)
                .then(|| f[3].split('/').next().unwrap_or("").to_string())
        })
        .next()
        .unwrap_or_else(|| panic!("no {status} in the access log:\n{log}"))
}
