// Included by the build scripts of the crates with root-only tests
// (labs, cli, web/server): the tests that change real network state run
// only when root builds them; anyone else's test run lists them as ignored,
// with the reason.

/// Sets `cfg(as_root)` when the build runs as root.
fn mark_root_builds() {
    println!("cargo::rustc-check-cfg=cfg(as_root)");
    let id = std::process::Command::new("id").arg("-u").output();
    if id.is_ok_and(|o| o.stdout == b"0\n") {
        println!("cargo::rustc-cfg=as_root");
    }
}
