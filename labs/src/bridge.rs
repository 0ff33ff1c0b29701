//! One TCP port inside a sandbox's network namespace that leads to one
//! address outside it. A workshop learner's kubectl runs in a confined
//! sandbox with no other way out; this is how it reaches the shared
//! cluster's API server, and nothing else.
//!
//! The listening socket is made inside the sandbox's namespace (a thread
//! joins it with `setns`, binds, and ends), then served from the caller's
//! namespace: a socket keeps the namespace it was made in. The bridge ends
//! when the sandbox's holder process is gone.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

/// How long connecting to the target may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a waiting bridge looks whether its sandbox still exists.
const WATCH: Duration = Duration::from_millis(500);

/// Opens `127.0.0.1:port` inside the network namespace of process `holder`
/// and forwards every connection to it to `target`, on threads of its own,
/// until `holder` exits. Answers once the port is listening.
pub fn open(holder: u32, port: u16, target: SocketAddr) -> io::Result<()> {
    let listener = listen_in_namespace_of(holder, port)?;
    std::thread::Builder::new()
        .name(format!("bridge-{holder}"))
        .spawn(move || serve(listener, holder, target))?;
    Ok(())
}

/// A listener on `127.0.0.1:port` in `holder`'s network namespace.
fn listen_in_namespace_of(holder: u32, port: u16) -> io::Result<TcpListener> {
    let ns = File::open(format!("/proc/{holder}/ns/net"))?;
    // setns changes only the calling thread, so a short-lived one does it.
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: setns(2) on a file descriptor we own, for this thread only.
            if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error());
            }
            TcpListener::bind(("127.0.0.1", port))
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the namespace thread panicked")))
    })
}

fn serve(listener: TcpListener, holder: u32, target: SocketAddr) {
    let alive = || Path::new(&format!("/proc/{holder}")).exists();
    while alive() {
        if !readable(&listener, WATCH) {
            continue;
        }
        let Ok((inside, _)) = listener.accept() else {
            continue;
        };
        let _ = std::thread::Builder::new()
            .name(format!("bridge-{holder}-conn"))
            .spawn(move || {
                if let Ok(outside) = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT) {
                    pipe(inside, outside);
                }
            });
    }
    // Dropping the listener lets the kernel free the sandbox's namespace.
}

/// Waits up to `timeout` for a connection to accept.
fn readable(listener: &TcpListener, timeout: Duration) -> bool {
    let mut fds = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll(2) on one valid pollfd we own.
    let n = unsafe { libc::poll(&mut fds, 1, timeout.as_millis() as libc::c_int) };
    n > 0 && fds.revents & libc::POLLIN != 0
}

/// Copies both ways until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let one = std::thread::spawn(move || copy(a, b2));
    copy(b, a2);
    let _ = one.join();
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
