//! What one client may hold (a security review): event streams are capped per SDK key
//! and per server, and a request body must arrive within `--body-timeout`. Before,
//! one key could open streams until the process ran out of descriptors, and an
//! authenticated body sent a byte at a time held its connection for as long as the
//! client liked.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::common::sse::{Refused, Stream};
use crate::common::{Backend, Server, PATIENCE};

/// Opens a stream, expecting a refusal.
async fn refused(server: &Server, key: &str) -> Refused {
    match Stream::attempt(&server.url, "development", key).await {
        Ok(_) => panic!("a stream beyond the cap was opened"),
        Err(refused) => refused,
    }
}

async fn streams_are_capped_per_key_and_per_server(backend: Backend) {
    let server = Server::start_with(&backend, |c| {
        c.max_streams_per_key = 2;
        c.max_streams = 3;
    })
    .await;
    let (first_key, second_key) = (server.sdk_dev.clone(), server.sdk_key("development", "server").await);
    let mut first = Stream::open(&server.url, "development", &first_key).await;
    let _second = Stream::open(&server.url, "development", &first_key).await;

    // The key's third: 429, saying which cap and what to do meanwhile.
    let over = refused(&server, &first_key).await;
    assert_eq!(over.status, 429, "{:?}", over.body);
    assert_eq!(over.retry_after.as_deref(), Some("30"));
    assert_eq!(over.body["error"]["code"], "too_many_streams");
    let message = over.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("already has 2 streams open") && message.contains("--max-streams-per-key"), "{message}");
    assert!(message.contains("poll GET /v1/snapshots/development"), "{message}");
    // The key still reads snapshots: its SDKs poll.
    assert_eq!(server.api(&first_key).get("/v1/snapshots/development").await.status, 200);

    // Another key is not held back by the first one's cap, up to the server's.
    let _other = Stream::open(&server.url, "development", &second_key).await;
    let full = refused(&server, &second_key).await;
    assert_eq!(full.status, 503, "{:?}", full.body);
    assert_eq!(full.retry_after.as_deref(), Some("30"));
    assert_eq!(full.body["error"]["code"], "streams_full");
    let message = full.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("already has 3 streams open") && message.contains("--max-streams"), "{message}");
    assert_eq!(refused(&server, &first_key).await.status, 429, "a key at its own cap is told of that cap");

    // A stream that ends makes room for the next: the server learns of the client
    // leaving at the latest at the stream's next heartbeat.
    assert!(first.next_version(PATIENCE).await.is_some());
    drop(first);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut again = loop {
        match Stream::attempt(&server.url, "development", &first_key).await {
            Ok(stream) => break stream,
            Err(refusal) => {
                assert_eq!(refusal.status, 429, "{:?}", refusal.body);
                assert!(tokio::time::Instant::now() < deadline, "no room after a stream ended");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert!(again.next_version(PATIENCE).await.is_some(), "the admitted stream works");
    assert_eq!(refused(&server, &first_key).await.status, 429, "and counts");
    server.stop().await;
}

/// Sends the head of a `POST /api/v1/flags` announcing a large body, then its first
/// bytes one at a time, until the server answers; returns the answer (read until the
/// server closes the connection) and how long that took.
async fn trickle(server: &Server, token: Option<&str>) -> (String, Duration) {
    let address = server.url.trim_start_matches("http://").to_owned();
    let authorization = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "POST /api/v1/flags HTTP/1.1\r\nHost: {address}\r\n{authorization}Content-Type: application/json\r\n\
         Content-Length: 100000\r\n\r\n"
    );
    let (mut reader, mut writer) = TcpStream::connect(&address).await.unwrap().into_split();
    writer.write_all(head.as_bytes()).await.unwrap();
    let started = tokio::time::Instant::now();
    let trickler = tokio::spawn(async move {
        for byte in b"{\"key\": \"trickled\", \"type\": \"boolean\"".iter().cycle() {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buffer = [0u8; 4096];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    trickler.abort();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(read.is_ok(), "the connection is still open after {PATIENCE:?}; read so far: {answer:?}");
    (answer, started.elapsed())
}

async fn a_trickled_body_is_cut_off_at_the_deadline(backend: Backend) {
    let server = Server::start_with(&backend, |c| c.body_timeout = Duration::from_secs(1)).await;

    let (answer, took) = trickle(&server, Some(&server.admin)).await;
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("\r\nconnection: close\r\n"), "{answer}");
    assert!(answer.contains(r#""code":"body_timeout""#), "{answer}");
    assert!(answer.contains("did not arrive within 1 s") && answer.contains("--body-timeout"), "{answer}");
    assert!(took >= Duration::from_secs(1), "answered after {took:?}, before the deadline");
    assert_eq!(server.admin().get("/api/v1/flags/trickled").await.status, 404, "nothing was written");

    // Without credentials the body is never read: refused at once, connection closed.
    let (answer, _) = trickle(&server, None).await;
    assert!(answer.starts_with("HTTP/1.1 401 "), "{answer}");

    // The server goes on answering writes.
    crate::common::boolean_flag(&server.admin(), "after-the-trickle", true).await;
    server.stop().await;
}

crate::on_both_backends!(streams_are_capped_per_key_and_per_server, a_trickled_body_is_cut_off_at_the_deadline);
