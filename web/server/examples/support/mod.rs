//! What the load examples (`workshop_load`, `class_load`) share: plain
//! HTTP/1.1 on a fresh connection per request, joining a workshop, a
//! reader of server-sent event streams (the check stream, the dashboard's
//! events) and percentiles. Each example uses part of it.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Who sends a request.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    /// No session (joining).
    Nobody,
    /// A learner's session cookie (`name=value`).
    Cookie(&'a str),
    /// The instructor's token.
    Bearer(&'a str),
}

impl Who<'_> {
    fn header(self) -> String {
        match self {
            Who::Nobody => String::new(),
            Who::Cookie(c) => format!("Cookie: {c}\r\n"),
            Who::Bearer(t) => format!("Authorization: Bearer {t}\r\n"),
        }
    }
}

/// Connects and sends one request (`Connection: close`).
async fn send(
    port: u16,
    method: &str,
    path: &str,
    who: Who<'_>,
    body: &str,
) -> Result<TcpStream, Error> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    s.set_nodelay(true)?;
    s.write_all(
        format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            who.header(),
            body.len()
        )
        .as_bytes(),
    )
    .await?;
    Ok(s)
}

fn status_of(head: &str) -> u16 {
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// One HTTP/1.1 request on its own connection; answers status, headers, body.
/// (For answers with a length; streams go through [`EventStream`].)
pub async fn http(
    port: u16,
    method: &str,
    path: &str,
    who: Who<'_>,
    body: &str,
) -> Result<(u16, String, String), Error> {
    let mut s = send(port, method, path, who, body).await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Ok((status_of(head), head.to_string(), body.to_string()))
}

/// Joins the workshop as `name`: the learner's id and session cookie.
pub async fn join(port: u16, code: &str, name: &str) -> Result<(String, String), Error> {
    let body = serde_json::json!({"code": code, "name": name}).to_string();
    let (status, head, body) = http(port, "POST", "/api/workshop/join", Who::Nobody, &body).await?;
    if status != 200 {
        return Err(format!("join as {name}: {status} {body}").into());
    }
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .ok_or("no cookie")?
        .to_string();
    let id = serde_json::from_str::<serde_json::Value>(&body)?["id"]
        .as_str()
        .ok_or("no learner id")?
        .to_string();
    Ok((id, cookie))
}

/// A server-sent event stream read as it arrives: HTTP/1.1 with chunked
/// (or unframed) body, then `event:`/`data:` blocks.
pub struct EventStream {
    s: TcpStream,
    /// Bytes read, not yet de-chunked.
    raw: Vec<u8>,
    /// The de-chunked body, not yet parsed into events.
    body: Vec<u8>,
    chunked: bool,
    /// The last chunk (or the connection's end) was seen.
    done: bool,
}

/// One event: its name (`message` if unnamed) and its data.
#[derive(Debug, Clone)]
pub struct Sse {
    pub event: String,
    pub data: String,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl EventStream {
    /// Sends the request and reads the answer's head; a status other than
    /// 200 is an error with the body's start.
    pub async fn open(
        port: u16,
        method: &str,
        path: &str,
        who: Who<'_>,
        body: &str,
    ) -> Result<EventStream, Error> {
        let mut s = send(port, method, path, who, body).await?;
        let mut raw = Vec::new();
        let end = loop {
            if let Some(i) = find(&raw, b"\r\n\r\n") {
                break i;
            }
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Err(format!("{method} {path}: closed before the answer's head").into());
            }
            raw.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
        let raw = raw.split_off(end + 4);
        let status = status_of(&head);
        if status != 200 {
            let mut rest = raw;
            let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut rest)).await;
            return Err(format!(
                "{method} {path}: {status} {}",
                String::from_utf8_lossy(&rest[..rest.len().min(300)])
            )
            .into());
        }
        let mut stream = EventStream {
            s,
            raw,
            body: Vec::new(),
            chunked: head.contains("transfer-encoding: chunked"),
            done: false,
        };
        // The whole answer may have come with its head (a step answered
        // from its last observation is written at once).
        stream.dechunk()?;
        Ok(stream)
    }

    /// Moves whole chunks from `raw` to `body`.
    fn dechunk(&mut self) -> Result<(), Error> {
        if !self.chunked {
            self.body.append(&mut self.raw);
            return Ok(());
        }
        while let Some(eol) = find(&self.raw, b"\r\n") {
            let line = String::from_utf8_lossy(&self.raw[..eol]);
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {line:?}"))?;
            if size == 0 {
                self.done = true;
                self.raw.clear();
                return Ok(());
            }
            if self.raw.len() < eol + 2 + size + 2 {
                return Ok(());
            }
            self.body
                .extend_from_slice(&self.raw[eol + 2..eol + 2 + size]);
            self.raw.drain(..eol + 2 + size + 2);
        }
        Ok(())
    }

    /// The next event; `None` once the stream has ended. Comments
    /// (keep-alives) are skipped.
    pub async fn next(&mut self) -> Result<Option<Sse>, Error> {
        loop {
            while let Some(i) = find(&self.body, b"\n\n") {
                let block: Vec<u8> = self.body.drain(..i + 2).collect();
                let text = String::from_utf8_lossy(&block);
                let (mut event, mut data) = (None, Vec::new());
                for line in text.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = Some(v.trim_start().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if event.is_some() || !data.is_empty() {
                    return Ok(Some(Sse {
                        event: event.unwrap_or_else(|| "message".into()),
                        data: data.join("\n"),
                    }));
                }
            }
            if self.done {
                return Ok(None);
            }
            let mut buf = [0u8; 16384];
            let n = self.s.read(&mut buf).await?;
            if n == 0 {
                self.done = true;
                if self.chunked {
                    return Err("the stream was cut off (no last chunk)".into());
                }
            }
            self.raw.extend_from_slice(&buf[..n]);
            self.dechunk()?;
        }
    }
}

/// The `p` quantile (0..=1) of sorted samples; NaN if there are none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
