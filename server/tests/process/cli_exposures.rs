//! `pennon flags exposures` against a real server that an SDK reported exposures to: a
//! header row and a line each, newest first, filters and paging, and JSON.

use std::process::Output;

use serde_json::{json, Value as Json};

use crate::cli::{ok, pennon};
use crate::cli_configure::serve;
use crate::common::Backend;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

async fn exposures_reported_are_listed(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let (dir, url, admin, sdk) = (dir.path(), server.url.as_str(), server.admin(), server.sdk());
    let run = |args: &[&str]| pennon(dir, url, &admin, args);
    ok(&run(&["flags", "create", "checkout-exp", "--type", "string", "--variants", r#"{"control": "A", "b": "B"}"#]));
    ok(&run(&["flags", "create", "banner"]));
    let none = run(&["flags", "exposures", "--env", "development"]);
    assert_eq!(ok(&none), "", "no lines for a script to read");
    assert!(
        stderr(&none).starts_with("no exposures in `development`: SDKs report them only when told to"),
        "{}",
        stderr(&none)
    );

    let now = now_ms();
    let exposure = |flag: &str, variant: &str, reason: &str, user: &str| {
        json!({ "flag": flag, "variant": variant, "reason": reason, "targeting_key": user,
                "snapshot_version": 2, "timestamp_ms": now })
    };
    let mut beta = exposure("checkout-exp", "b", "TARGETING_MATCH", "user-2");
    beta["rule_id"] = json!("beta");
    let report = json!({
        "sdk": "pennon-rust/0.1.0", "instance": "i-1", "window": { "start_ms": now - 60_000, "end_ms": now },
        "exposures": [
            exposure("checkout-exp", "control", "SPLIT", "user-1"),
            beta,
            exposure("banner", "on", "STATIC", "user-1"),
            exposure("checkout-exp", "control", "SPLIT", "user-3"),
        ]
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
    let at = pennon_core::format_rfc3339(now);

    let out = ok(&run(&["flags", "exposures"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "ID\tEVALUATED\tENVIRONMENT\tFLAG\tVARIANT\tREASON\tRULE\tTARGETING_KEY\tSDK");
    let rows: Vec<Vec<&str>> = lines[1..].iter().map(|line| line.split('\t').collect()).collect();
    let users: Vec<(&str, &str)> = rows.iter().map(|row| (row[3], row[7])).collect();
    assert_eq!(
        users,
        [("checkout-exp", "user-3"), ("banner", "user-1"), ("checkout-exp", "user-2"), ("checkout-exp", "user-1")],
        "newest first: {out}"
    );
    assert_eq!(
        rows[2][1..],
        [at.as_str(), "development", "checkout-exp", "b", "TARGETING_MATCH", "beta", "user-2", "pennon-rust/0.1.0"]
    );
    assert_eq!(rows[0][6], "-", "no rule");

    // One flag, a page at a time: the next page is named on stderr.
    let page = run(&["flags", "exposures", "checkout-exp", "--env", "development", "--limit", "2"]);
    let first: Vec<String> =
        ok(&page).lines().skip(1).map(|line| line.split('\t').nth(7).unwrap().to_owned()).collect();
    assert_eq!(first, ["user-3", "user-2"]);
    let next = stderr(&page).trim().strip_prefix("more: the next page is --before-id ").unwrap().to_owned();
    assert_eq!(next, rows[2][0], "{}", stderr(&page));
    let rest = run(&["flags", "exposures", "checkout-exp", "--limit", "2", "--before-id", &next]);
    assert_eq!(ok(&rest).lines().skip(1).map(|line| line.split('\t').nth(7).unwrap()).collect::<Vec<_>>(), ["user-1"]);
    assert_eq!(stderr(&rest), "", "the last page names no next one");

    let json: Json = serde_json::from_str(&ok(&run(&["flags", "exposures", "banner", "--json"]))).unwrap();
    assert_eq!(json["exposures"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(
        (&json["exposures"][0]["targeting_key"], &json["exposures"][0]["variant"]),
        (&json!("user-1"), &json!("on"))
    );
    // Received since an hour ago: all; since a time to come: none.
    assert_eq!(ok(&run(&["flags", "exposures", "--since", "1h"])).lines().count(), 5);
    let later = run(&["flags", "exposures", "--since", "2999-01-01T00:00:00Z"]);
    assert_eq!(ok(&later), "");
    assert!(stderr(&later).starts_with("no exposures: "), "{}", stderr(&later));

    // Bad values are named by the option given.
    let bad = run(&["flags", "exposures", "--limit", "0"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("--limit"), "{}", stderr(&bad));
    let bad = run(&["flags", "exposures", "--before-id", "0"]);
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("`--before-id`"), "{}", stderr(&bad));
    let bad = run(&["flags", "exposures", "--since", "last week"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let missing = run(&["flags", "exposures", "--env", "nope"]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    server.stop();
}

crate::on_both_backends!(exposures_reported_are_listed);
