//! A reader that quit (`pennon ... | head`, a pager closed) cuts the output quietly: no
//! "Broken pipe" on stderr, the work done all the same, and the command's own exit code.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::proc::spawn;

/// Runs `pennon ARGS` with a stdout whose reader has already gone, as `head` has once it
/// read its lines.
fn into_closed_pipe(dir: &Path, url: &str, token: &str, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    with_stdout(writer.into(), dir, url, token, args)
}

/// Runs `pennon ARGS` with `stdout` as its standard output.
fn with_stdout(stdout: Stdio, dir: &Path, url: &str, token: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pennon"))
        .current_dir(dir)
        .env("PENNON_URL", url)
        .env("PENNON_TOKEN", token)
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("run pennon")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_cuts_only_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin) = (server.url.clone(), server.admin());
    let run = |args: &[&str]| into_closed_pipe(dir.path(), &url, &admin, args);
    let quiet = |output: &Output, code: i32| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!((output.status.code(), stderr.as_ref()), (Some(code), ""));
    };

    // A write: applied (and its outcome is the exit code) though nobody read the report.
    quiet(&run(&["flags", "create", "piped", "--type", "boolean"]), 0);
    quiet(&run(&["flags", "enable", "piped", "--env", "development"]), 0);
    quiet(&run(&["flags", "enable", "piped", "--env", "production"]), 3);
    let flag = crate::common::Api::new(&url, &admin).get("/api/v1/environments/development/flags/piped").await;
    assert_eq!((flag.status, &flag.body["enabled"]), (200, &serde_json::json!(true)), "{}", flag.body);
    // Reads, short and long.
    quiet(&run(&["flags", "list", "--env", "development"]), 0);
    quiet(&run(&["audit"]), 0);
    quiet(&run(&["audit", "--json"]), 0);
    // A refusal still exits 1, with its message on stderr.
    let refused = run(&["flags", "get", "missing", "--env", "development"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("missing"), "{refused:?}");
    // Offline: the key files are written, and said so on stderr.
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let made = run(&["keygen", "--out", keys.to_str().unwrap()]);
    assert_eq!(made.status.code(), Some(0), "{made:?}");
    assert_eq!(std::fs::read_dir(&keys).unwrap().count(), 2);
    assert!(!String::from_utf8_lossy(&made.stderr).contains("Broken pipe"), "{made:?}");
    server.stop();
}

/// A secret nobody could read is one nobody can use, and the server never shows it
/// again: `tokens create` and `sdk-keys create` into a closed stdout revoke what they
/// made and fail, instead of leaving a live credential that nobody holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_that_cannot_be_shown_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin) = (server.url.clone(), server.admin());
    let api = crate::common::Api::new(&url, &admin);
    let refused = |output: &Output, what: &str| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("the secret of {what} could not be shown")), "{stderr}");
        assert!(stderr.contains("so it was revoked"), "{stderr}");
    };

    refused(
        &into_closed_pipe(dir.path(), &url, &admin, &["tokens", "create", "ci", "--role", "editor"]),
        "API token 2",
    );
    let tokens = api.get("/api/v1/tokens").await.body;
    let made = tokens["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "ci").expect("the token");
    assert!(made["revoked_at"].is_string(), "{made}");

    let key = into_closed_pipe(
        dir.path(),
        &url,
        &admin,
        &["sdk-keys", "create", "--env", "production", "--kind", "client", "--json"],
    );
    let keys = api.get("/api/v1/environments/production/sdk-keys").await.body;
    let newest = keys["sdk_keys"].as_array().unwrap().iter().max_by_key(|k| k["id"].as_i64()).unwrap().clone();
    refused(&key, &format!("SDK key {} of `production`", newest["id"]));
    assert!(newest["revoked_at"].is_string(), "{newest}");

    // Into /dev/null (which a stdout closed at start, `>&-`, also is), nothing is made.
    let audited = api.audit_count().await;
    for args in [
        &["tokens", "create", "ci-2", "--role", "editor"][..],
        &["sdk-keys", "create", "--env", "production", "--kind", "server"],
    ] {
        let discarded = with_stdout(Stdio::null(), dir.path(), &url, &admin, args);
        let stderr = String::from_utf8_lossy(&discarded.stderr);
        assert_eq!(discarded.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("standard output is /dev/null (or was closed)"), "{stderr}");
        assert!(stderr.contains("nothing was created"), "{stderr}");
    }
    assert_eq!(api.audit_count().await, audited, "nothing was created");

    // With the output read, the secret is shown and stays live.
    let shown = crate::cli::pennon(dir.path(), &url, &admin, &["tokens", "create", "ci", "--role", "editor"]);
    assert_eq!(shown.status.code(), Some(0), "{shown:?}");
    assert!(String::from_utf8_lossy(&shown.stdout).starts_with("pnt_"), "{shown:?}");
    server.stop();
}
