// The lab terminal: xterm.js on a WebSocket to a shell in the lab's
// sandbox (protocol: docs/web-api.md, "Terminal"). Loaded only on lab pages,
// through `window.llTerminal` in index.html; `cargo xtask web` bundles it
// with xterm into dist/terminal.js and dist/terminal.css.
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import "./terminal.css";

// esbuild writes the CSS beside this file; load it once, before the first
// terminal measures its font.
let css;
function loadCss() {
  css ??= new Promise((done) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("terminal.css", import.meta.url).href;
    link.onload = link.onerror = done;
    document.head.append(link);
  });
  return css;
}

/// Shows a terminal in `el`, connected to `url` (relative is fine), and
/// keeps it connected: reconnects with backoff when the socket drops,
/// unless the shell is gone or another page took it over (then Enter asks
/// for the terminal again). Called again on the same element, it only
/// reconnects a terminal whose shell was gone. Disposed once `el` leaves
/// the page.
export async function mount(el, url) {
  if (el.llTerm) {
    el.llTerm.wake();
    return el.llTerm;
  }
  const handle = { wake: () => {} };
  el.llTerm = handle;
  await loadCss();
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
    fontSize: 14,
    scrollback: 5000,
    theme: { background: "#10151f", foreground: "#e6e9ef" },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(el);
  const target = new URL(url, location.href);
  target.protocol = target.protocol === "https:" ? "wss:" : "ws:";
  const enc = new TextEncoder();
  let ws = null;
  let stopped = false; // gone or replaced: wait for Enter
  let gone = false;
  let tries = 0;
  let timer = 0;
  let disposed = false;

  const note = (text) => term.write(`\r\n\x1b[33m[${text}]\x1b[0m\r\n`);
  const send = (data) => ws?.readyState === WebSocket.OPEN && ws.send(data);
  const resize = () => send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }));
  const refit = () => {
    // A hidden element has no size; keep the last one.
    if (el.offsetWidth && el.offsetHeight) fit.fit();
  };

  // The server takes at most 64 KiB per message: a long paste goes in pieces.
  const input = (bytes) => {
    for (let i = 0; i < bytes.length; i += 16384) send(bytes.subarray(i, i + 16384));
  };
  term.onData((d) => {
    if (stopped) {
      if (d === "\r") {
        stopped = gone = false;
        connect();
      }
      return;
    }
    input(enc.encode(d));
  });
  term.onBinary((d) => input(Uint8Array.from(d, (c) => c.charCodeAt(0))));
  term.onResize(resize);
  const ro = new ResizeObserver(refit);
  ro.observe(el);

  function connect() {
    const s = new WebSocket(target);
    s.binaryType = "arraybuffer";
    ws = s;
    s.onopen = () => {
      tries = 0;
      // The server replays its scrollback first: start from a clean screen.
      term.reset();
      refit();
      resize();
    };
    s.onmessage = (e) => {
      if (typeof e.data !== "string") {
        term.write(new Uint8Array(e.data));
        return;
      }
      let m;
      try {
        m = JSON.parse(e.data);
      } catch {
        return;
      }
      if (m.type === "gone") {
        stopped = gone = true;
        note(`${m.reason}. Press Enter for a new shell`);
      } else if (m.type === "replaced") {
        stopped = true;
        note("this terminal was opened in another tab or window. Press Enter to take it back");
      }
    };
    s.onclose = (e) => {
      if (ws !== s) return;
      ws = null;
      if (stopped || disposed) return;
      const wait = Math.min(30_000, 500 * 2 ** tries++);
      note(`connection lost${e.reason ? `: ${e.reason}` : ""}; reconnecting in ${Math.round(wait / 1000) || 1} s`);
      timer = setTimeout(connect, wait);
    };
  }

  function dispose() {
    disposed = true;
    clearTimeout(timer);
    clearInterval(watch);
    ro.disconnect();
    ws?.close();
    term.dispose();
    delete el.llTerm;
  }
  // The app replaces pages without telling us: leave with the element.
  const watch = setInterval(() => el.isConnected || dispose(), 1000);
  refit();
  connect();
  term.focus();
  handle.term = term;
  handle.dispose = dispose;
  // The lab was started again after its shell went: connect at once.
  handle.wake = () => {
    if (gone && !ws) {
      stopped = gone = false;
      connect();
    }
  };
  return handle;
}
