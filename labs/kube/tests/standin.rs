//! Every check kind of the Kubernetes labs, run over real HTTP against the
//! API server stand-in (fixture kind cluster), through a kubeconfig exactly
//! as against a real cluster: passes, failures and their messages,
//! watch-driven waiting, timeouts, 401, 403 and unreachable servers. Also
//! `kubectl` 1.32 against the stand-in, and the lab files themselves.

mod util;

use layerlab_core::lab::CheckKind;
use layerlab_kube::standin::{ExecCall, ExecReply, StandIn, set_endpoint_ready, set_pod_ready};
use layerlab_kube::{ConnectOptions, Error, KubeLabs};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use util::{check, harness};

// ---------------------------------------------------------------- resource

#[tokio::test]
async fn a_resource_check_passes_on_a_partial_match_with_endpointslices() {
    let h = harness().await;
    let c = check(
        "resource:
  apiVersion: v1
  kind: Service
  namespace: shop
  name: web
  match: {spec: {type: ClusterIP, ports: [{name: http, port: 80}]}}
  endpointslices: true
  cel: \"related.exists(s, size(s.endpoints) == 2) && object.spec.clusterIP == '10.96.45.12'\"",
    );
    let r = h.labs.run_check(&c, None).await;
    assert!(r.passed, "{r:?}");
    assert_eq!(r.message, "Service web matches");
    assert_eq!(r.attempts, 1);
    assert!(
        r.evidence.contains("\"clusterIP\": \"10.96.45.12\""),
        "{}",
        r.evidence
    );
    assert!(
        !r.evidence.contains("managedFields"),
        "managedFields are stripped"
    );
}

#[tokio::test]
async fn a_resource_mismatch_names_the_field_and_both_values() {
    let h = harness().await;
    let c = check(
        "timeout: 300ms
resource: {apiVersion: v1, kind: Service, namespace: shop, name: web, match: {spec: {type: NodePort}}}",
    );
    let r = h.labs.run_check(&c, None).await;
    assert!(!r.passed);
    assert!(
        r.message
            .starts_with("Service web: spec.type is ClusterIP, expected NodePort (still so after"),
        "{}",
        r.message
    );
    assert_eq!(r.mismatches[0].path, "spec.type");
    assert!(r.attempts > 1, "eventually retries: {}", r.attempts);
    let c = check(
        "mode: once
resource: {apiVersion: v1, kind: Service, namespace: shop, name: nope, match: {spec: {}}}",
    );
    let r = h.labs.run_check(&c, None).await;
    assert_eq!(r.message, "Service nope not found in namespace shop");
}

#[tokio::test]
async fn selectors_give_cel_a_list_of_objects() {
    let h = harness().await;
    let c = check(
        "resource:
  apiVersion: v1
  kind: Pod
  namespace: shop
  selector: app=web
  cel: \"size(objects) == 2 && objects.all(p, p.spec.nodeName.startsWith('layerlab-worker'))\"",
    );
    assert!(h.labs.run_check(&c, None).await.passed);
    let c = check(
        "mode: once
resource:
  apiVersion: v1
  kind: Node
  selector: kubernetes.io/os=linux
  match: {spec: {podCIDR: 10.244.1.0/24}}",
    );
    let r = h.labs.run_check(&c, None).await;
    assert!(!r.passed);
    assert!(
        r.message
            .starts_with("Node objects selected by kubernetes.io/os=linux: layerlab-control-plane[0].spec.podCIDR is 10.244.0.0/24, expected 10.244.1.0/24"),
        "{}",
        r.message
    );
}

#[tokio::test]
async fn kinds_beyond_the_built_in_ones_are_found_through_discovery() {
    let h = harness().await;
    h.standin.put(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": {"name": "nginx", "labels": {"app.kubernetes.io/component": "controller"}},
        "spec": {"controller": "k8s.io/ingress-nginx"},
    }));
    let c = check(
        "resource: {apiVersion: networking.k8s.io/v1, kind: IngressClass, name: nginx, match: {spec: {controller: k8s.io/ingress-nginx}}}",
    );
    let r = h.labs.run_check(&c, None).await;
    assert!(r.passed, "{r:?}");
    let requests = h.standin.requests();
    assert!(
        requests
            .iter()
            .any(|l| l == "GET /apis/networking.k8s.io/v1"),
        "{requests:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|l| l.starts_with("GET /apis/networking.k8s.io/v1/ingressclasses/nginx")),
        "cluster-scoped path: {requests:#?}"
    );
}

#[tokio::test]
async fn an_unknown_kind_fails_at_once_with_the_reason() {
    let h = harness().await;
    let c = check(
        "timeout: 10s
resource: {apiVersion: example.com/v1, kind: Widget, name: w, match: {}}",
    );
    let start = Instant::now();
    let r = h.labs.run_check(&c, None).await;
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(r.attempts, 1);
    assert!(
        r.message
            .contains("the cluster has no kind Widget in apiVersion example.com/v1"),
        "{}",
        r.message
    );
}

// ----------------------------------------------------- watch-driven waiting

#[tokio::test]
async fn a_pod_becoming_ready_turns_the_check_green_within_200_ms() {
    let h = harness().await;
    h.standin
        .update("v1", "Pod", "shop", "db", |p| set_pod_ready(p, false));
    let c = check(
        "timeout: 5s
resource:
  apiVersion: v1
  kind: Pod
  namespace: shop
  name: db
  match: {status: {conditions: [{type: Ready, status: 'True'}]}}",
    );
    let flipped = Arc::new(Mutex::new(None));
    let at = flipped.clone();
    h.standin.after(
        Duration::from_millis(300),
        "v1",
        "Pod",
        "shop",
        "db",
        move |p| {
            set_pod_ready(p, true);
            *at.lock().unwrap() = Some(Instant::now());
        },
    );
    let r = h.labs.run_check(&c, None).await;
    let done = Instant::now();
    assert!(r.passed, "{r:?}");
    let latency = done - flipped.lock().unwrap().expect("the scenario ran");
    assert!(latency < Duration::from_millis(200), "{latency:?}");
    let watched = h.standin.requests().iter().any(|l| {
        l.starts_with("GET /api/v1/namespaces/shop/pods?")
            && l.contains("watch=true")
            && l.contains("fieldSelector=metadata.name%3Ddb")
    });
    assert!(watched, "{:#?}", h.standin.requests());
}

#[tokio::test]
async fn an_unready_pod_leaves_the_endpointslice_and_the_check_sees_it() {
    let h = harness().await;
    let c = check(
        "timeout: 5s
resource:
  apiVersion: v1
  kind: Service
  namespace: shop
  name: web
  endpointslices: true
  cel: \"related.exists(s, size(s.endpoints.filter(e, e.conditions.ready == true)) == 1)\"",
    );
    let s = h.standin.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(250)).await;
        s.update("v1", "Pod", "shop", "web-7c5d8f9b6d-2xk9p", |p| {
            set_pod_ready(p, false)
        });
        s.update(
            "discovery.k8s.io/v1",
            "EndpointSlice",
            "shop",
            "web-8kx2j",
            |e| set_endpoint_ready(e, "10.244.1.3", false),
        );
    });
    let r = h.labs.run_check(&c, None).await;
    assert!(r.passed, "{r:?}");
    assert!(
        r.duration_ms >= 250 && r.duration_ms < 1000,
        "{}",
        r.duration_ms
    );
}

// -------------------------------------------------------------------- exec

fn script_shop(s: &StandIn) {
    s.on_exec(|call: &ExecCall| {
        let cmd = call.command.join(" ");
        match (call.pod.as_str(), cmd.as_str()) {
            ("web", c) | ("web-7c5d8f9b6d-2xk9p", c) | ("web-7c5d8f9b6d-q8m4t", c)
                if c.starts_with("agnhost connect db:5432") =>
            {
                Some(ExecReply::ok(""))
            }
            ("batch", c) if c.starts_with("agnhost connect db:5432") => {
                Some(ExecReply::fail(1, "TIMEOUT\n").after(Duration::from_millis(50)))
            }
            (pod, "hostname") => Some(ExecReply::ok(format!("{pod}\n"))),
            _ => None,
        }
    });
}

#[tokio::test]
async fn exec_checks_see_exit_codes_stdout_and_stderr() {
    let h = harness().await;
    script_shop(&h.standin);
    let ok = check(
        "exec: {namespace: shop, selector: app=web, command: [agnhost, connect, 'db:5432', '--timeout=1s'], expect: {exit: 0}}",
    );
    assert!(h.labs.run_check(&ok, None).await.passed);
    let blocked = check(
        "mode: once
exec: {namespace: shop, pod: batch, command: [agnhost, connect, 'db:5432', '--timeout=1s'], expect: {exit: 0}}",
    );
    let r = h.labs.run_check(&blocked, None).await;
    assert!(!r.passed);
    assert_eq!(r.message, "exit code: expected 0, got 1");
    assert_eq!(r.evidence, "exit 1\nstderr: TIMEOUT");
    let missing = check("mode: once\nexec: {namespace: shop, pod: batch, command: [dig, db]}");
    let r = h.labs.run_check(&missing, None).await;
    assert_eq!(r.message, "exit code: expected 0, got 127");
    assert!(
        r.evidence
            .contains("\"dig\": executable file not found in $PATH"),
        "{}",
        r.evidence
    );
}

#[tokio::test]
async fn exec_with_a_selector_runs_in_the_first_ready_pod() {
    let h = harness().await;
    script_shop(&h.standin);
    let c = check(
        "mode: once
exec: {namespace: shop, selector: app=web, command: [hostname], expect: {stdout: {equals: web-7c5d8f9b6d-q8m4t}}}",
    );
    let r = h.labs.run_check(&c, None).await;
    assert!(!r.passed, "the first ready pod by name is 2xk9p");
    h.standin
        .update("v1", "Pod", "shop", "web-7c5d8f9b6d-2xk9p", |p| {
            set_pod_ready(p, false)
        });
    assert!(h.labs.run_check(&c, None).await.passed);
    let none =
        check("mode: once\nexec: {namespace: shop, selector: app=cache, command: [hostname]}");
    let r = h.labs.run_check(&none, None).await;
    assert_eq!(
        r.message,
        "could not observe: no pod matches `app=cache` in namespace shop (yet)"
    );
}

#[tokio::test]
async fn consistently_holds_for_the_whole_window_or_says_when_it_broke() {
    let h = harness().await;
    script_shop(&h.standin);
    let c = check(
        "mode: consistently
for: 1s
exec: {namespace: shop, pod: batch, command: [agnhost, connect, 'db:5432', '--timeout=1s'], expect: {cel: 'exit != 0'}}",
    );
    let r = h.labs.run_check(&c, None).await;
    assert!(r.passed, "{r:?}");
    assert!(r.duration_ms >= 1000 && r.attempts >= 3, "{r:?}");
    // The policy is removed half-way: batch gets through.
    let open = Arc::new(AtomicBool::new(false));
    let flag = open.clone();
    h.standin.on_exec(move |call| {
        (call.pod == "batch" && flag.load(Ordering::SeqCst)).then(|| ExecReply::ok(""))
    });
    let flip = open.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        flip.store(true, Ordering::SeqCst);
    });
    let r = h.labs.run_check(&c, None).await;
    assert!(!r.passed);
    assert!(
        r.message.starts_with(
            "cel: expected exit != 0, got false (it must hold for 1 s; it broke after"
        ),
        "{}",
        r.message
    );
}

// -------------------------------------------------------------------- node

#[tokio::test]
async fn node_service_rules_are_found_by_comment_in_iptables_mode() {
    let h = harness().await;
    let c = check(
        "node:
  node: layerlab-worker
  service: shop/web:http
  expect:
    json: {mode: iptables, cluster_ip: 10.96.45.12, port: 80, node_ports: [30080]}
    cel: \"size(json.endpoints) == 2 && json.endpoints.exists(e, e == '10.244.2.4:8080')\"",
    );
    let r = h.labs.run_check(&c, None).await;
    assert!(r.passed, "{r:?}");
    let wrong = check(
        "mode: once
node: {node: layerlab-worker, service: shop/web:http, expect: {cel: 'size(json.endpoints) == 3'}}",
    );
    let r = h.labs.run_check(&wrong, None).await;
    assert_eq!(
        r.message,
        "cel: expected size(json.endpoints) == 3, got false"
    );
    assert!(
        r.evidence.contains("KUBE-SVC-ULMVA6XW5QQEM4JG"),
        "{}",
        r.evidence
    );
}

#[tokio::test]
async fn node_service_rules_follow_kube_proxy_into_nftables_mode() {
    let h = harness().await;
    h.standin
        .update("v1", "ConfigMap", "kube-system", "kube-proxy", |cm| {
            let conf = cm["data"]["config.conf"]
                .as_str()
                .unwrap()
                .replace("mode: iptables", "mode: nftables");
            cm["data"]["config.conf"] = json!(conf);
        });
    // A fresh runner: the mode is read once per runner.
    let labs = KubeLabs::connect(&h.options())
        .await
        .unwrap()
        .with_node_shell(util::fake_docker(&h.dir));
    let c = check(
        "node:
  node: layerlab-worker
  service: shop/web:http
  expect:
    json: {mode: nftables, cluster_ip: 10.96.45.12, endpoints: [10.244.1.3:8080, 10.244.2.4:8080]}",
    );
    let r = labs.run_check(&c, None).await;
    assert!(r.passed, "{r:?}");
    assert!(
        r.evidence.contains("service-ULMVA6XW-shop/web/tcp/http"),
        "{}",
        r.evidence
    );
}

#[tokio::test]
async fn node_commands_run_in_the_node_container_and_any_names_the_node() {
    let h = harness().await;
    let c = check("node: {node: any, run: ip route, expect: {stdout: 'dev cali'}}");
    let r = h.labs.run_check(&c, None).await;
    assert!(r.passed, "{r:?}");
    assert!(
        r.message.starts_with("layerlab-control-plane: "),
        "{}",
        r.message
    );
    let c = check("timeout: 10s\nnode: {node: layerlab-worker9, run: hostname}");
    let start = Instant::now();
    let r = h.labs.run_check(&c, None).await;
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(
        r.message,
        "could not observe: node container `layerlab-worker9` not found: is the kind cluster running? (`layerlab cluster status`)"
    );
}

// -------------------------------------------------------------------- http

async fn ingress_like_server() -> String {
    use axum::http::HeaderMap;
    let app = axum::Router::new().fallback(|headers: HeaderMap, uri: axum::http::Uri| async move {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        match (host, uri.path()) {
            ("shop.layerlab.test", p) if p.starts_with("/api") => {
                (axum::http::StatusCode::OK, "api-5f7d9-kx2pq".to_string())
            }
            ("shop.layerlab.test", _) => {
                (axum::http::StatusCode::OK, "web-6b8c4-z9d2m".to_string())
            }
            _ => (
                axum::http::StatusCode::NOT_FOUND,
                "<html>404 Not Found</html>".to_string(),
            ),
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn http_checks_send_the_host_header_and_judge_status_and_body() {
    let h = harness().await;
    let base = ingress_like_server().await;
    let api = check(&format!(
        "http: {{url: '{base}/api/items', host: shop.layerlab.test, status: 200, body: {{regex: '^api-'}}}}"
    ));
    assert!(h.labs.run_check(&api, None).await.passed);
    let other = check(&format!(
        "mode: once\nhttp: {{url: '{base}/', host: other.layerlab.test, body: {{regex: '^web-'}}}}"
    ));
    let r = h.labs.run_check(&other, None).await;
    assert_eq!(r.message, format!("{base}/: status expected 200, got 404"));
    assert_eq!(r.mismatches.len(), 2);
}

#[tokio::test]
async fn an_http_port_that_is_not_open_is_retried_and_then_named() {
    let h = harness().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = check(&format!(
        "timeout: 400ms\nhttp: {{url: 'http://127.0.0.1:{port}/'}}"
    ));
    let start = Instant::now();
    let r = h.labs.run_check(&c, None).await;
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(r.attempts > 1, "an unopened port may open soon: {r:?}");
    assert!(
        r.message.starts_with(&format!(
            "could not observe: http://127.0.0.1:{port}/: connection refused"
        )),
        "{}",
        r.message
    );
}

// ----------------------------------------------------------------- capture

#[tokio::test]
async fn a_node_capture_runs_tcpdump_in_the_capture_pod_and_keeps_the_pcap() {
    let h = harness().await;
    let pcap = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../core/tests/captures/http.pcap"
    ))
    .unwrap();
    let seen: Arc<Mutex<Vec<ExecCall>>> = Arc::default();
    let log = seen.clone();
    let bytes = pcap.clone();
    h.standin.on_exec(move |call| {
        log.lock().unwrap().push(call.clone());
        call.command
            .get(2)
            .is_some_and(|s| s.contains("tcpdump"))
            .then(|| ExecReply {
                stdout: bytes.clone(),
                stderr: "tcpdump: listening on any, link-type LINUX_SLL2\n".into(),
                exit: 0,
                delay: Duration::from_millis(100),
            })
    });
    let c = check(
        "mode: once
capture:
  node: layerlab-worker
  filter: tcp port 80
  trigger: echo triggered
  sequence: [{flags: S}, {flags: S.}, {flags: .}]",
    );
    let out = h.labs.run_check_detailed(&c, None).await;
    assert!(out.result.passed, "{:?}", out.result);
    assert_eq!(
        out.pcap.as_deref(),
        Some(pcap.as_slice()),
        "kept for the journey view"
    );
    let calls = seen.lock().unwrap();
    assert_eq!(calls[0].namespace, "layerlab-system");
    assert_eq!(calls[0].pod, "layerlab-capture-b7x2m");
    assert_eq!(
        calls[0].command[2],
        "timeout -s INT 4 tcpdump -i any -nn -U -w - -c 10 'tcp port 80'"
    );
}

// ------------------------------------------------ errors: 403, 401, down

#[tokio::test]
async fn forbidden_names_the_verb_and_resource_within_5_s() {
    let h = harness().await;
    h.standin.forbid("list", "pods");
    let c = check("timeout: 30s\nexec: {namespace: shop, selector: app=web, command: [hostname]}");
    let start = Instant::now();
    let r = h.labs.run_check(&c, None).await;
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(r.attempts, 1);
    assert_eq!(
        r.message,
        "could not observe: list pods in namespace shop: forbidden (403): your credentials may not list pods in namespace shop"
    );
    h.standin.forbid("create", "pods/exec");
    let c = check("timeout: 30s\nexec: {namespace: shop, pod: web, command: [hostname]}");
    let r = h.labs.run_check(&c, None).await;
    assert!(
        r.message.ends_with(
            "forbidden (403): your credentials may not create pods/exec in namespace shop"
        ),
        "{}",
        r.message
    );
}

#[tokio::test]
async fn expired_credentials_are_reported_at_connect_and_during_a_check() {
    let h = harness().await;
    h.standin.expire_credentials();
    let c = check(
        "timeout: 30s\nresource: {apiVersion: v1, kind: Service, namespace: shop, name: web, match: {}}",
    );
    let start = Instant::now();
    let r = h.labs.run_check(&c, None).await;
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(r.message.contains("401 Unauthorized"), "{}", r.message);
    let err = KubeLabs::connect(&h.options()).await.err().expect("fails");
    assert!(matches!(err, Error::ApiCallFailed(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("kind export kubeconfig --name layerlab"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_cluster_is_named_within_5_s() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let standin = StandIn::start_empty().await.unwrap();
    let path = dir.path().join("kubeconfig");
    let text = standin
        .kubeconfig()
        .replace(&standin.url(), &format!("https://127.0.0.1:{port}"));
    std::fs::write(&path, text).unwrap();
    let start = Instant::now();
    let err = KubeLabs::connect(&ConnectOptions {
        context: None,
        kubeconfig: Some(path),
    })
    .await
    .err()
    .expect("fails");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(
        err.to_string(),
        format!(
            "cannot reach the cluster at https://127.0.0.1:{port}: connection refused (is the cluster running? for kind: `layerlab cluster status`)"
        )
    );
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_is_a_tls_error() {
    let h = harness().await;
    let other = StandIn::start_empty().await.unwrap();
    let text = std::fs::read_to_string(&h.kubeconfig)
        .unwrap()
        .replace(&h.standin.url(), &other.url());
    std::fs::write(&h.kubeconfig, text).unwrap();
    let start = Instant::now();
    let err = KubeLabs::connect(&h.options()).await.err().expect("fails");
    assert!(start.elapsed() < Duration::from_secs(5));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot reach the cluster at {}: TLS handshake failed",
            other.url()
        )),
        "{text}"
    );
    assert!(
        text.ends_with("the kubeconfig's CA may not match the cluster"),
        "{text}"
    );
    assert!(!text.contains('\n'));
}

#[tokio::test]
async fn a_hung_api_server_times_out_within_5_s() {
    let h = harness().await;
    h.standin.hang();
    let start = Instant::now();
    let err = KubeLabs::connect(&h.options()).await.err().expect("fails");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(
        err.to_string()
            .ends_with("no answer within 4 s (is the API server overloaded or hung?)"),
        "{err}"
    );
    let c = check(
        "timeout: 30s\nresource: {apiVersion: v1, kind: Service, namespace: shop, name: web, match: {}}",
    );
    let start = Instant::now();
    let r = h.labs.run_check(&c, None).await;
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        r.message,
        "could not observe: get services/web in namespace shop: no answer from the API server within 4 s"
    );
}

#[tokio::test]
async fn an_unknown_context_lists_the_contexts_there_are() {
    let h = harness().await;
    let err = KubeLabs::connect(&ConnectOptions {
        context: Some("kind-layerlab".into()),
        kubeconfig: Some(h.kubeconfig.clone()),
    })
    .await
    .err()
    .expect("fails");
    assert_eq!(
        err.to_string(),
        "cannot use the kubeconfig: context `kind-layerlab` not found (contexts: standin)"
    );
}

// ------------------------------------------------------------------ steps

#[tokio::test]
async fn run_step_runs_every_check_and_reports_the_step() {
    let h = harness().await;
    script_shop(&h.standin);
    let labs = util::kind_labs();
    let netpol = labs.iter().find(|l| l.id == "k8s-netpol").unwrap();
    // The fixture shop has no NetworkPolicy and batch is blocked by the
    // script: the policy check fails, the connectivity check holds.
    let step = h.labs.run_step(netpol, 0, &[]).await;
    assert_eq!(step.step, 1);
    assert!(!step.passed);
    assert_eq!(step.checks.len(), 2);
    assert!(!step.checks[0].passed);
    assert_eq!(
        step.checks[0].message,
        format!(
            "NetworkPolicy default-deny not found in namespace shop (still so after {} ms)",
            step.checks[0].duration_ms
        )
    );
    assert!(step.checks[1].passed, "{:?}", step.checks[1]);
    let missing = h.labs.run_step(netpol, 9, &[]).await;
    assert!(!missing.passed && missing.checks.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_commands_and_host_checks_use_the_runner_s_cluster() {
    let h = harness().await;
    let host = check("host: {run: type kubectl, expect: {stdout: function}}");
    assert!(
        h.labs.run_check(&host, None).await.passed,
        "kubectl is bound to the context"
    );
    if layerlab_kube::cluster::prereq::on_path("kubectl").is_none() {
        eprintln!("skipped: kubectl is not installed");
        return;
    }
    let cmds = vec!["kubectl -n shop get pod db -o name > seen.txt".to_string()];
    h.labs.run_commands(&cmds, h.dir.path()).await.unwrap();
    let seen = std::fs::read_to_string(h.dir.path().join("seen.txt")).unwrap();
    assert_eq!(seen.trim(), "pod/db");
    let bad = vec!["kubectl -n shop get pod nope".to_string()];
    let err = h
        .labs
        .run_commands(&bad, h.dir.path())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("`kubectl -n shop get pod nope` exited 1: "),
        "{err}"
    );
    assert!(err.contains("\"nope\" not found"), "{err}");
}

// ------------------------------------------------------------------ cluster

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_up_on_an_instructors_cluster_applies_layerlab_system_and_waits() {
    let h = harness().await;
    h.standin.delete(
        "apps/v1",
        "DaemonSet",
        "layerlab-system",
        "layerlab-capture",
    );
    // The DaemonSet controller's part: report three ready pods a moment
    // after the DaemonSet appears.
    let s = h.standin.clone();
    tokio::spawn(async move {
        while s
            .get(
                "apps/v1",
                "DaemonSet",
                "layerlab-system",
                "layerlab-capture",
            )
            .is_none()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.update("apps/v1", "DaemonSet", "layerlab-system", "layerlab-capture", |ds| {
            ds["status"] = json!({"desiredNumberScheduled": 3, "numberReady": 3, "currentNumberScheduled": 3, "numberMisscheduled": 0});
        });
    });
    let mut lines = Vec::new();
    layerlab_kube::cluster::up(&h.options(), Some(4), &mut |l| lines.push(l.to_string()))
        .await
        .unwrap();
    assert!(
        lines[0].starts_with("using context standin at https://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"applied Namespace layerlab-system".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"applied DaemonSet layerlab-capture".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("ready: nodes (3/3)")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ready: daemonset layerlab-system/layerlab-capture (3/3)")),
        "{lines:?}"
    );
    let ds = h
        .standin
        .get(
            "apps/v1",
            "DaemonSet",
            "layerlab-system",
            "layerlab-capture",
        )
        .unwrap();
    assert_eq!(ds["metadata"]["managedFields"][0]["manager"], "layerlab");
    assert_eq!(ds["spec"]["template"]["spec"]["hostNetwork"], true);
    // Running it again applies the same objects without an error.
    layerlab_kube::cluster::up(&h.options(), Some(4), &mut |_| {})
        .await
        .unwrap();
    let mut status = Vec::new();
    let healthy = layerlab_kube::cluster::status(&h.options(), &mut |l| status.push(l.to_string()))
        .await
        .unwrap();
    // The fixture's nodes say chapter 5, and chapter 5 needs ingress-nginx.
    assert!(!healthy, "{status:?}");
    assert!(
        status.iter().any(|l| l == "made for chapter 5"),
        "{status:?}"
    );
    assert_eq!(
        status.last().unwrap(),
        "NOT ready: not ready after 0 s: deployment ingress-nginx/ingress-nginx-controller 0/1"
    );
    h.standin.put(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ingress-nginx"}}),
    );
    h.standin.put(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx"},
        "spec": {"replicas": 1}, "status": {"availableReplicas": 1, "readyReplicas": 1, "replicas": 1},
    }));
    let healthy = layerlab_kube::cluster::status(&h.options(), &mut |_| {})
        .await
        .unwrap();
    assert!(healthy,);
}

// ------------------------------------------------------------------ kubectl

fn kubectl(h: &util::Harness, args: &[&str]) -> std::process::Output {
    std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&h.kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_gets_applies_execs_and_waits_against_the_stand_in() {
    if layerlab_kube::cluster::prereq::on_path("kubectl").is_none() {
        eprintln!("skipped: kubectl is not installed");
        return;
    }
    let h = harness().await;
    script_shop(&h.standin);
    let hh = &h;
    let out =
        tokio::task::block_in_place(|| kubectl(hh, &["-n", "shop", "get", "pods", "-o", "json"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "batch",
            "db",
            "web-7c5d8f9b6d-2xk9p",
            "web-7c5d8f9b6d-q8m4t"
        ]
    );

    let manifest = h.dir.path().join("api.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  selector: {app: api}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n",
    )
    .unwrap();
    let m = manifest.to_string_lossy().to_string();
    // The stand-in serves no OpenAPI documents, which client-side validation needs.
    let out = tokio::task::block_in_place(|| {
        kubectl(
            hh,
            &["apply", "--server-side", "--validate=false", "-f", &m],
        )
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "service/api serverside-applied"
    );
    let svc = h.standin.get("v1", "Service", "shop", "api").unwrap();
    assert_eq!(svc["metadata"]["managedFields"][0]["manager"], "kubectl");
    assert_eq!(svc["metadata"]["managedFields"][0]["operation"], "Apply");
    assert!(
        svc["spec"]["clusterIP"]
            .as_str()
            .unwrap()
            .starts_with("10.96.")
    );

    let out = tokio::task::block_in_place(|| {
        kubectl(
            hh,
            &[
                "-n",
                "shop",
                "exec",
                "web-7c5d8f9b6d-2xk9p",
                "--",
                "hostname",
            ],
        )
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "web-7c5d8f9b6d-2xk9p\n"
    );
    let out = tokio::task::block_in_place(|| {
        kubectl(
            hh,
            &[
                "-n",
                "shop",
                "exec",
                "batch",
                "--",
                "agnhost",
                "connect",
                "db:5432",
                "--timeout=1s",
            ],
        )
    });
    assert_eq!(
        out.status.code(),
        Some(1),
        "kubectl passes the exit code on"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("TIMEOUT"));

    h.standin
        .update("v1", "Pod", "shop", "db", |p| set_pod_ready(p, false));
    h.standin
        .after(Duration::from_millis(500), "v1", "Pod", "shop", "db", |p| {
            set_pod_ready(p, true)
        });
    let start = Instant::now();
    let out = tokio::task::block_in_place(|| {
        kubectl(
            hh,
            &[
                "-n",
                "shop",
                "wait",
                "--for=condition=Ready",
                "pod/db",
                "--timeout=10s",
            ],
        )
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "pod/db condition met"
    );
    assert!(start.elapsed() >= Duration::from_millis(450));
}

// ------------------------------------------------------------- lab files

#[test]
fn the_kubernetes_labs_load_and_use_only_cluster_checks() {
    let labs = util::kind_labs();
    let ids: Vec<&str> = labs.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "k8s-dns",
            "k8s-ingress",
            "k8s-netpol",
            "k8s-pod-network",
            "k8s-services"
        ]
    );
    for lab in &labs {
        let chapter = if lab.id == "k8s-services" || lab.id == "k8s-ingress" {
            "abstractions"
        } else {
            "kubernetes-model"
        };
        assert_eq!(lab.chapter, chapter, "{}", lab.id);
        for (i, step) in lab.steps.iter().enumerate() {
            for c in &step.checks {
                let ok = match &c.kind {
                    CheckKind::Resource(_)
                    | CheckKind::Exec(_)
                    | CheckKind::Node(_)
                    | CheckKind::Http(_)
                    | CheckKind::Host { .. } => true,
                    CheckKind::Capture(cap) => cap.node.is_some(),
                    _ => false,
                };
                assert!(
                    ok,
                    "{} step {}: `{}` cannot run on kind",
                    lab.id,
                    i + 1,
                    c.title
                );
            }
            // Every manifest a command names is embedded and parses, and
            // leaves the namespace to the runner.
            for cmd in step.setup.iter().chain(&step.solution) {
                for word in cmd
                    .split_whitespace()
                    .filter(|w| w.starts_with("manifests/"))
                {
                    let text = layerlab_kube::MANIFESTS
                        .iter()
                        .find(|(p, _)| p == &word)
                        .unwrap_or_else(|| panic!("{}: no embedded {word}", lab.id))
                        .1;
                    let docs = layerlab_kube::cluster::apply::documents(text).unwrap();
                    assert!(!docs.is_empty(), "{word}");
                    for d in &docs {
                        assert!(
                            d["kind"] != "Namespace" && d["metadata"]["namespace"].is_null(),
                            "{word}: {} {} names a namespace",
                            d["kind"],
                            d["metadata"]["name"]
                        );
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn solution_manifests_turn_their_resource_checks_from_failing_to_passing() {
    // The stand-in runs no controllers, so only what the solution itself
    // declares is judged: each resource check's `match`, minus `status`.
    let labs = util::kind_labs();
    let mut judged = 0;
    for lab in &labs {
        let h = harness().await;
        // What the runner does: the lab's namespace exists, and manifests
        // (which name none) land in it.
        let ns = lab
            .namespace
            .clone()
            .expect("kind labs name their namespace");
        layerlab_kube::learner_space::ensure_namespace(h.labs.client(), &ns)
            .await
            .unwrap();
        for step in &lab.steps {
            let docs: Vec<serde_json::Value> = step
                .setup
                .iter()
                .chain(&step.solution)
                .flat_map(|c| {
                    c.split_whitespace()
                        .filter(|w| w.starts_with("manifests/"))
                        .map(String::from)
                        .collect::<Vec<_>>()
                })
                .flat_map(|w| {
                    let text = layerlab_kube::MANIFESTS
                        .iter()
                        .find(|(p, _)| *p == w)
                        .unwrap()
                        .1;
                    layerlab_kube::cluster::apply::documents(text).unwrap()
                })
                .map(|mut d| {
                    d["metadata"]["namespace"] = ns.clone().into();
                    d
                })
                .collect();
            let declared: Vec<_> = step
                .checks
                .iter()
                .filter_map(|c| match &c.kind {
                    CheckKind::Resource(r)
                        if r.name.is_some()
                            && step.solution.iter().any(|s| s.contains("manifests/"))
                            && docs.iter().any(|d| {
                                d["kind"] == r.kind.as_str()
                                    && d["metadata"]["name"] == r.name.as_deref().unwrap()
                            }) =>
                    {
                        let mut r = r.clone();
                        r.cel = None;
                        r.endpointslices = false;
                        if let Some(m) = r.matches.as_mut().and_then(|m| m.as_object_mut()) {
                            m.remove("status");
                        }
                        let mut c = c.clone();
                        c.kind = CheckKind::Resource(r);
                        c.mode = layerlab_core::lab::Mode::Once;
                        Some(c)
                    }
                    _ => None,
                })
                .collect();
            for c in &declared {
                if let CheckKind::Resource(r) = &c.kind
                    && h.standin
                        .get(
                            &r.api_version,
                            &r.kind,
                            r.namespace.as_deref().unwrap_or("default"),
                            r.name.as_deref().unwrap(),
                        )
                        .is_some()
                {
                    continue;
                }
                let before = h.labs.run_check(c, None).await;
                assert!(
                    !before.passed,
                    "{}: `{}` passes before the solution",
                    lab.id, c.title
                );
            }
            layerlab_kube::cluster::apply::apply_all(h.labs.client(), &docs, &mut |_| {})
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", lab.id));
            for c in &declared {
                let after = h.labs.run_check(c, None).await;
                assert!(
                    after.passed,
                    "{}: `{}` after the solution: {}",
                    lab.id, c.title, after.message
                );
                judged += 1;
            }
        }
    }
    assert!(judged >= 6, "{judged} checks judged");
}
