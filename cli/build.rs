//! Marks builds made by root, whose tests may change real network state.
fn main() {
    // Root-only tests (network namespaces, iptables) run only when root
    // builds them; anyone else's test run lists them as ignored, with why.
    println!("cargo::rustc-check-cfg=cfg(as_root)");
    if std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n")
    {
        println!("cargo::rustc-cfg=as_root");
    }
}
