//! What a poster cannot grow without bound: the not-found tally keeps 1,000 distinct
//! keys per environment (the rest summed under `flag: null`), and exposures keep the
//! newest N per environment and none older than the age bound.

use serde_json::{json, Value as Json};

use crate::common::telemetry::{accepted, report, telemetry_sql, DAY_MS};
use crate::common::{boolean_flag, now_ms, Backend, Server};

async fn not_found(server: &Server) -> Json {
    let reply = server.admin().get("/api/v1/reports/not-found?environment=development").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["environments"][0]["keys"].clone()
}

async fn unknown_keys_are_tallied_up_to_the_bound(backend: Backend) {
    let server = Server::start(&backend).await;
    boolean_flag(&server.admin(), "new-checkout", false).await;
    let now = now_ms();
    // 1,000 counts of keys the environment has no flag of, then two more keys.
    let ghosts: Vec<Json> =
        (0..1000).map(|i| json!({ "flag": format!("ghost-{i:04}"), "variant": "on", "count": 1 })).collect();
    let mut first = report(now, json!(ghosts));
    first["flag_not_found"] = json!([{ "flag": "typo-a", "count": 3 }, { "flag": null, "count": 4 }]);
    assert_eq!(accepted(&server, &server.sdk_dev, "development", &first).await["counts"], 0);
    let keys = not_found(&server).await;
    assert_eq!(keys.as_array().unwrap().len(), 1001, "1,000 keys and the rest");
    let rest = &keys[1000];
    assert_eq!((&rest["flag"], &rest["evaluations"]), (&json!(null), &json!(7)), "typo-a came past the bound");
    // A key already kept is still counted under its name; a new one joins the rest.
    let mut second = report(now, json!([{ "flag": "ghost-0005", "variant": "off", "count": 2 }]));
    second["flag_not_found"] = json!([{ "flag": "typo-b", "count": 1 }]);
    accepted(&server, &server.sdk_dev, "development", &second).await;
    let keys = not_found(&server).await;
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 1001);
    let ghost = keys.iter().find(|k| k["flag"] == "ghost-0005").unwrap();
    assert_eq!((&ghost["evaluations"], &ghost["exists"]), (&json!(3), &json!(false)));
    assert_eq!(keys[1000]["evaluations"], 8);
    assert!(!keys.iter().any(|k| k["flag"] == "typo-b" || k["flag"] == "typo-a"));
    // Keys not asked for in 30 days make room (the sweep at start deletes them).
    telemetry_sql(&server, &format!("UPDATE telemetry_not_found SET last_seen = last_seen - {}", 31 * DAY_MS)).await;
    let server = server.restart_with(|_| {}).await;
    let mut third = report(now_ms(), json!([]));
    third["flag_not_found"] = json!([{ "flag": "typo-c", "count": 1 }]);
    accepted(&server, &server.sdk_dev, "development", &third).await;
    let keys = not_found(&server).await;
    assert_eq!(
        keys,
        json!([{ "flag": "typo-c", "evaluations": 1, "client_evaluations": 0, "first_seen": keys[0]["first_seen"],
        "last_seen": keys[0]["last_seen"], "exists": false }])
    );
    server.stop().await;
}

fn exposure(variant: &str, user: &str, at: i64) -> Json {
    json!({ "flag": "experiment", "variant": variant, "reason": "SPLIT", "rule_id": "r1", "targeting_key": user,
            "bucket_attribute": "targetingKey", "bucket_value": user, "snapshot_version": 2, "timestamp_ms": at })
}

async fn exposures(server: &Server, query: &str) -> Json {
    let reply = server.admin().get(&format!("/api/v1/exposures{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

fn users(page: &Json) -> Vec<String> {
    page["exposures"].as_array().unwrap().iter().map(|e| e["targeting_key"].as_str().unwrap().to_owned()).collect()
}

async fn exposures_keep_the_newest_within_the_age(backend: Backend) {
    let server = Server::start_with(&backend, |config| config.exposures_kept = 3).await;
    boolean_flag(&server.admin(), "experiment", false).await;
    let now = now_ms();
    let mut body = report(now, json!([{ "flag": "experiment", "variant": "on", "count": 6 }]));
    let mut sent: Vec<Json> = (1..=5).map(|i| exposure("on", &format!("user-{i}"), now - 100 + i)).collect();
    sent.push(
        json!({ "flag": "gone", "variant": "on", "reason": "STATIC", "snapshot_version": 2, "timestamp_ms": now }),
    );
    body["exposures"] = json!(sent);
    body["exposures_dropped"] = json!(4);
    assert_eq!(accepted(&server, &server.sdk_dev, "development", &body).await, json!({ "counts": 1, "exposures": 5 }));
    let page = exposures(&server, "?environment=development").await;
    assert_eq!(users(&page), ["user-5", "user-4", "user-3"], "the newest three");
    let newest = &page["exposures"][0];
    assert_eq!(
        (&newest["variant"], &newest["reason"], &newest["rule_id"], &newest["bucket_attribute"], &newest["sdk"]),
        (&json!("on"), &json!("SPLIT"), &json!("r1"), &json!("targetingKey"), &json!("pennon-rust/0.1.0"))
    );
    assert_eq!(newest["timestamp"], pennon_core::format_rfc3339(now - 95));
    let mut more = report(now, json!([]));
    more["exposures"] = json!([exposure("off", "user-6", now), exposure("off", "user-7", now)]);
    accepted(&server, &server.sdk_dev, "development", &more).await;
    assert_eq!(users(&exposures(&server, "?environment=development").await), ["user-7", "user-6", "user-5"]);
    // Paging, and the flag filter.
    let page = exposures(&server, "?environment=development&limit=2").await;
    assert_eq!(users(&page), ["user-7", "user-6"]);
    let next = page["next_before_id"].as_i64().expect("a next page");
    let last = exposures(&server, &format!("?environment=development&limit=2&before_id={next}")).await;
    assert_eq!((users(&last), last.get("next_before_id")), (vec!["user-5".to_owned()], None));
    assert_eq!(users(&exposures(&server, "?flag=gone").await), Vec::<String>::new());
    // Received more than the age bound (7 days) ago: gone with the next report.
    telemetry_sql(&server, &format!("UPDATE telemetry_exposures SET received_at = received_at - {}", 8 * DAY_MS)).await;
    assert_eq!(users(&exposures(&server, "").await), Vec::<String>::new(), "never shown past the age");
    let mut late = report(now, json!([]));
    late["exposures"] = json!([exposure("on", "user-8", now)]);
    accepted(&server, &server.sdk_dev, "development", &late).await;
    assert_eq!(users(&exposures(&server, "?environment=development").await), ["user-8"]);
    let kept = crate::common::telemetry::count(
        &crate::common::telemetry::telemetry_url(&server.database_url),
        "SELECT COUNT(*) FROM telemetry_exposures",
    )
    .await;
    assert_eq!(kept, 1, "the aged ones were deleted, not just hidden");
    let sdks = crate::common::telemetry::usage(&server, "?environment=development").await;
    assert_eq!(sdks["environments"][0]["sdks"][0]["exposures_dropped"], 4);
    // Bad paging values name the parameter.
    server
        .admin()
        .assert_invalid_queries(
            "/api/v1/exposures",
            &[
                ("limit=0", "limit"),
                ("limit=1001", "limit"),
                ("before_id=x", "before_id"),
                ("since=yesterday", "since"),
            ],
        )
        .await;
    server.stop().await;
}

crate::on_both_backends!(unknown_keys_are_tallied_up_to_the_bound, exposures_keep_the_newest_within_the_age);
