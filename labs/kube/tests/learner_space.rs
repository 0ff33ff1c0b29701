//! Learner spaces on a shared cluster, against the API server stand-in
//! (HTTPS, RBAC over ServiceAccount tokens from the TokenRequest API) with
//! the real `kubectl` reading the learner's kubeconfig: what a learner may
//! do in their namespace, and the 403s for everything else.

mod util;

use layerlab_kube::learner_space::{self, LEARNER_SA, SpaceLimits};
use std::path::Path;
use std::process::{Command, Output};
use util::harness;

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn no_kubectl() -> bool {
    let missing = layerlab_kube::cluster::prereq::on_path("kubectl").is_none();
    if missing {
        eprintln!("skipped: kubectl is not installed");
    }
    missing
}

/// Asserts kubectl failed with the API server's 403 for this user and
/// this wording (`cannot VERB resource "R" ... SCOPE`).
fn assert_forbidden(out: &Output, user: &str, what: &str) {
    let err = text(&out.stderr);
    assert!(!out.status.success(), "allowed: {}", text(&out.stdout));
    assert!(
        // `get` says "Error from server (Forbidden): ..."; typed `create`
        // subcommands "error: failed to create X: ..."; both quote the
        // 403 Status message.
        (err.contains("Error from server (Forbidden)") || err.contains("error: failed to create"))
            && err.contains(" is forbidden: ")
            && err.contains(&format!("User \"{user}\""))
            && err.contains(what),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_is_idempotent_and_makes_every_object() {
    let h = harness().await;
    let limits = SpaceLimits::default();
    let ns = learner_space::provision(h.labs.client(), "l-aaaaaaaaaaaa", "net", &limits)
        .await
        .expect("provisioned");
    assert_eq!(ns, "ll-l-aaaaaaaaaaaa-net");
    let snapshot = |s: &layerlab_kube::standin::StandIn| {
        let mut objs = Vec::new();
        for (api, kind, name) in [
            ("v1", "ServiceAccount", LEARNER_SA),
            ("rbac.authorization.k8s.io/v1", "Role", LEARNER_SA),
            ("rbac.authorization.k8s.io/v1", "RoleBinding", LEARNER_SA),
            ("v1", "ResourceQuota", "learner-quota"),
            ("v1", "LimitRange", "learner-limits"),
        ] {
            let mut o = s
                .get(api, kind, &ns, name)
                .unwrap_or_else(|| panic!("{kind} {name} missing"));
            // What a second apply may change: bookkeeping, not content.
            for k in ["resourceVersion", "managedFields"] {
                o["metadata"].as_object_mut().unwrap().remove(k);
            }
            objs.push(o);
        }
        let mut n = s.get("v1", "Namespace", "", &ns).expect("namespace");
        n["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        n["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        objs.push(n);
        objs
    };
    let first = snapshot(&h.standin);
    let ns_obj = &first[5];
    assert_eq!(
        ns_obj["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "layerlab"
    );
    assert_eq!(
        ns_obj["metadata"]["labels"]["layerlab.dev/learner"],
        "l-aaaaaaaaaaaa"
    );
    assert_eq!(
        ns_obj["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "baseline"
    );
    assert_eq!(first[3]["spec"]["hard"]["pods"], "20");
    assert_eq!(first[2]["subjects"][0]["namespace"], ns.as_str());
    let again = learner_space::provision(h.labs.client(), "l-aaaaaaaaaaaa", "net", &limits)
        .await
        .expect("provisioned again");
    assert_eq!(again, ns);
    assert_eq!(snapshot(&h.standin), first, "a second run changes nothing");
    // Drift is repaired: a quota someone loosened is put back.
    h.standin
        .update("v1", "ResourceQuota", &ns, "learner-quota", |q| {
            q["spec"]["hard"]["pods"] = "500".into();
        });
    learner_space::provision(h.labs.client(), "l-aaaaaaaaaaaa", "net", &limits)
        .await
        .unwrap();
    assert_eq!(snapshot(&h.standin)[3]["spec"]["hard"]["pods"], "20");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_s_kubectl_works_in_their_namespace_and_nowhere_else() {
    if no_kubectl() {
        return;
    }
    let h = harness().await;
    let admin = h.options();
    let client = h.labs.client();
    let limits = SpaceLimits::default();
    let a_file = h.dir.path().join("a/kubeconfig");
    let b_file = h.dir.path().join("b/kubeconfig");
    let a = learner_space::open(client, &admin, "l-aaaaaaaaaaaa", "net", &limits, &a_file)
        .await
        .expect("a's space");
    let b = learner_space::open(client, &admin, "l-bbbbbbbbbbbb", "net", &limits, &b_file)
        .await
        .expect("b's space");
    use std::os::unix::fs::PermissionsExt;
    let policy = h
        .standin
        .get(
            "admissionregistration.k8s.io/v1",
            "ValidatingAdmissionPolicyBinding",
            "",
            "layerlab-learner-services",
        )
        .expect("the externalIPs guard is bound");
    assert_eq!(
        policy["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"][0]["key"],
        "layerlab.dev/learner"
    );
    let mode = std::fs::metadata(&a_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the kubeconfig is the learner's");
    let mode = std::fs::metadata(&a.token_file)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the token file holds a token");
    let kc = std::fs::read_to_string(&a_file).unwrap();
    assert!(kc.contains("tokenFile: token"), "{kc}");
    assert!(a.expires.is_some());
    let user = format!("system:serviceaccount:{}:learner", a.namespace);

    tokio::task::block_in_place(|| {
        // Their namespace is the context's default: no -n needed.
        let out = kubectl(
            &a_file,
            &[
                "run",
                "web",
                "--image=registry.k8s.io/e2e-test-images/agnhost:2.53",
                "--restart=Never",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(h.standin.get("v1", "Pod", &a.namespace, "web").is_some());
        let out = kubectl(&a_file, &["get", "pods", "-o", "name"]);
        assert_eq!(text(&out.stdout).trim(), "pod/web", "{}", text(&out.stderr));
        // (`kubectl create configmap` speaks protobuf, which the stand-in
        // does not; a manifest goes as JSON.)
        let cm = h.dir.path().join("cm.yaml");
        std::fs::write(
            &cm,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: answers}\ndata: {veth: cali1}\n",
        )
        .unwrap();
        let out = kubectl(
            &a_file,
            &["create", "--validate=false", "-f", cm.to_str().unwrap()],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));

        // Exec in their own pod, over the websocket, with their token.
        h.standin.on_exec(|c| {
            (c.command == ["hostname"]).then(|| layerlab_kube::standin::ExecReply::ok("web\n"))
        });
        let out = kubectl(&a_file, &["exec", "web", "--", "hostname"]);
        assert_eq!(text(&out.stdout), "web\n", "{}", text(&out.stderr));

        // Another learner's namespace.
        let out = kubectl(&a_file, &["get", "pods", "-n", &b.namespace]);
        assert_forbidden(
            &out,
            &user,
            &format!(
                "cannot list resource \"pods\" in API group \"\" in the namespace \"{}\"",
                b.namespace
            ),
        );
        let out = kubectl(
            &a_file,
            &["-n", &b.namespace, "exec", "web", "--", "hostname"],
        );
        // (kubectl reads the pod before it execs: that read is refused.)
        assert_forbidden(&out, &user, "cannot get resource \"pods\"");
        let out = kubectl(&a_file, &["-n", &b.namespace, "delete", "pod", "web"]);
        assert_forbidden(&out, &user, "cannot delete resource \"pods\"");
        // Nodes, cluster-wide.
        let out = kubectl(&a_file, &["get", "nodes"]);
        assert_forbidden(
            &out,
            &user,
            "cannot list resource \"nodes\" in API group \"\" at the cluster scope",
        );
        // Secrets elsewhere, and in their own namespace too.
        let out = kubectl(&a_file, &["get", "secrets", "-n", "kube-system"]);
        assert_forbidden(
            &out,
            &user,
            "cannot list resource \"secrets\" in API group \"\" in the namespace \"kube-system\"",
        );
        let out = kubectl(&a_file, &["get", "secrets"]);
        assert_forbidden(&out, &user, "cannot list resource \"secrets\"");
        // A namespace of their own making.
        let out = kubectl(&a_file, &["create", "namespace", "mine"]);
        assert_forbidden(
            &out,
            &user,
            "cannot create resource \"namespaces\" in API group \"\" at the cluster scope",
        );
        // Escalation: cluster-admin for themselves.
        let sa = format!("{}:learner", a.namespace);
        let out = kubectl(
            &a_file,
            &[
                "create",
                "clusterrolebinding",
                "mine",
                "--clusterrole=cluster-admin",
                &format!("--serviceaccount={sa}"),
            ],
        );
        assert_forbidden(
            &out,
            &user,
            "cannot create resource \"clusterrolebindings\" in API group \"rbac.authorization.k8s.io\" at the cluster scope",
        );
        // Nor a binding in their own namespace, nor a wider Role.
        let out = kubectl(
            &a_file,
            &[
                "create",
                "rolebinding",
                "mine",
                "--clusterrole=cluster-admin",
                &format!("--serviceaccount={sa}"),
            ],
        );
        assert_forbidden(&out, &user, "cannot create resource \"rolebindings\"");
        assert!(
            h.standin
                .get(
                    "rbac.authorization.k8s.io/v1",
                    "ClusterRoleBinding",
                    "",
                    "mine"
                )
                .is_none()
        );
        // A renewed token is picked up from the token file, kubeconfig unchanged.
        let before = std::fs::read_to_string(&a.token_file).unwrap();
        let mut renewed = a.clone();
        h.standin.expire_tokens_of(&a.namespace);
        let out = kubectl(&a_file, &["get", "pods", "-o", "name"]);
        assert!(
            text(&out.stderr).contains("Unauthorized"),
            "{}",
            text(&out.stderr)
        );
        tokio::runtime::Handle::current()
            .block_on(learner_space::renew_token(client, &mut renewed))
            .unwrap();
        assert_ne!(std::fs::read_to_string(&a.token_file).unwrap(), before);
        let out = kubectl(&a_file, &["get", "pods", "-o", "name"]);
        assert_eq!(text(&out.stdout).trim(), "pod/web", "{}", text(&out.stderr));

        // The same kubeconfig through another address of the server (a
        // forwarded port in a learner's sandbox): the certificate is still
        // checked against the original name.
        let url = h.standin.url();
        let port = url.rsplit(':').next().unwrap();
        let via = learner_space::via_server(
            &std::fs::read_to_string(&a_file).unwrap(),
            &format!("https://localhost:{port}"),
        )
        .unwrap();
        let via_file = a_file.with_file_name("kubeconfig-via");
        learner_space::write_private(&via_file, &via).unwrap();
        let out = kubectl(&via_file, &["get", "pods", "-o", "name"]);
        assert_eq!(text(&out.stdout).trim(), "pod/web", "{}", text(&out.stderr));
        assert!(via.contains("tls-server-name: 127.0.0.1"), "{via}");

        // b sees only b's (empty) namespace.
        let out = kubectl(&b_file, &["get", "pods", "-o", "name"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), "");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_removes_the_namespace_its_objects_and_its_tokens() {
    let h = harness().await;
    let file = h.dir.path().join("a/kubeconfig");
    let space = learner_space::open(
        h.labs.client(),
        &h.options(),
        "l-cccccccccccc",
        "shop",
        &SpaceLimits::default(),
        &file,
    )
    .await
    .unwrap();
    // A second lab's space for the same learner.
    let other = learner_space::provision(
        h.labs.client(),
        "l-cccccccccccc",
        "net",
        &SpaceLimits::default(),
    )
    .await
    .unwrap();
    h.standin.put(layerlab_kube::standin::running_pod(
        &space.namespace,
        "web",
        "layerlab-worker",
        "10.244.1.50",
    ));
    let learner = layerlab_kube::KubeLabs::connect(&layerlab_kube::ConnectOptions {
        context: Some(space.context.clone()),
        kubeconfig: Some(file.clone()),
    })
    .await
    .expect("the learner's kubeconfig connects");
    assert!(
        learner_space::teardown(h.labs.client(), &space.namespace)
            .await
            .unwrap()
    );
    assert!(
        h.standin
            .get("v1", "Namespace", "", &space.namespace)
            .is_none()
    );
    assert!(
        h.standin
            .get("v1", "Pod", &space.namespace, "web")
            .is_none()
    );
    assert!(
        h.standin
            .get("v1", "ServiceAccount", &space.namespace, LEARNER_SA)
            .is_none()
    );
    // The ServiceAccount is gone, so its token is worthless.
    let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(learner.client().clone(), &space.namespace);
    let err = api.list(&Default::default()).await.unwrap_err().to_string();
    assert!(err.contains("401") || err.contains("Unauthorized"), "{err}");
    // A space made again under the same name does not revive the old token.
    learner_space::provision(
        h.labs.client(),
        "l-cccccccccccc",
        "shop",
        &SpaceLimits::default(),
    )
    .await
    .unwrap();
    let err = api.list(&Default::default()).await.unwrap_err().to_string();
    assert!(err.contains("401") || err.contains("Unauthorized"), "{err}");
    assert!(
        learner_space::teardown(h.labs.client(), &space.namespace)
            .await
            .unwrap()
    );
    // Again: nothing to do. The learner's other spaces go by label.
    assert!(
        !learner_space::teardown(h.labs.client(), &space.namespace)
            .await
            .unwrap()
    );
    let gone = learner_space::teardown_learner(h.labs.client(), "l-cccccccccccc")
        .await
        .unwrap();
    assert_eq!(gone, [other]);
    // Namespaces that are not learner spaces are refused.
    let err = learner_space::teardown(h.labs.client(), "kube-system")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not a layerlab learner space"),
        "{err}"
    );
    assert!(
        h.standin
            .get("v1", "Namespace", "", "kube-system")
            .is_some()
    );
}

/// A learner's runner: namespaced checks with the learner's token (their
/// pods, exec in them), node-level reads with the server's, and nothing in
/// another learner's namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_s_checks_read_their_namespace_and_the_server_reads_nodes() {
    use layerlab_kube::standin::{ExecReply, running_pod};
    let h = harness().await;
    let limits = SpaceLimits::default();
    let file = h.dir.path().join("a/kubeconfig");
    let a = learner_space::open(
        h.labs.client(),
        &h.options(),
        "l-aaaaaaaaaaaa",
        "net",
        &limits,
        &file,
    )
    .await
    .unwrap();
    let b = learner_space::provision(h.labs.client(), "l-bbbbbbbbbbbb", "net", &limits)
        .await
        .unwrap();
    for ns in [&a.namespace, &b] {
        h.standin
            .put(running_pod(ns, "client", "layerlab-worker", "10.244.1.20"));
    }
    h.standin
        .on_exec(|call| (call.command == ["hostname"]).then(|| ExecReply::ok("client\n")));
    let learner = layerlab_kube::KubeLabs::connect(&layerlab_kube::ConnectOptions {
        context: Some(a.context.clone()),
        kubeconfig: Some(file.clone()),
    })
    .await
    .unwrap()
    .in_namespace(Some("net"), &a.namespace)
    .with_reader(&h.labs);

    let pod = util::check(
        "resource: {apiVersion: v1, kind: Pod, namespace: net, name: client, match: {spec: {nodeName: layerlab-worker}}}",
    );
    let r = learner.run_check(&pod, None).await;
    assert!(r.passed, "{}", r.message);
    let exec = util::check(
        "exec: {namespace: net, pod: client, command: [hostname], expect: {stdout: client}}",
    );
    let r = learner.run_check(&exec, None).await;
    assert!(r.passed, "{}", r.message);
    // Nodes and kube-system: read with the server's credentials.
    let nodes = util::check(
        "resource: {apiVersion: v1, kind: Node, selector: kubernetes.io/os=linux, cel: 'size(objects) == 3'}",
    );
    let r = learner.run_check(&nodes, None).await;
    assert!(r.passed, "{}", r.message);
    // The same checks aimed at the other learner's namespace are refused
    // at once (403 ends a check without retrying).
    let theirs = util::check(&format!(
        "exec: {{namespace: {b}, pod: client, command: [hostname], expect: {{stdout: client}}}}"
    ));
    let r = learner.run_check(&theirs, None).await;
    assert!(!r.passed);
    assert!(r.message.contains("forbidden (403)"), "{}", r.message);
    let requests = h.standin.requests();
    assert!(
        requests
            .iter()
            .any(|l| l.contains(&format!("/namespaces/{}/pods/client/exec", a.namespace))),
        "{requests:?}"
    );
}
