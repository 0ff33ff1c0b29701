//! Marks builds made by root, whose tests may change real network state.
fn main() {
    mark_root_builds();
}

include!("../labs/as_root.rs");
