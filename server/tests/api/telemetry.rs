//! `POST /v1/telemetry/{env}`: reports are summed per flag, variant and hour (one row
//! each, not one per report), refused whole with the field at fault, authorized by the
//! environment's SDK keys, open to browsers, and rate-limited per key.

use reqwest::Method;
use serde_json::{json, Value as Json};

use crate::common::telemetry::{
    accepted, count, flag_usage, hour_start, main_sql, post, report, telemetry_url, usage, DAY_MS, HOUR_MS,
};
use crate::common::{boolean_flag, now_ms, Api, Backend, Server, PATIENCE};

async fn reports_add_up_per_variant_and_hour(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "new-checkout", false).await;
    boolean_flag(&admin, "other", false).await;
    // Created a day ago: counts of hours before a flag (or an environment) existed
    // belong to an earlier one of its name.
    main_sql(&server, &format!("UPDATE flags SET created_at = created_at - {DAY_MS}")).await;
    main_sql(&server, &format!("UPDATE environments SET created_at = created_at - {DAY_MS}")).await;
    let now = now_ms();
    let this_hour = hour_start(now);
    let earlier = this_hour - 2 * HOUR_MS;
    let first = report(
        this_hour + 1,
        json!([
            { "flag": "new-checkout", "variant": "on", "count": 3 },
            { "flag": "new-checkout", "variant": "off", "count": 2 },
            { "flag": "new-checkout", "variant": null, "count": 1 }
        ]),
    );
    assert_eq!(accepted(&server, &server.sdk_dev, "development", &first).await, json!({ "counts": 3, "exposures": 0 }));
    let second = report(this_hour + 1, json!([{ "flag": "new-checkout", "variant": "on", "count": 4 }]));
    accepted(&server, &server.sdk_dev, "development", &second).await;
    let older = report(earlier + 5, json!([{ "flag": "new-checkout", "variant": "on", "count": 10 }]));
    accepted(&server, &server.sdk_dev, "development", &older).await;

    // Four rows: one per flag, outcome and hour, however many reports added to them.
    let rows =
        count(&telemetry_url(&server.database_url), "SELECT COUNT(*) FROM telemetry_usage WHERE env = 'development'")
            .await;
    assert_eq!(rows, 4);

    let body = usage(&server, "?environment=development&granularity=hour").await;
    let checkout = flag_usage(&body, "development", "new-checkout");
    assert_eq!(checkout["evaluations"], 20);
    assert_eq!(checkout["variants"], json!({ "on": 17, "off": 2 }));
    assert_eq!((&checkout["errors"], &checkout["unknown_variants"]), (&json!(1), &json!(0)));
    assert_eq!(
        checkout["series"],
        json!([
            { "start": pennon_core::format_rfc3339(earlier), "evaluations": 10, "variants": { "on": 10 },
              "errors": 0, "unknown_variants": 0 },
            { "start": pennon_core::format_rfc3339(this_hour), "evaluations": 10, "variants": { "on": 7, "off": 2 },
              "errors": 1, "unknown_variants": 0 }
        ])
    );
    assert_eq!(checkout["last_seen"], pennon_core::format_rfc3339(this_hour + 1));
    assert_eq!(checkout["sdks"], json!([{ "sdk": "pennon-rust/0.1.0", "last_seen": checkout["last_seen"] }]));
    let other = flag_usage(&body, "development", "other");
    assert_eq!((&other["evaluations"], other.get("last_seen")), (&json!(0), None), "never evaluated");
    let sdks = &body["environments"][0]["sdks"];
    assert_eq!(sdks.as_array().unwrap().len(), 1, "{sdks}");
    assert_eq!(
        (&sdks[0]["sdk"], &sdks[0]["kind"], &sdks[0]["reports"], &sdks[0]["instances"]),
        (&json!("pennon-rust/0.1.0"), &json!("server"), &json!(3), &json!(1))
    );
    // Daily: the two hours in one point (both fall on today, or the day before at 0-2 h).
    let daily = usage(&server, "?environment=development&flag=new-checkout&granularity=day").await;
    let points = daily["environments"][0]["flags"][0]["series"].as_array().unwrap().clone();
    let total: u64 = points.iter().map(|p| p["evaluations"].as_u64().unwrap()).sum();
    assert_eq!(total, 20);
    assert!(points.len() <= 2, "{points:?}");
    server.stop().await;
}

/// A report with one bad member is refused whole with 422 naming it, and nothing of
/// it is stored, not even the good entries before it. (A bad exposure is dropped alone:
/// `telemetry_exposures.rs`.)
async fn bad_reports_are_refused_whole_naming_the_field(backend: Backend) {
    let server = Server::start(&backend).await;
    boolean_flag(&server.admin(), "new-checkout", false).await;
    let now = now_ms();
    let good = json!({ "flag": "new-checkout", "variant": "on", "count": 5 });
    let with = |change: &dyn Fn(&mut Json)| {
        let mut body = report(now, json!([good.clone(), good.clone()]));
        change(&mut body);
        body
    };
    let cases: Vec<(Json, &str)> = vec![
        (with(&|b| b["counts"][1]["count"] = json!(0)), "counts[1].count"),
        (with(&|b| b["counts"][1]["count"] = json!(-1)), "counts[1].count"),
        (with(&|b| b["counts"][1]["count"] = json!(1.5)), "counts[1].count"),
        (with(&|b| b["counts"][1]["count"] = json!(9_007_199_254_740_992_u64)), "counts[1].count"),
        (with(&|b| b["counts"][1]["flag"] = json!("new\u{1b}[2J")), "counts[1].flag"),
        (with(&|b| b["counts"][1]["variant"] = json!("a\u{202e}b")), "counts[1].variant"),
        (with(&|b| b["counts"][1]["variant"] = json!("x".repeat(257))), "counts[1].variant"),
        (with(&|b| b["sdk"] = json!("s".repeat(65))), "sdk"),
        (with(&|b| b["sdk"] = json!("pennon\trust")), "sdk"),
        (with(&|b| b["instance"] = json!("")), "instance"),
        (with(&|b| b["window"]["start_ms"] = json!(now + 1)), "window.start_ms"),
        (with(&|b| b["window"] = json!({ "start_ms": 0, "end_ms": now - 8 * DAY_MS })), "window.end_ms"),
        (with(&|b| b["window"]["end_ms"] = json!(now + 2 * HOUR_MS)), "window.end_ms"),
        (with(&|b| b["window"]["end_ms"] = json!("soon")), "window.end_ms"),
        (with(&|b| b["snapshot_version"] = json!(0)), "snapshot_version"),
        (
            with(&|b| b["flag_not_found"] = json!([{ "flag": "old", "count": 1 }, { "count": 0 }])),
            "flag_not_found[1].count",
        ),
        (with(&|b| b["exposures"] = json!({ "flag": "new-checkout" })), "exposures"),
        (with(&|b| b["counts"] = json!(vec![good.clone(); 10_001])), "counts"),
        (with(&|b| b["exposures_dropped"] = json!(-3)), "exposures_dropped"),
    ];
    for (body, field) in cases {
        let reply = post(&server, &server.sdk_dev, "development", &body).await;
        assert_eq!((reply.status, reply.field()), (422, field), "{}", reply.body);
    }
    // A member left out is named, at any depth.
    let window = json!({ "start_ms": now - 1, "end_ms": now });
    for (body, field) in [
        (json!({ "sdk": "s", "counts": [] }), "window"),
        (json!({ "window": window, "counts": [] }), "sdk"),
        (json!({ "sdk": "s", "window": { "start_ms": now } }), "window.end_ms"),
        (json!({ "sdk": "s", "window": window, "counts": [{ "flag": "new-checkout" }] }), "counts[0].count"),
    ] {
        let missing = post(&server, &server.sdk_dev, "development", &body).await;
        assert_eq!((missing.status, missing.field()), (422, field), "{}", missing.body);
        let name = field.rsplit('.').next().unwrap();
        assert!(missing.body["error"]["message"].as_str().unwrap().contains(&format!("missing field `{name}`")));
    }
    let api = Api::new(&server.url, &server.sdk_dev);
    let malformed = api.raw(Method::POST, "/v1/telemetry/development", Some(b"{".to_vec()), &[]).await;
    assert_eq!((malformed.status, malformed.code()), (400, "malformed_json"));
    // Over 1 MiB (the admin API's own limit in these tests is 64 KiB; this one is fixed).
    let padded = format!("{{\"sdk\": \"s\", \"pad\": \"{}\"}}", "x".repeat(1024 * 1024));
    let huge = api.raw(Method::POST, "/v1/telemetry/development", Some(padded.into_bytes()), &[]).await;
    assert_eq!((huge.status, huge.code()), (413, "body_too_large"));
    let said = huge.body["error"]["message"].as_str().unwrap();
    assert!(said.contains("larger than 1 MiB") && !said.starts_with("the request body"), "{said}");
    // Nothing of any of them was stored.
    let body = usage(&server, "?environment=development").await;
    assert_eq!(flag_usage(&body, "development", "new-checkout")["evaluations"], 0);
    assert_eq!(body["environments"][0]["sdks"], json!([]));
    // Members the server does not know are ignored, and a report of 100 KiB is taken
    // although the admin API's limit here is 64 KiB.
    let mut newer = report(now, json!([good.clone()]));
    newer["future_member"] = json!({ "anything": [1, 2] });
    newer["counts"] = json!(vec![good; 2_000]);
    assert_eq!(accepted(&server, &server.sdk_dev, "development", &newer).await["counts"], 2_000);
    let body = usage(&server, "?environment=development").await;
    assert_eq!(flag_usage(&body, "development", "new-checkout")["evaluations"], 10_000);
    server.stop().await;
}

async fn keys_of_the_environment_only(backend: Backend) {
    let server = Server::start(&backend).await;
    let staging = server.sdk_key("staging", "server").await;
    let body = report(now_ms(), json!([]));
    let other = post(&server, &staging, "development", &body).await;
    assert_eq!(other.status, 403, "{}", other.body);
    assert!(other.body["error"]["message"].as_str().unwrap().contains("environment `staging`"));
    assert_eq!(post(&server, "pns_nobody", "development", &body).await.status, 401);
    assert_eq!(post(&server, "", "development", &body).await.status, 401);
    assert_eq!(post(&server, &server.admin, "development", &body).await.status, 401, "an API token is no SDK key");
    assert_eq!(post(&server, &staging, "staging", &body).await.status, 202);
    server.stop().await;
}

/// A page on another origin posts with a client key: the preflight allows POST with
/// `Content-Type`, and the reply is readable. A client snapshot holds client-visible
/// flags only, so counts of others are keys it lacked.
async fn browsers_post_with_a_client_key(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "web-banner", true).await;
    boolean_flag(&admin, "server-only", false).await;
    let client_key = server.sdk_key("development", "client").await;
    let origin = ("origin", "https://app.example.com");
    let anonymous = Api::new(&server.url, "");
    let preflight = anonymous
        .raw(
            Method::OPTIONS,
            "/v1/telemetry/development",
            None,
            &[
                origin,
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "authorization,content-type"),
            ],
        )
        .await;
    let header = |resp: &crate::common::Resp, name: &str| {
        resp.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    assert_eq!(preflight.status, 204);
    assert_eq!(header(&preflight, "access-control-allow-origin"), "*");
    assert_eq!(header(&preflight, "access-control-allow-methods"), "POST");
    assert_eq!(header(&preflight, "access-control-allow-headers"), "authorization, content-type");
    let body = report(
        now_ms(),
        json!([{ "flag": "web-banner", "variant": "on", "count": 2 }, { "flag": "server-only", "variant": "on", "count": 1 }]),
    );
    let posted = Api::new(&server.url, &client_key)
        .raw(Method::POST, "/v1/telemetry/development", Some(body.to_string().into_bytes()), &[origin])
        .await;
    assert_eq!(posted.status, 202, "{}", posted.body);
    assert_eq!(header(&posted, "access-control-allow-origin"), "*");
    assert_eq!(header(&posted, "access-control-expose-headers"), "retry-after", "for a 429's wait");
    assert_eq!(posted.body["accepted"]["counts"], 1);
    let body = usage(&server, "?environment=development").await;
    assert_eq!(flag_usage(&body, "development", "web-banner")["evaluations"], 2);
    assert_eq!(flag_usage(&body, "development", "server-only")["evaluations"], 0);
    assert_eq!(body["environments"][0]["sdks"][0]["kind"], "client");
    // A server key asking for a key no flag has is not a browser's doing.
    let mut typo = report(now_ms(), json!([]));
    typo["flag_not_found"] = json!([{ "flag": "server-only", "count": 3 }, { "flag": "web-banner", "count": 4 }]);
    accepted(&server, &server.sdk_dev, "development", &typo).await;
    let missing = server.admin().get("/api/v1/reports/not-found?environment=development").await;
    let keys = &missing.body["environments"][0]["keys"];
    let key = |name: &str| keys.as_array().unwrap().iter().find(|k| k["flag"] == name).unwrap().clone();
    let hidden = key("server-only");
    assert_eq!(
        (&hidden["exists"], &hidden["client_visible"], &hidden["evaluations"], &hidden["client_evaluations"]),
        (&json!(true), &json!(false), &json!(4), &json!(1)),
        "it exists, but browsers cannot see it: {hidden}"
    );
    let stale = key("web-banner");
    assert_eq!((&stale["client_visible"], &stale["client_evaluations"]), (&json!(true), &json!(0)), "{stale}");
    server.stop().await;
}

/// Past the rate a key is answered 429 with `Retry-After`, stores nothing, and other
/// keys keep their own allowance.
async fn each_key_is_rate_limited(backend: Backend) {
    let server = Server::start_with(&backend, |config| config.telemetry_per_minute = 2).await;
    boolean_flag(&server.admin(), "new-checkout", false).await;
    let body = report(now_ms(), json!([{ "flag": "new-checkout", "variant": "on", "count": 1 }]));
    for _ in 0..2 {
        accepted(&server, &server.sdk_dev, "development", &body).await;
    }
    let refused = post(&server, &server.sdk_dev, "development", &body).await;
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"), "{}", refused.body);
    let wait: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "Retry-After: {wait}");
    let second = server.sdk_key("development", "server").await;
    accepted(&server, &second, "development", &body).await;
    let body = usage(&server, "?environment=development").await;
    assert_eq!(flag_usage(&body, "development", "new-checkout")["evaluations"], 3, "the refused report added nothing");
    server.stop().await;
}

/// `reply`, which must come without waiting for a lock held meanwhile.
async fn within<T>(what: &str, reply: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, reply).await.unwrap_or_else(|_| panic!("{what} waited for the other side"))
}

/// A write transaction held open on one side never holds up the other: reports go on
/// while the environment's write lock is taken (SQLite: the main file's write lock;
/// PostgreSQL: its row, FOR UPDATE), and flag writes go on while a report holds the
/// telemetry side (SQLite: the telemetry file's write lock; PostgreSQL: the advisory
/// lock reports of the environment take).
async fn reports_and_flag_writes_never_wait_for_each_other(backend: Backend) {
    use sqlx::Connection as _;
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "new-checkout", false).await;
    let body = report(now_ms(), json!([{ "flag": "new-checkout", "variant": "on", "count": 1 }]));
    let telemetry = telemetry_url(&server.database_url);
    if server.database_url.starts_with("sqlite") {
        let mut flags = sqlx::SqliteConnection::connect(&server.database_url).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut flags).await.unwrap();
        let reply = within("a report", post(&server, &server.sdk_dev, "development", &body)).await;
        assert_eq!(reply.status, 202, "{}", reply.body);
        sqlx::query("ROLLBACK").execute(&mut flags).await.unwrap();
        let mut reports = sqlx::SqliteConnection::connect(&telemetry).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut reports).await.unwrap();
        let toggled = within("a flag write", admin.toggle("development", "new-checkout", true)).await;
        assert_eq!(toggled.status, 200, "{}", toggled.body);
        sqlx::query("ROLLBACK").execute(&mut reports).await.unwrap();
    } else {
        let mut flags = sqlx::PgConnection::connect(&server.database_url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut flags).await.unwrap();
        sqlx::query("SELECT name FROM environments WHERE name = 'development' FOR UPDATE")
            .execute(&mut flags)
            .await
            .unwrap();
        let reply = within("a report", post(&server, &server.sdk_dev, "development", &body)).await;
        assert_eq!(reply.status, 202, "{}", reply.body);
        sqlx::query("ROLLBACK").execute(&mut flags).await.unwrap();
        let mut reports = sqlx::PgConnection::connect(&telemetry).await.unwrap();
        sqlx::query("BEGIN").execute(&mut reports).await.unwrap();
        sqlx::query("SELECT pg_advisory_xact_lock(1953262969, hashtext('development'))")
            .execute(&mut reports)
            .await
            .unwrap();
        sqlx::query("UPDATE telemetry_usage SET evaluations = evaluations + 1").execute(&mut reports).await.unwrap();
        let toggled = within("a flag write", admin.toggle("development", "new-checkout", true)).await;
        assert_eq!(toggled.status, 200, "{}", toggled.body);
        sqlx::query("ROLLBACK").execute(&mut reports).await.unwrap();
    }
    let body = usage(&server, "?environment=development").await;
    assert_eq!(flag_usage(&body, "development", "new-checkout")["evaluations"], 1);
    server.stop().await;
}

crate::on_both_backends!(
    reports_and_flag_writes_never_wait_for_each_other,
    reports_add_up_per_variant_and_hour,
    bad_reports_are_refused_whole_naming_the_field,
    keys_of_the_environment_only,
    browsers_post_with_a_client_key,
    each_key_is_rate_limited,
);
