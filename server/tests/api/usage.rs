//! `GET /api/v1/reports/usage`, `/reports/not-found` and `/exposures`: filters by
//! environment, flag and time, bad parameters named, and tokens scoped to
//! environments reading theirs only.

use serde_json::json;

use crate::common::telemetry::{accepted, flag_usage, hour_start, main_sql, report, usage, DAY_MS, HOUR_MS};
use crate::common::{boolean_flag, now_ms, Backend, Server};

fn at(ms: i64) -> String {
    pennon_core::format_rfc3339(ms)
}

async fn filters_and_scopes(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "new-checkout", false).await;
    boolean_flag(&admin, "banner", false).await;
    let staging = server.sdk_key("staging", "server").await;
    main_sql(&server, &format!("UPDATE flags SET created_at = created_at - {DAY_MS}")).await;
    main_sql(&server, &format!("UPDATE environments SET created_at = created_at - {DAY_MS}")).await;
    let this_hour = hour_start(now_ms());
    let earlier = this_hour - 3 * HOUR_MS;
    let counts = |n: u64| json!([{ "flag": "new-checkout", "variant": "on", "count": n }, { "flag": "banner", "variant": "off", "count": 1 }]);
    accepted(&server, &server.sdk_dev, "development", &report(earlier + 10, counts(5))).await;
    accepted(&server, &server.sdk_dev, "development", &report(this_hour + 1, counts(7))).await;
    let mut not_found = report(this_hour + 1, counts(100));
    not_found["flag_not_found"] = json!([{ "flag": "old-banner", "count": 2 }]);
    accepted(&server, &staging, "staging", &not_found).await;

    // Every environment, every flag, by key.
    let all = usage(&server, "").await;
    let names: Vec<&str> =
        all["environments"].as_array().unwrap().iter().map(|e| e["environment"].as_str().unwrap()).collect();
    assert_eq!(names, ["development", "production", "staging"]);
    assert_eq!(all["environments"][1]["sdks"], json!([]), "nothing reports in production");
    assert_eq!(flag_usage(&all, "staging", "new-checkout")["evaluations"], 100);
    let flags: Vec<&str> =
        all["environments"][0]["flags"].as_array().unwrap().iter().map(|f| f["flag"].as_str().unwrap()).collect();
    assert_eq!(flags, ["banner", "new-checkout"]);
    // One flag, one environment, and the time range.
    let one = usage(&server, "?environment=development&flag=new-checkout").await;
    assert_eq!(one["environments"].as_array().unwrap().len(), 1);
    assert_eq!(one["environments"][0]["flags"].as_array().unwrap().len(), 1);
    assert_eq!(flag_usage(&one, "development", "new-checkout")["evaluations"], 12);
    let recent = usage(&server, &format!("?environment=development&since={}", at(this_hour))).await;
    assert_eq!(flag_usage(&recent, "development", "new-checkout")["evaluations"], 7);
    assert_eq!(recent["granularity"], "hour", "two days or less: hourly");
    let before = usage(&server, &format!("?environment=development&until={}", at(this_hour))).await;
    assert_eq!(flag_usage(&before, "development", "new-checkout")["evaluations"], 5);
    assert_eq!(
        flag_usage(&before, "development", "new-checkout")["last_seen"],
        at(this_hour + 1),
        "last seen is the latest evaluation, whatever the range"
    );
    assert_eq!(usage(&server, "").await["granularity"], "day", "7 days by default: daily");

    // Bad parameters, unknown names.
    admin
        .assert_invalid_queries(
            "/api/v1/reports/usage",
            &[
                ("granularity=week", "granularity"),
                ("since=yesterday", "since"),
                ("until=2026-13-01T00:00:00Z", "until"),
                ("since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z", "since"),
            ],
        )
        .await;
    assert_eq!(admin.get("/api/v1/reports/usage?flag=nope").await.status, 404);
    assert_eq!(admin.get("/api/v1/reports/usage?environment=nope").await.status, 404);
    assert_eq!(admin.get("/api/v1/reports/not-found?environment=nope").await.status, 404);
    assert_eq!(admin.get("/api/v1/reports/usage?colour=red").await.code(), "invalid_query");

    // A viewer scoped to development reads development only.
    let viewer = server.api(&server.token("dev-viewer", "viewer", Some(&["development"])).await);
    let scoped = viewer.get("/api/v1/reports/usage").await;
    assert_eq!(scoped.status, 200, "{}", scoped.body);
    assert_eq!(scoped.body["environments"].as_array().unwrap().len(), 1);
    assert_eq!(scoped.body["environments"][0]["environment"], "development");
    for path in ["/api/v1/reports/usage", "/api/v1/reports/not-found", "/api/v1/exposures"] {
        let refused = viewer.get(&format!("{path}?environment=staging")).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
    }
    let missing = viewer.get("/api/v1/reports/not-found").await;
    assert_eq!(missing.body["environments"], json!([{ "environment": "development", "keys": [] }]));
    let missing = admin.get("/api/v1/reports/not-found").await;
    let staging_keys =
        &missing.body["environments"].as_array().unwrap().iter().find(|e| e["environment"] == "staging").unwrap()
            ["keys"];
    assert_eq!(staging_keys[0]["flag"], "old-banner");
    assert_eq!(staging_keys[0]["evaluations"], 2);
    assert_eq!(server.api("").get("/api/v1/reports/usage").await.status, 401);
    server.stop().await;
}

/// A flag deleted and created again, or an environment, starts without its
/// predecessor's counts.
async fn a_new_flag_of_an_old_name_starts_afresh(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "again", false).await;
    main_sql(&server, &format!("UPDATE flags SET created_at = created_at - {DAY_MS}")).await;
    main_sql(&server, &format!("UPDATE environments SET created_at = created_at - {DAY_MS}")).await;
    let earlier = hour_start(now_ms()) - 3 * HOUR_MS;
    accepted(
        &server,
        &server.sdk_dev,
        "development",
        &report(earlier, json!([{ "flag": "again", "variant": "on", "count": 4 }])),
    )
    .await;
    assert_eq!(flag_usage(&usage(&server, "?environment=development").await, "development", "again")["evaluations"], 4);
    let etag = admin.get("/api/v1/flags/again").await.etag.unwrap();
    let deleted = admin.delete("/api/v1/flags/again", &etag).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    boolean_flag(&admin, "again", false).await;
    let fresh = usage(&server, "?environment=development&granularity=hour").await;
    let again = flag_usage(&fresh, "development", "again");
    assert_eq!((&again["evaluations"], again.get("last_seen")), (&json!(0), None), "{again}");
    server.stop().await;
}

crate::on_both_backends!(filters_and_scopes, a_new_flag_of_an_old_name_starts_afresh);
