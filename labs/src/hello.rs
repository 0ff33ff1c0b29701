//! `layerlab hello-server`: the smallest useful HTTP server, so the first
//! lab needs nothing installed. Answers every request with `Hello` (and the
//! path), like the classic ten-line Go server. `--name` makes it say who
//! answered, so a lab can tell the endpoints of a Service apart.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Serves forever on `addr` (e.g. `0.0.0.0:8080`), one thread per connection.
pub fn serve(addr: &str) -> std::io::Result<()> {
    serve_as(addr, "layerlab")
}

/// [`serve`], answering `Hello from NAME!`.
pub fn serve_as(addr: &str, name: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    eprintln!("hello-server listening on {}", listener.local_addr()?);
    let name: std::sync::Arc<str> = name.into();
    for stream in listener.incoming() {
        match stream {
            Ok(s) => {
                let name = name.clone();
                std::thread::spawn(move || {
                    let _ = answer(s, &name);
                });
            }
            Err(e) => eprintln!("hello-server: accept failed: {e}"),
        }
    }
    Ok(())
}

fn answer(stream: TcpStream, name: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let peer = stream.peer_addr()?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Read (and ignore) the headers up to the blank line.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let body = format!("Hello from {name}! You asked for {path} from {peer}\n");
    // One write, so the response is one segment in the learner's capture.
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut out = stream;
    out.write_all(response.as_bytes())?;
    eprintln!("{peer} {}", request_line.trim_end());
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn answers_hello_over_real_tcp() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            answer(s, "web-2").unwrap();
        });
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"GET /lab HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut text = String::new();
        c.read_to_string(&mut text).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(
            text.contains("Hello from web-2! You asked for /lab"),
            "{text}"
        );
    }
}
