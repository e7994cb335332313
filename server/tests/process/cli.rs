//! The API commands of the `pennon` CLI against a real server.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;

use crate::common::Api;
use crate::proc::spawn;

pub(crate) fn pennon(dir: &Path, url: &str, token: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pennon"))
        .current_dir(dir)
        .env("PENNON_URL", url)
        .env("PENNON_TOKEN", token)
        .args(args)
        .output()
        .expect("run pennon")
}

pub(crate) fn ok(output: &Output) -> String {
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "exit {:?}\nstdout: {stdout}\nstderr: {stderr}", output.status.code());
    stdout.into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_commands() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin) = (server.url.clone(), server.admin());
    let run = |args: &[&str]| pennon(dir.path(), &url, &admin, args);

    let out =
        ok(&run(&["flags", "create", "new-checkout", "--type", "boolean", "--tag", "checkout", "--owner", "payments"]));
    assert!(out.contains("created `new-checkout`"), "{out}");
    ok(&run(&["flags", "create", "banner", "--type", "string", "--variants", r#"{"blue": "blue", "red": "red"}"#]));
    let out = ok(&run(&["flags", "enable", "new-checkout", "--env", "development"]));
    assert!(out.contains("published snapshot version"), "{out}");
    let again = ok(&run(&["flags", "enable", "new-checkout", "--env", "development"]));
    assert!(again.ends_with("no change, nothing published\n"), "{again}");
    let out = ok(&run(&["flags", "list", "--env", "development"]));
    assert!(
        out.lines().any(|l| l.starts_with("new-checkout") && l.contains(" on ") && l.contains("[checkout]")),
        "{out}"
    );
    let listed = run(&["flags", "list", "--tag", "nope"]);
    assert_eq!(ok(&listed), "", "no lines for a script to read");
    assert_eq!(String::from_utf8_lossy(&listed.stderr).trim(), "no flag is tagged `nope`");
    let out = ok(&run(&["flags", "rollout", "new-checkout", "25", "--env", "development"]));
    assert!(out.contains("25% rolled out"), "{out}");
    let got: serde_json::Value =
        serde_json::from_str(&ok(&run(&["flags", "get", "new-checkout", "--env", "development"]))).unwrap();
    assert_eq!(got["config"]["fallthrough"]["rollout"]["variants"][0], json!({ "variant": "on", "weight": 25000 }));
    let out = ok(&run(&["flags", "disable", "new-checkout", "--env", "development"]));
    assert!(out.contains("disabled `new-checkout`"), "{out}");
    // A rollout of a string flag needs the variants named.
    let refused = run(&["flags", "rollout", "banner", "50", "--env", "development"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("at `--variant`"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let rolled =
        run(&["flags", "rollout", "banner", "50", "--env", "development", "--variant", "red", "--otherwise", "blue"]);
    ok(&rolled);
    assert_eq!(
        String::from_utf8_lossy(&rolled.stderr).trim(),
        "note: `banner` is disabled in `development`, so everyone gets its off variant until \
         `pennon flags enable banner --env development`",
        "a rollout of a disabled flag says nobody is served it yet"
    );
    ok(&run(&["flags", "enable", "banner", "--env", "development"]));
    let rolled =
        run(&["flags", "rollout", "banner", "60", "--env", "development", "--variant", "red", "--otherwise", "blue"]);
    assert!(ok(&rolled).contains("60% rolled out"));
    assert_eq!(String::from_utf8_lossy(&rolled.stderr), "", "enabled: nothing to note");
    // A percentage JSON cannot carry, or out of range, is a usage error naming it.
    for bad in ["NaN", "inf", "101"] {
        let refused = run(&["flags", "rollout", "banner", bad, "--env", "development"]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains(&format!("`{bad}` is not a percentage")), "{stderr}");
    }

    // Protected production: a change request, approved by someone else.
    let proposed = run(&["flags", "enable", "new-checkout", "--env", "production"]);
    assert_eq!(proposed.status.code(), Some(3), "a change request opened, not applied");
    let out = String::from_utf8_lossy(&proposed.stdout);
    assert!(out.contains("opened change request 1"), "{out}");
    let second = Api::new(&url, &admin).post("/api/v1/tokens", &json!({ "name": "reviewer", "role": "editor" })).await;
    let reviewer = second.body["token"].as_str().unwrap().to_owned();
    let own = run(&["change-requests", "approve", "1"]);
    assert_eq!(own.status.code(), Some(1));
    let out = ok(&pennon(dir.path(), &url, &reviewer, &["change-requests", "approve", "1"]));
    assert!(out.contains("approved and applied change request 1"), "{out}");
    let listed = ok(&run(&["change-requests", "list"]));
    assert!(listed.contains("#1 applied in production: turn `new-checkout` on; proposed by admin"), "{listed}");
    let one: serde_json::Value = serde_json::from_str(&ok(&run(&["change-requests", "get", "1"]))).unwrap();
    assert_eq!(one["operation"], json!({ "action": "config.toggle", "flag": "new-checkout", "enabled": true }));

    // Segments.
    ok(&run(&["segments", "create", "beta", "--env", "development", "--include", "ann,bob"]));
    ok(&run(&["segments", "update", "beta", "--env", "development", "--exclude", "bob"]));
    let out = ok(&run(&["segments", "list", "--env", "development"]));
    assert!(out.contains("beta") && out.contains("2 included, 1 excluded"), "{out}");
    ok(&run(&["segments", "delete", "beta", "--env", "development"]));

    // Audit, filtered.
    let out = ok(&run(&["audit", "--resource", "new-checkout", "--env", "development"]));
    assert!(out.contains("config.rollout flag new-checkout in development -> v"), "{out}");
    assert!(!out.contains("segment"), "{out}");
    let out = ok(&run(&["audit", "--env", "production", "--action", "config.toggle"]));
    assert!(out.contains("(approved by reviewer)"), "{out}");

    // Rollback.
    let out = ok(&run(&["rollback", "--env", "development", "--to", "2"]));
    assert!(out.contains("rolled `development` back to the content of version 2"), "{out}");

    // check, for pipelines.
    let out = ok(&run(&["check", "--env", "production", "new-checkout"]));
    assert!(out.contains("ok: `new-checkout` (boolean, enabled) in `production`"), "{out}");
    let failed = run(&["check", "--env", "production", "new-checkout", "old-checkout", "bad key"]);
    assert_eq!(failed.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(stdout.contains("missing: `old-checkout` is not in `production`"), "{stdout}");
    assert!(stdout.contains("malformed: `bad key` is not a valid flag key"), "{stdout}");
    let typed = run(&["check", "--env", "production", "--type", "string", "new-checkout"]);
    assert_eq!(typed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&typed.stdout).contains("wrong type"));

    // Usage errors: no token, unreachable server.
    let no_token = pennon(dir.path(), &url, "", &["flags", "list"]);
    assert_eq!(no_token.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("PENNON_TOKEN"));
    let nowhere = pennon(dir.path(), "http://127.0.0.1:9", &admin, &["flags", "list"]);
    assert_eq!(nowhere.status.code(), Some(2));
    server.stop();
}

/// `pennon flags stale`: a block per stale flag with why, since when and what to do,
/// JSON with `--json`, and nothing on stdout when nothing is stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_flags_report() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin) = (server.url.clone(), server.admin());
    let run = |token: &str, args: &[&str]| pennon(dir.path(), &url, token, args);
    let stderr = |output: &Output| String::from_utf8_lossy(&output.stderr).into_owned();

    let empty = run(&admin, &["flags", "stale"]);
    assert_eq!(ok(&empty), "", "no lines for a script to read");
    assert!(stderr(&empty).starts_with("no stale flags: "), "{}", stderr(&empty));
    ok(&run(&admin, &["flags", "create", "new-checkout", "--temporary", "--owner", "payments"]));
    ok(&run(&admin, &["flags", "enable", "new-checkout", "--env", "development"]));
    ok(&run(&admin, &["flags", "create", "old-banner", "--temporary", "--expires-at", "2020-01-02T00:00:00Z"]));
    ok(&run(&admin, &["flags", "create", "kill-switch", "--expires-at", "2020-01-02T00:00:00Z"]));
    // Ten days ago, as far as the database knows.
    let db = dir.path().join("pennon-data/pennon.db");
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    for sql in [
        "UPDATE flags SET created_at = created_at - 864000000",
        "UPDATE flag_configs SET updated_at = updated_at - 864000000",
    ] {
        sqlx::query(sql).execute(&db).await.unwrap();
    }
    db.close().await;

    let out = ok(&run(&admin, &["flags", "stale", "--env", "development"]));
    let blocks: Vec<Vec<&str>> = out.split("\n\n").map(|block| block.lines().collect()).collect();
    assert_eq!(blocks.len(), 2, "two stale flags, the permanent one left out: {out}");
    let banner = &blocks[0];
    assert_eq!(banner[0], "old-banner, stale since 2020-01-02", "{out}");
    assert_eq!(banner[1], "  expired since 2020-01-02: its expires_at has passed");
    assert!(banner[2].starts_with("  never_configured since "), "{out}");
    let action = "  -> if the work behind it was dropped and no other environment uses it, delete the code it guards";
    assert!(banner[3].starts_with(action), "{out}");
    let checkout = &blocks[1];
    assert!(checkout[0].starts_with("new-checkout (owner: payments), stale since "), "{out}");
    assert!(checkout[1].starts_with("  settled since "), "{out}");
    assert!(checkout[1].ends_with(": serves `on` (`true`) to everyone in `development`"), "{out}");
    assert_eq!(
        checkout[2],
        "  -> if the other environments serve `true` too, replace every evaluation of `new-checkout` in code with \
         `true`, then delete the flag"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&run(&admin, &["flags", "stale", "--env", "development", "--json"]))).unwrap();
    assert_eq!(json["environments"], json!(["development"]));
    assert_eq!(json["flags"][1]["reasons"][0]["reason"], "settled");
    // Over every environment, new-checkout is on in development only.
    let out = ok(&run(&admin, &["flags", "stale"]));
    assert!(out.contains("\n  diverged since "), "{out}");
    let out = ok(&run(&admin, &["flags", "stale", "--settled-days", "30"]));
    assert!(out.starts_with("old-banner") && !out.contains("new-checkout"), "{out}");

    let bad = run(&admin, &["flags", "stale", "--settled-days", "4000"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--settled-days"), "{}", stderr(&bad));
    // A token scoped to development reads development's report, and only when it says so.
    let created = run(&admin, &["tokens", "create", "dev-viewer", "--role", "viewer", "--env", "development"]);
    let scoped = ok(&created).trim().to_owned();
    let refused = run(&scoped, &["flags", "stale"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("403 forbidden"), "{}", stderr(&refused));
    assert!(ok(&run(&scoped, &["flags", "stale", "--env", "development"])).starts_with("old-banner"));
    server.stop();
}

/// Environments, API tokens and SDK keys from the CLI: a created secret is alone on
/// stdout, so a script can capture it, and it works at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_and_environments() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin) = (server.url.clone(), server.admin());
    let run = |token: &str, args: &[&str]| pennon(dir.path(), &url, token, args);

    let out = ok(&run(&admin, &["environments", "create", "qa", "--protected"]));
    assert!(out.starts_with("created `qa`: published snapshot version "), "{out}");
    let out = ok(&run(&admin, &["environments", "list"]));
    assert!(out.lines().any(|l| l.starts_with("qa\tversion ") && l.ends_with("\tprotected")), "{out}");
    let refused = run(&admin, &["environments", "delete", "qa"]);
    assert_eq!(refused.status.code(), Some(1), "a protected environment is not deleted");
    ok(&run(&admin, &["environments", "unprotect", "qa"]));
    assert_eq!(ok(&run(&admin, &["environments", "delete", "qa"])).trim(), "deleted `qa`");
    assert!(!ok(&run(&admin, &["environments", "list"])).contains("qa\t"));

    // A viewer token scoped to `development`: the secret alone on stdout.
    let created = run(&admin, &["tokens", "create", "dashboards", "--role", "viewer", "--env", "development"]);
    let viewer = ok(&created).trim().to_owned();
    assert!(viewer.starts_with("pnt_") && !viewer.contains(char::is_whitespace), "{viewer}");
    assert!(String::from_utf8_lossy(&created.stderr).contains("(viewer, development)"));
    let listed = run(&viewer, &["flags", "list"]);
    assert!(ok(&listed).is_empty() && String::from_utf8_lossy(&listed.stderr).contains("no flags yet"), "works");
    let refused = run(&viewer, &["flags", "create", "x", "--type", "boolean"]);
    assert_eq!(refused.status.code(), Some(1), "a viewer cannot write");
    let listed = ok(&run(&admin, &["tokens", "list"]));
    assert_eq!(listed.lines().next(), Some("ID\tNAME\tROLE\tPREFIX\tENVIRONMENTS\tSTATE"), "a header row");
    let line = listed.lines().find(|l| l.contains("\tdashboards\t")).unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains("\tviewer\tpnt_") && line.ends_with("\tdevelopment\tactive"), "{line}");
    let id = line.split('\t').next().unwrap();
    assert_eq!(ok(&run(&admin, &["tokens", "revoke", id])).trim(), format!("revoked API token {id}"));
    assert_eq!(run(&viewer, &["flags", "list"]).status.code(), Some(1), "revoked");
    let bad_role = run(&admin, &["tokens", "create", "x", "--role", "owner"]);
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("at `--role`"), "{bad_role:?}");

    // A client SDK key fetches the development snapshot; revoked, it does not.
    let key = ok(&run(&admin, &["sdk-keys", "create", "--env", "development", "--kind", "client", "--name", "web"]));
    let key = key.trim();
    let fetch = |key: &str| {
        let client = reqwest::Client::new();
        let request = client.get(format!("{url}/v1/snapshots/development")).bearer_auth(key).send();
        async move { request.await.unwrap().status().as_u16() }
    };
    assert_eq!(fetch(key).await, 200);
    let listed = ok(&run(&admin, &["sdk-keys", "list", "--env", "development"]));
    assert_eq!(listed.lines().next(), Some("ID\tNAME\tKIND\tPREFIX\tSTATE"), "a header row");
    let line = listed.lines().find(|l| l.contains("\tweb\tclient\t")).unwrap_or_else(|| panic!("{listed}"));
    let id = line.split('\t').next().unwrap();
    ok(&run(&admin, &["sdk-keys", "revoke", id, "--env", "development"]));
    assert_eq!(fetch(key).await, 401);
    let json: serde_json::Value =
        serde_json::from_str(&ok(&run(&admin, &["sdk-keys", "list", "--env", "development", "--json"]))).unwrap();
    let web = json["sdk_keys"].as_array().unwrap().iter().find(|k| k["name"] == "web").unwrap().clone();
    assert!(web["revoked_at"].is_string() && web.get("key").is_none(), "{web}");
}

/// A stand-in for whatever else may answer at `PENNON_URL`: every request gets `reply`.
fn impostor(reply: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut head = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut head);
            let _ = std::io::Write::write_all(&mut stream, reply.as_bytes());
        }
    });
    url
}

/// What the CLI must not take for success, and input it must refuse before sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misuse() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin) = (server.url.clone(), server.admin());
    let run = |args: &[&str]| pennon(dir.path(), &url, &admin, args);
    let stderr = |output: &Output| String::from_utf8_lossy(&output.stderr).into_owned();

    // Another server answering: a web page, or a redirect to a login page.
    let page = impostor("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n<html>Welcome</html>");
    let login = impostor("HTTP/1.1 302 Found\r\nLocation: /login\r\nContent-Length: 0\r\n\r\n");
    for (other, says) in [(&page, "something other than the Pennon API's JSON"), (&login, "a redirect to `/login`")] {
        let out = pennon(dir.path(), other, &admin, &["flags", "disable", "demo", "--env", "production"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    }
    let schemeless = pennon(dir.path(), "127.0.0.1:1", &admin, &["flags", "list"]);
    assert!(stderr(&schemeless).contains("must start with http:// or https://"), "{}", stderr(&schemeless));

    // A gate aimed at an environment that was deleted fails, though its history is kept.
    ok(&run(&["flags", "create", "demo", "--type", "boolean"]));
    ok(&run(&["environments", "create", "qa"]));
    ok(&run(&["environments", "delete", "qa"]));
    let gate = run(&["check", "--env", "qa", "demo"]);
    assert_eq!(gate.status.code(), Some(1));
    assert!(stderr(&gate).contains("404"), "{}", stderr(&gate));

    // Input refused before anything is sent.
    let file = dir.path().join("segment.json");
    std::fs::write(&file, "[]").unwrap();
    let array = run(&["segments", "create", "beta", "--env", "development", "--file", file.to_str().unwrap()]);
    assert_eq!(array.status.code(), Some(2), "{}", stderr(&array));
    assert!(stderr(&array).contains("must hold a JSON object"), "{}", stderr(&array));
    let blank = run(&["segments", "create", "beta", "--env", "development", "--include", "a,,b"]);
    assert_eq!(blank.status.code(), Some(2));
    assert!(stderr(&blank).contains("--include: a targeting key cannot be empty"), "{}", stderr(&blank));
    let dots = run(&["flags", "list", "--env", ".."]);
    assert_eq!(dots.status.code(), Some(2), "{}", stderr(&dots));
    let too_many = run(&["audit", "--limit", "5000"]);
    assert_eq!(too_many.status.code(), Some(2));
    let segments = Api::new(&url, &admin).get("/api/v1/environments/development/segments").await;
    assert_eq!(segments.body["segments"], json!([]), "nothing was created");

    // Paging back through the audit log.
    let first = ok(&run(&["audit", "--limit", "1"]));
    let id = first.split_whitespace().nth(1).unwrap().trim_start_matches('#').to_owned();
    let older = ok(&run(&["audit", "--limit", "1", "--before-id", &id]));
    let older_id: u64 = older.split_whitespace().nth(1).unwrap().trim_start_matches('#').parse().unwrap();
    assert!(older_id < id.parse().unwrap(), "{first} / {older}");
    server.stop();
}
