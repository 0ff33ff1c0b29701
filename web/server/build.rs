//! Embeds the built web app (`web/app/dist/`, made by `cargo xtask web`).
//!
//! Whatever files exist are compiled in, each with a gzip copy (made here,
//! once, so serving costs no CPU) and a content hash for its ETag. A missing
//! or empty folder is fine: the server then says how to build the app, so
//! the terminal tutor never needs the wasm toolchain. The SHA-256 of every
//! inline `<script>`/`<style>` in `index.html` goes into the CSP, so the page
//! keeps working under a policy that forbids other inline code.

use flate2::{Compression, write::GzEncoder};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    mark_root_builds();
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it"));
    let app = manifest.join("../app");
    let dist = app.join("dist");

    // Watch the nearest folder that exists, so the first `cargo xtask web`
    // (which creates dist/) also triggers a rebuild; a missing path would
    // make cargo rerun this script on every build.
    let web = manifest.join("..");
    let watched = [&dist, &app, &web]
        .into_iter()
        .find(|p| p.is_dir())
        .expect("web/ exists: this crate lives in it");
    println!("cargo:rerun-if-changed={}", watched.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut files = Vec::new();
    if dist.is_dir() {
        collect(&dist, &dist, &mut files);
    }
    files.sort();

    let mut code = String::from(
        "/// The embedded app files, sorted by path.\npub static ASSETS: &[Asset] = &[\n",
    );
    let mut script_hashes = Vec::new();
    let mut style_hashes = Vec::new();
    for (i, rel) in files.iter().enumerate() {
        let path = dist.join(rel);
        let body = fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mime = mime_of(rel);
        let gzip = if compressible(mime) && body.len() > 1024 {
            let mut enc = GzEncoder::new(Vec::new(), Compression::best());
            enc.write_all(&body).expect("gzip into memory");
            let gz = enc.finish().expect("gzip into memory");
            // Only worth a second copy when it saves at least a tenth.
            if gz.len() * 10 < body.len() * 9 {
                let gz_path = out.join(format!("asset-{i}.gz"));
                fs::write(&gz_path, gz).expect("write to OUT_DIR");
                format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
            } else {
                "None".to_string()
            }
        } else {
            "None".to_string()
        };
        if rel == "index.html" {
            let html = String::from_utf8_lossy(&body);
            script_hashes = inline_hashes(&html, "script");
            style_hashes = inline_hashes(&html, "style");
        }
        let digest = Sha256::digest(&body);
        let tag = hex(&digest[..12]);
        // Each encoding is its own representation, so its own strong ETag.
        let (etag, etag_gzip) = (format!("\"{tag}\""), format!("\"{tag}-gzip\""));
        writeln!(
            code,
            "    Asset {{ path: {rel:?}, mime: {mime:?}, etag: {etag:?}, etag_gzip: {etag_gzip:?}, body: include_bytes!({:?}), gzip: {gzip} }},",
            path.display().to_string()
        )
        .expect("write to String");
    }
    code.push_str("];\n");
    writeln!(
        code,
        "/// CSP sources for the inline scripts of index.html.\npub static INLINE_SCRIPTS: &[&str] = &{script_hashes:?};\n/// CSP sources for the inline styles of index.html.\npub static INLINE_STYLES: &[&str] = &{style_hashes:?};"
    )
    .expect("write to String");
    fs::write(out.join("assets.rs"), code).expect("write to OUT_DIR");
}

/// Every regular file under `dir`, as `/`-separated paths relative to `root`.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("readable folder entry");
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // Hidden files are editor and tool leftovers, never part of the app.
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.is_file() {
            let rel = path.strip_prefix(root).expect("under root");
            let parts: Vec<_> = rel.iter().map(|p| p.to_string_lossy()).collect();
            files.push(parts.join("/"));
        }
    }
}

/// Content type by extension (the app ships only a handful of kinds).
fn mime_of(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether gzip is likely to shrink this kind of file.
fn compressible(mime: &str) -> bool {
    mime.starts_with("text/")
        || matches!(
            mime,
            "application/wasm" | "application/json" | "image/svg+xml" | "image/x-icon"
        )
}

/// `'sha256-…'` for the content of every `<tag>` without a `src` attribute.
fn inline_hashes(html: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(gt) = after.find('>') else { break };
        let attrs = &after[..gt];
        let body_start = &after[gt + 1..];
        let Some(end) = body_start.find(&close) else {
            break;
        };
        let body = &body_start[..end];
        if !attrs.contains("src=") && !body.trim().is_empty() {
            hashes.push(format!(
                "'sha256-{}'",
                base64(&Sha256::digest(body.as_bytes()))
            ));
        }
        rest = &body_start[end + close.len()..];
    }
    hashes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard base64 with padding, as CSP hash sources need.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

include!("../../labs/as_root.rs");
