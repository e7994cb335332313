//! The stale-flag report (`GET /api/v1/reports/stale-flags`): each reason, the
//! configurations that must not count as serving one variant, scoped tokens and bad
//! query values.
//!
//! "Days ago" is made by moving the stored times back (flag creation, configuration
//! changes) in the database itself: the server has no clock to wind.

use serde_json::{json, Value as Json};

use crate::common::{Api, Backend, Server};

const DAY_MS: i64 = 86_400_000;

/// Runs `sql` on the server's database, beside the server.
async fn execute(server: &Server, sql: &str) {
    if server.database_url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&server.database_url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&server.database_url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// Moves flag `key`'s creation `created` days back, and its configurations' last change
/// `changed` days back (in `env` only, if given).
async fn age(server: &Server, key: &str, created: i64, changed: i64, env: Option<&str>) {
    execute(server, &format!("UPDATE flags SET created_at = created_at - {} WHERE key = '{key}'", created * DAY_MS))
        .await;
    let only = env.map(|env| format!(" AND env = '{env}'")).unwrap_or_default();
    let sql =
        format!("UPDATE flag_configs SET updated_at = updated_at - {} WHERE flag = '{key}'{only}", changed * DAY_MS);
    execute(server, &sql).await;
}

/// A server whose `production` is unprotected, so that tests configure it directly.
async fn server(backend: &Backend) -> Server {
    let server = Server::start(backend).await;
    let admin = server.admin();
    let etag = admin.get("/api/v1/environments/production").await.etag.unwrap();
    let reply = admin.patch("/api/v1/environments/production", &json!({ "protected": false }), &etag).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    server
}

async fn create(api: &Api, flag: Json) {
    let reply = api.post("/api/v1/flags", &flag).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

/// Replaces `key`'s configuration in `env`.
async fn configure(api: &Api, env: &str, key: &str, config: Json) {
    let path = format!("/api/v1/environments/{env}/flags/{key}");
    let etag = api.get(&path).await.etag.unwrap();
    let reply = api.put(&path, &config, &etag).await;
    assert_eq!(reply.status, 200, "{key} in {env}: {}", reply.body);
}

async fn report(api: &Api, query: &str) -> Json {
    let reply = api.get(&format!("/api/v1/reports/stale-flags{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// The reported flag `key`, if it is reported.
fn entry<'r>(report: &'r Json, key: &str) -> Option<&'r Json> {
    report["flags"].as_array().unwrap().iter().find(|f| f["key"] == key)
}

/// The reasons `key` is reported for, in order.
fn reasons(report: &Json, key: &str) -> Vec<String> {
    let Some(flag) = entry(report, key) else { return Vec::new() };
    flag["reasons"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap().to_owned()).collect()
}

/// `time` (RFC 3339) is within a minute of `expected` (Unix milliseconds): the report was
/// made moments after the test read its clock.
fn assert_near(time: &Json, expected: i64) {
    let ms = pennon_core::parse_rfc3339(time.as_str().unwrap()).unwrap();
    assert!((ms - expected).abs() < 60_000, "{time} is not {}", pennon_core::format_rfc3339(expected));
}

const ENVS: [&str; 3] = ["development", "staging", "production"];

async fn each_reason_once_and_in_order(backend: Backend) {
    let server = server(&backend).await;
    let admin = server.admin();
    let on = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "on" } });
    let off = json!({ "enabled": false, "off_variant": "off", "fallthrough": { "variant": "on" } });
    let split = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "rollout": {
        "variants": [{ "variant": "on", "weight": 50 }, { "variant": "off", "weight": 50 }] } } });

    // On everywhere for 20 days: settled on `true`.
    create(&admin, json!({ "key": "launched", "type": "boolean", "temporary": true, "owner": "payments" })).await;
    for env in ENVS {
        configure(&admin, env, "launched", on.clone()).await;
    }
    age(&server, "launched", 30, 20, None).await;
    // Turned on and off again: off everywhere for 12 days, settled on `false`.
    create(&admin, json!({ "key": "rolled-back", "type": "boolean", "temporary": true })).await;
    configure(&admin, "development", "rolled-back", on.clone()).await;
    configure(&admin, "development", "rolled-back", off.clone()).await;
    age(&server, "rolled-back", 12, 12, None).await;
    // Created 14 days ago and never configured anywhere.
    create(&admin, json!({ "key": "untouched", "type": "boolean", "temporary": true })).await;
    age(&server, "untouched", 14, 14, None).await;
    // Past its expiry, still split in development.
    create(
        &admin,
        json!({ "key": "expired", "type": "boolean", "temporary": true, "expires_at": "2020-01-02T00:00:00Z" }),
    )
    .await;
    configure(&admin, "development", "expired", split.clone()).await;
    // 56 days old without an expiry, changed today: past its lifetime, not settled yet.
    create(&admin, json!({ "key": "old", "type": "boolean", "temporary": true })).await;
    age(&server, "old", 56, 56, None).await;
    configure(&admin, "staging", "old", on.clone()).await;
    // On in staging, off elsewhere, for 10 days: diverged.
    create(&admin, json!({ "key": "split-envs", "type": "boolean", "temporary": true })).await;
    configure(&admin, "staging", "split-envs", on.clone()).await;
    age(&server, "split-envs", 10, 10, None).await;
    // Permanent flags are never reported, however old, expired or settled.
    create(&admin, json!({ "key": "kill-switch", "type": "boolean", "expires_at": "2020-01-01T00:00:00Z" })).await;
    age(&server, "kill-switch", 400, 400, None).await;
    // On everywhere since today: not settled yet.
    create(&admin, json!({ "key": "fresh", "type": "boolean", "temporary": true })).await;
    for env in ENVS {
        configure(&admin, env, "fresh", on.clone()).await;
    }

    let now = crate::common::now_ms();
    let body = report(&admin, "").await;
    assert_eq!((&body["settled_days"], &body["lifetime_days"]), (&json!(7), &json!(40)));
    assert_eq!(body["environments"], json!(["development", "production", "staging"]));
    let keys: Vec<&str> = body["flags"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    // Stale longest first: the expiry in 2020, then 20, 16, 14, 12 and 10 days ago.
    assert_eq!(keys, ["expired", "launched", "old", "untouched", "rolled-back", "split-envs"], "{body:#}");

    let launched = entry(&body, "launched").unwrap();
    assert_eq!(reasons(&body, "launched"), ["settled"]);
    assert_eq!(launched["owner"], "payments");
    let since = &launched["reasons"][0]["since"];
    assert_eq!(&launched["stale_since"], since);
    assert_near(since, now - 20 * DAY_MS);
    let message = launched["reasons"][0]["message"].as_str().unwrap();
    assert_eq!(message, "serves `on` (`true`) to everyone in every environment");
    assert_eq!(launched["action"], "replace every evaluation of `launched` in code with `true`, then delete the flag");
    for env in launched["environments"].as_array().unwrap() {
        assert_eq!((&env["variant"], &env["value"], env.get("varies")), (&json!("on"), &json!(true), None), "{env}");
    }

    assert_eq!(reasons(&body, "rolled-back"), ["settled"]);
    assert!(entry(&body, "rolled-back").unwrap()["action"].as_str().unwrap().contains("with `false`"));

    assert_eq!(reasons(&body, "untouched"), ["never_configured"]);
    let untouched = entry(&body, "untouched").unwrap();
    assert!(untouched["reasons"][0]["message"].as_str().unwrap().contains("off variant `off` (`false`)"));
    assert!(untouched["action"].as_str().unwrap().starts_with("if the work behind it was dropped"), "{untouched}");

    assert_eq!(reasons(&body, "expired"), ["expired"]);
    let expired = entry(&body, "expired").unwrap();
    assert_eq!(expired["stale_since"], "2020-01-02T00:00:00Z");
    let development = &expired["environments"].as_array().unwrap()[0];
    assert_eq!(development["environment"], "development");
    assert_eq!(development["varies"], "the fallthrough splits users: `on` 50%, `off` 50%");
    let action = expired["action"].as_str().unwrap();
    assert!(
        action.starts_with(
            "settle it: have every environment serve the same value to everyone for 7 days (`development` does not)"
        ),
        "{action}"
    );
    assert!(action.ends_with("to keep it longer, set a later expires_at"), "{action}");

    assert_eq!(reasons(&body, "old"), ["past_lifetime"], "changed today: not settled");
    let old = entry(&body, "old").unwrap();
    assert_near(&old["stale_since"], now - 16 * DAY_MS); // the end of its 40 days
    assert!(old["action"].as_str().unwrap().contains(" for 7 days (`staging` changed on "), "{old}");

    assert_eq!(reasons(&body, "split-envs"), ["diverged"]);
    let message = entry(&body, "split-envs").unwrap()["reasons"][0]["message"].as_str().unwrap();
    assert!(message.contains("`off` (`false`) in development, `off` (`false`) in production, `on` (`true`) in staging"));

    // A longer settled period: what settled 10 to 20 days ago is no longer reported.
    let body = report(&admin, "?settled_days=25&lifetime_days=60").await;
    let keys: Vec<&str> = body["flags"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["expired"], "{body:#}");
    // Settled at once, and every temporary flag past a lifetime of 0 days.
    let body = report(&admin, "?settled_days=0&lifetime_days=0").await;
    assert_eq!(reasons(&body, "fresh"), ["past_lifetime", "settled"]);
    server.stop().await;
}

/// A change of the variants' values restarts "since"; an edit of the description does not.
async fn a_change_of_values_restarts_since(backend: Backend) {
    let server = server(&backend).await;
    let admin = server.admin();
    let flag = json!({ "key": "banner", "type": "string", "temporary": true, "variants": { "a": "blue", "b": "red" } });
    create(&admin, flag.clone()).await;
    for env in ENVS {
        configure(
            &admin,
            env,
            "banner",
            json!({ "enabled": true, "off_variant": "b", "fallthrough": { "variant": "a" } }),
        )
        .await;
    }
    age(&server, "banner", 20, 20, None).await;
    assert_eq!(reasons(&report(&admin, "").await, "banner"), ["settled"]);
    let update = |flag: Json| {
        let admin = admin.clone();
        async move {
            let etag = admin.get("/api/v1/flags/banner").await.etag.unwrap();
            let reply = admin.put("/api/v1/flags/banner", &flag, &etag).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
    };
    update(json!({ "key": "banner", "type": "string", "temporary": true, "description": "top of the page",
        "variants": { "a": "blue", "b": "red" } }))
    .await;
    let body = report(&admin, "").await;
    assert_eq!(reasons(&body, "banner"), ["settled"], "{body:#}");
    assert!(entry(&body, "banner").unwrap()["action"].as_str().unwrap().contains("with `\"blue\"`"));
    update(json!({ "key": "banner", "type": "string", "temporary": true, "variants": { "a": "green", "b": "red" } }))
        .await;
    assert_eq!(reasons(&report(&admin, "").await, "banner"), Vec::<String>::new(), "`a` serves a new value since now");
    server.stop().await;
}

/// The audit log is read for all flags at once: each flag's own variant changes and
/// configuration history decide its reasons, never another's.
async fn several_flags_keep_their_own_history(backend: Backend) {
    let server = server(&backend).await;
    let admin = server.admin();
    let on = json!({ "enabled": true, "off_variant": "b", "fallthrough": { "variant": "a" } });
    let flag = |key: &str, a: &str, description: &str| {
        json!({ "key": key, "type": "string", "temporary": true, "description": description,
                "variants": { "a": a, "b": "red" } })
    };
    for key in ["described", "revalued", "untouched", "revalued-untouched", "dev-only"] {
        create(&admin, flag(key, "blue", "")).await;
    }
    for env in ENVS {
        configure(&admin, env, "described", on.clone()).await;
        configure(&admin, env, "revalued", on.clone()).await;
    }
    // `red` in development; elsewhere what a new flag serves, `blue`.
    let red = json!({ "enabled": true, "off_variant": "a", "fallthrough": { "variant": "b" } });
    configure(&admin, "development", "dev-only", red).await;
    for key in ["described", "revalued", "untouched", "revalued-untouched", "dev-only"] {
        age(&server, key, 20, 20, None).await;
    }
    let update = |key: &'static str, body: Json| {
        let admin = admin.clone();
        async move {
            let path = format!("/api/v1/flags/{key}");
            let etag = admin.get(&path).await.etag.unwrap();
            let reply = admin.put(&path, &body, &etag).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
    };
    update("described", flag("described", "blue", "only the words")).await;
    update("revalued", flag("revalued", "green", "")).await;
    update("revalued-untouched", flag("revalued-untouched", "green", "")).await;

    let body = report(&admin, "").await;
    assert_eq!(reasons(&body, "described"), ["settled"], "{body:#}");
    assert_eq!(reasons(&body, "revalued"), Vec::<String>::new(), "`a` serves a new value since now: {body:#}");
    assert_eq!(reasons(&body, "untouched"), ["never_configured"], "{body:#}");
    assert_eq!(reasons(&body, "revalued-untouched"), Vec::<String>::new(), "{body:#}");
    assert_eq!(reasons(&body, "dev-only"), ["diverged"], "{body:#}");
    let production = report(&admin, "?environment=production").await;
    assert_eq!(reasons(&production, "dev-only"), ["never_configured"], "{production:#}");
    assert_eq!(reasons(&production, "described"), ["settled"], "{production:#}");
    let development = report(&admin, "?environment=development").await;
    assert_eq!(reasons(&development, "dev-only"), ["settled"], "{development:#}");
    assert_eq!(reasons(&development, "untouched"), ["never_configured"], "{development:#}");
    server.stop().await;
}

/// Only configurations that give every context one variant count, as the core
/// evaluates them; each is checked in `development` alone (`environment=`).
async fn only_what_serves_one_variant_to_everyone_settles(backend: Backend) {
    let server = server(&backend).await;
    let admin = server.admin();
    let staff = json!([{ "attribute": "email", "op": "ends_with", "value": "@acme.com" }]);
    let rollout = |on: u32, off: u32| json!({ "variants": [{ "variant": "on", "weight": on }, { "variant": "off", "weight": off }] });
    let enabled = |extra: Json| {
        let mut config = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "on" } });
        config.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        config
    };
    let mut ramp = rollout(0, 100);
    ramp["schedule"] =
        json!({ "ramp": { "start": "2020-01-01T00:00:00Z", "end": "2099-01-01T00:00:00Z", "weights": [100, 0] } });
    let mut ramped = rollout(0, 100);
    ramped["schedule"] =
        json!({ "ramp": { "start": "2020-01-01T00:00:00Z", "end": "2020-02-01T00:00:00Z", "weights": [100, 0] } });
    let mut ramped_to_half = rollout(0, 100);
    ramped_to_half["schedule"] =
        json!({ "ramp": { "start": "2020-01-01T00:00:00Z", "end": "2020-02-01T00:00:00Z", "weights": [50, 50] } });
    let mut stepping = rollout(100, 0);
    stepping["schedule"] = json!({ "steps": [{ "at": "2099-01-01T00:00:00Z", "weights": [0, 100] }] });
    // (key, configuration, what development serves: a variant, or the start of why not)
    let cases: Vec<(&str, Json, Result<&str, &str>)> = vec![
        (
            "rule-differs",
            enabled(
                json!({ "fallthrough": { "variant": "off" }, "rules": [{ "id": "staff", "conditions": staff, "serve": { "variant": "on" } }] }),
            ),
            Err("rule `staff` serves `on` to the contexts it matches, the others get `off`"),
        ),
        (
            "rule-agrees",
            enabled(json!({ "rules": [{ "id": "staff", "conditions": staff, "serve": { "variant": "on" } }] })),
            Ok("on"),
        ),
        (
            "target-differs",
            enabled(
                json!({ "fallthrough": { "variant": "off" }, "targets": [{ "variant": "on", "keys": ["ann", "bob"] }] }),
            ),
            Err("2 targeted keys get `on`, the others `off`"),
        ),
        ("target-agrees", enabled(json!({ "targets": [{ "variant": "on", "keys": ["ann"] }] })), Ok("on")),
        (
            "half",
            enabled(json!({ "fallthrough": { "rollout": rollout(50, 50) } })),
            Err("the fallthrough splits users: `on` 50%, `off` 50%"),
        ),
        ("whole", enabled(json!({ "fallthrough": { "rollout": rollout(100, 0) } })), Ok("on")),
        (
            "ramping",
            enabled(json!({ "fallthrough": { "rollout": ramp } })),
            Err("the fallthrough follows a schedule: everyone gets `on` only from 2099-01-01T00:00:00Z"),
        ),
        (
            "ramped-to-half",
            enabled(json!({ "fallthrough": { "rollout": ramped_to_half } })),
            Err("the fallthrough ends its schedule split: `on` 50%, `off` 50%"),
        ),
        ("ramped", enabled(json!({ "fallthrough": { "rollout": ramped } })), Ok("on")),
        (
            "stepping",
            enabled(json!({ "fallthrough": { "rollout": stepping } })),
            Err("the fallthrough follows a schedule: everyone gets `off` only from 2099-01-01T00:00:00Z"),
        ),
        (
            "catch-all",
            enabled(
                json!({ "rules": [{ "id": "everyone", "serve": { "variant": "off" } }, { "id": "late", "conditions": staff, "serve": { "variant": "on" } }] }),
            ),
            Ok("off"),
        ),
        (
            "disabled",
            json!({ "enabled": false, "off_variant": "off", "fallthrough": { "rollout": rollout(50, 50) } }),
            Ok("off"),
        ),
        ("needs-gate-on", enabled(json!({ "prerequisites": [{ "flag": "gate", "variant": "on" }] })), Ok("on")),
        ("needs-gate-off", enabled(json!({ "prerequisites": [{ "flag": "gate", "variant": "off" }] })), Ok("off")),
        (
            "needs-half",
            enabled(json!({ "prerequisites": [{ "flag": "half", "variant": "on" }] })),
            Err("prerequisite `half`: the fallthrough splits users"),
        ),
    ];
    // A permanent flag serving `on` to everyone, as a prerequisite.
    create(&admin, json!({ "key": "gate", "type": "boolean" })).await;
    configure(&admin, "development", "gate", enabled(json!({}))).await;
    for (key, config, _) in &cases {
        create(&admin, json!({ "key": key, "type": "boolean", "temporary": true })).await;
        configure(&admin, "development", key, config.clone()).await;
    }
    for key in cases.iter().map(|c| c.0).chain(["gate"]) {
        age(&server, key, 20, 10, Some("development")).await;
    }
    let body = report(&admin, "?environment=development&lifetime_days=3650").await;
    assert_eq!(body["environments"], json!(["development"]));
    let mut settled = Vec::new();
    for (key, _, expected) in &cases {
        match expected {
            Ok(variant) => {
                assert_eq!(reasons(&body, key), ["settled"], "{key}: {body:#}");
                let development = &entry(&body, key).unwrap()["environments"][0];
                assert_eq!(development["variant"], *variant, "{key}");
                settled.push(*key);
            }
            // Not settled, and not otherwise stale with a lifetime of ten years.
            Err(_) => assert_eq!(reasons(&body, key), Vec::<String>::new(), "{key}: {body:#}"),
        }
    }
    assert_eq!(settled.len(), 8);
    let why = report(&admin, "?environment=development&lifetime_days=0").await;
    for (key, _, expected) in &cases {
        if let Err(start) = expected {
            let varies = entry(&why, key).unwrap()["environments"][0]["varies"].as_str().unwrap().to_owned();
            assert!(varies.starts_with(start), "{key}: {varies}");
        }
    }
    // Reported over one environment, the action says what it cannot see.
    let action = entry(&body, "whole").unwrap()["action"].as_str().unwrap();
    assert!(action.starts_with("if the other environments serve `true` too, replace every evaluation"), "{action}");
    assert!(entry(&body, "whole").unwrap()["reasons"][0]["message"].as_str().unwrap().contains("in `development`"));
    server.stop().await;
}

async fn scoped_tokens_and_bad_queries(backend: Backend) {
    let server = server(&backend).await;
    let admin = server.admin();
    create(&admin, json!({ "key": "on-in-staging", "type": "boolean", "temporary": true })).await;
    configure(
        &admin,
        "staging",
        "on-in-staging",
        json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "on" } }),
    )
    .await;
    age(&server, "on-in-staging", 10, 10, None).await;
    let viewer = server.api(&server.token("vera", "viewer", None).await);
    assert_eq!(reasons(&report(&viewer, "").await, "on-in-staging"), ["diverged"]);

    // A token scoped to staging reads staging's report only.
    let staging = server.api(&server.token("stan", "viewer", Some(&["staging"])).await);
    let refused = staging.get("/api/v1/reports/stale-flags").await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"), "{}", refused.body);
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("ask for one with `environment=`"));
    let other = staging.get("/api/v1/reports/stale-flags?environment=production").await;
    assert_eq!(other.status, 403, "{}", other.body);
    let body = report(&staging, "?environment=staging").await;
    assert_eq!(body["environments"], json!(["staging"]));
    assert_eq!(reasons(&body, "on-in-staging"), ["settled"]);
    let envs: Vec<&Json> =
        body["flags"].as_array().unwrap().iter().flat_map(|f| f["environments"].as_array().unwrap()).collect();
    assert!(envs.iter().all(|e| e["environment"] == "staging"), "nothing of another environment: {body:#}");

    let missing = admin.get("/api/v1/reports/stale-flags?environment=nope").await;
    assert_eq!((missing.status, missing.code()), (404, "not_found"));
    admin
        .assert_invalid_queries(
            "/api/v1/reports/stale-flags",
            &[
                ("settled_days=abc", "settled_days"),
                ("settled_days=", "settled_days"),
                ("settled_days=3651", "settled_days"),
                ("lifetime_days=-1", "lifetime_days"),
                ("lifetime_days=+5", "lifetime_days"),
                ("lifetime_days=1.5", "lifetime_days"),
            ],
        )
        .await;
    let unknown = admin.get("/api/v1/reports/stale-flags?settled=7").await;
    assert_eq!((unknown.status, unknown.code()), (400, "invalid_query"), "{}", unknown.body);
    server.stop().await;
}

/// The days in words as in numbers (none for 0, "1 day"), and an action over one
/// environment says to check the others, for every kind of reason.
async fn the_action_fits_the_days_and_the_scope(backend: Backend) {
    let server = server(&backend).await;
    let admin = server.admin();
    let split = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "rollout": {
        "variants": [{ "variant": "on", "weight": 50 }, { "variant": "off", "weight": 50 }] } } });
    create(
        &admin,
        json!({ "key": "expired", "type": "boolean", "temporary": true, "expires_at": "2020-01-02T00:00:00Z" }),
    )
    .await;
    configure(&admin, "development", "expired", split).await;
    create(&admin, json!({ "key": "old", "type": "boolean", "temporary": true })).await;
    age(&server, "old", 3, 0, None).await;
    let action = |body: &Json, key: &str| entry(body, key).unwrap()["action"].as_str().unwrap().to_owned();
    let message = |body: &Json, key: &str| entry(body, key).unwrap()["reasons"][0]["message"].clone();

    let body = report(&admin, "?settled_days=0&lifetime_days=0").await;
    assert!(
        action(&body, "expired").starts_with(
            "settle it: have every environment serve the same value to everyone (`development` does not), then"
        ),
        "{body:#}"
    );
    let created = &entry(&body, "old").unwrap()["created_at"].as_str().unwrap()[..10];
    let past =
        entry(&body, "old").unwrap()["reasons"].as_array().unwrap().iter().find(|r| r["reason"] == "past_lifetime");
    assert_eq!(
        past.unwrap()["message"],
        format!("created on {created}, and it has no expires_at (lifetime_days is 0)"),
        "{body:#}"
    );
    let body = report(&admin, "?settled_days=1&lifetime_days=1").await;
    assert!(action(&body, "expired").contains(" to everyone for 1 day (`development` does not)"), "{body:#}");
    assert_eq!(message(&body, "old"), format!("created on {created}, more than 1 day ago, and it has no expires_at"));

    // Over one environment: the action is about it, and says to check the others.
    let body = report(&admin, "?environment=development").await;
    assert_eq!(
        action(&body, "expired"),
        "settle it: have `development` serve one value to everyone for 7 days (`development` does not) and check \
         that the other environments serve that value too, then replace every evaluation of `expired` in code \
         with that value and delete the flag; to keep it longer, set a later expires_at"
    );
    // On in staging only: `diverged` over every environment, `settled` over staging
    // (one environment cannot differ from itself), and `never_configured` elsewhere.
    create(&admin, json!({ "key": "split-envs", "type": "boolean", "temporary": true })).await;
    let on = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "on" } });
    configure(&admin, "staging", "split-envs", on).await;
    age(&server, "split-envs", 10, 10, None).await;
    assert_eq!(reasons(&report(&admin, "").await, "split-envs"), ["diverged"]);
    let body = report(&admin, "?environment=staging").await;
    assert_eq!(reasons(&body, "split-envs"), ["settled"]);
    assert!(action(&body, "split-envs").starts_with("if the other environments serve `true` too, "), "{body:#}");
    let body = report(&admin, "?environment=production").await;
    assert_eq!(reasons(&body, "split-envs"), ["never_configured"]);
    assert!(action(&body, "split-envs").contains(" and no other environment uses it"), "{body:#}");
    server.stop().await;
}

crate::on_both_backends!(
    the_action_fits_the_days_and_the_scope,
    several_flags_keep_their_own_history,
    each_reason_once_and_in_order,
    a_change_of_values_restarts_since,
    only_what_serves_one_variant_to_everyone_settles,
    scoped_tokens_and_bad_queries,
);
