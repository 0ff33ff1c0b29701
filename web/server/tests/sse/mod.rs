//! Reading the server-sent events of a check stream, for the lab tests.

use serde_json::Value;

/// The events of a check stream: (event name, data as JSON).
pub fn events(sse: &str) -> Vec<(String, Value)> {
    sse.split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event:") {
                    name = Some(n.trim().to_string());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            Some((name?, serde_json::from_str(&data).ok()?))
        })
        .collect()
}
