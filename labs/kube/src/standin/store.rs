//! The stand-in's object store: resource definitions (what discovery
//! serves), objects with resource versions, an event history for watches,
//! selectors, and the API server's write semantics the labs rely on
//! (create defaults, JSON merge patch, server-side apply with managedFields).

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};

/// A resource the stand-in serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResDef {
    /// API group (empty for core).
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Plural (the URL segment).
    pub plural: &'static str,
    /// Singular name.
    pub singular: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// kubectl short names.
    pub short: &'static [&'static str],
}

impl ResDef {
    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The resource as RBAC names it in messages (`pods`, `networkpolicies.networking.k8s.io`).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

const fn def(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
) -> ResDef {
    ResDef {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced,
        short,
    }
}

/// Everything the labs touch.
pub const RESOURCES: &[ResDef] = &[
    def(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        false,
        &["ns"],
    ),
    def("", "v1", "Node", "nodes", "node", false, &["no"]),
    def("", "v1", "Pod", "pods", "pod", true, &["po"]),
    def("", "v1", "Service", "services", "service", true, &["svc"]),
    def(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        "endpoints",
        true,
        &["ep"],
    ),
    def(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        "configmap",
        true,
        &["cm"],
    ),
    def("", "v1", "Secret", "secrets", "secret", true, &[]),
    def(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        "serviceaccount",
        true,
        &["sa"],
    ),
    def(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        true,
        &["deploy"],
    ),
    def(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        "daemonset",
        true,
        &["ds"],
    ),
    def(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        true,
        &["rs"],
    ),
    def(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        "endpointslice",
        true,
        &[],
    ),
    def(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        "networkpolicy",
        true,
        &["netpol"],
    ),
    def(
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        "ingress",
        true,
        &["ing"],
    ),
    def(
        "networking.k8s.io",
        "v1",
        "IngressClass",
        "ingressclasses",
        "ingressclass",
        false,
        &[],
    ),
    def(
        "",
        "v1",
        "ResourceQuota",
        "resourcequotas",
        "resourcequota",
        true,
        &["quota"],
    ),
    def(
        "",
        "v1",
        "LimitRange",
        "limitranges",
        "limitrange",
        true,
        &["limits"],
    ),
    def("", "v1", "Event", "events", "event", true, &["ev"]),
    def(
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        "role",
        true,
        &[],
    ),
    def(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        "rolebinding",
        true,
        &[],
    ),
    def(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        "clusterrole",
        false,
        &[],
    ),
    def(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        false,
        &[],
    ),
    def(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        "validatingadmissionpolicy",
        false,
        &[],
    ),
    def(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        "validatingadmissionpolicybinding",
        false,
        &[],
    ),
];

/// Finds a resource by group, version and plural.
pub fn resource(group: &str, version: &str, plural: &str) -> Option<&'static ResDef> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Finds a resource by apiVersion and kind.
pub fn resource_for_kind(api_version: &str, kind: &str) -> Option<&'static ResDef> {
    RESOURCES
        .iter()
        .find(|r| r.api_version() == api_version && r.kind == kind)
}

/// Where an object lives: (group/plural, namespace, name).
pub type Key = (String, String, String);

fn key(r: &ResDef, ns: &str, name: &str) -> Key {
    (
        format!("{}/{}", r.group, r.plural),
        if r.namespaced {
            ns.to_string()
        } else {
            String::new()
        },
        name.to_string(),
    )
}

/// A change, as a watch reports it.
#[derive(Debug, Clone)]
pub struct Event {
    /// `ADDED`, `MODIFIED`, `DELETED`.
    pub kind: &'static str,
    /// group/plural.
    pub res: String,
    /// The object after the change (for DELETED: its last state).
    pub object: Value,
    /// The resource version the change produced.
    pub rv: u64,
}

/// Events kept for watches that resume from a resource version.
const HISTORY: usize = 5_000;

/// An API error: HTTP status, reason and message, as a `Status` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub code: u16,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `BadRequest`...
    pub reason: &'static str,
    /// Human message, worded like the real API server.
    pub message: String,
    /// `details` (name, kind) when there is an object.
    pub details: Option<(String, String)>,
}

impl ApiError {
    /// The `metav1.Status` JSON body.
    pub fn body(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some((name, kind)) = &self.details {
            v["details"] = json!({"name": name, "kind": kind});
        }
        v
    }

    fn not_found(r: &ResDef, name: &str) -> Self {
        ApiError {
            code: 404,
            reason: "NotFound",
            message: format!("{} \"{name}\" not found", r.qualified()),
            details: Some((name.into(), r.plural.into())),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            code: 400,
            reason: "BadRequest",
            message: message.into(),
            details: None,
        }
    }
}

/// The objects and their history.
#[derive(Debug, Default)]
pub struct Store {
    rv: u64,
    objects: BTreeMap<Key, Value>,
    history: VecDeque<Event>,
    next_ip: u32,
    next_node_port: u16,
}

fn now() -> String {
    rfc3339(std::time::SystemTime::now())
}

/// A time as RFC 3339 in UTC, seconds precision, like metav1.Time.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Deep-merges `patch` into `target` (RFC 7386: null deletes, maps merge,
/// everything else replaces).
pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// The managedFields `fieldsV1` set for an applied configuration: every
/// key as `f:key`, nested.
fn fields_v1(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if k == "apiVersion" || k == "kind" {
                    continue;
                }
                out.insert(format!("f:{k}"), fields_v1(v));
            }
            Value::Object(out)
        }
        _ => json!({}),
    }
}

/// One label-selector requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Req {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    Absent(String),
}

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn parse_selector(s: &str) -> Result<Vec<Req>, ApiError> {
    let set = |rest: &str| -> Vec<String> {
        rest.trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split(',')
            .map(|v| v.trim().to_string())
            .collect()
    };
    split_top(s)
        .into_iter()
        .map(|r| {
            if let Some((k, v)) = r.split_once("!=") {
                Ok(Req::Ne(k.trim().into(), v.trim().into()))
            } else if let Some((k, v)) = r.split_once("==").or_else(|| r.split_once('=')) {
                Ok(Req::Eq(k.trim().into(), v.trim().into()))
            } else if let Some((k, rest)) = r.split_once(" notin ") {
                Ok(Req::NotIn(k.trim().into(), set(rest)))
            } else if let Some((k, rest)) = r.split_once(" in ") {
                Ok(Req::In(k.trim().into(), set(rest)))
            } else if let Some(k) = r.strip_prefix('!') {
                Ok(Req::Absent(k.trim().into()))
            } else if r
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            {
                Ok(Req::Exists(r))
            } else {
                Err(ApiError::bad_request(format!(
                    "unable to parse requirement: invalid label selector \"{s}\""
                )))
            }
        })
        .collect()
}

/// A label and field selector over objects.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    labels: Vec<Req>,
    fields: Vec<(String, String, bool)>,
}

impl Selector {
    /// Parses `labelSelector` and `fieldSelector` query values.
    pub fn parse(labels: Option<&str>, fields: Option<&str>) -> Result<Self, ApiError> {
        let labels = match labels {
            Some(l) if !l.trim().is_empty() => parse_selector(l)?,
            _ => Vec::new(),
        };
        let mut fs = Vec::new();
        for f in fields.map(split_top).unwrap_or_default() {
            let (k, v, eq) = if let Some((k, v)) = f.split_once("!=") {
                (k, v, false)
            } else if let Some((k, v)) = f.split_once("==").or_else(|| f.split_once('=')) {
                (k, v, true)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid field selector: '{f}'"
                )));
            };
            fs.push((k.trim().to_string(), v.trim().to_string(), eq));
        }
        Ok(Selector { labels, fields: fs })
    }

    /// Whether an object matches.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj["metadata"]["labels"].as_object();
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        let labels_ok = self.labels.iter().all(|r| match r {
            Req::Eq(k, v) => label(k) == Some(v),
            Req::Ne(k, v) => label(k) != Some(v),
            Req::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Req::NotIn(k, vs) => !label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Req::Exists(k) => label(k).is_some(),
            Req::Absent(k) => label(k).is_none(),
        });
        labels_ok
            && self.fields.iter().all(|(path, want, eq)| {
                let mut cur = obj;
                for part in path.split('.') {
                    cur = &cur[part];
                }
                let have = match cur {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (have == *want) == *eq
            })
    }
}

impl Store {
    /// The current resource version.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// The oldest resource version a watch can resume from.
    pub fn oldest(&self) -> u64 {
        self.history
            .front()
            .map_or(self.rv, |e| e.rv.saturating_sub(1))
    }

    fn record(&mut self, kind: &'static str, res: String, object: Value) -> Event {
        let ev = Event {
            kind,
            res,
            object,
            rv: self.rv,
        };
        self.history.push_back(ev.clone());
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
        ev
    }

    /// Events after `rv` for a resource.
    pub fn events_since(&self, res: &str, rv: u64) -> Vec<Event> {
        self.history
            .iter()
            .filter(|e| e.rv > rv && e.res == res)
            .cloned()
            .collect()
    }

    /// Gets an object.
    pub fn get(&self, r: &ResDef, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&key(r, ns, name))
            .cloned()
            .ok_or_else(|| ApiError::not_found(r, name))
    }

    /// Lists objects (one namespace, or all when `ns` is None).
    pub fn list(&self, r: &ResDef, ns: Option<&str>, sel: &Selector) -> Vec<Value> {
        let res = format!("{}/{}", r.group, r.plural);
        self.objects
            .iter()
            .filter(|((kr, kns, _), _)| *kr == res && ns.is_none_or(|n| !r.namespaced || kns == n))
            .map(|(_, v)| v)
            .filter(|v| sel.matches(v))
            .cloned()
            .collect()
    }

    fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .contains_key(&(String::from("/namespaces"), String::new(), ns.to_string()))
    }

    /// Fills what the API server fills on create.
    fn defaults(&mut self, r: &ResDef, ns: &str, obj: &mut Value) {
        let rv = self.rv;
        let meta = &mut obj["metadata"];
        if r.namespaced {
            meta["namespace"] = Value::from(ns);
        }
        let name = meta["name"].as_str().unwrap_or_default().to_string();
        meta["uid"] = Value::from(format!(
            "5a1e{:04x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            rv & 0xffff,
            (rv >> 16) & 0xffff,
            name.len() & 0xfff,
            rv & 0xfff,
            rv
        ));
        meta["creationTimestamp"] = Value::from(now());
        if r.kind != "Pod" && r.kind != "Namespace" && meta.get("generation").is_none() {
            meta["generation"] = Value::from(1);
        }
        obj["apiVersion"] = Value::from(r.api_version());
        obj["kind"] = Value::from(r.kind);
        match r.kind {
            "Service" => self.service_defaults(obj),
            "Namespace" => {
                obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = Value::from(name);
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
                obj["status"] = json!({"phase": "Active"});
            }
            _ => {}
        }
    }

    fn service_defaults(&mut self, obj: &mut Value) {
        let spec = &mut obj["spec"];
        if spec["type"].is_null() {
            spec["type"] = Value::from("ClusterIP");
        }
        if spec["clusterIP"].is_null() {
            self.next_ip += 1;
            let ip = format!(
                "10.96.{}.{}",
                200 + self.next_ip / 250,
                1 + self.next_ip % 250
            );
            spec["clusterIP"] = Value::from(ip.clone());
            spec["clusterIPs"] = json!([ip]);
        } else if spec["clusterIPs"].is_null() {
            spec["clusterIPs"] = json!([spec["clusterIP"].clone()]);
        }
        for (k, v) in [
            ("sessionAffinity", json!("None")),
            ("ipFamilies", json!(["IPv4"])),
            ("ipFamilyPolicy", json!("SingleStack")),
            ("internalTrafficPolicy", json!("Cluster")),
        ] {
            if spec[k].is_null() {
                spec[k] = v;
            }
        }
        let node_ports = matches!(spec["type"].as_str(), Some("NodePort" | "LoadBalancer"));
        if let Some(ports) = spec["ports"].as_array_mut() {
            for p in ports {
                if p["protocol"].is_null() {
                    p["protocol"] = Value::from("TCP");
                }
                if p["targetPort"].is_null() {
                    p["targetPort"] = p["port"].clone();
                }
                if node_ports && p["nodePort"].is_null() {
                    self.next_node_port += 1;
                    p["nodePort"] = Value::from(30_000 + u64::from(self.next_node_port));
                }
            }
        }
        if spec["type"] != "ClusterIP" && spec["externalTrafficPolicy"].is_null() {
            spec["externalTrafficPolicy"] = Value::from("Cluster");
        }
        if obj["status"].is_null() {
            obj["status"] = json!({"loadBalancer": {}});
        }
    }

    /// Stores an object as given (fixtures, scenario steps): no defaults,
    /// but a new resource version and an event.
    pub fn put(&mut self, r: &ResDef, obj: Value) -> Event {
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let k = key(r, &ns, &name);
        let existed = self.objects.contains_key(&k);
        self.rv += 1;
        let mut obj = obj;
        obj["apiVersion"] = Value::from(r.api_version());
        obj["kind"] = Value::from(r.kind);
        obj["metadata"]["resourceVersion"] = Value::from(self.rv.to_string());
        self.objects.insert(k.clone(), obj.clone());
        self.record(if existed { "MODIFIED" } else { "ADDED" }, k.0, obj)
    }

    /// POST: creates, or 409 when it exists.
    pub fn create(
        &mut self,
        r: &ResDef,
        ns: &str,
        mut obj: Value,
    ) -> Result<(Value, Event), ApiError> {
        let name = match obj["metadata"]["name"].as_str() {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => match obj["metadata"]["generateName"].as_str() {
                Some(g) => format!("{g}{:05x}", self.rv + 1),
                None => {
                    return Err(ApiError {
                        code: 422,
                        reason: "Invalid",
                        message: format!(
                            "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                            r.kind
                        ),
                        details: None,
                    });
                }
            },
        };
        obj["metadata"]["name"] = Value::from(name.clone());
        if r.namespaced && !self.namespace_exists(ns) {
            return Err(ApiError {
                code: 404,
                reason: "NotFound",
                message: format!("namespaces \"{ns}\" not found"),
                details: Some((ns.into(), "namespaces".into())),
            });
        }
        if self.objects.contains_key(&key(r, ns, &name)) {
            return Err(ApiError {
                code: 409,
                reason: "AlreadyExists",
                message: format!("{} \"{name}\" already exists", r.qualified()),
                details: Some((name, r.plural.into())),
            });
        }
        self.defaults(r, ns, &mut obj);
        let ev = self.put(r, obj);
        Ok((ev.object.clone(), ev))
    }

    /// PUT: replaces, keeping identity; 409 on a stale resourceVersion.
    pub fn update(
        &mut self,
        r: &ResDef,
        ns: &str,
        name: &str,
        mut obj: Value,
    ) -> Result<(Value, Event), ApiError> {
        let old = self.get(r, ns, name)?;
        if let Some(want) = obj["metadata"]["resourceVersion"].as_str()
            && !want.is_empty()
            && Some(want) != old["metadata"]["resourceVersion"].as_str()
        {
            return Err(ApiError {
                code: 409,
                reason: "Conflict",
                message: format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    r.qualified()
                ),
                details: Some((name.into(), r.plural.into())),
            });
        }
        for k in ["uid", "creationTimestamp", "namespace", "managedFields"] {
            if obj["metadata"][k].is_null() && !old["metadata"][k].is_null() {
                obj["metadata"][k] = old["metadata"][k].clone();
            }
        }
        let ev = self.put(r, obj);
        Ok((ev.object.clone(), ev))
    }

    /// PATCH with a JSON merge patch (also used for strategic merge).
    pub fn merge_patch(
        &mut self,
        r: &ResDef,
        ns: &str,
        name: &str,
        patch: &Value,
    ) -> Result<(Value, Event), ApiError> {
        let mut obj = self.get(r, ns, name)?;
        merge(&mut obj, patch);
        if let Some(g) = obj["metadata"]["generation"].as_u64()
            && patch.get("spec").is_some()
        {
            obj["metadata"]["generation"] = Value::from(g + 1);
        }
        let ev = self.put(r, obj);
        Ok((ev.object.clone(), ev))
    }

    /// PATCH with `application/apply-patch+yaml`: creates when absent,
    /// merges the applied configuration otherwise, and records the
    /// manager's fields in managedFields.
    pub fn apply(
        &mut self,
        r: &ResDef,
        ns: &str,
        name: &str,
        config: &Value,
        manager: &str,
    ) -> Result<(Value, Event, bool), ApiError> {
        if config["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n != name)
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                config["metadata"]["name"].as_str().unwrap_or_default()
            )));
        }
        let entry = json!({
            "apiVersion": r.api_version(),
            "fieldsType": "FieldsV1",
            "fieldsV1": fields_v1(config),
            "manager": manager,
            "operation": "Apply",
            "time": now(),
        });
        let created;
        let mut obj = match self.get(r, ns, name) {
            Ok(mut existing) => {
                created = false;
                merge(&mut existing, config);
                existing
            }
            Err(_) => {
                created = true;
                if r.namespaced && !self.namespace_exists(ns) {
                    return Err(ApiError {
                        code: 404,
                        reason: "NotFound",
                        message: format!("namespaces \"{ns}\" not found"),
                        details: Some((ns.into(), "namespaces".into())),
                    });
                }
                let mut fresh = config.clone();
                fresh["metadata"]["name"] = Value::from(name);
                self.defaults(r, ns, &mut fresh);
                fresh
            }
        };
        let fields = obj["metadata"]["managedFields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut fields: Vec<Value> = fields
            .into_iter()
            .filter(|f| !(f["manager"] == manager && f["operation"] == "Apply"))
            .collect();
        fields.push(entry);
        obj["metadata"]["managedFields"] = Value::Array(fields);
        let ev = self.put(r, obj);
        Ok((ev.object.clone(), ev, created))
    }

    /// Deletes a namespace and everything in it (the namespace controller's
    /// work, done at once): the namespace's event last.
    pub fn delete_namespace(&mut self, name: &str) -> Result<Vec<Event>, ApiError> {
        let ns_def = resource("", "v1", "namespaces").expect("namespaces are served");
        self.get(ns_def, "", name)?;
        let inside: Vec<Key> = self
            .objects
            .keys()
            .filter(|(res, ns, _)| ns == name && res != "/namespaces")
            .cloned()
            .collect();
        let mut events = Vec::new();
        for k in inside {
            if let Some(mut obj) = self.objects.remove(&k) {
                self.rv += 1;
                obj["metadata"]["resourceVersion"] = Value::from(self.rv.to_string());
                events.push(self.record("DELETED", k.0, obj));
            }
        }
        let (_, ev) = self.delete(ns_def, "", name)?;
        events.push(ev);
        Ok(events)
    }

    /// Every object of a resource (all namespaces), for the authorizer.
    pub fn all(&self, r: &ResDef) -> Vec<Value> {
        self.list(r, None, &Selector::default())
    }

    /// DELETE.
    pub fn delete(&mut self, r: &ResDef, ns: &str, name: &str) -> Result<(Value, Event), ApiError> {
        let k = key(r, ns, name);
        let mut obj = self
            .objects
            .remove(&k)
            .ok_or_else(|| ApiError::not_found(r, name))?;
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = Value::from(self.rv.to_string());
        let ev = self.record("DELETED", k.0, obj.clone());
        Ok((obj, ev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_like_the_api_server() {
        let pod = json!({"metadata": {"name": "web-1", "labels": {"app": "web", "tier": "front"}}, "spec": {"nodeName": "layerlab-worker"}});
        let m = |l: Option<&str>, f: Option<&str>| Selector::parse(l, f).unwrap().matches(&pod);
        assert!(m(Some("app=web"), None));
        assert!(m(Some("app==web,tier"), None));
        assert!(!m(Some("app!=web"), None));
        assert!(m(Some("app in (db, web),!missing"), None));
        assert!(!m(Some("tier notin (front)"), None));
        assert!(m(
            None,
            Some("metadata.name=web-1,spec.nodeName=layerlab-worker")
        ));
        assert!(!m(None, Some("metadata.name!=web-1")));
        assert!(Selector::parse(Some("a b c"), None).is_err());
    }

    #[test]
    fn merge_patch_deletes_nulls_and_replaces_arrays() {
        let mut v = json!({"a": {"b": 1, "c": [1, 2]}, "d": 1});
        merge(&mut v, &json!({"a": {"b": null, "c": [3]}, "e": "x"}));
        assert_eq!(v, json!({"a": {"c": [3]}, "d": 1, "e": "x"}));
    }

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_415), (2025, 11, 23));
        assert!(now().ends_with('Z') && now().len() == 20);
    }
}
