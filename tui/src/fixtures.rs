//! Test-only builders for the tutor.

use layerlab_core::{Catalog, Course, SourceFile, Timestamp};

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
    let loaded = Course::load(&files, &Catalog::default());
    assert_eq!(loaded.error_count(), 0, "{:?}", loaded.diagnostics);
    Box::leak(Box::new(loaded.course))
}

/// A fixed clock.
pub fn clock() -> Timestamp {
    Timestamp(1_700_000_000)
}
