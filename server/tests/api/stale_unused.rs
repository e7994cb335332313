//! The stale-flag report's `unused`: no evaluations reported for `unused_days` where
//! SDKs that could evaluate the flag report telemetry, and never where none report.
//!
//! "Days ago" is made by moving stored times back (flag creation, when reports began,
//! when a flag was last seen) in the database itself.

use serde_json::{json, Value as Json};

use crate::common::telemetry::{accepted, main_sql, report, telemetry_sql, DAY_MS};
use crate::common::{now_ms, Backend, Server};

async fn stale(server: &Server, query: &str) -> Json {
    let reply = server.admin().get(&format!("/api/v1/reports/stale-flags{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

fn entry<'r>(report: &'r Json, key: &str) -> Option<&'r Json> {
    report["flags"].as_array().unwrap().iter().find(|f| f["key"] == key)
}

/// The `unused` reason of `key`, if it has one.
fn unused<'r>(report: &'r Json, key: &str) -> Option<&'r Json> {
    entry(report, key)?["reasons"].as_array().unwrap().iter().find(|r| r["reason"] == "unused")
}

fn date(ms: i64) -> String {
    pennon_core::format_rfc3339(ms)[..10].to_owned()
}

async fn unused_only_where_sdks_report(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    for (key, client_visible, temporary) in [
        ("in-use", false, true),
        ("never-used", false, true),
        ("stopped", false, true),
        ("web-only", true, true),
        ("kill-switch", false, false),
    ] {
        let body = json!({ "key": key, "type": "boolean", "temporary": temporary, "client_visible": client_visible });
        assert_eq!(admin.post("/api/v1/flags", &body).await.status, 201);
    }
    let client = server.sdk_key("staging", "client").await;
    let now = now_ms();
    let counts = json!([{ "flag": "in-use", "variant": "off", "count": 9 }, { "flag": "stopped", "variant": "off", "count": 1 }]);
    accepted(&server, &server.sdk_dev, "development", &report(now, counts)).await;
    accepted(&server, &client, "staging", &report(now, json!([]))).await;
    // Flags and environments created 30 days ago; SDKs reporting for 20; `stopped` last
    // evaluated 10 ago.
    main_sql(&server, &format!("UPDATE flags SET created_at = created_at - {}", 30 * DAY_MS)).await;
    main_sql(&server, &format!("UPDATE environments SET created_at = created_at - {}", 30 * DAY_MS)).await;
    telemetry_sql(&server, &format!("UPDATE telemetry_reporting SET first_report = first_report - {}", 20 * DAY_MS))
        .await;
    telemetry_sql(
        &server,
        &format!("UPDATE telemetry_seen SET last_seen = last_seen - {} WHERE flag = 'stopped'", 10 * DAY_MS),
    )
    .await;

    let dev = stale(&server, "?environment=development").await;
    assert_eq!(dev["unused_days"], 7);
    assert!(unused(&dev, "in-use").is_none(), "evaluated today");
    assert!(entry(&dev, "kill-switch").is_none(), "permanent flags are never reported");
    let never = unused(&dev, "never-used").expect("never evaluated in 20 days of reports");
    assert_eq!(
        never["message"],
        format!(
            "no evaluations reported for 7 days in `development` (SDKs report telemetry there): not evaluated since \
             reports began on {}",
            date(now - 20 * DAY_MS)
        )
    );
    let stopped = entry(&dev, "stopped").unwrap();
    let reason = unused(&dev, "stopped").unwrap();
    assert!(
        reason["message"]
            .as_str()
            .unwrap()
            .ends_with(&format!("last evaluated on {} in `development`", date(now - 10 * DAY_MS))),
        "{reason}"
    );
    let since = pennon_core::parse_rfc3339(reason["since"].as_str().unwrap()).unwrap();
    assert!((since - (now - 10 * DAY_MS)).abs() < 60_000, "since the last evaluation: {reason}");
    let last = pennon_core::parse_rfc3339(stopped["environments"][0]["last_evaluated"].as_str().unwrap()).unwrap();
    assert_eq!(last, since);
    assert!(
        stopped["action"].as_str().unwrap().starts_with(
            "if the other environments do not evaluate it either, search the code for `stopped`: if nothing evaluates it"
        ),
        "{stopped}"
    );
    assert!(unused(&dev, "web-only").is_some(), "server keys could have evaluated it");

    // Longer periods: `stopped` was seen within 15 days; 25 days is longer than reports go back.
    let fifteen = stale(&server, "?environment=development&unused_days=15").await;
    assert!(unused(&fifteen, "stopped").is_none() && unused(&fifteen, "never-used").is_some());
    let twenty_five = stale(&server, "?environment=development&unused_days=25").await;
    assert!(unused(&twenty_five, "never-used").is_none(), "silence before reports began is no evidence");

    // Staging has only client keys reporting: a server-only flag is not theirs to evaluate.
    let staging = stale(&server, "?environment=staging").await;
    assert!(unused(&staging, "never-used").is_none());
    assert!(unused(&staging, "web-only").is_some());
    // Production has no reports at all: no `unused` there.
    let production = stale(&server, "?environment=production").await;
    for key in ["never-used", "stopped", "web-only"] {
        assert!(unused(&production, key).is_none(), "{key} in production");
    }
    // Over every environment: the environments with reports, named.
    let whole = stale(&server, "").await;
    let web = unused(&whole, "web-only").unwrap();
    assert!(web["message"].as_str().unwrap().contains("in `development`, `staging` (SDKs report"), "{web}");
    assert!(entry(&whole, "never-used").unwrap()["action"]
        .as_str()
        .unwrap()
        .starts_with("search the code for `never-used`"));
    assert!(unused(&whole, "in-use").is_none(), "evaluated in one environment is evaluated");

    // SDKs that stopped reporting before the period say nothing.
    telemetry_sql(
        &server,
        &format!(
            "UPDATE telemetry_reporting SET last_report = last_report - {} WHERE env = 'development'",
            10 * DAY_MS
        ),
    )
    .await;
    let quiet = stale(&server, "?environment=development").await;
    assert!(unused(&quiet, "never-used").is_none());

    let bad = server.admin().get("/api/v1/reports/stale-flags?unused_days=-1").await;
    assert_eq!((bad.status, bad.code(), bad.field()), (400, "invalid_query", "unused_days"), "{}", bad.body);
    server.stop().await;
}

crate::on_both_backends!(unused_only_where_sdks_report);
