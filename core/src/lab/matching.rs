//! Partial matching of JSON-like values, as kuttl and chainsaw do it: maps
//! match as subsets, arrays as unordered subsets (or exactly, when asked).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One difference between what was expected and what was observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// Field path, e.g. `spec.ports[0].port` or `addresses`.
    pub path: String,
    /// What the check wanted.
    pub expected: String,
    /// What the system showed (`<missing>` when absent).
    pub observed: String,
}

impl Mismatch {
    /// Builds a mismatch from anything printable.
    pub fn new(path: impl Into<String>, expected: impl ToString, observed: impl ToString) -> Self {
        Mismatch {
            path: path.into(),
            expected: expected.to_string(),
            observed: observed.to_string(),
        }
    }
}

/// Compares `observed` against the partial `expected`; empty means it matches.
///
/// Scalars compare equal when their JSON values are equal, or when one is a
/// string and the other a number with the same text (YAML authors write
/// `port: 80` and `"80"` interchangeably).
pub fn partial_match(expected: &Value, observed: &Value, exact_arrays: bool) -> Vec<Mismatch> {
    let mut out = Vec::new();
    walk("", expected, observed, exact_arrays, &mut out);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(path: &str, exp: &Value, obs: &Value, exact: bool, out: &mut Vec<Mismatch>) {
    match (exp, obs) {
        (Value::Object(e), Value::Object(o)) => {
            for (k, ev) in e {
                let p = join(path, k);
                match o.get(k) {
                    Some(ov) => walk(&p, ev, ov, exact, out),
                    None => out.push(Mismatch::new(p, compact(ev), "<missing>")),
                }
            }
        }
        (Value::Array(e), Value::Array(o)) => {
            if exact && e.len() != o.len() {
                out.push(Mismatch::new(format!("{path}.length"), e.len(), o.len()));
            }
            // Each expected item needs its own observed item (no reuse).
            let mut used = vec![false; o.len()];
            for (i, ev) in e.iter().enumerate() {
                let found = o.iter().enumerate().position(|(j, ov)| {
                    !used[j]
                        && (if exact {
                            ov == ev || scalar_eq(ev, ov)
                        } else {
                            matches(ev, ov)
                        })
                });
                match found {
                    Some(j) => used[j] = true,
                    None => {
                        let p = format!("{path}[{i}]");
                        // Explain with the closest candidate when there is one.
                        let best = o
                            .iter()
                            .enumerate()
                            .filter(|(j, _)| !used[*j])
                            .map(|(_, ov)| (partial_match(ev, ov, exact), ov))
                            .min_by_key(|(m, _)| m.len());
                        match best {
                            Some((m, _)) if ev.is_object() && !m.is_empty() => {
                                for mm in m {
                                    out.push(Mismatch::new(
                                        format!("{p}.{}", mm.path),
                                        mm.expected,
                                        mm.observed,
                                    ));
                                }
                            }
                            _ => out.push(Mismatch::new(
                                p,
                                compact(ev),
                                compact(&Value::Array(o.clone())),
                            )),
                        }
                    }
                }
            }
        }
        _ => {
            if !scalar_eq(exp, obs) {
                out.push(Mismatch::new(
                    if path.is_empty() { "." } else { path },
                    compact(exp),
                    compact(obs),
                ));
            }
        }
    }
}

fn matches(exp: &Value, obs: &Value) -> bool {
    let mut out = Vec::new();
    walk("", exp, obs, false, &mut out);
    out.is_empty()
}

fn scalar_eq(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    match (a, b) {
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            s == &n.to_string()
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => false,
    }
}

/// A value printed on one line, shortened for messages.
pub fn compact(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_are_subsets_and_arrays_unordered_subsets() {
        let obs = json!({"spec": {"type": "ClusterIP", "ports": [{"port": 80, "name": "http"}, {"port": 443}]}, "extra": 1});
        assert!(
            partial_match(
                &json!({"spec": {"ports": [{"port": 443}, {"port": 80}]}}),
                &obs,
                false
            )
            .is_empty()
        );
        assert!(
            partial_match(&json!({"spec": {"ports": [{"port": "80"}]}}), &obs, false).is_empty()
        );
        let m = partial_match(&json!({"spec": {"type": "NodePort"}}), &obs, false);
        assert_eq!(m, vec![Mismatch::new("spec.type", "NodePort", "ClusterIP")]);
        let m = partial_match(&json!({"spec": {"selector": {"app": "web"}}}), &obs, false);
        assert_eq!(m[0].path, "spec.selector");
        assert_eq!(m[0].observed, "<missing>");
    }

    #[test]
    fn array_items_are_not_reused_and_exact_checks_length() {
        let obs = json!({"a": [1, 2]});
        assert_eq!(partial_match(&json!({"a": [1, 1]}), &obs, false).len(), 1);
        assert!(partial_match(&json!({"a": [2]}), &obs, false).is_empty());
        let m = partial_match(&json!({"a": [2]}), &obs, true);
        assert_eq!(m[0].path, "a.length");
    }

    #[test]
    fn a_missed_array_item_is_explained_by_its_closest_candidate() {
        let obs = json!({"ports": [{"port": 80, "protocol": "TCP"}]});
        let m = partial_match(
            &json!({"ports": [{"port": 80, "protocol": "UDP"}]}),
            &obs,
            false,
        );
        assert_eq!(m, vec![Mismatch::new("ports[0].protocol", "UDP", "TCP")]);
    }
}
