//! What the CLI says when a command is used wrongly, in the CLI's own terms: its flags
//! rather than the API's field and parameter names, durations wherever a time is taken,
//! and what to do about a misplaced URL or credential.

use std::process::Output;

use serde_json::json;

use crate::cli::{ok, pennon};
use crate::common::Api;
use crate::proc::spawn;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A refusal of the server: exit 1, and its line.
fn refused(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    stderr(output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_takes_durations_and_refuses_what_it_cannot_match() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin) = (server.url.clone(), server.admin());
    let run = |args: &[&str]| pennon(dir.path(), &url, &admin, args);
    ok(&run(&["flags", "create", "demo", "--type", "boolean"]));

    // `--since` and `--until` take a time back from now, as `flags usage --since` does.
    let recent = ok(&run(&["audit", "--since", "7d", "--action", "flag.create"]));
    assert!(recent.contains(" flag.create flag demo"), "{recent}");
    assert_eq!(ok(&run(&["audit", "--until", "1d", "--action", "flag.create"])), "", "created since");
    let bad = run(&["audit", "--since", "last week"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("--since: `last week` is neither a time back from now"), "{}", stderr(&bad));

    // An action the log never records is refused, with those it does, under its flag.
    let bogus = refused(&run(&["audit", "--action", "bogus"]));
    assert!(bogus.contains("(400 invalid_query): `--action`: the audit log records no `bogus`"), "{bogus}");
    assert!(bogus.contains("config.toggle") && bogus.contains("flag.create"), "{bogus}");

    // A token scoped to one environment is told to name it with `--env`.
    let scoped = Api::new(&url, &admin)
        .post("/api/v1/tokens", &json!({ "name": "dev", "role": "viewer", "environments": ["development"] }))
        .await;
    let scoped = scoped.body["token"].as_str().unwrap().to_owned();
    for args in [&["audit"][..], &["flags", "stale"]] {
        let whole = refused(&pennon(dir.path(), &url, &scoped, args));
        assert!(whole.contains("with `--env`") && !whole.contains("environment="), "{args:?}: {whole}");
    }
    ok(&pennon(dir.path(), &url, &scoped, &["audit", "--env", "development"]));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_the_flags_given() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin) = (server.url.clone(), server.admin());
    let run = |args: &[&str]| pennon(dir.path(), &url, &admin, args);

    let created = ok(&run(&["flags", "create", "banner", "--type", "string", "--variants", r#"{"a": "a", "b": "b"}"#]));
    assert!(created.contains("it serves `a` (its off variant), and with no variant `on`"), "{created}");
    let rollout = refused(&run(&["flags", "rollout", "banner", "50", "--env", "development"]));
    assert!(rollout.contains("at `--variant`: required for string flags"), "{rollout}");
    let same = refused(&run(&[
        "flags",
        "rollout",
        "banner",
        "50",
        "--env",
        "development",
        "--variant",
        "a",
        "--otherwise",
        "a",
    ]));
    assert!(same.contains("at `--otherwise`: must differ from the variant rolled out"), "{same}");
    let precise = refused(&run(&["flags", "rollout", "banner", "50.0001", "--env", "development", "--variant", "a"]));
    assert!(precise.contains("at `PERCENT`: 50.0001 is not a percentage"), "{precise}");
    let untyped = refused(&run(&["flags", "create", "x", "--type", "string"]));
    assert!(untyped.contains("at `--variants`: string flags need their variants"), "{untyped}");
    let role = refused(&run(&["tokens", "create", "x", "--role", "owner"]));
    assert!(role.contains("at `--role`: unknown value `owner`"), "{role}");
    let scope = refused(&run(&["tokens", "create", "x", "--role", "viewer", "--env", "development,nope"]));
    assert!(scope.contains("at `--env` (`environments[1]`): no environment `nope`"), "{scope}");
    let kind = refused(&run(&["sdk-keys", "create", "--env", "development", "--kind", "browser"]));
    assert!(kind.contains("at `--kind`: unknown value `browser`"), "{kind}");
    let status = refused(&run(&["change-requests", "list", "--status", "done"]));
    assert!(status.contains("`--status`: cannot use `done`"), "{status}");
    let before = refused(&run(&["audit", "--before-id", "0"]));
    assert!(before.contains("`--before-id`: `0` is not a whole number of 1 or more"), "{before}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misplaced_url_or_credential_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin, sdk) = (server.url.clone(), server.admin(), server.sdk());

    // The API's own path in PENNON_URL: the base URL is given back.
    for suffix in ["/api/v1", "/api/v1/"] {
        let doubled = pennon(dir.path(), &format!("{url}{suffix}"), &admin, &["flags", "list"]);
        assert_eq!(doubled.status.code(), Some(2), "{}", stderr(&doubled));
        let expected = format!("must be the server's base URL, without /api/v1: {url}\n");
        assert!(stderr(&doubled).ends_with(&expected), "{}", stderr(&doubled));
    }
    // Another path that reaches no route says what PENNON_URL should be.
    let elsewhere = refused(&pennon(dir.path(), &format!("{url}/pennon"), &admin, &["flags", "list"]));
    assert!(elsewhere.contains("404 no_route") && elsewhere.contains("PENNON_URL must be the server's base URL"));

    // An SDK key as PENNON_TOKEN: refused before anything is sent, saying what it is.
    let keyed = pennon(dir.path(), &url, &sdk, &["flags", "list"]);
    assert_eq!(keyed.status.code(), Some(2), "{}", stderr(&keyed));
    assert!(stderr(&keyed).contains("PENNON_TOKEN looks like a server SDK key (pns_…)"), "{}", stderr(&keyed));
    assert!(stderr(&keyed).contains("API commands need an API token (pnt_…)"), "{}", stderr(&keyed));
    assert!(stderr(&keyed).contains("pennon tokens create"), "{}", stderr(&keyed));
    server.stop();
}
