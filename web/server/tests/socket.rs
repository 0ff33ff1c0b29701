//! The server on a real loopback socket: keep-alive, the health probe, the
//! header-read timeout, and graceful shutdown with an idle keep-alive
//! connection open (which must not hold the server up).

use layerlab_server::{AppState, ServeOptions, probe, router, run};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Reads one HTTP/1.1 response with a Content-Length body.
fn read_response(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("read headers");
        assert_eq!(n, 1, "connection closed mid-headers: {buf:?}");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().unwrap())
        })
        .expect("content-length");
    let mut body = vec![0; len];
    stream.read_exact(&mut body).expect("read body");
    (head, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_socket_keepalive_probe_timeout_and_shutdown() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let opts = ServeOptions {
        header_read_timeout: Duration::from_millis(300),
        shutdown_grace: Duration::from_secs(5),
        ..ServeOptions::default()
    };
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        run(listener, router(AppState::embedded()), &opts, async {
            let _ = stop_rx.await;
        })
        .await
    });

    let client = tokio::task::spawn_blocking(move || {
        // Two requests on one connection.
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for path in ["/api/health", "/api/lessons/nope"] {
            write!(s, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
            let (head, body) = read_response(&mut s);
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            if path == "/api/health" {
                assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                assert_eq!(json["status"], "ok");
            } else {
                assert!(head.starts_with("HTTP/1.1 404"), "{head}");
                assert!(json["error"].as_str().unwrap().contains("nope"));
            }
        }

        // The container health check.
        probe(addr, Duration::from_secs(2)).expect("healthy");

        // A client that never finishes its headers is cut off.
        let mut slow = TcpStream::connect(addr).unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: te")
            .unwrap();
        let started = Instant::now();
        let mut rest = Vec::new();
        let _ = slow.read_to_end(&mut rest);
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_secs(3),
            "slow client held the connection for {waited:?}"
        );
        assert!(
            rest.is_empty() || String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 408"),
            "{rest:?}"
        );
        s
    });
    let mut idle = client.await.unwrap();

    // Shutdown: the server stops accepting, closes the idle connection and
    // returns well before its grace period ends.
    let started = Instant::now();
    stop_tx.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops within its grace period")
        .unwrap();
    result.expect("clean shutdown");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let mut rest = Vec::new();
    assert_eq!(
        idle.read_to_end(&mut rest).unwrap_or(0),
        0,
        "idle connection closed"
    );
    let refused = tokio::task::spawn_blocking(move || probe(addr, Duration::from_secs(1)))
        .await
        .unwrap();
    assert!(refused.is_err(), "still answering after shutdown");
}

#[test]
fn probe_reports_a_dead_address() {
    // Bind then drop, so nothing listens on the port.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = probe(addr, Duration::from_secs(1)).unwrap_err();
    assert!(err.to_string().contains(&addr.to_string()), "{err:#}");
}

#[test]
fn wildcard_binds_are_probed_on_loopback() {
    let opts = ServeOptions {
        bind: "0.0.0.0".parse().unwrap(),
        port: 9,
        ..ServeOptions::default()
    };
    assert_eq!(opts.local_addr(), "127.0.0.1:9".parse().unwrap());
    let v6 = ServeOptions {
        bind: "::".parse().unwrap(),
        ..opts.clone()
    };
    assert_eq!(v6.local_addr(), "[::1]:9".parse().unwrap());
    assert_eq!(ServeOptions::default().bind.to_string(), "127.0.0.1");
}
