//! `cargo xtask web`: builds the browser app into `web/app/dist/`;
//! `cargo xtask browser-test`: runs it in headless Debian Chromium against
//! the real `layerlab serve` (the release binary `cargo xtask dist` builds).
//!
//! No trunk: cargo builds the wasm, `wasm-bindgen-cli-support` (pinned to
//! the exact `wasm-bindgen` of Cargo.lock, or the glue would not match)
//! writes the JS glue, and npm's binaryen `wasm-opt` shrinks it. Debian's
//! binaryen 108 emits broken wasm for current Rust output, so it is never
//! used; without npm the app ships unoptimised, with a warning.

use flate2::{Compression, write::GzEncoder};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// npm packages, exact versions, installed under `target/npm`.
const NPM_PACKAGES: &[&str] = &[
    "binaryen@132.0.0",
    "playwright-core@1.65.1",
    "terser@5.51.4",
    // The lab terminal (web/app/terminal/), bundled by esbuild.
    "@xterm/xterm@6.0.0",
    "@xterm/addon-fit@0.11.0",
    "esbuild@0.28.2",
];
/// wasm + js + css, gzipped, must stay under this (the budget).
const BUDGET_GZIP_BYTES: usize = 400 * 1024;
/// terminal.js + terminal.css, gzipped, loaded only on lab pages.
const TERMINAL_BUDGET_GZIP_BYTES: usize = 120 * 1024;
/// The browser CI uses: Debian's, never a downloaded one.
const CHROMIUM: &str = "/usr/bin/chromium";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR").trim_end_matches("/xtask"))
}

/// Builds `web/app/dist/`: index.html, style.css, layerlab_app.js,
/// layerlab_app_bg.wasm, and the lab terminal (terminal.js, terminal.css).
pub fn build() -> Result<(), String> {
    let start = Instant::now();
    let root = root();
    super::run(
        "cargo",
        &[
            "build",
            "-p",
            "layerlab-app",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
            "--locked",
        ],
    )?;
    let wasm = root.join("target/wasm32-unknown-unknown/wasm-release/layerlab_app.wasm");
    let dist = root.join("web/app/dist");
    let staging = root.join("target/web-bindgen");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;

    eprintln!("\n==> wasm-bindgen {}", wasm.display());
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        // The generated init() then finds the .wasm beside the .js by itself.
        .omit_default_module_path(false)
        .typescript(false)
        .generate(&staging)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?;

    let _ = fs::remove_dir_all(&dist);
    fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    let bg = staging.join("layerlab_app_bg.wasm");
    let out_wasm = dist.join("layerlab_app_bg.wasm");
    optimize(&root, &bg, &out_wasm)?;
    minify(
        &root,
        &staging.join("layerlab_app.js"),
        &dist.join("layerlab_app.js"),
    )?;
    minify(
        &root,
        &root.join("web/app/style.css"),
        &dist.join("style.css"),
    )?;
    let index = root.join("web/app/index.html");
    fs::copy(&index, dist.join("index.html"))
        .map_err(|e| format!("copy {}: {e}", index.display()))?;

    let mut total_gz = 0;
    eprintln!("\n{:<24} {:>10} {:>10}", "web/app/dist", "bytes", "gzip -9");
    for name in [
        "layerlab_app_bg.wasm",
        "layerlab_app.js",
        "style.css",
        "index.html",
    ] {
        let body = fs::read(dist.join(name)).map_err(|e| format!("{name}: {e}"))?;
        let gz = gzip_len(&body);
        if name != "index.html" {
            total_gz += gz;
        }
        eprintln!("{name:<24} {:>10} {:>10}", body.len(), gz);
    }
    eprintln!(
        "wasm + js + css gzipped: {:.1} KB (budget {} KB); built in {:.1}s",
        total_gz as f64 / 1024.0,
        BUDGET_GZIP_BYTES / 1024,
        start.elapsed().as_secs_f64()
    );
    if total_gz > BUDGET_GZIP_BYTES {
        return Err(format!(
            "the app is {:.1} KB gzipped, over the {} KB budget",
            total_gz as f64 / 1024.0,
            BUDGET_GZIP_BYTES / 1024
        ));
    }
    bundle_terminal(&root, &dist)
}

/// Bundles the lab terminal (`web/app/terminal/terminal.js`, xterm.js and
/// its fit addon, their CSS) with esbuild into `dist/terminal.js` and
/// `dist/terminal.css`, minified, and holds it to its own budget. The app
/// loads it only on lab pages. Without npm there is no terminal (the lab
/// page then says so), with a warning.
fn bundle_terminal(root: &Path, dist: &Path) -> Result<(), String> {
    if Command::new("npm").arg("--version").output().is_err() {
        eprintln!("warning: npm not found, so the lab terminal is not built (install npm)");
        return Ok(());
    }
    let prefix = npm_install(root)?;
    let modules = prefix.join("node_modules");
    let esbuild = modules.join(".bin/esbuild");
    let out = dist.join("terminal.js");
    let shown = format!("{} web/app/terminal/terminal.js", esbuild.display());
    eprintln!("\n==> {shown}");
    let status = Command::new(&esbuild)
        .args([
            "web/app/terminal/terminal.js",
            "--bundle",
            "--format=esm",
            "--minify",
            "--target=es2020",
            // xterm's licence comments, kept once at the end.
            "--legal-comments=eof",
            "--log-level=warning",
            &format!("--outfile={}", out.display()),
        ])
        // The packages live under target/npm, not beside the source.
        .env("NODE_PATH", &modules)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if !status.success() {
        return Err(format!("`{shown}` failed ({status})"));
    }
    let mut total_gz = 0;
    for name in ["terminal.js", "terminal.css"] {
        let body = fs::read(dist.join(name)).map_err(|e| format!("{name}: {e}"))?;
        let gz = gzip_len(&body);
        total_gz += gz;
        eprintln!("{name:<24} {:>10} {:>10}", body.len(), gz);
    }
    eprintln!(
        "terminal js + css gzipped: {:.1} KB (budget {} KB, loaded on lab pages only)",
        total_gz as f64 / 1024.0,
        TERMINAL_BUDGET_GZIP_BYTES / 1024
    );
    if total_gz > TERMINAL_BUDGET_GZIP_BYTES {
        return Err(format!(
            "the terminal is {:.1} KB gzipped, over its {} KB budget",
            total_gz as f64 / 1024.0,
            TERMINAL_BUDGET_GZIP_BYTES / 1024
        ));
    }
    Ok(())
}

fn gzip_len(body: &[u8]) -> usize {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(body).expect("gzip into memory");
    enc.finish().expect("gzip into memory").len()
}

/// Installs the pinned npm packages under `target/npm` once.
fn npm_install(root: &Path) -> Result<PathBuf, String> {
    let prefix = root.join("target/npm");
    let installed = NPM_PACKAGES.iter().all(|spec| {
        let (name, version) = spec.rsplit_once('@').expect("name@version");
        fs::read_to_string(prefix.join(format!("node_modules/{name}/package.json")))
            .is_ok_and(|p| p.contains(&format!("\"version\": \"{version}\"")))
    });
    if !installed {
        let prefix_arg = prefix.display().to_string();
        let mut args = vec![
            "install",
            "--prefix",
            &prefix_arg,
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ];
        args.extend(NPM_PACKAGES);
        super::run("npm", &args)?;
    }
    Ok(prefix)
}

/// `wasm-opt -Oz` from npm's binaryen; copies the file unoptimised (with a
/// warning) when npm is not there.
fn optimize(root: &Path, input: &Path, output: &Path) -> Result<(), String> {
    let has_npm = Command::new("npm").arg("--version").output().is_ok();
    if !has_npm {
        eprintln!(
            "warning: npm not found, so the wasm is not optimised (install npm for binaryen's wasm-opt)"
        );
        fs::copy(input, output).map_err(|e| format!("copy wasm: {e}"))?;
        return Ok(());
    }
    let prefix = npm_install(root)?;
    let wasm_opt = prefix.join("node_modules/.bin/wasm-opt");
    super::run(
        &wasm_opt.display().to_string(),
        &[
            "-Oz",
            "--converge",
            // Rust's wasm32 output puts the stack first, growing down to
            // address 0, so the lowest 1 KiB is reached only by a stack
            // about to overflow: binaryen may fold more address arithmetic
            // (about 3.5 KB gzipped).
            "--low-memory-unused",
            // What rustc's wasm32 target emits by default.
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
            &input.display().to_string(),
            "-o",
            &output.display().to_string(),
        ],
    )
}

/// Minifies the JS glue (terser) or the stylesheet (esbuild) into
/// `output`; without npm, copies it as it is, with a warning.
fn minify(root: &Path, input: &Path, output: &Path) -> Result<(), String> {
    if Command::new("npm").arg("--version").output().is_err() {
        eprintln!(
            "warning: npm not found, so {} is not minified (install npm for terser and esbuild)",
            input.display()
        );
        return fs::copy(input, output)
            .map(|_| ())
            .map_err(|e| format!("copy {}: {e}", input.display()));
    }
    let bin = npm_install(root)?.join("node_modules/.bin");
    let (from, to) = (input.display().to_string(), output.display().to_string());
    if input.extension().is_some_and(|e| e == "css") {
        let tool = bin.join("esbuild").display().to_string();
        super::run(
            &tool,
            &[
                &from,
                "--minify",
                "--log-level=warning",
                &format!("--outfile={to}"),
            ],
        )
    } else {
        let tool = bin.join("terser").display().to_string();
        super::run(
            &tool,
            &[
                &from,
                "--module",
                "--compress",
                "--mangle",
                "--ecma",
                "2020",
                "-o",
                &to,
            ],
        )
    }
}

/// Runs the browser tests: the real server binary, headless Chromium,
/// driven by playwright-core (which brings no browser of its own).
pub fn browser_test() -> Result<(), String> {
    let root = root();
    if !Path::new(CHROMIUM).exists() {
        return Err(format!(
            "{CHROMIUM} is missing; the browser tests need Debian's Chromium:\n    apt-get install -y chromium chromium-driver"
        ));
    }
    if !root.join("web/app/dist/index.html").exists() {
        return Err("web/app/dist/ is empty: run `cargo xtask web` first".into());
    }
    let prefix = npm_install(&root)?;
    // `cargo xtask dist` builds it after `web`, so it embeds that very app.
    let bin = root.join("target/release/layerlab");
    if !bin.exists() {
        return Err("target/release/layerlab is missing: run `cargo xtask dist` first".into());
    }
    let artifacts = root.join("target/web-artifacts");
    fs::create_dir_all(&artifacts).map_err(|e| format!("{}: {e}", artifacts.display()))?;
    let start = Instant::now();
    eprintln!("\n==> node --test web/app/tests/browser.test.mjs web/app/tests/workshop.test.mjs");
    let status = Command::new("node")
        .args([
            "--test",
            "--test-reporter=spec",
            "web/app/tests/browser.test.mjs",
            "web/app/tests/workshop.test.mjs",
        ])
        .current_dir(&root)
        .env("LAYERLAB_BIN", &bin)
        .env("LAYERLAB_NPM", &prefix)
        .env("LAYERLAB_ARTIFACTS", &artifacts)
        .env("CHROMIUM", CHROMIUM)
        .status()
        .map_err(|e| format!("cannot start node: {e}"))?;
    eprintln!(
        "<== browser tests: {status} in {:.1}s; screenshots and budgets in {}",
        start.elapsed().as_secs_f64(),
        artifacts.display()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("browser tests failed ({status})"))
    }
}
