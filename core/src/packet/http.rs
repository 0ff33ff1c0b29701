//! The HTTP/1.x request or status line and headers, when a payload starts with one.

use super::dissect::{Layer, LayerBuilder};

const METHODS: [&str; 9] = [
    "GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
];

/// Whether a payload starts like an HTTP/1.x message.
pub fn looks_like_http(data: &[u8]) -> bool {
    data.starts_with(b"HTTP/1.") || METHODS.iter().any(|m| data.starts_with(m.as_bytes()))
}

/// The first line of an HTTP/1.x message, if the payload starts with one.
pub fn first_line(data: &[u8]) -> Option<&str> {
    if !looks_like_http(data) {
        return None;
    }
    let line = data.split(|&b| b == b'\n').next()?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    std::str::from_utf8(&line[..line.len().min(200)]).ok()
}

/// Dissects the start line and headers at byte `off`.
pub(super) fn dissect(data: &[u8], off: usize) -> Option<Layer> {
    let first = first_line(data)?;
    let mut b = LayerBuilder::new("http", "Hypertext Transfer Protocol 1.x", off);
    let is_response = first.starts_with("HTTP/");
    let meaning = if is_response {
        let code = first
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .unwrap_or(0);
        Some(
            match code / 100 {
                1 => "1xx informational",
                2 => "2xx success",
                3 => "3xx redirection",
                4 => "4xx client error",
                5 => "5xx server error",
                _ => "unknown status class",
            }
            .to_string(),
        )
    } else {
        Some("method, request target, protocol version".into())
    };
    let key = if is_response {
        "status_line"
    } else {
        "request_line"
    };
    let name = if is_response {
        "Status line"
    } else {
        "Request line"
    };
    b.field(key, name, off, first.len(), first, meaning);
    let mut at = data
        .iter()
        .position(|&c| c == b'\n')
        .map_or(data.len(), |p| p + 1);
    let mut body_at = None;
    for _ in 0..100 {
        if at >= data.len() {
            break;
        }
        let rest = &data[at..];
        let line_len = rest
            .iter()
            .position(|&c| c == b'\n')
            .map_or(rest.len(), |p| p + 1);
        let line = &rest[..line_len];
        // Byte length, not the decoded one: invalid UTF-8 decodes longer.
        let content_len = line
            .iter()
            .rposition(|&c| c != b'\r' && c != b'\n')
            .map_or(0, |p| p + 1);
        if content_len == 0 {
            body_at = Some(at + line_len);
            break;
        }
        let text = String::from_utf8_lossy(&line[..content_len]);
        if let Some((name, value)) = text.split_once(':') {
            b.field(
                "header",
                name.trim(),
                off + at,
                content_len,
                value.trim(),
                None,
            );
        }
        at += line_len;
    }
    if let Some(body) = body_at.filter(|&b| b < data.len()) {
        b.field(
            "body",
            "Body",
            off + body,
            data.len() - body,
            format!("{} bytes", data.len() - body),
            None,
        );
    }
    Some(b.finish(off + data.len(), first.to_string()))
}
