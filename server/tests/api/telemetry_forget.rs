//! A flag or environment deleted takes its telemetry with it, so one created again
//! under the same name starts afresh: its usage shows none of its predecessor's counts,
//! even of the hour (or day) it was created in.

use serde_json::json;

use crate::common::telemetry::{accepted, count, flag_usage, report, telemetry_url, usage};
use crate::common::{boolean_flag, now_ms, Backend, Server};

fn exposure(user: &str, at: i64) -> serde_json::Value {
    json!({ "flag": "recreated", "variant": "on", "reason": "STATIC", "targeting_key": user,
            "snapshot_version": 2, "timestamp_ms": at })
}

async fn a_flag_created_again_shows_none_of_its_predecessors_counts(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "recreated", false).await;
    boolean_flag(&admin, "kept", false).await;
    let now = now_ms();
    let mut before = report(
        now,
        json!([{ "flag": "recreated", "variant": "on", "count": 1000 }, { "flag": "kept", "variant": "on", "count": 7 }]),
    );
    before["exposures"] = json!([exposure("predecessor", now)]);
    accepted(&server, &server.sdk_dev, "development", &before).await;
    let etag = admin.get("/api/v1/flags/recreated").await.etag.unwrap();
    assert_eq!(admin.delete("/api/v1/flags/recreated", &etag).await.status, 204);
    boolean_flag(&admin, "recreated", false).await;
    let mut after = report(now_ms(), json!([{ "flag": "recreated", "variant": "off", "count": 5 }]));
    after["exposures"] = json!([exposure("successor", now_ms())]);
    accepted(&server, &server.sdk_dev, "development", &after).await;

    for granularity in ["hour", "day"] {
        let body = usage(&server, &format!("?environment=development&granularity={granularity}")).await;
        let flag = flag_usage(&body, "development", "recreated");
        assert_eq!(
            (&flag["evaluations"], &flag["variants"]),
            (&json!(5), &json!({ "off": 5 })),
            "{granularity}: {flag}"
        );
        assert_eq!(flag_usage(&body, "development", "kept")["evaluations"], 7, "other flags keep theirs");
    }
    let exposures = admin.get("/api/v1/exposures?environment=development&flag=recreated").await;
    let users: Vec<&str> =
        exposures.body["exposures"].as_array().unwrap().iter().map(|e| e["targeting_key"].as_str().unwrap()).collect();
    assert_eq!(users, ["successor"]);
    server.stop().await;
}

async fn an_environment_created_again_starts_afresh(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "checkout", false).await;
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);
    let key = server.sdk_key("qa", "server").await;
    let mut body = report(now_ms(), json!([{ "flag": "checkout", "variant": "on", "count": 40 }]));
    body["flag_not_found"] = json!([{ "flag": "typo", "count": 2 }]);
    body["batch"] = json!("b-1");
    accepted(&server, &key, "qa", &body).await;
    let etag = admin.get("/api/v1/environments/qa").await.etag.unwrap();
    assert_eq!(admin.delete("/api/v1/environments/qa", &etag).await.status, 204);
    let left = count(&telemetry_url(&server.database_url), "SELECT COUNT(*) FROM telemetry_usage WHERE env = 'qa'")
        .await
        + count(&telemetry_url(&server.database_url), "SELECT COUNT(*) FROM telemetry_sources WHERE env = 'qa'").await
        + count(&telemetry_url(&server.database_url), "SELECT COUNT(*) FROM telemetry_batches WHERE env = 'qa'").await;
    assert_eq!(left, 0, "nothing of it is kept");

    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);
    let body = usage(&server, "?environment=qa&granularity=day").await;
    assert_eq!(flag_usage(&body, "qa", "checkout")["evaluations"], 0);
    assert_eq!(body["environments"][0]["sdks"], json!([]));
    let missing = admin.get("/api/v1/reports/not-found?environment=qa").await;
    assert_eq!(missing.body["environments"][0]["keys"], json!([]));
    server.stop().await;
}

crate::on_both_backends!(
    a_flag_created_again_shows_none_of_its_predecessors_counts,
    an_environment_created_again_starts_afresh
);
