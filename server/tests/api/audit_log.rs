//! The audit log's size and guards: an edit of a large segment stores the keys added and
//! removed, not the segment twice (a small edit keeps its whole before and after), and
//! the log refuses to be changed, deleted from or truncated.

use serde_json::{json, Value as Json};

use crate::common::{Api, Backend, Db, Server};

const SEGMENTS: &str = "/api/v1/environments/development/segments";

fn keys(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("user-{i:08}")).collect()
}

/// The newest entry of `action` on `resource` in `env`.
async fn entry(api: &Api, env: &str, resource: &str, action: &str) -> Json {
    let path = format!("/api/v1/audit?environment={env}&resource={resource}&action={action}&limit=1");
    let reply = api.get(&path).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["entries"][0].clone()
}

/// Replaces segment `key` of `env` with `body`, answered `status`.
async fn replace(api: &Api, env: &str, key: &str, body: &Json, status: u16) -> Json {
    let path = format!("/api/v1/environments/{env}/segments/{key}");
    let current = api.get(&path).await;
    let reply = api.put(&path, body, current.etag.as_deref().unwrap()).await;
    assert_eq!(reply.status, status, "{}", reply.body);
    reply.body
}

async fn large_list_edits_are_stored_compact(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let mut members = keys(2000);
    let segment = json!({ "key": "big", "description": "beta testers", "included": members, "excluded": ["blocked"] });
    assert_eq!(admin.post(SEGMENTS, &segment).await.status, 201);
    members.retain(|k| k != "user-00000007");
    members.push("new-user".into());
    let edited = json!({ "key": "big", "description": "beta testers", "included": members, "excluded": ["blocked"] });
    replace(&admin, "development", "big", &edited, 200).await;

    // What changed, named; the rest of the segment as it was and is.
    let update = entry(&admin, "development", "big", "segment.update").await;
    let change = json!({ "path": "/included", "added": ["new-user"], "removed": ["user-00000007"],
                         "before_count": 2000, "after_count": 2000 });
    assert_eq!(update["changes"], json!([change]));
    assert_eq!(
        update["before"],
        json!({ "key": "big", "description": "beta testers", "excluded": ["blocked"],
                                          "rules": [] })
    );
    assert_eq!(update["after"], update["before"]);
    assert_eq!(update["snapshot_version"], json!(admin.version("development").await));
    // The creation is the record of what was there: whole.
    let created = entry(&admin, "development", "big", "segment.create").await;
    assert_eq!(created["after"]["included"].as_array().map(Vec::len), Some(2000));
    assert_eq!(created.get("changes"), None);

    // Stored at the size of the change (the whole form is two copies of 32 KB).
    let db = Db::connect(&server.database_url).await;
    let stored = "SELECT CAST(LENGTH(before_json) + LENGTH(after_json) + LENGTH(changes_json) AS BIGINT) \
                  FROM audit_log WHERE action = 'segment.update' AND resource = 'big'";
    let size = db.number(stored).await;
    assert!(size < 600, "a compact entry of {size} bytes");
    db.close().await;

    // A small edit keeps its whole before and after.
    let beta = json!({ "key": "beta", "included": ["ann"] });
    assert_eq!(admin.post(SEGMENTS, &beta).await.status, 201);
    replace(&admin, "development", "beta", &json!({ "key": "beta", "included": ["ann", "bob"] }), 200).await;
    let small = entry(&admin, "development", "beta", "segment.update").await;
    assert_eq!(small.get("changes"), None);
    assert_eq!((&small["before"]["included"], &small["after"]["included"]), (&json!(["ann"]), &json!(["ann", "bob"])));

    // What reads the log and the history still works: the stale report, a rollback.
    assert_eq!(admin.get("/api/v1/reports/stale-flags").await.status, 200);
    let before_edit = update["snapshot_version"].as_u64().unwrap() - 1;
    let rolled = admin.get("/api/v1/environments/development").await;
    let rollback = admin
        .post_if(
            "/api/v1/environments/development/rollback",
            &json!({ "to_version": before_edit }),
            rolled.etag.as_deref().unwrap(),
        )
        .await;
    assert_eq!(rollback.status, 200, "{}", rollback.body);
    let restored = admin.get(&format!("{SEGMENTS}/big")).await.body;
    assert_eq!(restored["included"].as_array().map(Vec::len), Some(2000));
    assert!(restored["included"].as_array().unwrap().contains(&json!("user-00000007")));
    server.stop().await;
}

/// Through a change request: the opening (against the segment as it is), the applied
/// edit and the approval (whose before and after are the request, with the segment in
/// its operation) are compact; the request itself keeps the whole segment, as it must
/// to be applied.
async fn approved_edits_are_stored_compact(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let reviewer = server.api(&server.token("reviewer", "editor", None).await);
    let approve = |id: &Json| format!("/api/v1/change-requests/{id}/approve");
    let mut members = keys(2000);
    let segment = json!({ "key": "big", "included": members });
    let proposed = admin.post("/api/v1/environments/production/segments", &segment).await;
    assert_eq!(proposed.status, 202, "{}", proposed.body);
    assert_eq!(reviewer.post(&approve(&proposed.body["id"]), &json!({})).await.status, 200);
    members.truncate(1999);
    let proposed = replace(&admin, "production", "big", &json!({ "key": "big", "included": members }), 202).await;
    let approved = reviewer.post(&approve(&proposed["id"]), &json!({})).await;
    assert_eq!(approved.status, 200, "{}", approved.body);

    let update = entry(&admin, "production", "big", "segment.update").await;
    assert_eq!((&update["actor"], &update["approved_by"]), (&json!("admin"), &json!("reviewer")));
    let removed = json!([{ "path": "/included", "added": [], "removed": ["user-00001999"],
                           "before_count": 2000, "after_count": 1999 }]);
    assert_eq!(update["changes"], removed);
    let id = proposed["id"].to_string();
    let approval = entry(&admin, "production", &id, "change_request.approve").await;
    let unchanged = json!([{ "path": "/operation/segment/included", "added": [], "removed": [],
                             "before_count": 1999, "after_count": 1999 }]);
    assert_eq!(approval["changes"], unchanged);
    assert_eq!((&approval["before"]["status"], &approval["after"]["status"]), (&json!("open"), &json!("applied")));
    let request = admin.get(&format!("/api/v1/change-requests/{id}")).await.body;
    assert_eq!(request["operation"]["segment"]["included"].as_array().map(Vec::len), Some(1999));

    // Its opening names what it proposes against the segment as it was, not all of it
    // again; the proposal to create the segment stays whole, the record of what it was.
    let opened = entry(&admin, "production", &id, "change_request.open").await;
    let proposes = json!([{ "path": "/operation/segment/included", "added": [], "removed": ["user-00001999"],
                            "before_count": 2000, "after_count": 1999 }]);
    assert_eq!((&opened["before"], &opened["changes"]), (&Json::Null, &proposes));
    assert_eq!(
        opened["after"]["operation"],
        json!({ "action": "segment.update", "segment": { "key": "big", "excluded": [], "rules": [] } })
    );
    assert_eq!(opened["after"]["status"], "open");
    let first = proposed_first(&admin).await;
    let creation = entry(&admin, "production", &first, "change_request.open").await;
    assert_eq!(creation["after"]["operation"]["segment"]["included"].as_array().map(Vec::len), Some(2000));
    assert_eq!(creation.get("changes"), None);
    let db = Db::connect(&server.database_url).await;
    let stored = format!(
        "SELECT CAST(COALESCE(LENGTH(after_json), 0) + COALESCE(LENGTH(changes_json), 0) AS BIGINT) FROM audit_log \
         WHERE action = 'change_request.open' AND resource = '{id}'"
    );
    let size = db.number(&stored).await;
    assert!(size < 600, "an opening of {size} bytes");
    db.close().await;
    server.stop().await;
}

/// The id of the oldest change request, as the audit log names it.
async fn proposed_first(api: &Api) -> String {
    let all = api.get("/api/v1/change-requests").await.body;
    all["change_requests"].as_array().unwrap().last().unwrap()["id"].to_string()
}

/// Entries cannot be changed or deleted, and on PostgreSQL not truncated either (a
/// TRUNCATE fires no row triggers: migration 0007 refuses it by a statement trigger).
async fn the_log_cannot_be_rewritten(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    assert_eq!(admin.post(SEGMENTS, &json!({ "key": "beta", "included": ["ann"] })).await.status, 201);
    let count = admin.audit_count().await;
    let db = Db::connect(&server.database_url).await;
    let update = db.execute("UPDATE audit_log SET actor = 'mallory'").await;
    assert!(update.unwrap_err().contains("append-only"));
    let delete = db.execute("DELETE FROM audit_log").await;
    assert!(delete.unwrap_err().contains("append-only"));
    if let Db::Postgres(_) = db {
        let truncate = db.execute("TRUNCATE audit_log").await;
        assert!(truncate.unwrap_err().contains("audit_log is append-only"), "TRUNCATE went through");
    }
    db.close().await;
    assert_eq!(admin.audit_count().await, count);
    server.stop().await;
}

crate::on_both_backends!(
    large_list_edits_are_stored_compact,
    approved_edits_are_stored_compact,
    the_log_cannot_be_rewritten
);
