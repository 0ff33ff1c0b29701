//! Server-sent events as the lab check stream delivers them: bytes arrive
//! in arbitrary chunks; complete events (ending in a blank line) are taken
//! off the front of the buffer, the rest waits for more bytes.

/// Takes every complete event out of `buf` as (event name, data). Comment
/// lines (keep-alives) and events without a name are dropped.
pub fn take_events(buf: &mut Vec<u8>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Some(end) = find_blank_line(buf) {
        let block: Vec<u8> = buf.drain(..end.0 + end.1).collect();
        let text = String::from_utf8_lossy(&block[..end.0]);
        let mut name = None;
        let mut data: Vec<&str> = Vec::new();
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                name = Some(v.trim_start().to_string());
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        if let Some(name) = name {
            out.push((name, data.join("\n")));
        }
    }
    out
}

/// Where the first blank line starts and how long its separator is.
fn find_blank_line(buf: &[u8]) -> Option<(usize, usize)> {
    (0..buf.len()).find_map(|i| {
        if buf[i..].starts_with(b"\r\n\r\n") {
            Some((i, 4))
        } else if buf[i..].starts_with(b"\n\n") {
            Some((i, 2))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_come_out_whole() {
        let stream = b": keep-alive\n\nevent: check\ndata: {\"index\":0}\n\nevent: step\ndata: {\"passed\":true}\n\n";
        for cut in 0..stream.len() {
            let mut buf = Vec::new();
            buf.extend_from_slice(&stream[..cut]);
            let mut got = take_events(&mut buf);
            buf.extend_from_slice(&stream[cut..]);
            got.extend(take_events(&mut buf));
            assert_eq!(
                got,
                vec![
                    ("check".to_string(), "{\"index\":0}".to_string()),
                    ("step".to_string(), "{\"passed\":true}".to_string()),
                ],
                "cut at {cut}"
            );
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn multi_line_data_and_crlf_are_joined() {
        let mut buf = b"event: error\r\ndata: a\r\ndata: b\r\n\r\nevent: step\ndata: x".to_vec();
        assert_eq!(
            take_events(&mut buf),
            vec![("error".to_string(), "a\nb".to_string())]
        );
        assert_eq!(buf, b"event: step\ndata: x", "the unfinished event waits");
    }
}
