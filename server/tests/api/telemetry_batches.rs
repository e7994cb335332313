//! Reports are stored once per batch: an SDK whose post timed out after the server had
//! stored it sends the same batch (`batch` id) again, and the repeat, however many
//! times and however concurrent, adds nothing. Reports without an id are added each
//! time, as before ids existed.

use serde_json::json;

use crate::common::telemetry::{count, flag_usage, post, report, telemetry_sql, telemetry_url, usage, HOUR_MS};
use crate::common::{boolean_flag, now_ms, Backend, Server};

/// `new-checkout`'s evaluations in `env`, as the usage report adds them up.
async fn evaluations(server: &Server, env: &str) -> u64 {
    let body = usage(server, &format!("?environment={env}")).await;
    flag_usage(&body, env, "new-checkout")["evaluations"].as_u64().unwrap()
}

async fn a_repeated_batch_counts_once(backend: Backend) {
    let server = Server::start(&backend).await;
    boolean_flag(&server.admin(), "new-checkout", false).await;
    let mut body = report(now_ms(), json!([{ "flag": "new-checkout", "variant": "on", "count": 3 }]));
    body["batch"] = json!("9f86d081884c7d659a2feaa0c55ad015");
    let first = post(&server, &server.sdk_dev, "development", &body).await;
    assert_eq!(first.status, 202, "{}", first.body);
    assert_eq!(first.body, json!({ "accepted": { "counts": 1, "exposures": 0 } }));
    for _ in 0..2 {
        let again = post(&server, &server.sdk_dev, "development", &body).await;
        assert_eq!(again.status, 202, "{}", again.body);
        assert_eq!(again.body, json!({ "accepted": { "counts": 0, "exposures": 0 }, "duplicate": true }));
    }
    assert_eq!(evaluations(&server, "development").await, 3);
    let sdks = usage(&server, "?environment=development").await["environments"][0]["sdks"].clone();
    assert_eq!(sdks[0]["reports"], 1, "a repeat is not a report: {sdks}");

    // Ids are per environment: the same id in another is another batch.
    let staging = server.sdk_key("staging", "server").await;
    assert_eq!(post(&server, &staging, "staging", &body).await.body["accepted"]["counts"], 1);
    assert_eq!(evaluations(&server, "staging").await, 3);

    // Without an id, as SDKs before ids post: every post is added.
    let mut plain = body.clone();
    plain.as_object_mut().unwrap().remove("batch");
    for _ in 0..2 {
        assert_eq!(post(&server, &server.sdk_dev, "development", &plain).await.body["accepted"]["counts"], 1);
    }
    assert_eq!(evaluations(&server, "development").await, 9);

    // An id is printable ASCII, 1 to 64 characters.
    for bad in [json!(""), json!("x".repeat(65)), json!("caf\u{e9}"), json!("a\tb"), json!(7)] {
        let mut body = body.clone();
        body["batch"] = bad;
        let reply = post(&server, &server.sdk_dev, "development", &body).await;
        assert_eq!((reply.status, reply.field()), (422, "batch"), "{}", reply.body);
    }

    // Ids are kept 48 hours (SDKs resend a batch for 24 at most), then swept.
    let database = telemetry_url(&server.database_url);
    assert_eq!(count(&database, "SELECT COUNT(*) FROM telemetry_batches").await, 2);
    telemetry_sql(&server, &format!("UPDATE telemetry_batches SET received_at = received_at - {}", 47 * HOUR_MS)).await;
    let server = server.restart_with(|_| {}).await;
    assert_eq!(count(&database, "SELECT COUNT(*) FROM telemetry_batches").await, 2, "47 hours: kept");
    assert_eq!(post(&server, &server.sdk_dev, "development", &body).await.body["duplicate"], true);
    telemetry_sql(&server, &format!("UPDATE telemetry_batches SET received_at = received_at - {}", 2 * HOUR_MS)).await;
    let server = server.restart_with(|_| {}).await;
    assert_eq!(count(&database, "SELECT COUNT(*) FROM telemetry_batches").await, 0, "49 hours: swept");
    server.stop().await;
}

/// Posts of one batch at once, as from a retry racing a slow first post: one is added,
/// the others are answered as duplicates.
async fn concurrent_repeats_count_once(backend: Backend) {
    let server = Server::start(&backend).await;
    boolean_flag(&server.admin(), "new-checkout", false).await;
    let mut body = report(now_ms(), json!([{ "flag": "new-checkout", "variant": "off", "count": 5 }]));
    body["batch"] = json!("4e07408562bedb8b60ce05c1decfe3ad");
    let posts = (0..8).map(|_| {
        let (server, body) = (&server, &body);
        async move { post(server, &server.sdk_dev, "development", body).await }
    });
    let replies = futures_util::future::join_all(posts).await;
    for reply in &replies {
        assert_eq!(reply.status, 202, "{}", reply.body);
    }
    let stored = replies.iter().filter(|reply| reply.body.get("duplicate").is_none()).count();
    assert_eq!(stored, 1, "{:?}", replies.iter().map(|reply| &reply.body).collect::<Vec<_>>());
    assert_eq!(evaluations(&server, "development").await, 5);
    server.stop().await;
}

crate::on_both_backends!(a_repeated_batch_counts_once, concurrent_repeats_count_once);
