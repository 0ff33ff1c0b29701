//! The stand-in's HTTP side: URL routing as the API server does it,
//! discovery documents, the verbs, watch streams and websocket exec.

use super::rbac::{Attributes, Identity, allowed};
use super::store::{ApiError, RESOURCES, ResDef, Selector, resource};
use super::{ExecCall, ExecReply, Issued, Shared, TOKEN};
use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(shared)
}

fn json_response(code: u16, body: &Value) -> Response {
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(body).unwrap_or_default(),
    )
        .into_response()
}

fn error(e: &ApiError) -> Response {
    json_response(e.code, &e.body())
}

/// What a URL names.
enum Route {
    Version,
    CoreVersions,
    Groups,
    Group(String),
    Resources(String, String),
    Object {
        res: &'static ResDef,
        ns: Option<String>,
        name: Option<String>,
        sub: Option<String>,
    },
    Unknown,
}

fn route(path: &str) -> Route {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let object = |group: &str, version: &str, rest: &[&str]| {
        let (ns, plural, name, sub) = if rest.first() == Some(&"namespaces") && rest.len() >= 3 {
            (Some(rest[1]), rest[2], rest.get(3), rest.get(4))
        } else {
            (None, rest[0], rest.get(1), rest.get(2))
        };
        match resource(group, version, plural) {
            Some(res) => Route::Object {
                res,
                ns: ns.map(String::from),
                name: name.map(|s| s.to_string()),
                sub: sub.map(|s| s.to_string()),
            },
            None => Route::Unknown,
        }
    };
    match segs.as_slice() {
        ["version"] => Route::Version,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::Groups,
        ["api", v] => Route::Resources(String::new(), v.to_string()),
        ["apis", g] => Route::Group(g.to_string()),
        ["apis", g, v] => Route::Resources(g.to_string(), v.to_string()),
        ["api", v, rest @ ..] if !rest.is_empty() => object("", v, rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => object(g, v, rest),
        _ => Route::Unknown,
    }
}

fn groups() -> Vec<&'static str> {
    let mut g: Vec<&str> = RESOURCES
        .iter()
        .map(|r| r.group)
        .filter(|g| !g.is_empty())
        .collect();
    g.dedup();
    g
}

fn group_doc(g: &str) -> Value {
    let gv = json!({"groupVersion": format!("{g}/v1"), "version": "v1"});
    json!({"kind": "APIGroup", "apiVersion": "v1", "name": g, "versions": [gv.clone()], "preferredVersion": gv})
}

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let verbs: &[&str] = if r.kind == "Node" || r.kind == "Namespace" {
            &[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ]
        } else {
            VERBS
        };
        resources.push(json!({
            "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
            "kind": r.kind, "verbs": verbs, "shortNames": r.short,
        }));
        let subs: &[(&str, &str, &[&str])] = match r.kind {
            "Pod" => &[
                ("exec", "PodExecOptions", &["create", "get"]),
                ("log", "Pod", &["get"]),
                ("status", "Pod", &["get", "patch", "update"]),
            ],
            "ServiceAccount" => &[("token", "TokenRequest", &["create"])],
            "Service" | "Deployment" | "DaemonSet" | "Ingress" | "Node" | "Namespace" => {
                &[("status", r.kind, &["get", "patch", "update"])]
            }
            _ => &[],
        };
        for (sub, kind, verbs) in subs {
            resources.push(json!({
                "name": format!("{}/{sub}", r.plural), "singularName": "", "namespaced": r.namespaced,
                "kind": kind, "verbs": verbs,
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

fn query_pairs(req: &Request) -> Vec<(String, String)> {
    Query::<Vec<(String, String)>>::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default()
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
}

fn forbidden(
    user: &str,
    res: &ResDef,
    verb: &str,
    ns: Option<&str>,
    name: Option<&str>,
    sub: Option<&str>,
) -> ApiError {
    let resource = match sub {
        Some(s) => format!("{}/{s}", res.plural),
        None => res.plural.to_string(),
    };
    let subject = match name {
        Some(n) => format!("{} \"{n}\"", res.qualified()),
        None => res.qualified(),
    };
    let scope = match ns {
        Some(ns) => format!(" in the namespace \"{ns}\""),
        None => " at the cluster scope".into(),
    };
    ApiError {
        code: 403,
        reason: "Forbidden",
        message: format!(
            "{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{}\"{scope}",
            res.group
        ),
        details: name.map(|n| (n.to_string(), res.plural.to_string())),
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let line = format!(
        "{} {}{}",
        req.method(),
        path,
        req.uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default()
    );
    let (hung, expired) = {
        let mut b = shared.behaviour.lock().expect("behaviour");
        b.log.push(line);
        (b.hung, b.expired)
    };
    if hung {
        std::future::pending::<()>().await;
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    let who = match bearer {
        Some(t) if t == TOKEN => Some(Identity::Admin),
        Some(t) => shared.identity(t),
        None => None,
    };
    let Some(who) = who.filter(|_| !expired) else {
        return json_response(
            401,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401}),
        );
    };
    if let Some(doc) = openapi_v3(&path) {
        return doc;
    }
    match route(&path) {
        Route::Version => json_response(
            200,
            &json!({"major": "1", "minor": "34", "emulationMajor": "1", "emulationMinor": "34", "minCompatibilityMajor": "1", "minCompatibilityMinor": "33", "gitVersion": "v1.34.0", "gitCommit": "f28b4c9efbca5c5c0af716d9f2d5702667ee8a45", "gitTreeState": "clean", "buildDate": "2025-08-27T10:09:26Z", "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/amd64"}),
        ),
        Route::CoreVersions => json_response(
            200,
            &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "172.18.0.2:6443"}]}),
        ),
        Route::Groups => json_response(
            200,
            &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups().into_iter().map(group_doc).collect::<Vec<_>>()}),
        ),
        Route::Group(g) if groups().contains(&g.as_str()) => json_response(200, &group_doc(&g)),
        Route::Resources(g, v) => match resource_list(&g, &v) {
            Some(doc) => json_response(200, &doc),
            None => not_found(&path),
        },
        Route::Object { res, ns, name, sub } => object(shared, req, &who, res, ns, name, sub).await,
        _ => not_found(&path),
    }
}

/// Just enough OpenAPI v3 for kubectl to send `fieldValidation` to the
/// server (as it does with any API server since 1.27) instead of
/// downloading schemas to validate on its side: the root lists each group
/// version, and each group version has a PATCH operation per kind that
/// takes the parameter. No schemas.
fn openapi_v3(path: &str) -> Option<Response> {
    let gv_path = |r: &ResDef| {
        if r.group.is_empty() {
            format!("api/{}", r.version)
        } else {
            format!("apis/{}/{}", r.group, r.version)
        }
    };
    if path == "/openapi/v3" {
        let mut paths = serde_json::Map::new();
        for r in RESOURCES {
            let p = gv_path(r);
            paths.insert(
                p.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=standin")}),
            );
        }
        return Some(json_response(200, &json!({"paths": paths})));
    }
    let gv = path.strip_prefix("/openapi/v3/")?;
    let mut paths = serde_json::Map::new();
    for r in RESOURCES.iter().filter(|r| gv_path(r) == gv) {
        let at = if r.namespaced {
            format!("/{gv}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
        } else {
            format!("/{gv}/{}/{{name}}", r.plural)
        };
        paths.insert(
            at,
            json!({"patch": {
                "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
                "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
                "responses": {}
            }}),
        );
    }
    if paths.is_empty() {
        return Some(not_found(path));
    }
    Some(json_response(
        200,
        &json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.34.0"}, "paths": paths}),
    ))
}

fn not_found(path: &str) -> Response {
    json_response(
        404,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": format!("the server could not find the requested resource ({path})"), "reason": "NotFound", "details": {}, "code": 404}),
    )
}

fn verb_of(method: &Method, name: bool, watch: bool, sub: Option<&str>) -> &'static str {
    if sub == Some("exec") {
        return "create";
    }
    match (method.as_str(), name) {
        ("GET", true) => "get",
        ("GET", false) if watch => "watch",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", _) => "delete",
        _ => "unknown",
    }
}

async fn body_json(body: Body, yaml: bool) -> Result<Value, ApiError> {
    let bytes: Bytes = axum::body::to_bytes(body, 16 << 20)
        .await
        .map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?;
    if yaml {
        serde_yaml_ng::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })
    }
}

#[allow(clippy::too_many_arguments)]
async fn object(
    shared: Arc<Shared>,
    req: Request,
    who: &Identity,
    res: &'static ResDef,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
) -> Response {
    let q = query_pairs(&req);
    let watch = matches!(param(&q, "watch"), Some("true" | "1"));
    let verb = verb_of(req.method(), name.is_some(), watch, sub.as_deref());
    let rbac_resource = match &sub {
        Some(s) => format!("{}/{s}", res.plural),
        None => res.plural.to_string(),
    };
    let scripted = shared
        .behaviour
        .lock()
        .expect("behaviour")
        .forbidden
        .iter()
        .any(|(v, r)| (v == verb || v == "*") && *r == rbac_resource);
    let scope = if res.namespaced { ns.as_deref() } else { None };
    let granted = allowed(
        &shared.store.lock().expect("store"),
        who,
        &Attributes {
            verb,
            group: res.group,
            resource: rbac_resource.clone(),
            namespace: scope,
            name: name.as_deref(),
        },
    );
    if scripted || !granted {
        // Scripted refusals keep the wording tests were written against.
        let user = if scripted {
            "learner".to_string()
        } else {
            who.user()
        };
        let sub = sub.as_deref().filter(|s| *s == "exec" || *s == "token");
        return error(&forbidden(&user, res, verb, scope, name.as_deref(), sub));
    }
    let ns_str = ns.clone().unwrap_or_else(|| "default".into());
    if sub.as_deref() == Some("exec") {
        return exec(shared, req, ns_str, name.unwrap_or_default(), q).await;
    }
    if sub.as_deref() == Some("token") && res.kind == "ServiceAccount" {
        return token_request(&shared, req, &ns_str, name.as_deref().unwrap_or_default()).await;
    }
    let emit = |ev| {
        let _ = shared.events.send(ev);
    };
    match (req.method().clone(), name) {
        (Method::GET, None) => {
            let sel = match Selector::parse(param(&q, "labelSelector"), param(&q, "fieldSelector"))
            {
                Ok(s) => s,
                Err(e) => return error(&e),
            };
            let scope = if res.namespaced { ns.as_deref() } else { None };
            if watch {
                return watch_stream(shared, res, scope.map(String::from), sel, &q);
            }
            let store = shared.store.lock().expect("store");
            let mut items = store.list(res, scope, &sel);
            for i in &mut items {
                // List items carry no apiVersion/kind on the wire.
                if let Some(m) = i.as_object_mut() {
                    m.remove("apiVersion");
                    m.remove("kind");
                }
            }
            json_response(
                200,
                &json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": {"resourceVersion": store.rv().to_string()}, "items": items}),
            )
        }
        (Method::GET, Some(n)) => match shared.store.lock().expect("store").get(res, &ns_str, &n) {
            Ok(o) => json_response(200, &o),
            Err(e) => error(&e),
        },
        (Method::POST, None) => {
            let obj = match body_json(req.into_body(), false).await {
                Ok(v) => v,
                Err(e) => return error(&e),
            };
            let r = shared
                .store
                .lock()
                .expect("store")
                .create(res, &ns_str, obj);
            match r {
                Ok((o, ev)) => {
                    emit(ev);
                    json_response(201, &o)
                }
                Err(e) => error(&e),
            }
        }
        (Method::PUT, Some(n)) => {
            let obj = match body_json(req.into_body(), false).await {
                Ok(v) => v,
                Err(e) => return error(&e),
            };
            let r = shared
                .store
                .lock()
                .expect("store")
                .update(res, &ns_str, &n, obj);
            match r {
                Ok((o, ev)) => {
                    emit(ev);
                    json_response(200, &o)
                }
                Err(e) => error(&e),
            }
        }
        (Method::PATCH, Some(n)) => {
            let ctype = content_type(req.headers());
            match ctype.as_str() {
                "application/apply-patch+yaml" => {
                    let Some(manager) = param(&q, "fieldManager").map(String::from) else {
                        return error(&ApiError {
                            code: 422,
                            reason: "Invalid",
                            message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch".into(),
                            details: None,
                        });
                    };
                    let config = match body_json(req.into_body(), true).await {
                        Ok(v) => v,
                        Err(e) => return error(&e),
                    };
                    let r = shared
                        .store
                        .lock()
                        .expect("store")
                        .apply(res, &ns_str, &n, &config, &manager);
                    match r {
                        Ok((o, ev, created)) => {
                            emit(ev);
                            json_response(if created { 201 } else { 200 }, &o)
                        }
                        Err(e) => error(&e),
                    }
                }
                "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                    let patch = match body_json(req.into_body(), false).await {
                        Ok(v) => v,
                        Err(e) => return error(&e),
                    };
                    let r = shared
                        .store
                        .lock()
                        .expect("store")
                        .merge_patch(res, &ns_str, &n, &patch);
                    match r {
                        Ok((o, ev)) => {
                            emit(ev);
                            json_response(200, &o)
                        }
                        Err(e) => error(&e),
                    }
                }
                other => json_response(
                    415,
                    &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other})"), "reason": "UnsupportedMediaType", "code": 415}),
                ),
            }
        }
        (Method::DELETE, Some(n)) if res.kind == "Namespace" => {
            let r = shared.store.lock().expect("store").delete_namespace(&n);
            match r {
                Ok(evs) => {
                    let last = evs.last().map(|e| e.object.clone()).unwrap_or_default();
                    for ev in evs {
                        emit(ev);
                    }
                    json_response(200, &last)
                }
                Err(e) => error(&e),
            }
        }
        (Method::DELETE, Some(n)) => {
            let r = shared.store.lock().expect("store").delete(res, &ns_str, &n);
            match r {
                Ok((o, ev)) => {
                    emit(ev);
                    json_response(200, &o)
                }
                Err(e) => error(&e),
            }
        }
        _ => json_response(
            405,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "the server does not allow this method on the requested resource", "reason": "MethodNotAllowed", "code": 405}),
        ),
    }
}

fn content_type(h: &HeaderMap) -> String {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

fn event_line(kind: &str, obj: &Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({"type": kind, "object": obj})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

/// A chunked stream of watch events: first what happened after the
/// requested resource version (or every current object as ADDED), then
/// live changes until `timeoutSeconds`.
fn watch_stream(
    shared: Arc<Shared>,
    res: &'static ResDef,
    ns: Option<String>,
    sel: Selector,
    q: &[(String, String)],
) -> Response {
    let key = format!("{}/{}", res.group, res.plural);
    let in_scope = {
        let ns = ns.clone();
        move |obj: &Value| {
            ns.as_deref()
                .is_none_or(|n| obj["metadata"]["namespace"].as_str() == Some(n))
                && sel.matches(obj)
        }
    };
    let timeout = param(q, "timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    // Subscribe before taking the snapshot so nothing falls in between.
    let mut live = shared.events.subscribe();
    let (first, from) = {
        let store = shared.store.lock().expect("store");
        match param(q, "resourceVersion").filter(|v| !v.is_empty() && *v != "0") {
            None => {
                let objs: Vec<Bytes> = store
                    .list(res, ns.as_deref(), &Selector::default())
                    .iter()
                    .filter(|o| in_scope(o))
                    .map(|o| event_line("ADDED", o))
                    .collect();
                (Ok(objs), store.rv())
            }
            Some(v) => match v.parse::<u64>() {
                Ok(rv) if rv >= store.oldest() => {
                    let evs = store
                        .events_since(&key, rv)
                        .into_iter()
                        .filter(|e| in_scope(&e.object))
                        .map(|e| event_line(e.kind, &e.object))
                        .collect();
                    (Ok(evs), store.rv())
                }
                Ok(rv) => (
                    Err(format!(
                        "too old resource version: {rv} ({})",
                        store.oldest()
                    )),
                    0,
                ),
                Err(_) => (Err(format!("invalid resource version {v:?}")), 0),
            },
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    tokio::spawn(async move {
        let gone = |msg: String| {
            event_line(
                "ERROR",
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": msg, "reason": "Expired", "code": 410}),
            )
        };
        match first {
            Err(msg) => {
                let _ = tx.send(gone(msg)).await;
                return;
            }
            Ok(lines) => {
                for l in lines {
                    if tx.send(l).await.is_err() {
                        return;
                    }
                }
            }
        }
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = tx.closed() => break,
                ev = live.recv() => match ev {
                    Ok(e) if e.rv > from && e.res == key && in_scope(&e.object) => {
                        if tx.send(event_line(e.kind, &e.object)).await.is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let _ = tx.send(gone("the watch fell behind; resume from a newer resource version".into())).await;
                        break;
                    }
                    Err(_) => break,
                },
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::TRANSFER_ENCODING, "chunked")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The `metav1.Status` a finished command reports on channel 3.
fn exec_status(call: &ExecCall, reply: &ExecReply) -> Value {
    if reply.exit == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({
            "metadata": {}, "status": "Failure",
            "message": format!("command terminated with non-zero exit code: error executing command [{}], exit code {}", call.command.join(" "), reply.exit),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": reply.exit.to_string()}]},
        })
    }
}

async fn exec(
    shared: Arc<Shared>,
    req: Request,
    ns: String,
    pod: String,
    q: Vec<(String, String)>,
) -> Response {
    let pods = super::store::resource("", "v1", "pods").expect("pods are served");
    if let Err(e) = shared.store.lock().expect("store").get(pods, &ns, &pod) {
        return error(&e);
    }
    let call = ExecCall {
        namespace: ns,
        pod,
        container: param(&q, "container").map(String::from),
        command: q
            .iter()
            .filter(|(k, _)| k == "command")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    let handlers = shared.behaviour.lock().expect("behaviour").exec.clone();
    let reply = handlers.iter().find_map(|h| h(&call));
    let (mut parts, _body) = req.into_parts();
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws,
        Err(_) => {
            return error(&ApiError::bad_request(
                "Upgrade request required: this stand-in serves exec over websockets (v5.channel.k8s.io, v4.channel.k8s.io) only",
            ));
        }
    };
    ws.protocols(["v5.channel.k8s.io", "v4.channel.k8s.io"])
        .on_upgrade(move |mut socket| async move {
            let status = match &reply {
                Some(r) => {
                    tokio::time::sleep(r.delay).await;
                    for chunk in r.stdout.chunks(32 * 1024) {
                        let mut m = vec![1u8];
                        m.extend_from_slice(chunk);
                        if socket.send(Message::Binary(m.into())).await.is_err() {
                            return;
                        }
                    }
                    if !r.stderr.is_empty() {
                        let mut m = vec![2u8];
                        m.extend_from_slice(r.stderr.as_bytes());
                        let _ = socket.send(Message::Binary(m.into())).await;
                    }
                    exec_status(&call, r)
                }
                // What containerd reports for a command that is not there.
                None => json!({
                    "metadata": {}, "status": "Failure",
                    "message": format!("Internal error occurred: error executing command in container: failed to exec in container: failed to start exec: OCI runtime exec failed: exec failed: unable to start container process: exec: \"{}\": executable file not found in $PATH: unknown", call.command.first().cloned().unwrap_or_default()),
                    "reason": "InternalError", "code": 500,
                }),
            };
            let mut m = vec![3u8];
            m.extend(serde_json::to_vec(&status).unwrap_or_default());
            let _ = socket.send(Message::Binary(m.into())).await;
            // A normal closure (1000): clients treat a close without a
            // status (1005) as a broken stream.
            let _ = socket
                .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                    code: 1000,
                    reason: "".into(),
                })))
                .await;
        })
}

/// `POST .../serviceaccounts/NAME/token`: a bearer token for the
/// ServiceAccount, valid for `spec.expirationSeconds` (default one hour,
/// at least ten minutes, as the API server enforces).
async fn token_request(shared: &Shared, req: Request, ns: &str, name: &str) -> Response {
    if req.method() != Method::POST {
        return json_response(
            405,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "the server does not allow this method on the requested resource", "reason": "MethodNotAllowed", "code": 405}),
        );
    }
    let body = match body_json(req.into_body(), false).await {
        Ok(v) => v,
        Err(e) => return error(&e),
    };
    let sa = resource("", "v1", "serviceaccounts").expect("served");
    let uid = match shared.store.lock().expect("store").get(sa, ns, name) {
        Ok(o) => o["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        Err(e) => return error(&e),
    };
    let seconds = body["spec"]["expirationSeconds"]
        .as_u64()
        .unwrap_or(3600)
        .max(600);
    let token = shared.issue(Issued {
        namespace: ns.to_string(),
        name: name.to_string(),
        uid,
        expires: std::time::Instant::now() + Duration::from_secs(seconds),
    });
    let expires = std::time::SystemTime::now() + Duration::from_secs(seconds);
    let mut out = body.clone();
    out["apiVersion"] = json!("authentication.k8s.io/v1");
    out["kind"] = json!("TokenRequest");
    out["metadata"]["name"] = json!(name);
    out["metadata"]["namespace"] = json!(ns);
    out["spec"]["expirationSeconds"] = json!(seconds);
    out["status"] = json!({"token": token, "expirationTimestamp": super::store::rfc3339(expires)});
    json_response(201, &out)
}
