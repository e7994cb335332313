//! End to end with the real Rust provider (`pennon-provider`): it fetches from the
//! server, hears of a change on the stream (polling is off), and evaluates the new
//! rule through OpenFeature; and what it evaluates, reported as telemetry, is what the
//! usage and not-found reports show.

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use open_feature::{EvaluationContext, OpenFeature};
use pennon_provider::{ExposureScope, PennonProvider, PennonProviderBuilder, ReportOutcome};
use serde_json::json;

use common::{boolean_flag, Backend, Server};

async fn provider_follows_changes(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let etag = boolean_flag(&admin, "new-checkout", false).await;
    let cache = tempfile::tempdir().unwrap();
    let provider = PennonProvider::builder()
        .trusted_keys(server.public_keys.clone())
        .environment("development")
        .url(format!("{}/v1/snapshots/development", server.url))
        .notification_url(format!("{}/v1/stream/development", server.url))
        .http_header("Authorization", format!("Bearer {}", server.sdk_dev))
        .poll_interval(Duration::from_secs(3600))
        .cache_dir(cache.path())
        .build()
        .unwrap();
    let handle = provider.handle();
    let mut api = OpenFeature::default();
    api.set_provider(provider).await;
    let client = api.create_client();
    let staff = EvaluationContext::default().with_targeting_key("u1").with_custom_field("email", "ann@acme.com");
    let guest = EvaluationContext::default().with_targeting_key("u2").with_custom_field("email", "bob@example.com");
    assert_eq!(handle.version(), Some(admin.version("development").await));
    assert!(!client.get_bool_value("new-checkout", Some(&staff), None).await.unwrap());

    let config = json!({
        "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
        "rules": [{ "id": "staff", "conditions": [{ "attribute": "email", "op": "ends_with", "value": "@acme.com" }],
                    "serve": { "variant": "on" } }]
    });
    let reply = admin.put("/api/v1/environments/development/flags/new-checkout", &config, &etag).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let version = reply.version.unwrap();
    let mut state = handle.watch_state();
    tokio::time::timeout(Duration::from_secs(1), state.wait_for(|s| s.version == Some(version)))
        .await
        .expect("the provider serves the new version within 1 s")
        .unwrap();
    assert!(client.get_bool_value("new-checkout", Some(&staff), None).await.unwrap());
    assert!(!client.get_bool_value("new-checkout", Some(&guest), None).await.unwrap());
    server.stop().await;
}

/// A provider of `development` with the server's keys and SDK key, reporting telemetry
/// to it and polling hourly: only the test's own calls move it.
fn development_provider(server: &Server) -> PennonProviderBuilder {
    PennonProvider::builder()
        .trusted_keys(server.public_keys.clone())
        .environment("development")
        .url(format!("{}/v1/snapshots/development", server.url))
        .http_header("Authorization", format!("Bearer {}", server.sdk_dev))
        .poll_interval(Duration::from_secs(3600))
        .telemetry(&server.url, &server.sdk_dev)
}

/// The provider's telemetry, as the real endpoint takes it and the reports read it back:
/// both sides are tested against the wire format alone elsewhere.
async fn provider_telemetry_reaches_the_reports(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "new-checkout", false).await;
    let reply = admin.toggle("development", "new-checkout", true).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let provider = development_provider(&server).build().unwrap();
    let handle = provider.handle();
    let mut api = OpenFeature::default();
    api.set_provider(provider).await;
    let client = api.create_client();
    let user = EvaluationContext::default().with_targeting_key("u1");
    for _ in 0..5 {
        // Enabled, it serves its `on` fallthrough: five times.
        assert!(client.get_bool_value("new-checkout", Some(&user), None).await.unwrap());
    }
    assert!(
        client.get_int_value("new-checkout", Some(&user), None).await.is_err(),
        "a type mismatch counts as an error"
    );
    for _ in 0..2 {
        assert!(client.get_bool_value("old-banner", Some(&user), None).await.is_err());
    }
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Empty, "a delta is sent once");

    let usage = admin.get("/api/v1/reports/usage?environment=development&flag=new-checkout").await;
    assert_eq!(usage.status, 200, "{}", usage.body);
    let flag = &usage.body["environments"][0]["flags"][0];
    assert_eq!((flag["evaluations"].as_u64(), flag["errors"].as_u64()), (Some(6), Some(1)), "{flag}");
    assert_eq!(flag["variants"], json!({ "on": 5 }));
    let sdk = flag["sdks"][0]["sdk"].as_str().unwrap();
    assert!(sdk.starts_with("pennon-rust/"), "{sdk}");
    let not_found = admin.get("/api/v1/reports/not-found?environment=development").await;
    assert_eq!(not_found.status, 200, "{}", not_found.body);
    let keys = &not_found.body["environments"][0]["keys"];
    assert_eq!((keys[0]["flag"].as_str(), keys[0]["evaluations"].as_u64()), (Some("old-banner"), Some(2)), "{keys}");
    server.stop().await;
}

/// A report the server stores only after the provider gave up waiting (the telemetry
/// write lock held longer than the request timeout, as by a backlog of reports): the
/// provider sends the same batch again, the server knows its id, and the usage report
/// shows every evaluation once.
async fn a_report_stored_after_the_provider_gave_up_counts_once(backend: Backend) {
    use sqlx::Connection as _;
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "new-checkout", false).await;
    let reply = admin.toggle("development", "new-checkout", true).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let provider = development_provider(&server).request_timeout(Duration::from_millis(500)).build().unwrap();
    let handle = provider.handle();
    let mut api = OpenFeature::default();
    api.set_provider(provider).await;
    let client = api.create_client();
    let user = EvaluationContext::default().with_targeting_key("u1");
    let evaluate = |n: usize| {
        let (client, user) = (&client, &user);
        async move {
            for _ in 0..n {
                assert!(client.get_bool_value("new-checkout", Some(user), None).await.unwrap());
            }
        }
    };
    evaluate(100).await;
    let telemetry = common::telemetry::telemetry_url(&server.database_url);
    let first = if telemetry.starts_with("sqlite") {
        let mut lock = sqlx::SqliteConnection::connect(&telemetry).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut lock).await.unwrap();
        let first = handle.flush_telemetry().await;
        sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
        first
    } else {
        let mut lock = sqlx::PgConnection::connect(&telemetry).await.unwrap();
        sqlx::query("BEGIN").execute(&mut lock).await.unwrap();
        sqlx::query("SELECT pg_advisory_xact_lock(1953262969, hashtext('development'))")
            .execute(&mut lock)
            .await
            .unwrap();
        let first = handle.flush_telemetry().await;
        sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
        first
    };
    assert!(matches!(&first, ReportOutcome::Failed(why) if why.contains("timed out")), "{first:?}");
    evaluate(7).await;
    // The held post goes on to store its batch; the provider sends it again, then the 7.
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    let usage = admin.get("/api/v1/reports/usage?environment=development&flag=new-checkout").await;
    let flag = &usage.body["environments"][0]["flags"][0];
    assert_eq!(flag["variants"], json!({ "on": 107 }), "{flag}");
    server.stop().await;
}

/// Rules as the admin API takes them (an empty id, a long one) reach the control plane
/// with their exposures, and every count with them: an exposure never costs a report.
async fn exposures_of_rules_the_api_takes_are_reported_with_the_counts(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let long = "r".repeat(300);
    for (flag, rule) in [("plain", None), ("empty-rule", Some("")), ("long-rule", Some(long.as_str()))] {
        let etag = boolean_flag(&admin, flag, false).await;
        let rules = rule.map_or(json!([]), |id| json!([{ "id": id, "serve": { "variant": "on" } }]));
        let config =
            json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "on" }, "rules": rules });
        let reply = admin.put(&format!("/api/v1/environments/development/flags/{flag}"), &config, &etag).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    // Rules, not rollouts: their exposures are recorded with the scope `All` only.
    let provider = development_provider(&server).exposure_queue(100).exposures(ExposureScope::All).build().unwrap();
    let handle = provider.handle();
    let mut api = OpenFeature::default();
    api.set_provider(provider).await;
    let client = api.create_client();
    let user = EvaluationContext::default().with_targeting_key("u1");
    for flag in ["empty-rule", "long-rule"] {
        assert!(client.get_bool_value(flag, Some(&user), None).await.unwrap());
    }
    for _ in 0..50 {
        assert!(client.get_bool_value("plain", Some(&user), None).await.unwrap());
    }
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    let usage = admin.get("/api/v1/reports/usage?environment=development").await;
    let evaluations: Vec<(String, u64)> = usage.body["environments"][0]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["flag"].as_str().unwrap().to_owned(), f["evaluations"].as_u64().unwrap()))
        .collect();
    let expected = [("empty-rule", 1), ("long-rule", 1), ("plain", 50)].map(|(flag, n)| (flag.to_owned(), n));
    assert_eq!(evaluations, expected);
    let exposures = admin.get("/api/v1/exposures?environment=development&limit=1000").await;
    let rules: Vec<(String, Option<usize>)> = exposures.body["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["flag"] != "plain")
        .map(|e| (e["flag"].as_str().unwrap().to_owned(), e["rule_id"].as_str().map(str::len)))
        .collect();
    assert_eq!(rules, [("long-rule".to_owned(), Some(300)), ("empty-rule".to_owned(), Some(0))]);
    server.stop().await;
}

on_both_backends!(
    provider_follows_changes,
    provider_telemetry_reaches_the_reports,
    a_report_stored_after_the_provider_gave_up_counts_once,
    exposures_of_rules_the_api_takes_are_reported_with_the_counts
);
