//! What a connection costs the server, and that one sending nothing is closed: the
//! server is open to browsers on any origin, so anyone can open sockets to it.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::proc::spawn;

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Reads until the server closes the connection; `None` if it is still open after `wait`.
fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(seen),
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return None,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(seen),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn idle_connections_cost_little_and_half_sent_heads_are_closed_while_streams_stay() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &["--head-timeout", "2s", "--heartbeat", "1s"], &[]);
    let address = server.url.trim_start_matches("http://").to_owned();
    let pid = server.child.id();

    // 300 sockets that send nothing. `axum::serve` rebuilt every route per connection:
    // about 1 MB each, so these took the process from 15 to 316 MB.
    let before = rss_kib(pid);
    let idle: Vec<TcpStream> = (0..300).map(|_| TcpStream::connect(&address).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let grown = rss_kib(pid).saturating_sub(before);
    assert!(grown < 40 * 1024, "300 idle connections grew the server by {grown} KiB");

    // A stream outlives the head deadline: heartbeats keep coming.
    let mut stream = TcpStream::connect(&address).unwrap();
    let request = format!(
        "GET /v1/stream/development HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\r\n",
        server.sdk()
    );
    stream.write_all(request.as_bytes()).unwrap();
    // A head sent in part, never finished.
    let mut partial = TcpStream::connect(&address).unwrap();
    partial.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();

    let started = Instant::now();
    assert!(read_until_closed(&mut partial, Duration::from_secs(30)).is_some(), "a half-sent head is closed");
    for mut socket in idle.into_iter().take(3) {
        assert_eq!(
            read_until_closed(&mut socket, Duration::from_secs(30)),
            Some(Vec::new()),
            "an idle socket is closed"
        );
    }
    assert!(started.elapsed() >= Duration::from_secs(1), "not before the deadline");
    stream.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut text = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut buffer = [0u8; 1024];
    while Instant::now() < deadline {
        match stream.read(&mut buffer) {
            Ok(0) => panic!("the stream was closed: {}", String::from_utf8_lossy(&text)),
            Ok(n) => text.extend_from_slice(&buffer[..n]),
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&text);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.matches(": heartbeat").count() >= 4, "heartbeats past the head deadline: {text}");
    server.stop();
}
