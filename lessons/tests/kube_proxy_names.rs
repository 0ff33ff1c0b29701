//! kube-proxy chain names in the course must be the ones kube-proxy would
//! really generate. Its iptables mode names chains after a hash
//! (pkg/proxy/iptables/proxier.go): `KUBE-SVC-`/`KUBE-EXT-` + the first 16
//! characters of base32(sha256(servicePortName + protocol)), and
//! `KUBE-SEP-` + the same over servicePortName + protocol + endpoint, where
//! servicePortName is `namespace/name:port` and the protocol is lower case.
//! Every name that appears in a lesson or journey must be derivable from
//! some rule in the course (one whose comment gives the Service port and,
//! for endpoint chains, the endpoint), so an invented hash cannot slip in.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use data_encoding::BASE32;
use regex_lite::Regex;
use sha2::{Digest, Sha256};

const PROTOCOLS: [&str; 3] = ["tcp", "udp", "sctp"];

fn hash16(input: &str) -> String {
    BASE32.encode(&Sha256::digest(input.as_bytes()))[..16].to_string()
}

fn content_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            content_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("md" | "toml")
        ) {
            out.push(path);
        }
    }
}

/// The Service port name and endpoint a rule's kube-proxy comment names, if any.
fn comment_of(
    line: &str,
    comment: &Regex,
    spn: &Regex,
    endpoint: &Regex,
) -> Option<(String, Option<String>)> {
    let text = comment.captures(line)?;
    let text = text.get(1).or_else(|| text.get(2))?.as_str();
    let name = spn.captures(text)?.get(1)?.as_str().to_string();
    let ep = endpoint
        .captures(text)
        .map(|c| c[1].to_string())
        .or_else(|| endpoint_from_dnat(line));
    Some((name, ep))
}

fn endpoint_from_dnat(line: &str) -> Option<String> {
    let rest = line.split("--to-destination ").nth(1)?;
    rest.split_whitespace().next().map(str::to_string)
}

#[test]
fn every_kube_proxy_chain_name_follows_the_hash_formula() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
    let mut files = Vec::new();
    content_files(&root, &mut files);
    files.sort();

    let chain = Regex::new(r"KUBE-(SVC|EXT|SEP)-([A-Z2-7]{16})").unwrap();
    let comment = Regex::new(r#"--comment "([^"]*)"|/\* (.*?) \*/"#).unwrap();
    let spn = Regex::new(r"([a-z0-9-]+/[a-z0-9-]+:[a-z0-9-]+)").unwrap();
    let endpoint = Regex::new(r" -> (\d+\.\d+\.\d+\.\d+:\d+)").unwrap();

    let mut derived = BTreeSet::new();
    let mut wrong = Vec::new();
    let mut seen = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("content file readable");
        for (n, line) in text.lines().enumerate() {
            let at = format!(
                "{}:{}",
                file.strip_prefix(&root).unwrap_or(file).display(),
                n + 1
            );
            let names: Vec<(String, String)> = chain
                .captures_iter(line)
                .map(|c| (c[1].to_string(), c[2].to_string()))
                .collect();
            for (kind, hash) in &names {
                seen.push((format!("KUBE-{kind}-{hash}"), at.clone()));
            }
            let Some((port_name, ep)) = comment_of(line, &comment, &spn, &endpoint) else {
                continue;
            };
            for (kind, hash) in &names {
                let full = format!("KUBE-{kind}-{hash}");
                let inputs: Vec<String> = match (kind.as_str(), &ep) {
                    ("SEP", Some(ep)) => PROTOCOLS
                        .iter()
                        .map(|p| format!("{port_name}{p}{ep}"))
                        .collect(),
                    // A masquerade rule in an endpoint chain names no endpoint: checked where it DNATs.
                    ("SEP", None) => continue,
                    _ => PROTOCOLS
                        .iter()
                        .map(|p| format!("{port_name}{p}"))
                        .collect(),
                };
                if inputs.iter().any(|i| hash16(i) == *hash) {
                    derived.insert(full);
                } else {
                    wrong.push(format!(
                        "{at}: {full} is not what kube-proxy generates for {port_name}{}",
                        ep.as_deref()
                            .map(|e| format!(" -> {e}"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
    }

    for (name, at) in &seen {
        if !derived.contains(name) {
            wrong.push(format!(
                "{at}: {name} appears in no rule whose comment lets it be checked"
            ));
        }
    }
    assert!(
        !seen.is_empty(),
        "no kube-proxy chain names found under {}",
        root.display()
    );
    assert!(
        wrong.is_empty(),
        "kube-proxy chain names that do not follow its formula:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_hash_matches_a_name_seen_on_real_clusters() {
    // Chains found in `iptables-save` on any kubeadm or kind cluster.
    assert_eq!(hash16("kube-system/kube-dns:dnsudp"), "TCOU7JCQXEZGVUNU");
    assert_eq!(
        hash16("kube-system/kube-dns:dns-tcptcp"),
        "ERIFXISQEP7F7OF4"
    );
    assert_eq!(
        hash16("kube-system/kube-dns:metricstcp"),
        "JD5MR3NA4I4DYORP"
    );
    assert_eq!(hash16("default/kubernetes:httpstcp"), "NPX46M4PTMTKRN6Y");
}
