//! Typed Linux checks: the probe scripts (`ip -j`, `iptables-save`,
//! `conntrack -L`) and judgements that name the learner's likely mistake.

use super::eval::{CommandOutput, Verdict, clip};
use super::matching::Mismatch;
use super::spec::{
    ConntrackCheck, InterfaceCheck, IptablesCheck, NamespaceCheck, RouteCheck, SysctlCheck,
};
use serde_json::Value;

/// Dumps every namespace and every interface (with addresses and link
/// details) in one go, so one observation can say "it is in the other
/// namespace" as well as "it is missing".
pub(crate) const WORLD_SCRIPT: &str = r#"echo '@@netns'; ip netns list 2>/dev/null | cut -d' ' -f1
echo '@@ns -'; ip -j -d addr show
for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1); do echo "@@ns $ns"; ip -n "$ns" -j -d addr show; done"#;

/// Quotes a word for a POSIX shell (left bare when it is safe as is).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `ip` or `ip -n NS`.
pub(crate) fn ip_in(netns: &Option<String>) -> String {
    match netns {
        Some(ns) => format!("ip -n {}", shell_quote(ns)),
        None => "ip".into(),
    }
}

/// Prefix that runs a command in a namespace (empty for the host).
pub(crate) fn exec_in(netns: &Option<String>) -> String {
    match netns {
        Some(ns) => format!("ip netns exec {} ", shell_quote(ns)),
        None => String::new(),
    }
}

fn where_(netns: &Option<String>) -> String {
    match netns {
        Some(ns) => format!("namespace `{ns}`"),
        None => "the sandbox's host namespace".into(),
    }
}

/// The parsed world dump.
struct World {
    namespaces: Vec<String>,
    /// (namespace or None for host, interfaces as `ip -j -d addr` objects)
    links: Vec<(Option<String>, Vec<Value>)>,
}

fn parse_world(o: &CommandOutput) -> World {
    let mut w = World {
        namespaces: Vec::new(),
        links: Vec::new(),
    };
    let mut section: Option<Option<String>> = None;
    let mut in_netns = false;
    let mut buf = String::new();
    let flush = |section: &Option<Option<String>>, buf: &mut String, w: &mut World| {
        if let Some(ns) = section {
            let list = serde_json::from_str::<Vec<Value>>(buf.trim()).unwrap_or_default();
            w.links.push((ns.clone(), list));
        }
        buf.clear();
    };
    for line in o.stdout.lines() {
        if line == "@@netns" {
            in_netns = true;
        } else if let Some(ns) = line.strip_prefix("@@ns ") {
            flush(&section, &mut buf, &mut w);
            in_netns = false;
            section = Some((ns != "-").then(|| ns.to_string()));
        } else if in_netns {
            if !line.trim().is_empty() {
                w.namespaces.push(line.trim().to_string());
            }
        } else {
            buf.push_str(line);
            buf.push('\n');
        }
    }
    flush(&section, &mut buf, &mut w);
    w
}

impl World {
    fn iface(&self, netns: &Option<String>, name: &str) -> Option<&Value> {
        self.links
            .iter()
            .find(|(ns, _)| ns == netns)
            .and_then(|(_, l)| l.iter().find(|i| i["ifname"] == name))
    }

    /// Namespaces (None = host) where an interface of this name exists.
    fn find_everywhere(&self, name: &str) -> Vec<Option<String>> {
        self.links
            .iter()
            .filter(|(_, l)| l.iter().any(|i| i["ifname"] == name))
            .map(|(ns, _)| ns.clone())
            .collect()
    }
}

pub(crate) fn namespace(c: &NamespaceCheck, o: &CommandOutput) -> Verdict {
    let w = parse_world(o);
    let evidence = format!("ip netns list:\n{}", w.namespaces.join("\n"));
    let exists = w.namespaces.contains(&c.name);
    match (exists, c.exists) {
        (true, true) => Verdict {
            passed: true,
            message: format!("namespace `{}` exists", c.name),
            evidence,
            ..Verdict::default()
        },
        (false, false) => Verdict {
            passed: true,
            message: format!("namespace `{}` is gone", c.name),
            evidence,
            ..Verdict::default()
        },
        (false, true) => {
            let list = if w.namespaces.is_empty() {
                "there are no namespaces yet".to_string()
            } else {
                format!("namespaces are: {}", w.namespaces.join(", "))
            };
            Verdict {
                passed: false,
                message: format!(
                    "no namespace `{}` ({list}); create it with `ip netns add {}`",
                    c.name, c.name
                ),
                mismatches: vec![Mismatch::new(
                    format!("netns {}", c.name),
                    "exists",
                    "<missing>",
                )],
                evidence,
            }
        }
        (true, false) => Verdict {
            passed: false,
            message: format!(
                "namespace `{}` still exists; delete it with `ip netns del {}`",
                c.name, c.name
            ),
            mismatches: vec![Mismatch::new(
                format!("netns {}", c.name),
                "absent",
                "exists",
            )],
            evidence,
        },
    }
}

fn addresses(iface: &Value) -> Vec<String> {
    iface["addr_info"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    Some(format!(
                        "{}/{}",
                        x["local"].as_str()?,
                        x["prefixlen"].as_u64()?
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_up(iface: &Value) -> bool {
    iface["flags"]
        .as_array()
        .is_some_and(|f| f.iter().any(|x| x == "UP"))
}

pub(crate) fn interface(c: &InterfaceCheck, o: &CommandOutput) -> Verdict {
    let w = parse_world(o);
    let place = where_(&c.netns);
    let name = &c.name;
    let mut evidence = String::new();
    for (ns, list) in &w.links {
        let names: Vec<String> = list
            .iter()
            .map(|i| {
                let state = if is_up(i) { "UP" } else { "DOWN" };
                format!(
                    "{} ({state} {})",
                    i["ifname"].as_str().unwrap_or("?"),
                    addresses(i).join(" ")
                )
            })
            .collect();
        evidence.push_str(&format!("{}: {}\n", where_(ns), names.join(", ")));
    }
    let evidence = clip(&evidence);
    let fail = |message: String, m: Vec<Mismatch>| Verdict {
        passed: false,
        message,
        mismatches: m,
        evidence: evidence.clone(),
    };
    if let Some(ns) = &c.netns
        && !w.namespaces.contains(ns)
    {
        return fail(
            format!(
                "{place} does not exist, so `{name}` cannot be in it; create it with `ip netns add {ns}`"
            ),
            vec![Mismatch::new(format!("netns {ns}"), "exists", "<missing>")],
        );
    }
    let Some(iface) = w.iface(&c.netns, name) else {
        let elsewhere = w.find_everywhere(name);
        let path = format!("{name}.netns");
        return match elsewhere.first() {
            Some(other) => fail(
                format!(
                    "`{name}` is in {}, not in {place}: wrong namespace; move it with `{} link set {name} netns {}`",
                    where_(other),
                    ip_in(other),
                    c.netns.as_deref().unwrap_or("1")
                ),
                vec![Mismatch::new(path, place.clone(), where_(other))],
            ),
            None => fail(
                format!("there is no interface `{name}` in {place}"),
                vec![Mismatch::new(name.clone(), "exists", "<missing>")],
            ),
        };
    };
    let mut mm = Vec::new();
    let mut message = None;
    if let Some(kind) = &c.link_type {
        let seen = iface["linkinfo"]["info_kind"]
            .as_str()
            .unwrap_or("physical/none");
        if seen != kind {
            mm.push(Mismatch::new(format!("{name}.type"), kind, seen));
            message.get_or_insert(format!(
                "`{name}` in {place} is a {seen} interface, not a {kind}"
            ));
        }
    }
    if let Some(want_up) = c.up {
        let up = is_up(iface);
        if up != want_up {
            mm.push(Mismatch::new(
                format!("{name}.state"),
                if want_up { "UP" } else { "DOWN" },
                if up { "UP" } else { "DOWN" },
            ));
            message.get_or_insert(if want_up {
                format!(
                    "`{name}` in {place} is down: interfaces start down; bring it up with `{} link set {name} up`",
                    ip_in(&c.netns)
                )
            } else {
                format!("`{name}` in {place} is up, the step wants it down")
            });
        }
    }
    let have = addresses(iface);
    for want in &c.addresses {
        if have.contains(want) {
            continue;
        }
        let ip = want.split('/').next().unwrap_or(want);
        let same_ip = have.iter().find(|h| h.split('/').next() == Some(ip));
        mm.push(Mismatch::new(
            format!("{name}.addresses"),
            want,
            if have.is_empty() {
                "none".into()
            } else {
                have.join(", ")
            },
        ));
        message.get_or_insert(match same_ip {
            Some(h) => format!(
                "`{name}` has {h}, expected {want}: the prefix length is wrong (it decides which addresses are on the link); replace it: `{} addr del {h} dev {name}` then `{} addr add {want} dev {name}`",
                ip_in(&c.netns),
                ip_in(&c.netns)
            ),
            None => format!(
                "`{name}` in {place} does not have {want}; add it with `{} addr add {want} dev {name}`",
                ip_in(&c.netns)
            ),
        });
    }
    if let Some(master) = &c.master {
        let seen = iface["master"].as_str();
        if seen != Some(master.as_str()) {
            mm.push(Mismatch::new(
                format!("{name}.master"),
                master,
                seen.unwrap_or("none"),
            ));
            message.get_or_insert(format!(
                "`{name}` is not enslaved to bridge `{master}`{}; attach it with `{} link set {name} master {master}`",
                seen.map(|s| format!(" (it is attached to `{s}`)")).unwrap_or_default(),
                ip_in(&c.netns)
            ));
        }
    }
    if let Some(peer) = &c.peer {
        let peer_place = where_(&peer.netns);
        match w.iface(&peer.netns, &peer.name) {
            None => {
                let elsewhere = w.find_everywhere(&peer.name);
                mm.push(Mismatch::new(
                    format!("{name}.peer"),
                    format!("{} in {peer_place}", peer.name),
                    elsewhere
                        .first()
                        .map(|o| format!("{} in {}", peer.name, where_(o)))
                        .unwrap_or_else(|| "<missing>".into()),
                ));
                message.get_or_insert(match elsewhere.first() {
                    Some(o) => format!(
                        "the peer `{}` is in {}, not in {peer_place}: wrong namespace",
                        peer.name,
                        where_(o)
                    ),
                    None => format!("the peer `{}` is not in {peer_place}", peer.name),
                });
            }
            Some(p) => {
                let paired = if c.netns == peer.netns {
                    iface["link"] == peer.name.as_str()
                } else {
                    iface["link_index"] == p["ifindex"] && p["link_index"] == iface["ifindex"]
                };
                if !paired {
                    mm.push(Mismatch::new(
                        format!("{name}.peer"),
                        &peer.name,
                        "another interface",
                    ));
                    message.get_or_insert(format!(
                        "`{name}` and `{}` are not the two ends of one veth pair",
                        peer.name
                    ));
                }
            }
        }
    }
    match message {
        None => Verdict {
            passed: true,
            message: format!("`{name}` in {place} is as expected"),
            mismatches: Vec::new(),
            evidence,
        },
        Some(m) => fail(m, mm),
    }
}

pub(crate) fn route(c: &RouteCheck, o: &CommandOutput) -> Verdict {
    let evidence = clip(&o.stdout);
    let place = where_(&c.netns);
    if o.exit != 0 {
        return Verdict {
            passed: false,
            message: format!("cannot read the routes of {place}: {}", o.stderr.trim()),
            mismatches: Vec::new(),
            evidence,
        };
    }
    let routes: Vec<Value> = serde_json::from_str(o.stdout.trim()).unwrap_or_default();
    let want_dst = c.to.strip_suffix("/32").unwrap_or(&c.to);
    let show = |r: &Value| {
        let mut s = r["dst"].as_str().unwrap_or("?").to_string();
        if let Some(g) = r["gateway"].as_str() {
            s.push_str(&format!(" via {g}"));
        }
        if let Some(d) = r["dev"].as_str() {
            s.push_str(&format!(" dev {d}"));
        }
        s
    };
    let all: Vec<String> = routes.iter().map(show).collect();
    let Some(r) = routes.iter().find(|r| r["dst"] == want_dst) else {
        return Verdict {
            passed: false,
            message: format!(
                "no route to {} in {place} (routes: {}); add one with `{} route add {}{}`",
                c.to,
                if all.is_empty() {
                    "none".into()
                } else {
                    all.join("; ")
                },
                ip_in(&c.netns),
                c.to,
                c.via
                    .as_ref()
                    .map(|v| format!(" via {v}"))
                    .unwrap_or_default()
            ),
            mismatches: vec![Mismatch::new(
                format!("route {}", c.to),
                "exists",
                "<missing>",
            )],
            evidence,
        };
    };
    let mut mm = Vec::new();
    if let Some(via) = &c.via
        && r["gateway"].as_str() != Some(via.as_str())
    {
        mm.push(Mismatch::new(
            format!("route {}.via", c.to),
            via,
            r["gateway"].as_str().unwrap_or("none (on-link)"),
        ));
    }
    if let Some(dev) = &c.dev
        && r["dev"].as_str() != Some(dev.as_str())
    {
        mm.push(Mismatch::new(
            format!("route {}.dev", c.to),
            dev,
            r["dev"].as_str().unwrap_or("none"),
        ));
    }
    if mm.is_empty() {
        Verdict {
            passed: true,
            message: format!("route {} in {place}", show(r)),
            mismatches: mm,
            evidence,
        }
    } else {
        Verdict {
            passed: false,
            message: format!(
                "the route to {} in {place} is `{}`: {} should be {}",
                c.to,
                show(r),
                mm[0].path.rsplit('.').next().unwrap_or(""),
                mm[0].expected
            ),
            mismatches: mm,
            evidence,
        }
    }
}

pub(crate) fn sysctl(c: &SysctlCheck, o: &CommandOutput) -> Verdict {
    let seen = o.stdout.trim();
    let evidence = format!("{} = {seen}", c.key);
    let place = where_(&c.netns);
    if o.exit != 0 {
        return Verdict {
            passed: false,
            message: format!("cannot read {} in {place}: {}", c.key, o.stderr.trim()),
            mismatches: Vec::new(),
            evidence,
        };
    }
    if seen == c.value.trim() {
        return Verdict {
            passed: true,
            message: format!("{} is {seen} in {place}", c.key),
            mismatches: Vec::new(),
            evidence,
        };
    }
    let why = if c.key.ends_with("ip_forward") && seen == "0" {
        " — forwarding is off, so this namespace drops packets that are not addressed to it instead of routing them (each namespace has its own setting)"
    } else {
        ""
    };
    Verdict {
        passed: false,
        message: format!(
            "{} is {seen} in {place}, expected {}{why}; set it with `{}sysctl -w {}={}`",
            c.key,
            c.value,
            exec_in(&c.netns),
            c.key,
            c.value
        ),
        mismatches: vec![Mismatch::new(c.key.clone(), &c.value, seen)],
        evidence,
    }
}

/// Splits an iptables-save rule line into words, honouring double quotes.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() && !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Groups option words: `-p tcp --dport 80` → [[-p, tcp], [--dport, 80]].
fn option_groups(ws: &[String]) -> Vec<Vec<String>> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    for w in ws {
        if (w.starts_with('-') && w.len() > 1 && !w[1..].starts_with(|c: char| c.is_ascii_digit()))
            || groups.is_empty()
        {
            groups.push(vec![w.clone()]);
        } else {
            groups.last_mut().expect("non-empty").push(w.clone());
        }
    }
    groups
}

struct Rule {
    chain: String,
    words: Vec<String>,
    line: String,
}

impl Rule {
    fn has_group(&self, g: &[String]) -> bool {
        self.words.windows(g.len()).any(|w| w == g)
    }
    fn target(&self) -> Option<&str> {
        let i = self.words.iter().position(|w| w == "-j" || w == "-g")?;
        self.words.get(i + 1).map(String::as_str)
    }
    fn comment(&self) -> Option<&str> {
        let i = self.words.iter().position(|w| w == "--comment")?;
        self.words.get(i + 1).map(String::as_str)
    }
}

fn parse_rules(save: &str) -> Vec<Rule> {
    save.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("-A ")?;
            let ws = words(rest);
            let (chain, words) = ws.split_first()?;
            Some(Rule {
                chain: chain.clone(),
                words: words.to_vec(),
                line: line.to_string(),
            })
        })
        .collect()
}

pub(crate) fn iptables(c: &IptablesCheck, o: &CommandOutput) -> Verdict {
    let evidence = clip(&o.stdout);
    let place = where_(&c.netns);
    if o.exit != 0 {
        return Verdict {
            passed: false,
            message: format!(
                "cannot read the {} table in {place}: {}",
                c.table,
                o.stderr.trim()
            ),
            mismatches: Vec::new(),
            evidence,
        };
    }
    let rules = parse_rules(&o.stdout);
    let matches: Vec<Vec<String>> = c
        .matches
        .as_deref()
        .map(|m| option_groups(&words(m)))
        .unwrap_or_default();
    let to: Vec<Vec<String>> =
        c.to.as_deref()
            .map(|m| option_groups(&words(m)))
            .unwrap_or_default();
    let fits = |r: &Rule| {
        c.target.as_deref().is_none_or(|t| r.target() == Some(t))
            && matches.iter().all(|g| r.has_group(g))
            && to.iter().all(|g| r.has_group(g))
            && c.comment
                .as_deref()
                .is_none_or(|want| r.comment().is_some_and(|have| have.contains(want)))
    };
    let describe = {
        let mut d = Vec::new();
        if let Some(m) = &c.matches {
            d.push(m.clone());
        }
        if let Some(t) = &c.target {
            d.push(format!("-j {t}"));
        }
        if let Some(t) = &c.to {
            d.push(t.clone());
        }
        if let Some(cm) = &c.comment {
            d.push(format!("comment \"{cm}\""));
        }
        d.join(" ")
    };
    if let Some(r) = rules.iter().find(|r| r.chain == c.chain && fits(r)) {
        return Verdict {
            passed: true,
            message: format!("found in {} {}: {}", c.table, c.chain, r.line),
            mismatches: Vec::new(),
            evidence,
        };
    }
    let want = format!("a rule `{describe}` in {} {}", c.table, c.chain);
    if let Some(r) = rules.iter().find(|r| fits(r)) {
        let why = match (c.chain.as_str(), r.chain.as_str()) {
            ("PREROUTING", "OUTPUT") => {
                " (OUTPUT only sees packets this namespace sends itself; packets arriving from elsewhere pass PREROUTING)"
            }
            ("OUTPUT", "PREROUTING") => {
                " (PREROUTING only sees packets arriving on an interface; locally generated packets pass OUTPUT)"
            }
            ("POSTROUTING", "PREROUTING") | ("POSTROUTING", "OUTPUT") => {
                " (source NAT happens after routing, in POSTROUTING)"
            }
            ("FORWARD", "INPUT") => {
                " (INPUT is for packets addressed to this namespace; routed packets pass FORWARD)"
            }
            _ => "",
        };
        return Verdict {
            passed: false,
            message: format!(
                "no such rule in {}; a matching rule is in chain {}, but the step needs one in {}{why}: `{}`",
                c.chain, r.chain, c.chain, r.line
            ),
            mismatches: vec![Mismatch::new("chain", &c.chain, &r.chain)],
            evidence,
        };
    }
    // Closest rule in the right chain: same target, different matches.
    let close = rules
        .iter()
        .filter(|r| r.chain == c.chain)
        .find(|r| c.target.as_deref().is_some_and(|t| r.target() == Some(t)));
    let message = match close {
        Some(r) => format!("{want} is missing; the closest rule is `{}`", r.line),
        None => format!(
            "{want} is missing{}",
            if rules.is_empty() {
                format!(" (the {} table has no rules in {place})", c.table)
            } else {
                String::new()
            }
        ),
    };
    Verdict {
        passed: false,
        message,
        mismatches: vec![Mismatch::new(
            format!("{} {}", c.table, c.chain),
            describe,
            close
                .map(|r| r.line.clone())
                .unwrap_or_else(|| "<missing>".into()),
        )],
        evidence,
    }
}

/// One conntrack entry: protocol, state and the two tuples.
#[derive(Debug, Default)]
struct Conn {
    proto: String,
    state: Option<String>,
    orig: Vec<(String, String)>,
    reply: Vec<(String, String)>,
}

impl Conn {
    fn get<'a>(t: &'a [(String, String)], k: &str) -> Option<&'a str> {
        t.iter().find(|(a, _)| a == k).map(|(_, b)| b.as_str())
    }
}

fn parse_conntrack(text: &str) -> Vec<Conn> {
    text.lines()
        .filter_map(|line| {
            let mut c = Conn::default();
            let mut ws = line.split_whitespace();
            c.proto = ws.next()?.to_string();
            for w in ws {
                if let Some((k, v)) = w.split_once('=') {
                    // The second `src=` starts the reply tuple.
                    let reply =
                        !c.reply.is_empty() || (k == "src" && Conn::get(&c.orig, "src").is_some());
                    if k == "mark" || k == "use" || k == "zone" || k == "secctx" {
                        continue;
                    }
                    if reply {
                        c.reply.push((k.into(), v.into()));
                    } else {
                        c.orig.push((k.into(), v.into()));
                    }
                } else if w.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_')
                    && !w.starts_with('[')
                    && c.orig.is_empty()
                {
                    c.state = Some(w.to_string());
                }
            }
            (!c.orig.is_empty()).then_some(c)
        })
        .collect()
}

pub(crate) fn conntrack(c: &ConntrackCheck, o: &CommandOutput) -> Verdict {
    let evidence = clip(&o.stdout);
    let place = where_(&c.netns);
    if o.exit != 0 && o.stdout.trim().is_empty() {
        return Verdict {
            passed: false,
            message: format!(
                "cannot read the conntrack table of {place}: {}",
                o.stderr.trim()
            ),
            mismatches: Vec::new(),
            evidence,
        };
    }
    let conns = parse_conntrack(&o.stdout);
    let dport = c.dport.map(|p| p.to_string());
    let rsport = c.reply_sport.map(|p| p.to_string());
    let wants: Vec<(&str, bool, Option<&str>)> = vec![
        ("src", false, c.src.as_deref()),
        ("dst", false, c.dst.as_deref()),
        ("dport", false, dport.as_deref()),
        ("src", true, c.reply_src.as_deref()),
        ("sport", true, rsport.as_deref()),
        ("dst", true, c.reply_dst.as_deref()),
    ];
    let score = |k: &Conn| -> Vec<Mismatch> {
        let mut mm = Vec::new();
        if let Some(p) = &c.proto
            && &k.proto != p
        {
            mm.push(Mismatch::new("proto", p, &k.proto));
        }
        if let Some(s) = &c.state
            && k.state.as_deref() != Some(s.as_str())
        {
            mm.push(Mismatch::new(
                "state",
                s,
                k.state.as_deref().unwrap_or("none"),
            ));
        }
        for (key, reply, want) in &wants {
            if let Some(want) = want {
                let t = if *reply { &k.reply } else { &k.orig };
                let seen = Conn::get(t, key);
                if seen != Some(*want) {
                    let path = if *reply {
                        format!("reply.{key}")
                    } else {
                        (*key).to_string()
                    };
                    mm.push(Mismatch::new(path, want, seen.unwrap_or("none")));
                }
            }
        }
        mm
    };
    let mut best: Option<Vec<Mismatch>> = None;
    for k in &conns {
        let mm = score(k);
        if mm.is_empty() {
            return Verdict {
                passed: true,
                message: format!("conntrack entry found in {place}"),
                mismatches: Vec::new(),
                evidence,
            };
        }
        if best.as_ref().is_none_or(|b| mm.len() < b.len()) {
            best = Some(mm);
        }
    }
    let message = if conns.is_empty() {
        format!(
            "the conntrack table of {place} is empty: nothing has been tracked yet (a namespace tracks connections only once a NAT or stateful rule is loaded in it, and only for traffic sent after that)"
        )
    } else {
        let m = &best.as_ref().expect("some entry")[0];
        format!(
            "no matching conntrack entry in {place} ({} entries; the closest has {} = {}, expected {})",
            conns.len(),
            m.path,
            m.observed,
            m.expected
        )
    };
    Verdict {
        passed: false,
        message,
        mismatches: best.unwrap_or_default(),
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::spec::PeerSpec;

    fn out(stdout: &str) -> CommandOutput {
        CommandOutput {
            exit: 0,
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    // Shaped like real `ip -j -d addr show` output (trimmed).
    const WORLD: &str = r#"@@netns
client
server
@@ns -
[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},{"ifindex":4,"ifname":"br1","flags":["BROADCAST","UP"],"linkinfo":{"info_kind":"bridge"},"addr_info":[]}]
@@ns client
[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK"],"addr_info":[]},{"ifindex":2,"link_index":2,"ifname":"veth-c","flags":["BROADCAST","UP","LOWER_UP"],"linkinfo":{"info_kind":"veth"},"link_netnsid":1,"addr_info":[{"family":"inet","local":"10.0.0.1","prefixlen":16}]}]
@@ns server
[{"ifindex":2,"link_index":2,"ifname":"veth-s","flags":["BROADCAST"],"linkinfo":{"info_kind":"veth"},"master":"br1","addr_info":[]}]
"#;

    fn iface(name: &str, netns: Option<&str>) -> InterfaceCheck {
        InterfaceCheck {
            name: name.into(),
            netns: netns.map(Into::into),
            up: None,
            addresses: vec![],
            link_type: None,
            peer: None,
            master: None,
        }
    }

    #[test]
    fn interface_mistakes_are_named() {
        let o = out(WORLD);
        // Wrong namespace.
        let v = interface(&iface("veth-s", Some("client")), &o);
        assert!(v.message.contains("wrong namespace"), "{}", v.message);
        assert!(
            v.message.contains("is in namespace `server`"),
            "{}",
            v.message
        );
        // Down.
        let v = interface(
            &InterfaceCheck {
                up: Some(true),
                ..iface("veth-s", Some("server"))
            },
            &o,
        );
        assert!(v.message.contains("is down"), "{}", v.message);
        assert!(
            v.message.contains("ip -n server link set veth-s up"),
            "{}",
            v.message
        );
        // Wrong prefix length.
        let v = interface(
            &InterfaceCheck {
                addresses: vec!["10.0.0.1/24".into()],
                ..iface("veth-c", Some("client"))
            },
            &o,
        );
        assert!(
            v.message.contains("prefix length is wrong"),
            "{}",
            v.message
        );
        assert_eq!(v.mismatches[0].observed, "10.0.0.1/16");
        // Everything right.
        let v = interface(
            &InterfaceCheck {
                up: Some(true),
                addresses: vec!["10.0.0.1/16".into()],
                link_type: Some("veth".into()),
                peer: Some(PeerSpec {
                    name: "veth-s".into(),
                    netns: Some("server".into()),
                }),
                ..iface("veth-c", Some("client"))
            },
            &o,
        );
        assert!(v.passed, "{}", v.message);
        let v = interface(
            &InterfaceCheck {
                master: Some("br1".into()),
                ..iface("veth-s", Some("server"))
            },
            &o,
        );
        assert!(v.passed, "{}", v.message);
        let v = interface(&iface("nope", Some("ghost")), &o);
        assert!(
            v.message.contains("`ghost` does not exist"),
            "{}",
            v.message
        );
    }

    #[test]
    fn namespaces_exist_or_not() {
        let o = out(WORLD);
        assert!(
            namespace(
                &NamespaceCheck {
                    name: "client".into(),
                    exists: true
                },
                &o
            )
            .passed
        );
        let v = namespace(
            &NamespaceCheck {
                name: "router".into(),
                exists: true,
            },
            &o,
        );
        assert!(v.message.contains("ip netns add router"), "{}", v.message);
        assert!(
            !namespace(
                &NamespaceCheck {
                    name: "client".into(),
                    exists: false
                },
                &o
            )
            .passed
        );
    }

    #[test]
    fn routes_and_sysctls() {
        let o = out(
            r#"[{"dst":"default","gateway":"10.0.1.1","dev":"eth0","flags":[]},{"dst":"10.0.1.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.0.1.2","flags":[]}]"#,
        );
        let r = |to: &str, via: Option<&str>| RouteCheck {
            netns: Some("c".into()),
            to: to.into(),
            via: via.map(Into::into),
            dev: None,
        };
        assert!(route(&r("default", Some("10.0.1.1")), &o).passed);
        let v = route(&r("default", Some("10.0.1.254")), &o);
        assert!(
            v.message.contains("via should be 10.0.1.254"),
            "{}",
            v.message
        );
        let v = route(&r("10.0.2.0/24", None), &o);
        assert!(
            v.message.contains("no route to 10.0.2.0/24"),
            "{}",
            v.message
        );

        let s = SysctlCheck {
            netns: Some("router".into()),
            key: "net.ipv4.ip_forward".into(),
            value: "1".into(),
        };
        let v = sysctl(&s, &out("0\n"));
        assert!(v.message.contains("forwarding is off"), "{}", v.message);
        assert!(
            v.message
                .contains("ip netns exec router sysctl -w net.ipv4.ip_forward=1"),
            "{}",
            v.message
        );
        assert!(sysctl(&s, &out("1\n")).passed);
    }

    const SAVE: &str = "# Generated by iptables-save v1.8.9 (nf_tables) on Mon Nov 23 12:00:00 2026
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -d 10.0.1.1/32 -p tcp -m tcp --dport 8080 -m comment --comment \"lab: port forward\" -j DNAT --to-destination 10.0.2.2:80
-A POSTROUTING -s 10.0.2.0/24 -o eth0 -j MASQUERADE
COMMIT
";

    fn rule(chain: &str) -> IptablesCheck {
        IptablesCheck {
            netns: Some("router".into()),
            table: "nat".into(),
            chain: chain.into(),
            target: Some("DNAT".into()),
            matches: Some("-p tcp --dport 8080".into()),
            comment: None,
            to: Some("--to-destination 10.0.2.2:80".into()),
        }
    }

    #[test]
    fn iptables_rules_match_by_meaning_and_name_the_wrong_chain() {
        let o = out(SAVE);
        assert!(iptables(&rule("OUTPUT"), &o).passed);
        let v = iptables(&rule("PREROUTING"), &o);
        assert!(
            v.message
                .contains("is in chain OUTPUT, but the step needs one in PREROUTING"),
            "{}",
            v.message
        );
        let wrong_port = IptablesCheck {
            matches: Some("-p tcp --dport 80".into()),
            ..rule("OUTPUT")
        };
        let v = iptables(&wrong_port, &o);
        assert!(v.message.contains("closest rule"), "{}", v.message);
        let by_comment = IptablesCheck {
            comment: Some("port forward".into()),
            matches: None,
            ..rule("OUTPUT")
        };
        assert!(iptables(&by_comment, &o).passed);
        let masq = IptablesCheck {
            target: Some("MASQUERADE".into()),
            matches: Some("-o eth0".into()),
            to: None,
            ..rule("POSTROUTING")
        };
        assert!(iptables(&masq, &o).passed);
    }

    #[test]
    fn conntrack_entries_match_both_directions() {
        let o = out(
            "tcp      6 117 TIME_WAIT src=10.0.1.2 dst=10.0.1.1 sport=43210 dport=8080 src=10.0.2.2 dst=10.0.1.2 sport=80 dport=43210 [ASSURED] mark=0 use=1\nudp      17 29 src=10.0.1.2 dst=10.0.1.1 sport=5353 dport=53 [UNREPLIED] src=10.0.1.1 dst=10.0.1.2 sport=53 dport=5353 mark=0 use=1\n",
        );
        let c = ConntrackCheck {
            proto: Some("tcp".into()),
            dst: Some("10.0.1.1".into()),
            dport: Some(8080),
            reply_src: Some("10.0.2.2".into()),
            ..ConntrackCheck::default()
        };
        assert!(conntrack(&c, &o).passed);
        let wrong = ConntrackCheck {
            reply_src: Some("10.0.2.3".into()),
            ..c.clone()
        };
        let v = conntrack(&wrong, &o);
        assert!(
            v.message
                .contains("reply.src = 10.0.2.2, expected 10.0.2.3"),
            "{}",
            v.message
        );
        let v = conntrack(&c, &out(""));
        assert!(v.message.contains("is empty"), "{}", v.message);
        let state = ConntrackCheck {
            state: Some("TIME_WAIT".into()),
            ..c
        };
        assert!(conntrack(&state, &o).passed);
    }

    #[test]
    fn quoting_is_safe() {
        assert_eq!(shell_quote("red"), "red");
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
    }
}
