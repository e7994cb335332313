//! What API writes tell a script: with `--json`, one JSON document on stdout (the
//! outcome, the snapshot version published, the server's answer); and exit 3, not 0,
//! when a protected environment opened a change request instead of applying the write.
//! Arguments quoted back in errors reach the terminal escaped.

use std::process::Output;

use serde_json::{json, Value as Json};

use crate::cli::{ok, pennon};
use crate::common::Api;
use crate::proc::spawn;

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The whole of stdout as one JSON document, after checking the exit code.
fn document(output: &Output, code: i32) -> Json {
    assert_eq!(output.status.code(), Some(code), "stdout: {}\nstderr: {}", stdout(output), stderr(output));
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", stdout(output)))
}

async fn version(api: &Api, env: &str) -> u64 {
    api.get(&format!("/api/v1/environments/{env}")).await.body["version"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_print_their_outcome_and_a_change_request_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin) = (server.url.clone(), server.admin());
    let api = Api::new(&url, &admin);
    let run = |token: &str, args: &[&str]| pennon(dir.path(), &url, token, args);

    let created = document(&run(&admin, &["flags", "create", "new-checkout", "--json"]), 0);
    assert_eq!(created["outcome"], "applied");
    assert_eq!(created["snapshot_version"], Json::Null, "a definition is published to every environment");
    assert_eq!(created["result"]["key"], "new-checkout");

    // Applied in development: the version it published, which the environment now has.
    let enabled = document(&run(&admin, &["flags", "enable", "new-checkout", "--env", "development", "--json"]), 0);
    assert_eq!(enabled["outcome"], "applied");
    assert_eq!(enabled["snapshot_version"], json!(version(&api, "development").await));
    assert_eq!(enabled["result"]["enabled"], true);
    let again = document(&run(&admin, &["flags", "enable", "new-checkout", "--env", "development", "--json"]), 0);
    assert_eq!((&again["outcome"], &again["snapshot_version"]), (&json!("unchanged"), &Json::Null));
    let text = run(&admin, &["flags", "disable", "new-checkout", "--env", "development"]);
    assert!(ok(&text).contains("published snapshot version"), "text mode still exits 0");

    // Protected production: a change request, exit 3, in both modes.
    let before = version(&api, "production").await;
    let proposed = run(&admin, &["flags", "enable", "new-checkout", "--env", "production", "--json"]);
    let proposed = document(&proposed, 3);
    assert_eq!(proposed["outcome"], "change_request");
    assert_eq!(proposed["snapshot_version"], Json::Null);
    let open = api.get("/api/v1/change-requests?status=open").await.body;
    let id = open["change_requests"][0]["id"].as_i64().unwrap();
    assert_eq!(proposed["result"]["id"], json!(id));
    assert_eq!(proposed["result"]["status"], "open");
    // The same write again points at that request, exit 3 still, opening no other.
    let repeated = run(&admin, &["flags", "enable", "new-checkout", "--env", "production", "--json"]);
    let repeated = document(&repeated, 3);
    assert_eq!((&repeated["outcome"], &repeated["result"]["id"]), (&json!("change_request"), &json!(id)));
    assert_eq!(repeated["result"]["already_open"], true);
    let text = run(&admin, &["flags", "enable", "new-checkout", "--env", "production"]);
    assert_eq!(text.status.code(), Some(3), "{}", stderr(&text));
    let expected = format!("production is protected: change request {id} is already open for this change; ");
    assert!(stdout(&text).starts_with(&expected), "{}", stdout(&text));
    let open = api.get("/api/v1/change-requests?status=open").await.body;
    assert_eq!(open["change_requests"].as_array().unwrap().len(), 1, "{open}");
    let rollout = run(&admin, &["flags", "rollout", "new-checkout", "50", "--env", "production"]);
    assert_eq!(rollout.status.code(), Some(3), "{}", stderr(&rollout));
    assert!(stdout(&rollout).starts_with("production is protected: opened change request "), "{}", stdout(&rollout));
    let segment = run(&admin, &["segments", "create", "beta", "--env", "production", "--include", "ann", "--json"]);
    assert_eq!(document(&segment, 3)["result"]["operation"]["action"], "segment.create");
    assert_eq!(version(&api, "production").await, before, "nothing applied");

    // Approved by someone else: applied, with the version it published.
    let reviewer = api.post("/api/v1/tokens", &json!({ "name": "reviewer", "role": "editor" })).await;
    let reviewer = reviewer.body["token"].as_str().unwrap().to_owned();
    let approved = document(&run(&reviewer, &["change-requests", "approve", &id.to_string(), "--json"]), 0);
    assert_eq!(approved["outcome"], "applied");
    assert_eq!(approved["snapshot_version"], json!(before + 1));
    assert_eq!(approved["result"]["status"], "applied");

    // Segments, rollback and environments report what they published too.
    let created =
        run(&admin, &["segments", "create", "beta", "--env", "development", "--include", "ann,bob", "--json"]);
    let created = document(&created, 0);
    assert_eq!(created["result"]["included"], json!(["ann", "bob"]));
    let deleted = document(&run(&admin, &["segments", "delete", "beta", "--env", "development", "--json"]), 0);
    assert_eq!(deleted["result"], Json::Null);
    assert_eq!(deleted["snapshot_version"], json!(created["snapshot_version"].as_u64().unwrap() + 1));
    let rolled = document(&run(&admin, &["rollback", "--env", "development", "--to", "1", "--json"]), 0);
    assert_eq!(rolled["snapshot_version"], json!(version(&api, "development").await));
    assert_eq!(rolled["result"]["restored_version"], 1);
    let qa = document(&run(&admin, &["environments", "create", "qa", "--json"]), 0);
    assert_eq!(qa["snapshot_version"], qa["result"]["version"]);
    assert!(qa["snapshot_version"].is_u64(), "{qa}");
    // Protecting a protected environment is `unchanged`, as OPERATIONS.md lists it, not
    // `applied`: the server stored and audited nothing.
    let protected = document(&run(&admin, &["environments", "protect", "qa", "--json"]), 0);
    assert_eq!((&protected["outcome"], &protected["result"]["protected"]), (&json!("applied"), &json!(true)));
    let audited = api.get("/api/v1/audit?environment=qa").await.body["entries"].as_array().unwrap().len();
    let again = document(&run(&admin, &["environments", "protect", "qa", "--json"]), 0);
    assert_eq!((&again["outcome"], &again["snapshot_version"]), (&json!("unchanged"), &Json::Null));
    assert_eq!(api.get("/api/v1/audit?environment=qa").await.body["entries"].as_array().unwrap().len(), audited);
    let text = run(&admin, &["environments", "protect", "qa"]);
    assert_eq!(ok(&text), "`qa` was already protected: no change, nothing published\n");
    let unprotected = document(&run(&admin, &["environments", "unprotect", "qa", "--json"]), 0);
    assert_eq!((&unprotected["outcome"], &unprotected["result"]["protected"]), (&json!("applied"), &json!(false)));
    let text = run(&admin, &["environments", "unprotect", "qa"]);
    assert_eq!(ok(&text), "`qa` was not protected: no change, nothing published\n");

    // Errors keep their codes and print nothing on stdout; reads still print the API's JSON.
    let missing = run(&admin, &["flags", "enable", "nope", "--env", "development", "--json"]);
    assert_eq!((missing.status.code(), stdout(&missing).as_str()), (Some(1), ""), "{}", stderr(&missing));
    let listed = document(&run(&admin, &["environments", "list", "--json"]), 0);
    assert!(listed["environments"].as_array().unwrap().iter().any(|e| e["name"] == "qa"), "{listed}");
    let segments = document(&run(&admin, &["segments", "list", "--env", "development", "--json"]), 0);
    assert_eq!(segments["segments"], json!([]));
    let checked = document(&run(&admin, &["check", "--env", "development", "new-checkout", "gone", "--json"]), 1);
    assert_eq!(checked["passed"], false);
    assert_eq!(checked["flags"][0]["result"], "ok");
    assert_eq!(checked["flags"][1], json!({ "key": "gone", "result": "missing" }));
    server.stop();
}

/// No control character other than the CLI's own line feeds and tabs.
fn assert_inert(what: &str, text: &str) {
    let raw = text.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\t'));
    assert_eq!(raw, None, "{what} printed a raw {raw:?}: {text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_quoted_back_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin) = (server.url.clone(), server.admin());
    let run = |url: &str, args: &[&str]| pennon(dir.path(), url, &admin, args);
    let clear = "\u{1b}[2J";

    // A description the server refuses comes back quoted in its message.
    let refused = run(&url, &["flags", "create", "d", "--description", &format!("a{clear}\rb")]);
    assert_eq!(refused.status.code(), Some(1));
    assert_inert("a refused description", &stderr(&refused));
    assert!(stderr(&refused).contains(r#""a\u{1b}[2J\rb" contains the control character U+001B"#), "{refused:?}");
    // What the CLI itself refuses: a URL, a file name, a type, a percentage.
    let cases: [(&str, Vec<String>, &str); 4] = [
        ("PENNON_URL", vec!["flags".into(), "list".into()], r"`ftp://\u{1b}[2J` must start with http://"),
        (
            "--file",
            ["segments", "create", "s", "--env", "development", "--file", &format!("/no/such{clear}.json")]
                .map(String::from)
                .to_vec(),
            r"segment file `/no/such\u{1b}[2J.json`",
        ),
        (
            "--type",
            ["check", "--env", "development", "--type", &format!("bool{clear}"), "x"].map(String::from).to_vec(),
            r"--type `bool\u{1b}[2J`",
        ),
        (
            "a percentage",
            ["flags", "rollout", "x", "5\r\u{7}", "--env", "development"].map(String::from).to_vec(),
            r"`5\r\u{7}` is not a percentage",
        ),
    ];
    for (what, args, quoted) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let target = if what == "PENNON_URL" { format!("ftp://{clear}") } else { url.clone() };
        let output = run(&target, &args);
        assert_eq!(output.status.code(), Some(2), "{what}: {}", stderr(&output));
        assert_inert(what, &stderr(&output));
        assert!(stderr(&output).contains(quoted), "{what}: {}", stderr(&output));
    }
    server.stop();
}
