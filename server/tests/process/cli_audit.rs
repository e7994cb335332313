//! `pennon audit` names what changed in a large list, whose audit entry is stored
//! compact (the keys added and removed rather than the segment before and after).

use serde_json::json;

use crate::cli::{ok, pennon};
use crate::common::Api;
use crate::proc::spawn;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_names_the_members_a_large_list_gained_and_lost() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (url, admin) = (server.url.clone(), server.admin());
    let run = |args: &[&str]| pennon(dir.path(), &url, &admin, args);
    let mut keys: Vec<String> = (0..2000).map(|i| format!("user-{i:08}")).collect();
    let file = dir.path().join("big.json");
    std::fs::write(&file, json!({ "included": keys }).to_string()).unwrap();
    let file = file.to_str().unwrap();
    ok(&run(&["segments", "create", "big", "--env", "development", "--file", file]));
    keys.retain(|k| k != "user-00000007");
    keys.push("new-user".into());
    std::fs::write(file, json!({ "included": keys }).to_string()).unwrap();
    ok(&run(&["segments", "update", "big", "--env", "development", "--file", file]));

    let out = ok(&run(&["audit", "--resource", "big", "--limit", "1"]));
    assert!(out.contains(" segment.update segment big in development -> v"), "{out}");
    assert!(out.trim_end().ends_with("; /included +1 -1 (2000 now): +new-user -user-00000007"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&ok(&run(&["audit", "--resource", "big", "--json"]))).unwrap();
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries[0]["changes"][0]["removed"], json!(["user-00000007"]));
    assert_eq!(entries[1]["action"], "segment.create");
    assert_eq!(entries[1]["after"]["included"].as_array().map(Vec::len), Some(2000), "a creation is whole");

    // In protected production the opening of a change request is compact too; its
    // lists are what it proposes, not what production has.
    let reviewer =
        Api::new(&url, &admin).post("/api/v1/tokens", &json!({ "name": "reviewer", "role": "editor" })).await;
    let reviewer = reviewer.body["token"].as_str().unwrap().to_owned();
    let proposed = run(&["segments", "create", "big", "--env", "production", "--file", file]);
    assert_eq!(proposed.status.code(), Some(3), "{}", String::from_utf8_lossy(&proposed.stderr));
    ok(&pennon(dir.path(), &url, &reviewer, &["change-requests", "approve", "1"]));
    keys.push("newer-user".into());
    std::fs::write(file, json!({ "included": keys }).to_string()).unwrap();
    let proposed = run(&["segments", "update", "big", "--env", "production", "--file", file]);
    assert_eq!(proposed.status.code(), Some(3), "{}", String::from_utf8_lossy(&proposed.stderr));
    let out = ok(&run(&["audit", "--action", "change_request.open", "--limit", "1"]));
    assert!(out.trim_end().ends_with("; /operation/segment/included +1 -0 (2001 proposed): +newer-user"), "{out}");
    server.stop();
}
