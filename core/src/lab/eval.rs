//! How a check is observed ([`Probe`]) and judged ([`evaluate`]).

use super::capture::{CaptureSet, packet_records};
use super::cel;
use super::linux;
use super::matching::{Mismatch, compact, partial_match};
use super::spec::{AnswerCheck, CaptureCheck, CheckKind, Expect, TextMatch};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the native runner must do to observe a check.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// Run this shell script in the sandbox's host namespace.
    Shell(String),
    /// Capture packets (and run the trigger while listening).
    Capture(CaptureCheck),
    /// Ask the cluster: the kube layer reads the check itself.
    Cluster,
    /// Make the HTTP request the check describes.
    Http,
    /// Read a capture kept by an earlier check (`step-4-check-1`).
    Saved(String),
}

/// The probe for a check.
pub fn probe(kind: &CheckKind) -> Probe {
    match kind {
        CheckKind::Host { run, .. } => Probe::Shell(run.clone()),
        CheckKind::Namespace(_) | CheckKind::Interface(_) => {
            Probe::Shell(linux::WORLD_SCRIPT.into())
        }
        CheckKind::Route(r) => Probe::Shell(format!("{} -j route show", linux::ip_in(&r.netns))),
        CheckKind::Sysctl(s) => Probe::Shell(format!(
            "{}sysctl -n {}",
            linux::exec_in(&s.netns),
            linux::shell_quote(&s.key)
        )),
        CheckKind::Iptables(i) => Probe::Shell(format!(
            "{}iptables-save -t {}",
            linux::exec_in(&i.netns),
            linux::shell_quote(&i.table)
        )),
        CheckKind::Conntrack(c) => {
            Probe::Shell(format!("{}conntrack -L", linux::exec_in(&c.netns)))
        }
        CheckKind::Capture(c) => Probe::Capture(c.clone()),
        CheckKind::Answer(AnswerCheck {
            capture: Some(c), ..
        }) => Probe::Capture(c.clone()),
        CheckKind::Answer(AnswerCheck {
            saved: Some(name), ..
        }) => Probe::Saved(name.clone()),
        CheckKind::Answer(AnswerCheck { run, .. }) => Probe::Shell(run.clone().unwrap_or_default()),
        CheckKind::Resource(_) | CheckKind::Exec(_) | CheckKind::Node(_) => Probe::Cluster,
        CheckKind::Http(_) => Probe::Http,
    }
}

/// A finished command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutput {
    /// Exit code (-1 when killed by a signal).
    pub exit: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// A setup or solution command that did not succeed, in a sandbox or
/// against a cluster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{command}` exited {exit}: {last_line}")]
pub struct CommandFailed {
    /// The command as the lab wrote it.
    pub command: String,
    /// Its exit code (-1 when killed, by a signal or its deadline).
    pub exit: i32,
    /// The last non-empty line it wrote to standard error.
    pub last_line: String,
}

impl CommandFailed {
    /// The failure of `command`, from what it printed.
    pub fn of(command: &str, out: &CommandOutput) -> Self {
        CommandFailed {
            command: command.to_string(),
            exit: out.exit,
            last_line: out.stderr.trim().lines().last().unwrap_or("").to_string(),
        }
    }
}

/// What a probe saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// A command's result (host, typed Linux checks, exec, node).
    Command(CommandOutput),
    /// A capture file (pcap or pcapng) and the trigger's result.
    Packets {
        /// The capture.
        pcap: Vec<u8>,
        /// The trigger command's result, if one ran.
        trigger: Option<CommandOutput>,
    },
    /// Kubernetes objects: one object, or a list when a selector was used;
    /// `related` holds e.g. a Service's EndpointSlices (or null).
    Objects {
        /// The object(s), `managedFields` already stripped.
        object: Value,
        /// Related objects.
        related: Value,
    },
    /// An HTTP response.
    Http {
        /// Status code.
        status: u16,
        /// Body (lossy UTF-8).
        body: String,
    },
    /// The probe itself could not run (missing tool, unreachable cluster).
    Failed(String),
}

/// The judgement of one observation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Whether the check holds.
    pub passed: bool,
    /// One line: what holds, or what is wrong (naming the likely mistake).
    pub message: String,
    /// Expected vs observed, field by field.
    pub mismatches: Vec<Mismatch>,
    /// What decided it (command output, packets), shortened.
    pub evidence: String,
}

impl Verdict {
    fn pass(message: impl Into<String>, evidence: String) -> Self {
        Verdict {
            passed: true,
            message: message.into(),
            mismatches: Vec::new(),
            evidence,
        }
    }

    fn fail(message: impl Into<String>, mismatches: Vec<Mismatch>, evidence: String) -> Self {
        Verdict {
            passed: false,
            message: message.into(),
            mismatches,
            evidence,
        }
    }
}

/// Longest evidence kept per check.
const EVIDENCE_LIMIT: usize = 4000;

pub(crate) fn clip(text: &str) -> String {
    if text.len() <= EVIDENCE_LIMIT {
        return text.to_string();
    }
    let mut end = EVIDENCE_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n... ({} more bytes)", &text[..end], text.len() - end)
}

fn command_evidence(o: &CommandOutput) -> String {
    let mut s = format!("exit {}\n", o.exit);
    if !o.stdout.trim().is_empty() {
        s.push_str(o.stdout.trim_end());
        s.push('\n');
    }
    if !o.stderr.trim().is_empty() {
        s.push_str("stderr: ");
        s.push_str(o.stderr.trim_end());
    }
    clip(&s)
}

/// Judges an observation for a check. `answer` is the learner's answer for
/// `answer` checks. Never panics on odd output.
pub fn evaluate(kind: &CheckKind, obs: &Observation, answer: Option<&str>) -> Verdict {
    if let Observation::Failed(why) = obs {
        return Verdict::fail(
            format!("could not observe: {why}"),
            Vec::new(),
            String::new(),
        );
    }
    match (kind, obs) {
        (CheckKind::Host { expect, .. }, Observation::Command(o)) => expect_command(expect, o),
        (CheckKind::Exec(e), Observation::Command(o)) => expect_command(&e.expect, o),
        (CheckKind::Node(n), Observation::Command(o)) => expect_command(&n.expect, o),
        (CheckKind::Namespace(c), Observation::Command(o)) => linux::namespace(c, o),
        (CheckKind::Interface(c), Observation::Command(o)) => linux::interface(c, o),
        (CheckKind::Route(c), Observation::Command(o)) => linux::route(c, o),
        (CheckKind::Sysctl(c), Observation::Command(o)) => linux::sysctl(c, o),
        (CheckKind::Iptables(c), Observation::Command(o)) => linux::iptables(c, o),
        (CheckKind::Conntrack(c), Observation::Command(o)) => linux::conntrack(c, o),
        (CheckKind::Capture(c), Observation::Packets { pcap, trigger }) => {
            capture(c, pcap, trigger.as_ref())
        }
        (CheckKind::Answer(a), obs) => self::answer(a, obs, answer),
        (CheckKind::Resource(r), Observation::Objects { object, related }) => {
            resource(r, object, related)
        }
        (CheckKind::Http(h), Observation::Http { status, body }) => http(h, *status, body),
        (kind, _) => Verdict::fail(
            format!(
                "internal: a `{}` check got the wrong kind of observation",
                kind.name()
            ),
            Vec::new(),
            String::new(),
        ),
    }
}

/// Checks a text against a [`TextMatch`]; `None` when it holds.
fn text_mismatch(what: &str, m: &TextMatch, text: &str) -> Option<Mismatch> {
    let shown = || compact(&Value::String(text.trim().to_string()));
    match m {
        TextMatch::Contains(s) => (!text.contains(s.as_str()))
            .then(|| Mismatch::new(what, format!("contains {s:?}"), shown())),
        TextMatch::Detailed {
            contains,
            not_contains,
            equals,
            regex,
        } => {
            if let Some(s) = contains
                && !text.contains(s.as_str())
            {
                return Some(Mismatch::new(what, format!("contains {s:?}"), shown()));
            }
            if let Some(s) = not_contains
                && text.contains(s.as_str())
            {
                return Some(Mismatch::new(
                    what,
                    format!("does not contain {s:?}"),
                    shown(),
                ));
            }
            if let Some(s) = equals
                && text.trim() != s.trim()
            {
                return Some(Mismatch::new(what, format!("equals {s:?}"), shown()));
            }
            if let Some(r) = regex {
                let ok = regex_lite::Regex::new(r).map(|re| re.is_match(text));
                if ok != Ok(true) {
                    return Some(Mismatch::new(what, format!("matches /{r}/"), shown()));
                }
            }
            None
        }
    }
}

/// Judges a command's result against an [`Expect`].
pub(crate) fn expect_command(e: &Expect, o: &CommandOutput) -> Verdict {
    let evidence = command_evidence(o);
    let mut mismatches = Vec::new();
    let nothing_else =
        e.stdout.is_none() && e.stderr.is_none() && e.json.is_none() && e.cel.is_none();
    let want_exit = e.exit.or(nothing_else.then_some(0));
    if let Some(code) = want_exit
        && o.exit != code
    {
        mismatches.push(Mismatch::new("exit code", code, o.exit));
    }
    if let Some(m) = &e.stdout {
        mismatches.extend(text_mismatch("stdout", m, &o.stdout));
    }
    if let Some(m) = &e.stderr {
        mismatches.extend(text_mismatch("stderr", m, &o.stderr));
    }
    let json: Value = serde_json::from_str(&o.stdout).unwrap_or(Value::Null);
    if let Some(want) = &e.json {
        if json.is_null() {
            mismatches.push(Mismatch::new("stdout", "JSON", "not JSON"));
        } else {
            mismatches.extend(
                partial_match(want, &json, false)
                    .into_iter()
                    .map(|m| Mismatch {
                        path: format!("json.{}", m.path),
                        ..m
                    }),
            );
        }
    }
    if let Some(expr) = &e.cel {
        let vars = [
            ("exit", &Value::from(o.exit)),
            ("stdout", &Value::String(o.stdout.clone())),
            ("stderr", &Value::String(o.stderr.clone())),
            ("json", &json),
        ];
        match cel::eval_bool(expr, &vars) {
            Ok(true) => {}
            Ok(false) => mismatches.push(Mismatch::new("cel", expr, "false")),
            Err(err) => mismatches.push(Mismatch::new("cel", expr, err)),
        }
    }
    if mismatches.is_empty() {
        Verdict::pass("the command's output is as expected", evidence)
    } else {
        let first = &mismatches[0];
        let message = format!(
            "{}: expected {}, got {}",
            first.path, first.expected, first.observed
        );
        Verdict::fail(message, mismatches, evidence)
    }
}

fn capture(c: &CaptureCheck, pcap: &[u8], trigger: Option<&CommandOutput>) -> Verdict {
    let set = match packet_records(pcap) {
        Ok(s) => s,
        Err(e) => {
            return Verdict::fail(
                format!("the capture could not be read: {e}"),
                Vec::new(),
                String::new(),
            );
        }
    };
    let mut evidence = set.evidence();
    if let Some(t) = trigger
        && t.exit != 0
    {
        evidence.push_str(&format!("\ntrigger exited {}: {}", t.exit, t.stderr.trim()));
    }
    let evidence = clip(&evidence);
    if let Some(m) = sequence_mismatch(&c.sequence, &set) {
        let message = if set.records.is_empty() {
            "no packets were captured: is the traffic flowing through this namespace and interface?"
                .to_string()
        } else {
            format!(
                "captured {} packets, but not {} (item {} of the expected sequence)",
                set.records.len(),
                m.expected,
                m.path
            )
        };
        return Verdict::fail(message, vec![m], evidence);
    }
    if let Some(expr) = &c.cel {
        let packets = set.json();
        match cel::eval_bool(expr, &[("packets", &packets)]) {
            Ok(true) => {}
            Ok(false) => {
                return Verdict::fail(
                    format!("the packets do not satisfy `{expr}`"),
                    vec![Mismatch::new("cel", expr, "false")],
                    evidence,
                );
            }
            Err(e) => {
                return Verdict::fail(e.clone(), vec![Mismatch::new("cel", expr, e)], evidence);
            }
        }
    }
    Verdict::pass(
        format!("{} packets captured, as expected", set.records.len()),
        evidence,
    )
}

/// The first expected item that could not be found, in order.
fn sequence_mismatch(sequence: &[Value], set: &CaptureSet) -> Option<Mismatch> {
    let json: Vec<Value> = set.records.iter().map(|r| r.json.clone()).collect();
    let mut next = 0;
    for (i, want) in sequence.iter().enumerate() {
        match json[next..]
            .iter()
            .position(|p| partial_match(want, p, false).is_empty())
        {
            Some(k) => next += k + 1,
            None => {
                return Some(Mismatch::new(
                    format!("sequence[{i}]"),
                    compact(want),
                    if next < json.len() {
                        format!(
                            "{} packets after the previous match, none matching",
                            json.len() - next
                        )
                    } else {
                        "no more packets".to_string()
                    },
                ));
            }
        }
    }
    None
}

fn answer(a: &AnswerCheck, obs: &Observation, given: Option<&str>) -> Verdict {
    let (vars, evidence): (Vec<(&str, Value)>, String) = match obs {
        Observation::Packets { pcap, .. } => match packet_records(pcap) {
            Ok(set) => (vec![("packets", set.json())], clip(&set.evidence())),
            Err(e) => {
                return Verdict::fail(
                    format!("the capture could not be read: {e}"),
                    Vec::new(),
                    String::new(),
                );
            }
        },
        Observation::Command(o) => {
            let json = serde_json::from_str(&o.stdout).unwrap_or(Value::Null);
            (
                vec![("stdout", Value::String(o.stdout.clone())), ("json", json)],
                command_evidence(o),
            )
        }
        _ => {
            return Verdict::fail(
                "internal: an answer check needs packets or a command",
                Vec::new(),
                String::new(),
            );
        }
    };
    let refs: Vec<(&str, &Value)> = vars.iter().map(|(k, v)| (*k, v)).collect();
    let truth = match cel::eval(&a.expected, &refs) {
        Ok(v) => cel::display(&v),
        Err(e) => {
            return Verdict::fail(
                format!("the system did not show the answer yet ({e})"),
                Vec::new(),
                evidence,
            );
        }
    };
    let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) else {
        return Verdict::fail(
            format!("waiting for your answer: {}", a.prompt),
            Vec::new(),
            evidence,
        );
    };
    if answers_agree(given, &truth) {
        Verdict::pass(format!("right: the system shows {truth}"), evidence)
    } else {
        Verdict::fail(
            format!("you answered {given}, but the system shows {truth}"),
            vec![Mismatch::new("answer", &truth, given)],
            evidence,
        )
    }
}

/// Case-insensitive, and numbers compare by value (`080` = `80`).
fn answers_agree(given: &str, truth: &str) -> bool {
    if given.eq_ignore_ascii_case(truth.trim()) {
        return true;
    }
    match (given.parse::<f64>(), truth.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn resource(r: &super::spec::ResourceCheck, object: &Value, related: &Value) -> Verdict {
    let evidence = clip(&serde_json::to_string_pretty(object).unwrap_or_default());
    let what = match (&r.name, &r.selector) {
        (Some(n), _) => format!("{} {n}", r.kind),
        (_, Some(s)) => format!("{} objects selected by {s}", r.kind),
        _ => r.kind.clone(),
    };
    if object.is_null() || object.as_array().is_some_and(Vec::is_empty) {
        return Verdict::fail(
            format!(
                "{what} not found in namespace {}",
                r.namespace.as_deref().unwrap_or("default")
            ),
            vec![Mismatch::new(what.clone(), "exists", "<missing>")],
            evidence,
        );
    }
    let mut mismatches = Vec::new();
    if let Some(want) = &r.matches {
        match object.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let name = item["metadata"]["name"].as_str().unwrap_or("?");
                    mismatches.extend(partial_match(want, item, r.exact).into_iter().map(|m| {
                        Mismatch {
                            path: format!("{name}[{i}].{}", m.path),
                            ..m
                        }
                    }));
                }
            }
            None => mismatches.extend(partial_match(want, object, r.exact)),
        }
    }
    if let Some(expr) = &r.cel {
        let var = if object.is_array() {
            "objects"
        } else {
            "object"
        };
        match cel::eval_bool(expr, &[(var, object), ("related", related)]) {
            Ok(true) => {}
            Ok(false) => mismatches.push(Mismatch::new("cel", expr, "false")),
            Err(e) => mismatches.push(Mismatch::new("cel", expr, e)),
        }
    }
    if mismatches.is_empty() {
        Verdict::pass(format!("{what} matches"), evidence)
    } else {
        let m = &mismatches[0];
        let message = format!(
            "{what}: {} is {}, expected {}",
            m.path, m.observed, m.expected
        );
        Verdict::fail(message, mismatches, evidence)
    }
}

fn http(h: &super::spec::HttpCheck, status: u16, body: &str) -> Verdict {
    let evidence = clip(&format!("HTTP {status}\n{body}"));
    let mut mismatches = Vec::new();
    let want = h.status.unwrap_or(200);
    if status != want {
        mismatches.push(Mismatch::new("status", want, status));
    }
    if let Some(m) = &h.body {
        mismatches.extend(text_mismatch("body", m, body));
    }
    if mismatches.is_empty() {
        Verdict::pass(format!("{} answered {status}", h.url), evidence)
    } else {
        let m = &mismatches[0];
        Verdict::fail(
            format!(
                "{}: {} expected {}, got {}",
                h.url, m.path, m.expected, m.observed
            ),
            mismatches,
            evidence,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::spec::{HttpCheck, ResourceCheck};
    use serde_json::json;

    fn out(exit: i32, stdout: &str) -> Observation {
        Observation::Command(CommandOutput {
            exit,
            stdout: stdout.into(),
            stderr: String::new(),
        })
    }

    #[test]
    fn host_checks_assert_exit_text_json_and_cel() {
        let kind = |expect| CheckKind::Host {
            run: "x".into(),
            expect,
        };
        let e = Expect::default();
        assert!(evaluate(&kind(e.clone()), &out(0, ""), None).passed);
        let v = evaluate(&kind(e), &out(1, ""), None);
        assert!(!v.passed);
        assert_eq!(v.message, "exit code: expected 0, got 1");
        let e = Expect {
            stdout: Some(TextMatch::Contains("Hello".into())),
            json: None,
            ..Expect::default()
        };
        assert!(
            evaluate(&kind(e.clone()), &out(7, "Hello\n"), None).passed,
            "exit not asserted"
        );
        assert!(!evaluate(&kind(e), &out(0, "hello"), None).passed);
        let e = Expect {
            json: Some(json!([{"ifname": "lo"}])),
            cel: Some("size(json) == 2".into()),
            ..Expect::default()
        };
        let v = evaluate(
            &kind(e.clone()),
            &out(0, r#"[{"ifname":"lo"},{"ifname":"eth0"}]"#),
            None,
        );
        assert!(v.passed, "{v:?}");
        let v = evaluate(&kind(e), &out(0, r#"[{"ifname":"eth0"}]"#), None);
        assert_eq!(v.mismatches.len(), 2, "{v:?}");
    }

    #[test]
    fn failed_probes_say_why() {
        let k = CheckKind::Host {
            run: "x".into(),
            expect: Expect::default(),
        };
        let v = evaluate(
            &k,
            &Observation::Failed("tcpdump is not installed".into()),
            None,
        );
        assert_eq!(v.message, "could not observe: tcpdump is not installed");
    }

    #[test]
    fn answers_compare_with_what_the_system_shows() {
        let a = CheckKind::Answer(AnswerCheck {
            prompt: "Which port?".into(),
            capture: None,
            run: Some("echo".into()),
            saved: None,
            expected: "json.port".into(),
        });
        let obs = out(0, r#"{"port": 43210}"#);
        assert!(evaluate(&a, &obs, Some(" 43210 ")).passed);
        let v = evaluate(&a, &obs, Some("8080"));
        assert_eq!(v.message, "you answered 8080, but the system shows 43210");
        assert!(
            evaluate(&a, &obs, None)
                .message
                .starts_with("waiting for your answer")
        );
    }

    #[test]
    fn resources_match_partially_with_cel_over_related_objects() {
        let r = ResourceCheck {
            api_version: "v1".into(),
            kind: "Service".into(),
            namespace: None,
            name: Some("web".into()),
            selector: None,
            matches: Some(json!({"spec": {"type": "NodePort"}})),
            exact: false,
            cel: Some("related.all(s, size(s.endpoints) == 2)".into()),
            endpointslices: true,
        };
        let obj = json!({"metadata": {"name": "web"}, "spec": {"type": "ClusterIP"}});
        let related = json!([{"endpoints": [{}, {}]}]);
        let v = evaluate(
            &CheckKind::Resource(r.clone()),
            &Observation::Objects {
                object: obj,
                related: related.clone(),
            },
            None,
        );
        assert_eq!(
            v.message,
            "Service web: spec.type is ClusterIP, expected NodePort"
        );
        let obj = json!({"metadata": {"name": "web"}, "spec": {"type": "NodePort"}});
        let v = evaluate(
            &CheckKind::Resource(r.clone()),
            &Observation::Objects {
                object: obj.clone(),
                related,
            },
            None,
        );
        assert!(v.passed, "{v:?}");
        let v = evaluate(
            &CheckKind::Resource(r),
            &Observation::Objects {
                object: obj,
                related: json!([{"endpoints": [{}]}]),
            },
            None,
        );
        assert_eq!(v.mismatches[0].path, "cel");
    }

    #[test]
    fn http_checks_status_and_body() {
        let h = CheckKind::Http(HttpCheck {
            url: "http://localhost/".into(),
            method: None,
            host: None,
            status: None,
            body: Some(TextMatch::Contains("web".into())),
        });
        let ok = Observation::Http {
            status: 200,
            body: "web-1".into(),
        };
        assert!(evaluate(&h, &ok, None).passed);
        let v = evaluate(
            &h,
            &Observation::Http {
                status: 404,
                body: "nope".into(),
            },
            None,
        );
        assert_eq!(v.mismatches.len(), 2);
        assert!(
            v.message.contains("status expected 200, got 404"),
            "{}",
            v.message
        );
    }
}
