//! Revoking an SDK key also ends the event streams it opened; other keys' streams go on.

use std::time::Duration;

use serde_json::json;

use crate::common::sse::Stream;
use crate::common::{boolean_flag, Backend, Server};

async fn a_revoked_key_s_stream_ends(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let keys = "/api/v1/environments/development/sdk-keys";
    let revoked = admin.post(keys, &json!({ "kind": "server", "name": "to revoke" })).await;
    assert_eq!(revoked.status, 201, "{}", revoked.body);
    let kept = server.sdk_key("development", "server").await;
    let mut doomed = Stream::open(&server.url, "development", revoked.body["key"].as_str().unwrap()).await;
    let mut live = Stream::open(&server.url, "development", &kept).await;
    let version = admin.version("development").await;
    assert_eq!(doomed.next_version(Duration::from_secs(5)).await, Some(version));
    assert_eq!(live.next_version(Duration::from_secs(5)).await, Some(version));

    let id = revoked.body["id"].as_i64().unwrap();
    assert_eq!(admin.delete(&format!("{keys}/{id}"), "").await.status, 204);
    assert!(doomed.ends_within(Duration::from_secs(5)).await, "the revoked key's stream is still open");

    boolean_flag(&admin, "after-revocation", true).await;
    assert!(live.wait_for(version + 1, Duration::from_secs(5)).await, "the other key's stream goes on");
    server.stop().await;
}

/// Revocations of other keys wake every stream to check its own, but do not hold back
/// its heartbeats (500 ms apart in tests): clients drop a silent stream.
async fn revocations_do_not_silence_heartbeats(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let keys = "/api/v1/environments/staging/sdk-keys";
    let mut ids = Vec::new();
    for _ in 0..12 {
        let created = admin.post(keys, &json!({ "kind": "client" })).await;
        ids.push(created.body["id"].as_i64().unwrap());
    }
    let mut stream = Stream::open(&server.url, "development", &server.sdk_dev).await;
    assert!(stream.next_version(Duration::from_secs(5)).await.is_some());
    let revoking = tokio::spawn(async move {
        for id in ids {
            assert_eq!(admin.delete(&format!("{keys}/{id}"), "").await.status, 204);
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    });
    let text = stream.read_for(Duration::from_millis(1800)).await;
    revoking.await.unwrap();
    let heartbeats = text.lines().filter(|l| l.starts_with(':') && l.contains("heartbeat")).count();
    assert!(heartbeats >= 2, "{heartbeats} heartbeats in 1.8 s of revocations: {text:?}");
    server.stop().await;
}

crate::on_both_backends!(a_revoked_key_s_stream_ends, revocations_do_not_silence_heartbeats);
