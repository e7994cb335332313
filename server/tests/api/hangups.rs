//! Clients that hang up while their write runs (a load balancer's timeout, Ctrl-C in the
//! CLI): the write still runs to its end. Before, a write dropped mid-way on SQLite was
//! committed but never served, or left SQLite's write lock held on a pooled connection,
//! so every later write failed until a restart.

use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt as _;

use crate::common::{boolean_flag, payload_of, Backend, Server, PATIENCE};

const HANGUPS: u64 = 150;

async fn writes_outlive_their_clients(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "hung", false).await;
    let address = server.url.trim_start_matches("http://").to_owned();
    let path = "/api/v1/environments/development/flags/hung";
    for i in 0..HANGUPS {
        let etag = admin.get(path).await.etag.unwrap();
        let body = json!({ "enabled": i % 2 == 0 }).to_string();
        let request = format!(
            "POST {path}/toggle HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nIf-Match: {etag}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            server.admin,
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        // Hang up at varied points of the write: 0 to 10 ms in.
        tokio::time::sleep(Duration::from_micros(i * 7_919 % 10_000)).await;
        // A reset, as a killed client or a load balancer sends. (Deprecated because a
        // nonzero linger blocks the thread on drop; a zero one resets at once.)
        #[allow(deprecated)]
        stream.set_linger(Some(Duration::ZERO)).unwrap();
        drop(stream);
    }
    // Every committed write is served: once the writes whose clients left have run
    // (the version holds still for 500 ms), the snapshot's version is the environment's.
    let sdk = server.api(&server.sdk_dev);
    let served = || async {
        let envelope = serde_json::to_vec(&sdk.get("/v1/snapshots/development").await.body).unwrap();
        payload_of(&envelope)["version"].as_u64()
    };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut last = None;
    loop {
        let (stored, served) = (admin.version("development").await, served().await.unwrap());
        if stored == served && last == Some(stored) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the database is at {stored}, the snapshot served at {served}");
        last = Some(stored);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Nothing was left held: writes go on. Which state the hung writes left is not known (a
    // request reset before the server read it never ran), so each write flips the stored one.
    for _ in 0..3 {
        let enabled = admin.get(path).await.body["enabled"].as_bool().unwrap();
        let reply = admin.toggle("development", "hung", !enabled).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.version.is_some(), "a flip published nothing: {}", reply.body);
        assert_eq!(served().await, reply.version);
    }
}

crate::on_both_backends!(writes_outlive_their_clients);
