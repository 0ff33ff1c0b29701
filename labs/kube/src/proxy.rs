//! kube-proxy's rules for one Service port, read from a node in whichever
//! mode kube-proxy runs, and found by what kube-proxy writes in comments and
//! chain names (`shop/web:http`), never by the hashed parts of chain names
//! (`KUBE-SVC-ULMVA6XW...`), which change with every cluster.

use serde::Serialize;

/// How kube-proxy programs Services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyMode {
    /// iptables chains `KUBE-SERVICES` → `KUBE-SVC-*` → `KUBE-SEP-*` (the default).
    Iptables,
    /// An nftables table `ip kube-proxy` with maps and per-service chains.
    Nftables,
    /// IPVS virtual servers (plus iptables for masquerading).
    Ipvs,
}

impl ProxyMode {
    /// The name as kube-proxy's config writes it.
    pub fn name(self) -> &'static str {
        match self {
            ProxyMode::Iptables => "iptables",
            ProxyMode::Nftables => "nftables",
            ProxyMode::Ipvs => "ipvs",
        }
    }

    /// Reads `mode:` from kube-proxy's `config.conf` (the kube-system/kube-proxy
    /// ConfigMap); an empty mode means iptables on Linux.
    pub fn from_config(config: &str) -> Option<ProxyMode> {
        let value: serde_json::Value = serde_yaml_ng::from_str(config).ok()?;
        match value.get("mode").and_then(|m| m.as_str()).unwrap_or("") {
            "" | "iptables" => Some(ProxyMode::Iptables),
            "nftables" => Some(ProxyMode::Nftables),
            "ipvs" => Some(ProxyMode::Ipvs),
            _ => None,
        }
    }

    /// The node command that dumps this mode's rules.
    pub fn dump_command(self) -> &'static str {
        match self {
            ProxyMode::Iptables => "iptables-save -t nat",
            ProxyMode::Nftables => "nft list table ip kube-proxy",
            ProxyMode::Ipvs => "cat /proc/net/ip_vs",
        }
    }
}

/// A node command that prints the mode kube-proxy uses, by looking for
/// each mode's rules (for clusters without kubeadm's ConfigMap).
pub const PROBE_MODE_SCRIPT: &str = "if nft list table ip kube-proxy >/dev/null 2>&1; then echo nftables; \
elif iptables-save -t nat 2>/dev/null | grep -q KUBE-SERVICES; then echo iptables; \
elif [ -s /proc/net/ip_vs ] && [ \"$(wc -l < /proc/net/ip_vs)\" -gt 3 ]; then echo ipvs; \
else echo unknown; fi";

/// A Service port as kube-proxy names it: `namespace/name` plus an optional
/// `:port-name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    /// Namespace.
    pub namespace: String,
    /// Service name.
    pub name: String,
    /// Port name (empty for an unnamed port).
    pub port: String,
}

impl ServicePort {
    /// Parses `shop/web:http` or `shop/web`.
    pub fn parse(s: &str) -> Option<ServicePort> {
        let (nn, port) = s.split_once(':').unwrap_or((s, ""));
        let (ns, name) = nn.split_once('/')?;
        (!ns.is_empty() && !name.is_empty()).then(|| ServicePort {
            namespace: ns.into(),
            name: name.into(),
            port: port.into(),
        })
    }

    /// The text kube-proxy's iptables comments start with.
    fn iptables_name(&self) -> String {
        if self.port.is_empty() {
            format!("{}/{}", self.namespace, self.name)
        } else {
            format!("{}/{}:{}", self.namespace, self.name, self.port)
        }
    }

    /// Whether an nftables chain base `ns/name/proto/port` is this port.
    fn is_nft_base(&self, base: &str) -> bool {
        let parts: Vec<&str> = base.split('/').collect();
        parts.len() == 4
            && parts[0] == self.namespace
            && parts[1] == self.name
            && parts[3] == self.port
    }
}

impl std::fmt::Display for ServicePort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.iptables_name())
    }
}

/// What kube-proxy programmed for one Service port on one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceRules {
    /// `iptables`, `nftables` or `ipvs`.
    pub mode: String,
    /// `ns/name:port`.
    pub service: String,
    /// The cluster IP the rules match (null when none was found).
    pub cluster_ip: Option<String>,
    /// The Service port the rules match.
    pub port: Option<u16>,
    /// Node ports.
    pub node_ports: Vec<u16>,
    /// LoadBalancer and external IPs with rules.
    pub external_ips: Vec<String>,
    /// Where new connections are DNATed to (`10.244.1.3:8080`), sorted.
    pub endpoints: Vec<String>,
    /// The chains involved (hashed names, for the curious).
    pub chains: Chains,
}

/// Chain names found for a Service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Chains {
    /// `KUBE-SVC-*` or `service-*`.
    pub service: Option<String>,
    /// `KUBE-SEP-*` or `endpoint-*`.
    pub endpoints: Vec<String>,
}

/// Splits an iptables-save rule into words, keeping quoted comments whole.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// One `-A` rule with the options the Service rules use.
#[derive(Debug, Default)]
struct Rule {
    chain: String,
    comment: Option<String>,
    dest: Option<String>,
    dport: Option<u16>,
    jump: Option<String>,
    to_destination: Option<String>,
}

fn parse_rule(line: &str) -> Option<Rule> {
    let w = words(line);
    if w.first().map(String::as_str) != Some("-A") {
        return None;
    }
    let mut r = Rule {
        chain: w.get(1)?.clone(),
        ..Rule::default()
    };
    let mut i = 2;
    while i < w.len() {
        let next = w.get(i + 1).cloned();
        match w[i].as_str() {
            "--comment" => r.comment = next,
            "-d" => r.dest = next.map(|d| d.trim_end_matches("/32").to_string()),
            "--dport" => r.dport = next.and_then(|p| p.parse().ok()),
            "-j" => r.jump = next,
            "--to-destination" => r.to_destination = next,
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Some(r)
}

/// Reads `iptables-save -t nat` output.
pub fn from_iptables(dump: &str, svc: &ServicePort) -> ServiceRules {
    let name = svc.iptables_name();
    let rules: Vec<Rule> = dump.lines().filter_map(parse_rule).collect();
    let mut out = ServiceRules {
        mode: "iptables".into(),
        service: name.clone(),
        ..ServiceRules::default()
    };
    for r in &rules {
        let Some(comment) = &r.comment else { continue };
        match r.chain.as_str() {
            "KUBE-SERVICES" if *comment == format!("{name} cluster IP") => {
                out.cluster_ip = r.dest.clone();
                out.port = r.dport;
                out.chains.service = r.jump.clone();
            }
            "KUBE-SERVICES"
                if *comment == format!("{name} loadbalancer IP")
                    || *comment == format!("{name} external IP") =>
            {
                out.external_ips.extend(r.dest.clone());
            }
            "KUBE-NODEPORTS" if *comment == name => out.node_ports.extend(r.dport),
            _ => {}
        }
    }
    // The service chain jumps to one KUBE-SEP chain per endpoint, each
    // commented `ns/svc:port -> ip:port`.
    let seps: Vec<String> = match &out.chains.service {
        Some(svc_chain) => rules
            .iter()
            .filter(|r| {
                &r.chain == svc_chain
                    && r.comment
                        .as_deref()
                        .is_some_and(|c| c.starts_with(&format!("{name} -> ")))
            })
            .filter_map(|r| r.jump.clone())
            .collect(),
        None => Vec::new(),
    };
    for sep in &seps {
        out.endpoints.extend(
            rules
                .iter()
                .filter(|r| &r.chain == sep && r.jump.as_deref() == Some("DNAT"))
                .filter_map(|r| r.to_destination.clone()),
        );
    }
    out.chains.endpoints = seps;
    out.endpoints.sort();
    out.node_ports.sort_unstable();
    out.node_ports.dedup();
    out
}

/// Reads `nft list table ip kube-proxy` output. Chains are named
/// `service-HASH-ns/name/proto/port` and `endpoint-HASH-ns/name/proto/port__ip/port`.
pub fn from_nftables(dump: &str, svc: &ServicePort) -> ServiceRules {
    let mut out = ServiceRules {
        mode: "nftables".into(),
        service: svc.iptables_name(),
        ..ServiceRules::default()
    };
    // Base name after the `service-HASH-` / `endpoint-HASH-` prefix.
    let base_of = |chain: &str, prefix: &str| -> Option<String> {
        let rest = chain.strip_prefix(prefix)?;
        let (_hash, base) = rest.split_once('-')?;
        Some(base.to_string())
    };
    let mut current: Option<String> = None;
    for raw in dump.lines() {
        let line = raw.trim();
        if let Some(name) = line
            .strip_prefix("chain ")
            .and_then(|l| l.strip_suffix('{'))
        {
            let name = name.trim().to_string();
            if let Some(base) = base_of(&name, "service-")
                && svc.is_nft_base(&base)
            {
                out.chains.service = Some(name.clone());
            }
            if let Some(base) = base_of(&name, "endpoint-")
                && let Some((svc_base, _)) = base.split_once("__")
                && svc.is_nft_base(svc_base)
            {
                out.chains.endpoints.push(name.clone());
            }
            current = Some(name);
            continue;
        }
        if line == "}" {
            current = None;
            continue;
        }
        if let Some(chain) = &current
            && out.chains.endpoints.contains(chain)
            && let Some(to) = line.split(" dnat to ").nth(1)
        {
            out.endpoints
                .push(to.split_whitespace().next().unwrap_or("").to_string());
        }
        // Map elements: `10.96.45.12 . tcp . 80 : goto service-...` and
        // `tcp . 30080 : goto external-...`, possibly several per line.
        for element in line
            .trim_start_matches("elements = {")
            .trim_end_matches('}')
            .split(',')
        {
            let Some((key, verdict)) = element.split_once(':') else {
                continue;
            };
            let target = verdict.split_whitespace().last().unwrap_or("");
            let parts: Vec<&str> = key.split(" . ").map(str::trim).collect();
            if let Some(base) = base_of(target, "service-")
                && svc.is_nft_base(&base)
                && parts.len() == 3
            {
                let ip = parts[0].to_string();
                if out.cluster_ip.is_none() {
                    out.cluster_ip = Some(ip);
                    out.port = parts[2].parse().ok();
                } else if out.cluster_ip.as_deref() != Some(parts[0]) {
                    out.external_ips.push(ip);
                }
            }
            if let Some(base) = base_of(target, "external-")
                && svc.is_nft_base(&base)
                && parts.len() == 2
            {
                out.node_ports.extend(parts[1].parse::<u16>().ok());
            }
        }
    }
    out.endpoints.sort();
    out.node_ports.sort_unstable();
    out.node_ports.dedup();
    out
}

fn hex_addr(s: &str) -> Option<String> {
    let (ip, port) = s.split_once(':')?;
    let ip = u32::from_str_radix(ip, 16).ok()?;
    let port = u16::from_str_radix(port, 16).ok()?;
    Some(format!("{}:{port}", std::net::Ipv4Addr::from(ip)))
}

/// Reads `/proc/net/ip_vs` for the virtual server `cluster_ip:port` (IPVS
/// has no comments, so the address comes from the Service object).
pub fn from_ipvs(dump: &str, svc: &ServicePort, cluster_ip: &str, port: u16) -> ServiceRules {
    let mut out = ServiceRules {
        mode: "ipvs".into(),
        service: svc.iptables_name(),
        ..ServiceRules::default()
    };
    let want = format!("{cluster_ip}:{port}");
    let mut in_service = false;
    for line in dump.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            [proto, addr, ..] if *proto == "TCP" || *proto == "UDP" || *proto == "SCTP" => {
                in_service = hex_addr(addr).as_deref() == Some(want.as_str());
                if in_service {
                    out.cluster_ip = Some(cluster_ip.to_string());
                    out.port = Some(port);
                }
            }
            ["->", addr, ..] if in_service => out.endpoints.extend(hex_addr(addr)),
            _ => {}
        }
    }
    out.endpoints.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const IPTABLES: &str = include_str!("../tests/data/iptables-save-nat.txt");
    const NFT: &str = include_str!("../tests/data/nft-kube-proxy.txt");

    fn web() -> ServicePort {
        ServicePort::parse("shop/web:http").unwrap()
    }

    #[test]
    fn iptables_rules_are_found_by_comment() {
        let r = from_iptables(IPTABLES, &web());
        assert_eq!(r.cluster_ip.as_deref(), Some("10.96.45.12"));
        assert_eq!(r.port, Some(80));
        assert_eq!(r.endpoints, vec!["10.244.1.3:8080", "10.244.2.4:8080"]);
        assert_eq!(r.node_ports, vec![30080]);
        assert_eq!(
            r.chains.service.as_deref(),
            Some("KUBE-SVC-ULMVA6XW5QQEM4JG")
        );
        assert_eq!(r.chains.endpoints.len(), 2);
        // The DNS service in the same dump is a different port name.
        let dns = from_iptables(
            IPTABLES,
            &ServicePort::parse("kube-system/kube-dns:dns").unwrap(),
        );
        assert_eq!(dns.cluster_ip.as_deref(), Some("10.96.0.10"));
        assert_eq!(dns.endpoints.len(), 2);
        let none = from_iptables(IPTABLES, &ServicePort::parse("shop/nope").unwrap());
        assert_eq!(none.cluster_ip, None);
        assert!(none.endpoints.is_empty());
    }

    #[test]
    fn nftables_rules_are_found_by_chain_base_name() {
        let r = from_nftables(NFT, &web());
        assert_eq!(r.cluster_ip.as_deref(), Some("10.96.45.12"));
        assert_eq!(r.port, Some(80));
        assert_eq!(r.endpoints, vec!["10.244.1.3:8080", "10.244.2.4:8080"]);
        assert_eq!(r.node_ports, vec![30080]);
        assert!(r.chains.service.unwrap().ends_with("shop/web/tcp/http"));
    }

    #[test]
    fn ipvs_virtual_servers_are_found_by_address() {
        let dump = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\nTCP  0A602D0C:0050 rr\n  -> 0AF40103:1F90      Masq    1      0          0\n  -> 0AF40204:1F90      Masq    1      0          0\nUDP  0A60000A:0035 rr\n  -> 0AF40002:0035      Masq    1      0          0\n";
        let r = from_ipvs(dump, &web(), "10.96.45.12", 80);
        assert_eq!(r.endpoints, vec!["10.244.1.3:8080", "10.244.2.4:8080"]);
        assert_eq!(r.cluster_ip.as_deref(), Some("10.96.45.12"));
    }

    #[test]
    fn modes_come_from_kube_proxy_config() {
        assert_eq!(
            ProxyMode::from_config("mode: \"\"\n"),
            Some(ProxyMode::Iptables)
        );
        assert_eq!(
            ProxyMode::from_config(
                "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nmode: nftables\n"
            ),
            Some(ProxyMode::Nftables)
        );
        assert_eq!(ProxyMode::from_config("mode: ipvs"), Some(ProxyMode::Ipvs));
        assert_eq!(ProxyMode::from_config("mode: kernelspace"), None);
    }

    #[test]
    fn quoted_comments_stay_one_word() {
        let w = words(r#"-A X -m comment --comment "shop/web:http -> 10.244.1.3:8080" -j Y"#);
        assert_eq!(w[5], "shop/web:http -> 10.244.1.3:8080");
        assert_eq!(w.len(), 8);
    }
}
