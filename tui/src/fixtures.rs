//! Test-only builders for the tutor.

use layerlab_core::journey::load_journey;
use layerlab_core::packet::CaptureReader;
use layerlab_core::{Catalog, Course, Journey, SourceFile, Timestamp};
use std::sync::OnceLock;

const CHAPTER: &str =
    "id = \"basics\"\ntitle = \"Basics\"\nsummary = \"Two tiny lessons for tests.\"\n";

const LONG: &str = r#"+++
id = "long"
title = "A long lesson"
minutes = 3
objectives = ["Scroll to the end", "Get it marked read"]
+++

## Why layers

Networks are built in **layers** so each one can change without the others noticing. A `veth` pair joins two namespaces, see [short](lesson:short) and [RFC 9293](https://www.rfc-editor.org/rfc/rfc9293).

- one item that is long enough to wrap around the measure of a narrow terminal window, with a hanging indent
- two

> [!TIP]
> Use `ip -br addr` for a one-line view.

```diagram
title: two namespaces
+------+   veth   +------+
| ns-a |==========| ns-b |
+------+          +------+
```

| Flag | Meaning |
|------|---------|
| SYN  | synchronise sequence numbers |
| ACK  | acknowledgement field is valid |

```console
$ ip -br link
lo      UNKNOWN 00:00:00:00:00:00
```

Line 1.

Line 2.

Line 3.

Line 4.

Line 5.

Line 6.

Line 7.

Line 8.

Line 9. Namespaces come next: [namespaces](lesson:short#namespaces).

The end.

```quiz
kind = "single"
prompt = "Which header does a switch read to pick the output port?"
[[choices]]
text = "The Ethernet header"
correct = true
explain = "A switch is a layer 2 device: it looks up the destination MAC."
[[choices]]
text = "The IP header"
explain = "Choosing a path by IP address is routing, a router's job."
[[choices]]
text = "The HTTP `Host` header"
explain = "Only an L7 proxy reads HTTP headers."
```

```quiz
kind = "multiple"
prompt = "Which of these are layer 4 protocols?"
[[choices]]
text = "TCP"
correct = true
explain = "TCP is the reliable transport."
[[choices]]
text = "UDP"
correct = true
explain = "UDP is the datagram transport."
[[choices]]
text = "IP"
explain = "IP is layer 3: it moves packets between hosts."
```

```quiz
kind = "numeric"
prompt = "A 143-byte frame has 14, 20 and 32 bytes of Ethernet, IP and TCP headers. How many bytes of payload does it carry?"
answer = 77
unit = "bytes"
explain = "143 - 14 - 20 - 32 = 77."
```

```quiz
kind = "text"
prompt = "Which state does a TCP client enter after sending its SYN?"
accept = '(?i)syn[-_ ]?sent'
answer = "SYN-SENT"
explain = "It waits in `SYN-SENT` for the SYN-ACK."
```
"#;

const SHORT: &str = r#"+++
id = "short"
title = "A short lesson"
minutes = 1
objectives = ["Name what a namespace isolates", "Follow a link back"]
journeys = ["mini-dnat", "dns-capture"]
+++

Short. See [why layers](lesson:long#why-layers) again.

## Namespaces

Each namespace has its own interfaces.
"#;

const GLOSSARY: &str = r#"
[[term]]
term = "veth pair"
definition = "Two virtual Ethernet interfaces joined like a cable: what enters one leaves the other."
lesson = "long"

[[term]]
term = "Network namespace"
definition = "A private copy of the network stack: interfaces, routes and firewall rules."
lesson = "short"

[[term]]
term = "MTU"
definition = "Maximum transmission unit: the largest payload a link carries in one frame."
lesson = "long"
"#;

/// A two-lesson course with a four-question quiz (one of each kind),
/// `lesson:` links both ways and a glossary, leaked so it lives as long as
/// the tests.
pub fn tiny_course() -> &'static Course {
    let files = [
        SourceFile {
            path: "01-basics/chapter.toml",
            text: CHAPTER,
        },
        SourceFile {
            path: "01-basics/01-long.md",
            text: LONG,
        },
        SourceFile {
            path: "01-basics/02-short.md",
            text: SHORT,
        },
        SourceFile {
            path: "01-basics/glossary.toml",
            text: GLOSSARY,
        },
    ];
    let catalog = Catalog {
        journeys: journeys().iter().map(|j| j.id.clone()).collect(),
        ..Catalog::default()
    };
    let loaded = Course::load(&files, &catalog);
    assert_eq!(loaded.error_count(), 0, "{:?}", loaded.diagnostics);
    Box::leak(Box::new(loaded.course))
}

/// A fixed clock.
pub fn clock() -> Timestamp {
    Timestamp(1_700_000_000)
}

/// A port forward in four hops: nested places (a namespace in a laptop, a
/// hook in a router, a pod in a node), a DNAT rewrite, a routed hop.
pub const MINI_DNAT: &str = r#"
id = "mini-dnat"
title = "A DNAT in four hops"
summary = "The router rewrites the destination, routes the SYN on, and the pod gets it."

[[node]]
id = "laptop"
label = "laptop"
kind = "host"

[[node]]
id = "client"
label = "client 10.0.1.2"
kind = "namespace"
parent = "laptop"

[[node]]
id = "router"
label = "router"
kind = "router"

[[node]]
id = "dnat"
label = "PREROUTING (nat)"
kind = "netfilter"
parent = "router"

[[node]]
id = "worker"
label = "kind-worker"
kind = "kube-node"

[[node]]
id = "backend"
label = "backend 10.0.2.2"
kind = "pod"
parent = "worker"

[[link]]
from = "client"
to = "dnat"
label = "veth"

[[link]]
from = "dnat"
to = "router"

[[link]]
from = "router"
to = "backend"
label = "eth1"

[[hop]]
at = "client"
place = "eth0 of client"
explain = "The client sends a SYN to the router's public address."
verdict = "sent"
name = "syn"
[hop.packet]
eth = { src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02" }
ip = { src = "10.0.1.2", dst = "203.0.113.1", ttl = 64 }
tcp = { src_port = 43210, dst_port = 8080, seq = 1000, flags = "S", mss = 1460 }

[[hop]]
at = "dnat"
place = "PREROUTING (nat): DNAT"
explain = "The DNAT rule rewrites the destination to the backend pod."
verdict = "rewritten"
changes = ["ipv4.dst", "tcp.dst_port"]
[hop.packet]
ip = { dst = "10.0.2.2" }
tcp = { dst_port = 80 }

[[hop]]
at = "router"
place = "FORWARD, then out of eth1"
explain = "Routed: the TTL drops by one and the frame gets new MACs."
verdict = "forwarded"
changes = ["eth.src", "eth.dst", "ipv4.ttl"]
[hop.packet]
eth = { src = "02:00:00:00:00:03", dst = "02:00:00:00:00:04" }
ip = { ttl = 63 }

[[hop]]
at = "backend"
place = "eth0 of the backend pod"
explain = "The pod's socket on port 80 gets the SYN and answers with a SYN-ACK."
verdict = "delivered"
"#;

/// The test captures of core, by file name.
pub fn capture(name: &str) -> &'static [u8] {
    match name {
        "dns.pcap" => include_bytes!("../../core/tests/captures/dns.pcap"),
        "http.pcap" => include_bytes!("../../core/tests/captures/http.pcap"),
        "http-any.pcap" => include_bytes!("../../core/tests/captures/http-any.pcap"),
        "vxlan.pcap" => include_bytes!("../../core/tests/captures/vxlan.pcap"),
        other => panic!("no test capture {other}"),
    }
}

/// A journey built from one of core's test captures.
pub fn capture_journey(id: &str, name: &str) -> Journey {
    let packets: Vec<_> = CaptureReader::new(capture(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    Journey::from_capture(id, name, &packets)
}

/// The fixture journeys: `mini-dnat` (authored) and `dns-capture` (from a capture).
pub fn journeys() -> &'static [Journey] {
    static JOURNEYS: OnceLock<Vec<Journey>> = OnceLock::new();
    JOURNEYS.get_or_init(|| {
        let mut diags = Vec::new();
        let dnat = load_journey("mini-dnat.toml", MINI_DNAT, &mut diags);
        let dnat = dnat.unwrap_or_else(|| panic!("{diags:#?}"));
        assert!(diags.is_empty(), "{diags:#?}");
        vec![dnat, capture_journey("dns-capture", "dns.pcap")]
    })
}
