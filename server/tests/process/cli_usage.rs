//! `pennon flags usage` and `pennon flags not-found` against a real server that an SDK
//! reported to: a line per flag, series for one flag, JSON, and server text escaped.

use serde_json::json;

use crate::cli::{ok, pennon};
use crate::proc::spawn;

fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_and_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin, sdk) = (server.url.clone(), server.admin(), server.sdk());
    let run = |args: &[&str]| pennon(dir.path(), &url, &admin, args);
    let stderr = |output: &std::process::Output| String::from_utf8_lossy(&output.stderr).into_owned();
    ok(&run(&["flags", "create", "new-checkout"]));
    ok(&run(&["flags", "create", "banner"]));
    assert_eq!(ok(&run(&["flags", "usage", "--env", "development"])), "development: no SDK reports telemetry here\n");
    let empty = run(&["flags", "not-found"]);
    assert_eq!(ok(&empty), "", "no lines for a script to read");
    assert!(stderr(&empty).starts_with("no unknown keys reported"), "{}", stderr(&empty));

    let now = now_ms();
    let report = json!({
        "sdk": "pennon-rust/0.1.0", "instance": "i-1", "window": { "start_ms": now - 60_000, "end_ms": now },
        "counts": [
            { "flag": "new-checkout", "variant": "on", "count": 1200 },
            { "flag": "new-checkout", "variant": "off", "count": 2 },
            { "flag": "new-checkout", "variant": null, "count": 3 }
        ],
        "flag_not_found": [{ "flag": "old-banner", "count": 7 }]
    });
    let posted = reqwest::Client::new()
        .post(format!("{url}/v1/telemetry/development"))
        .bearer_auth(&sdk)
        .header("content-type", "application/json")
        .body(report.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status().as_u16(), 202);
    let seen = pennon_core::format_rfc3339(now);

    let out = ok(&run(&["flags", "usage", "--env", "development"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "development: reported by pennon-rust/0.1.0 (server, 1 instance)");
    assert_eq!(lines[1], format!("  {:<32} 0 evaluations; never seen", "banner"));
    assert_eq!(
        lines[2],
        format!(
            "  {:<32} 1205 evaluations: off 2, on 1200, errors 3; last seen {seen} by pennon-rust/0.1.0",
            "new-checkout"
        )
    );
    assert_eq!(lines.len(), 3, "{out}");
    // One flag: its hours as well.
    let out = ok(&run(&["flags", "usage", "new-checkout", "--env", "development", "--since", "24h"]));
    let hour = now - now.rem_euclid(3_600_000);
    assert!(
        out.ends_with(&format!(
            "\n    {}  1205 evaluations: off 2, on 1200, errors 3\n",
            pennon_core::format_rfc3339(hour)
        )),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&run(&["flags", "usage", "new-checkout", "--env", "development", "--json"]))).unwrap();
    assert_eq!(json["environments"][0]["flags"][0]["variants"], json!({ "on": 1200, "off": 2 }));
    let bad = run(&["flags", "usage", "--since", "last week"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--since: `last week` is neither"), "{}", stderr(&bad));

    let out = ok(&run(&["flags", "not-found"]));
    assert_eq!(out, format!("development\n  {:<32} 7 evaluations, last {seen}, first {seen}\n", "old-banner"));
    // A key planted in the telemetry file with an escape sequence reaches the terminal
    // escaped (the API refuses such keys; an old or tampered file may hold one).
    let db = dir.path().join("pennon-data/pennon-telemetry.db");
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::query("INSERT INTO telemetry_not_found (env, flag, evaluations, first_seen, last_seen) VALUES ('development', $1, 1, $2, $2)")
        .bind("evil\u{1b}[2J\u{202e}")
        .bind(now + 1)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let out = ok(&run(&["flags", "not-found", "--env", "development"]));
    assert!(out.contains("\n  evil\\u{1b}[2J\\u{202e}"), "{out}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}'));
    let json = ok(&run(&["flags", "not-found", "--json"]));
    assert!(json.contains("evil\\u001b[2J\\u202e"), "{json}");

    // A page asking for a flag that is not client-visible is told apart from a flag
    // created since: the line says why, and the fix.
    let client = ok(&run(&["sdk-keys", "create", "--env", "development", "--kind", "client", "--name", "web"]));
    let post = |key: String, body: serde_json::Value| {
        let url = url.clone();
        async move {
            let posted = reqwest::Client::new()
                .post(format!("{url}/v1/telemetry/development"))
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(posted.status().as_u16(), 202);
        }
    };
    let window = json!({ "start_ms": now - 60_000, "end_ms": now + 2 });
    post(
        client.trim().to_owned(),
        json!({ "sdk": "pennon-js-web/0.1.0", "window": window,
        "counts": [{ "flag": "new-checkout", "variant": "on", "count": 5 }] }),
    )
    .await;
    post(
        sdk.clone(),
        json!({ "sdk": "pennon-rust/0.1.0", "window": window, "flag_not_found": [{ "flag": "banner", "count": 2 }] }),
    )
    .await;
    let out = ok(&run(&["flags", "not-found", "--env", "development"]));
    let line =
        |name: &str| out.lines().find(|line| line.starts_with(&format!("  {name} "))).unwrap_or_default().to_owned();
    assert!(
        line("new-checkout").ends_with(
            "(exists, but is not client-visible, so client keys cannot evaluate it: 5 evaluations by client keys; \
             to serve it to browsers, set \"client_visible\": true in its definition, PUT \
             /api/v1/flags/new-checkout)"
        ),
        "{out}"
    );
    assert!(
        line("banner").ends_with("(a flag of this key exists now: created since, or SDKs on an older snapshot)"),
        "{out}"
    );

    // The stale report takes the unused period, within its range.
    let bad = run(&["flags", "stale", "--unused-days", "4000"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--unused-days"), "{}", stderr(&bad));
    server.stop();
}
