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

Line 9.

The end.

```quiz
kind = "single"
prompt = "p"
[[choices]]
text = "a"
correct = true
explain = "yes"
[[choices]]
text = "b"
explain = "no"
```
"#;

const SHORT: &str = "+++\nid = \"short\"\ntitle = \"A short lesson\"\nminutes = 1\nobjectives = [\"a\", \"b\"]\n+++\n\nShort.\n";

/// A two-lesson course, leaked so it lives as long as the tests.
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
    ];
    let loaded = Course::load(&files, &Catalog::default());
    assert_eq!(loaded.error_count(), 0, "{:?}", loaded.diagnostics);
    Box::leak(Box::new(loaded.course))
}

/// A fixed clock.
pub fn clock() -> Timestamp {
    Timestamp(1_700_000_000)
}
