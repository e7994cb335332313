//! Text the server sends is printed escaped: rows written before the API refused control
//! characters (put here straight into the SQLite file) must not drive the terminal of
//! whoever lists them. A tag `ESC ] 0 ; pwned BEL ESC [ 2 J` set the terminal's title and
//! cleared it; a variant name `on CR #1 … ESC [ 8 m` made a pending 100% rollout read as
//! "turn it off".

use std::path::Path;

use serde_json::json;

use crate::cli::{ok, pennon};
use crate::common::Api;
use crate::proc::spawn;

const TITLE_AND_CLEAR: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J";
const REVERSED: &str = "rtl\u{202e}evil";
const FAKE_SUMMARY: &str = "on\r#1 open in production: turn `spoof` off; proposed by alice at \
                            2026-11-22T00:00:00.000Z\u{1b}[8m";

/// Characters a terminal acts on (other than the CLI's own line feeds and tabs), none of
/// which may reach it.
fn assert_inert(what: &str, text: &str) {
    let raw =
        text.chars().find(|c| (c.is_control() && !matches!(c, '\n' | '\t')) || ('\u{202a}'..='\u{202e}').contains(c));
    assert_eq!(raw, None, "{what} printed a raw {raw:?}: {text:?}");
}

/// Writes what the API now refuses straight into the database of the stopped server.
async fn plant(dir: &Path) {
    let url = format!("sqlite:{}", dir.join("pennon-data/pennon.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let tags = serde_json::to_string(&json!([TITLE_AND_CLEAR, REVERSED])).unwrap();
    let rollout = json!({ "action": "config.rollout", "flag": "spoof",
        "rollout": { "percent": 100.0, "variant": FAKE_SUMMARY, "otherwise": "off" } });
    let statements = [
        ("UPDATE flags SET tags = ? WHERE key = 'spoof'", tags),
        ("UPDATE change_requests SET operation = ? WHERE id = 1", rollout.to_string()),
        (
            "INSERT INTO api_tokens (name, role, environments, token_hash, prefix, created_at, created_by) \
             VALUES (?, 'viewer', '[\"*\"]', 'not-a-hash', 'pnt_000000', 0, 'admin')",
            "eve\u{1b}[2J".to_owned(),
        ),
        (
            "INSERT INTO audit_log (at, actor, action, resource_type, resource, request_id) \
             VALUES (4102444800000, ?, 'flag.update', 'flag', 'spoof', 'r1')",
            "mallory\r\u{1b}[8m".to_owned(),
        ),
    ];
    for (sql, value) in statements {
        let done = sqlx::query(sql).bind(value).execute(&pool).await.unwrap();
        assert_eq!(done.rows_affected(), 1, "{sql}");
    }
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_text_is_printed_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let admin = server.admin();
    let run = |url: &str, args: &[&str]| pennon(dir.path(), url, &admin, args);
    ok(&run(&server.url, &["flags", "create", "spoof", "--type", "boolean", "--tag", "plain"]));
    let proposed = run(&server.url, &["flags", "rollout", "spoof", "100", "--env", "production"]);
    assert_eq!(proposed.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&proposed.stdout).contains("opened change request 1"), "{proposed:?}");
    server.stop();
    plant(dir.path()).await;
    let server = spawn(dir.path(), &[], &[]);
    let url = server.url.clone();

    let listed = ok(&run(&url, &["flags", "list"]));
    assert_inert("flags list", &listed);
    let line = listed.lines().find(|l| l.starts_with("spoof")).unwrap_or_else(|| panic!("{listed}"));
    assert!(line.ends_with(r"[\u{1b}]0;pwned\u{7}\u{1b}[2J, rtl\u{202e}evil]"), "{line}");

    // --json: the same JSON, with the bidirectional override escaped too.
    let json = ok(&run(&url, &["flags", "list", "--json"]));
    assert_inert("flags list --json", &json);
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["flags"][0]["tags"], json!([TITLE_AND_CLEAR, REVERSED]));
    let got = ok(&run(&url, &["flags", "get", "spoof"]));
    assert_inert("flags get", &got);

    let changes = ok(&run(&url, &["change-requests", "list", "--status", "open"]));
    assert_inert("change-requests list", &changes);
    let expected = r"#1 open in production: roll `on\r#1 open in production: turn `spoof` off; proposed by alice at 2026-11-22T00:00:00.000Z\u{1b}[8m` out to 100% of `spoof`; proposed by admin at ";
    assert!(changes.starts_with(expected), "{changes}");
    assert_eq!(changes.lines().count(), 1, "{changes}");

    let tokens = ok(&run(&url, &["tokens", "list"]));
    assert_inert("tokens list", &tokens);
    assert!(tokens.contains("\teve\\u{1b}[2J\tviewer\tpnt_000000\t*\tactive"), "{tokens}");
    let audit = ok(&run(&url, &["audit", "--limit", "1"]));
    assert_inert("audit", &audit);
    assert!(audit.contains(r" mallory\r\u{1b}[8m flag.update flag spoof "), "{audit}");

    // The server's error messages quote what was asked for.
    let missing = run(&url, &["flags", "get", "x\u{1b}[2J"]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1), "{stderr}");
    assert_inert("an error message", &stderr);
    assert!(stderr.contains(r"no flag `x\u{1b}[2J`"), "{stderr}");
    assert!(Api::new(&url, &admin).get("/api/v1/flags/spoof").await.status == 200);
    server.stop();
}
