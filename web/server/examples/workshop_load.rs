//! Load for `bench/workshop.sh`: N learners join a running workshop server,
//! each starts the router lab's confined sandbox and opens its browser
//! terminal; then every terminal types keys while all are open, and the
//! time from each key sent to its echo is measured. Prints one JSON line.
//!
//! `cargo run --release -p layerlab-server --example workshop_load -- PORT CODE N [ROUNDS]`

#[allow(dead_code)] // shared with class_load, which uses more of it
mod support;

use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use support::{Error, Who, http, percentile};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Reads frames until `needle` has appeared in the output.
async fn wait_for(ws: &mut Socket, needle: &[u8], limit: Duration) -> Result<(), Error> {
    let mut seen = Vec::new();
    tokio::time::timeout(limit, async {
        while let Some(msg) = ws.next().await {
            if let Message::Binary(b) = msg? {
                seen.extend_from_slice(&b);
                if seen.windows(needle.len()).any(|w| w == needle) {
                    return Ok(());
                }
            }
        }
        Err::<(), Error>("the terminal closed".into())
    })
    .await
    .map_err(|_| format!("no {:?} within {limit:?}", String::from_utf8_lossy(needle)))?
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).ok_or("PORT")?.parse()?;
    let code = args.get(2).ok_or("CODE")?.clone();
    let n: usize = args.get(3).ok_or("N")?.parse()?;
    let rounds: usize = args.get(4).map_or(Ok(20), |r| r.parse())?;

    // Join and start, one learner after another: start time per sandbox.
    let mut cookies = Vec::new();
    let mut starts = Vec::new();
    let joined = Instant::now();
    for i in 0..n {
        let (_, cookie) = support::join(port, &code, &format!("learner {i}")).await?;
        let t = Instant::now();
        let (status, _, body) = http(
            port,
            "POST",
            "/api/labs/router/start",
            Who::Cookie(&cookie),
            "",
        )
        .await?;
        if status != 200 {
            return Err(format!("start {i}: {status} {body}").into());
        }
        starts.push(t.elapsed().as_secs_f64() * 1e3);
        cookies.push(cookie);
    }
    let join_and_start_s = joined.elapsed().as_secs_f64();

    // Every learner opens a terminal and waits for the prompt.
    let mut sockets = Vec::new();
    let opened = Instant::now();
    for cookie in &cookies {
        let mut req =
            format!("ws://127.0.0.1:{port}/api/labs/router/terminal").into_client_request()?;
        req.headers_mut().insert("cookie", cookie.parse()?);
        req.headers_mut()
            .insert("origin", format!("http://127.0.0.1:{port}").parse()?);
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
        ws.send(Message::Text(
            r#"{"type":"resize","cols":100,"rows":30}"#.into(),
        ))
        .await?;
        wait_for(&mut ws, b"#", Duration::from_secs(20)).await?;
        sockets.push(ws);
    }
    let terminals_open_s = opened.elapsed().as_secs_f64();

    // Keystroke echo with all terminals open: each round, every terminal
    // types one key (all at once) and waits for its echo.
    let mut echoes = Vec::new();
    for round in 0..rounds {
        let key = [b'a' + (round % 26) as u8];
        let mut tasks = Vec::new();
        for mut ws in sockets.drain(..) {
            tasks.push(tokio::spawn(async move {
                let t = Instant::now();
                ws.send(Message::Binary(key.to_vec().into())).await?;
                wait_for(&mut ws, &key, Duration::from_secs(10)).await?;
                Ok::<_, Error>((ws, t.elapsed().as_secs_f64() * 1e3))
            }));
        }
        for t in tasks {
            let (ws, ms) = t.await??;
            echoes.push(ms);
            sockets.push(ws);
        }
    }
    for ws in &mut sockets {
        // Ctrl-U clears the typed line; the shells stay for the next run.
        let _ = ws.send(Message::Binary(vec![0x15].into())).await;
        let _ = ws.close(None).await;
    }
    starts.sort_by(f64::total_cmp);
    echoes.sort_by(f64::total_cmp);
    println!(
        "{{\"learners\":{n},\"join_and_start_s\":{join_and_start_s:.2},\"start_ms_p50\":{:.1},\"start_ms_p95\":{:.1},\"start_ms_max\":{:.1},\"terminals_open_s\":{terminals_open_s:.2},\"echo_samples\":{},\"echo_ms_p50\":{:.2},\"echo_ms_p99\":{:.2},\"echo_ms_max\":{:.2}}}",
        percentile(&starts, 0.5),
        percentile(&starts, 0.95),
        percentile(&starts, 1.0),
        echoes.len(),
        percentile(&echoes, 0.5),
        percentile(&echoes, 0.99),
        percentile(&echoes, 1.0),
    );
    Ok(())
}
