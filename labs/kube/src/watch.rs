//! Change signals from watches: while a check runs, one watch per relevant
//! object set wakes the runner the moment something changes, so a step
//! turns green within milliseconds of the state becoming true instead of at
//! the next poll.

use crate::observe::{KindInfo, Kinds, dynamic_api};
use futures::{StreamExt, TryStreamExt};
use kube::Client;
use kube::api::{ListParams, WatchEvent, WatchParams};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A set of objects to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// `apiVersion` of the kind.
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Namespace (None: all namespaces, or cluster-scoped).
    pub namespace: Option<String>,
    /// Label selector.
    pub labels: Option<String>,
    /// Field selector (`metadata.name=web`).
    pub fields: Option<String>,
}

impl Target {
    /// Every object of a kind in a namespace.
    pub fn all(api_version: &str, kind: &str, namespace: Option<&str>) -> Self {
        Target {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: namespace.map(String::from),
            labels: None,
            fields: None,
        }
    }

    /// One named object.
    pub fn named(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        Target {
            fields: Some(format!("metadata.name={name}")),
            ..Target::all(api_version, kind, namespace)
        }
    }

    /// Objects with these labels.
    pub fn labelled(api_version: &str, kind: &str, namespace: Option<&str>, labels: &str) -> Self {
        Target {
            labels: Some(labels.into()),
            ..Target::all(api_version, kind, namespace)
        }
    }
}

/// Server-side watch length; the loop re-lists and re-watches after it.
const WATCH_SECONDS: u32 = 60;

/// Pause before re-establishing a failed watch.
const REWATCH_PAUSE: Duration = Duration::from_millis(250);

/// Watches that ring a bell on every change; dropped with the check.
pub(crate) struct ChangeFeed {
    bell: Arc<Notify>,
    tasks: Vec<JoinHandle<()>>,
}

impl ChangeFeed {
    /// Starts one watch per target.
    pub fn start(client: &Client, kinds: &Arc<Kinds>, targets: Vec<Target>) -> Self {
        let bell = Arc::new(Notify::new());
        let tasks = targets
            .into_iter()
            .map(|t| {
                let client = client.clone();
                let kinds = kinds.clone();
                let bell = bell.clone();
                tokio::spawn(async move { watch_loop(client, kinds, t, bell).await })
            })
            .collect();
        ChangeFeed { bell, tasks }
    }

    /// Waits for the next change, or at most `max`.
    pub async fn next_change(&self, max: Duration) {
        let _ = tokio::time::timeout(max, self.bell.notified()).await;
    }
}

impl Drop for ChangeFeed {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn resolve(client: &Client, kinds: &Kinds, t: &Target) -> Option<KindInfo> {
    kinds.resolve(client, &t.api_version, &t.kind).await.ok()
}

/// List (for a resourceVersion), then watch from there; on any error or
/// when the server closes the watch, start again. Every event rings the bell.
async fn watch_loop(client: Client, kinds: Arc<Kinds>, t: Target, bell: Arc<Notify>) {
    // Discovery failures are the observer's to report; the watch just waits.
    let Some(info) = resolve(&client, &kinds, &t).await else {
        return;
    };
    let api = match (&t.namespace, info.namespaced) {
        (Some(ns), true) => dynamic_api(&client, &info, ns),
        _ => kube::Api::all_with(client.clone(), &info.ar),
    };
    let mut lp = ListParams::default();
    let mut wp = WatchParams::default().timeout(WATCH_SECONDS);
    if let Some(l) = &t.labels {
        lp = lp.labels(l);
        wp = wp.labels(l);
    }
    if let Some(f) = &t.fields {
        lp = lp.fields(f);
        wp = wp.fields(f);
    }
    loop {
        let version = match tokio::time::timeout(crate::client::CALL_TIMEOUT, api.list(&lp)).await {
            Ok(Ok(list)) => list.metadata.resource_version.unwrap_or_default(),
            _ => {
                tokio::time::sleep(REWATCH_PAUSE).await;
                continue;
            }
        };
        // Something may have changed before this watch opened (between the
        // check's first observation and now, or while re-listing).
        bell.notify_one();
        let stream = match api.watch(&wp, &version).await {
            Ok(s) => s,
            Err(_) => {
                tokio::time::sleep(REWATCH_PAUSE).await;
                continue;
            }
        };
        let mut stream = stream.boxed();
        while let Ok(Some(event)) = stream.try_next().await {
            match event {
                WatchEvent::Added(_) | WatchEvent::Modified(_) | WatchEvent::Deleted(_) => {
                    bell.notify_one();
                }
                WatchEvent::Bookmark(_) => {}
                // 410 Gone (too old a version) and friends: list again.
                WatchEvent::Error(_) => break,
            }
        }
        tokio::time::sleep(REWATCH_PAUSE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::standin::{StandIn, set_pod_ready};
    use std::time::Instant;

    #[tokio::test]
    async fn a_change_rings_the_bell_long_before_the_wait_ends() {
        let standin = std::sync::Arc::new(StandIn::start().await.unwrap());
        let dir = std::env::temp_dir().join(format!("layerlab-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kubeconfig");
        standin.write_kubeconfig(&path).unwrap();
        let conn = crate::client::client(&crate::ConnectOptions {
            context: None,
            kubeconfig: Some(path),
        })
        .await
        .unwrap();
        let kinds = Arc::new(Kinds::default());
        let feed = ChangeFeed::start(
            &conn.client,
            &kinds,
            vec![Target::named("v1", "Pod", Some("shop"), "db")],
        );
        // The watch rings once when it opens (a change may have come
        // before it); after that an unrelated pod does not ring it.
        feed.next_change(Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        standin.update("v1", "Pod", "shop", "batch", |p| set_pod_ready(p, false));
        let start = Instant::now();
        feed.next_change(Duration::from_millis(300)).await;
        assert!(
            start.elapsed() >= Duration::from_millis(290),
            "an unrelated pod rang"
        );
        standin.after(Duration::from_millis(100), "v1", "Pod", "shop", "db", |p| {
            set_pod_ready(p, false)
        });
        let start = Instant::now();
        feed.next_change(Duration::from_secs(10)).await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(90) && waited < Duration::from_secs(1),
            "{waited:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
