//! Snapshot retention: the history keeps exactly what the policy says and always the
//! newest version; what retention deleted is refused clearly (410 by version, 422 for a
//! rollback, naming the oldest kept); the database refuses any other deletion, and
//! every update.

use std::time::Duration;

use pennon_server::{Config, Retention};
use reqwest::Method;
use serde_json::json;

use crate::common::{boolean_flag, Api, Backend, Db, Server, PATIENCE};

/// Keeps the newest `keep` versions, whatever their age.
fn keep(keep: Option<u64>) -> impl FnOnce(&mut Config) {
    move |config: &mut Config| config.retention = Retention { keep, max_age: None }
}

/// The versions of `env`'s `kind` snapshots the admin API lists, newest first.
pub(crate) async fn versions(api: &Api, env: &str, kind: &str) -> Vec<u64> {
    let listed = api.get(&format!("/api/v1/environments/{env}/snapshots?kind={kind}&limit=1000")).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["snapshots"].as_array().unwrap().iter().map(|s| s["version"].as_u64().unwrap()).collect()
}

/// Waits (at most [`PATIENCE`]) until `env`'s server and client histories are `expected`:
/// the sweep runs in the background after a start.
pub(crate) async fn settles_to(api: &Api, env: &str, expected: &[u64]) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (server, client) = (versions(api, env, "server").await, versions(api, env, "client").await);
        if server == expected && client == expected {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "`{env}` keeps {server:?} and {client:?}, not {expected:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn keeps_the_newest_versions(backend: Backend) {
    let server = Server::start_with(&backend, keep(Some(3))).await;
    let admin = server.admin();
    boolean_flag(&admin, "a", true).await;
    boolean_flag(&admin, "b", true).await;
    // Five versions, each with other states of `a` and `b` than the one before.
    let mut newest = 0;
    for (flag, enabled) in [("a", true), ("b", true), ("a", false), ("b", false), ("a", true)] {
        newest = admin.toggle("development", flag, enabled).await.version.unwrap();
    }
    let kept = [newest, newest - 1, newest - 2];
    for kind in ["server", "client"] {
        assert_eq!(versions(&admin, "development", kind).await, kept, "{kind}");
    }
    // Environments the toggles did not touch keep theirs (flag creation published them).
    let staging = admin.version("staging").await;
    let expected: Vec<u64> = (staging.saturating_sub(2).max(1)..=staging).rev().collect();
    assert_eq!(versions(&admin, "staging", "server").await, expected);

    // A pruned version is gone, saying so; a kept one and the latest are served.
    let sdk = server.api(&server.sdk_dev);
    let by_version = |v: u64| format!("/v1/snapshots/development/{v}");
    let gone = sdk.raw(Method::GET, &by_version(newest - 3), None, &[]).await;
    assert_eq!((gone.status, gone.code()), (410, "pruned"), "{}", gone.body);
    let message = gone.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("the oldest server snapshot kept is version {}", newest - 2)), "{message}");
    assert!(message.contains("the newest 3 versions"), "{message}");
    assert_eq!(sdk.raw(Method::GET, &by_version(newest - 2), None, &[]).await.status, 200);
    assert_eq!(sdk.raw(Method::GET, &by_version(newest + 1), None, &[]).await.status, 404, "not published yet");
    let admin_gone = admin.get(&format!("/api/v1/environments/development/snapshots/{}?kind=client", newest - 3)).await;
    assert_eq!((admin_gone.status, admin_gone.code()), (410, "pruned"), "{}", admin_gone.body);
    let latest = sdk.raw(Method::GET, "/v1/snapshots/development", None, &[]).await;
    assert_eq!(latest.version, Some(newest));
    let etag = latest.etag.unwrap();
    let again = sdk.raw(Method::GET, "/v1/snapshots/development", None, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);

    // Rolling back to a pruned version is refused, naming what can be restored.
    let rollback = |to: u64| {
        let admin = admin.clone();
        async move {
            let etag = admin.get("/api/v1/environments/development").await.etag.unwrap();
            admin.post_if("/api/v1/environments/development/rollback", &json!({ "to_version": to }), &etag).await
        }
    };
    let refused = rollback(newest - 3).await;
    assert_eq!((refused.status, refused.field()), (422, "to_version"), "{}", refused.body);
    let message = refused.body["error"]["message"].as_str().unwrap();
    let oldest = newest - 2;
    assert!(
        message.contains(&format!("version {} of `development` is no longer kept", newest - 3))
            && message.contains(&format!("the oldest kept is version {oldest}"))
            && message.contains(&format!("versions to roll back to: {oldest} to {}", newest - 1)),
        "{message}"
    );
    assert_eq!(admin.version("development").await, newest, "nothing published");

    // A kept one is restored (`a` off, `b` on); the rollback's own version pushes the
    // oldest out.
    let restored = rollback(oldest).await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    let enabled = |flag: &str| {
        let admin = admin.clone();
        let path = format!("/api/v1/environments/development/flags/{flag}");
        async move { admin.get(&path).await.body["enabled"].as_bool() }
    };
    assert_eq!((enabled("a").await, enabled("b").await), (Some(false), Some(true)));
    assert_eq!(versions(&admin, "development", "server").await, [newest + 1, newest, newest - 1]);
    server.stop().await;
}

/// A rollback proposed in a protected environment and approved after its version was
/// pruned fails clearly, and the request stays open to be rejected.
async fn an_approval_after_pruning_fails_clearly(backend: Backend) {
    let server = Server::start_with(&backend, keep(Some(2))).await;
    let admin = server.admin();
    let editor = server.api(&server.token("ed", "editor", None).await);
    boolean_flag(&admin, "search", false).await;
    let target = admin.version("production").await - 1;
    // `*`: proposed to apply whatever is published meanwhile (a precise ETag would fail
    // the approval with 412 at the first new version, before any pruning).
    let proposed =
        editor.post_if("/api/v1/environments/production/rollback", &json!({ "to_version": target }), "*").await;
    assert_eq!(proposed.status, 202, "{}", proposed.body);
    let id = proposed.body["id"].as_i64().unwrap();
    // Two more versions of production (flags are published everywhere) prune its target.
    boolean_flag(&admin, "other", false).await;
    boolean_flag(&admin, "third", false).await;
    let approve = admin.post(&format!("/api/v1/change-requests/{id}/approve"), &json!({})).await;
    assert_eq!((approve.status, approve.field()), (422, "to_version"), "{}", approve.body);
    assert!(approve.body["error"]["message"].as_str().unwrap().contains("no longer kept"), "{}", approve.body);
    assert_eq!(admin.get(&format!("/api/v1/change-requests/{id}")).await.body["status"], "open");
    server.stop().await;
}

async fn triggers_guard_the_history(backend: Backend) {
    let server = Server::start_with(&backend, keep(Some(3))).await;
    let admin = server.admin();
    boolean_flag(&admin, "search", false).await;
    for i in 0..4 {
        admin.toggle("development", "search", i % 2 == 0).await;
    }
    let newest = admin.version("development").await;
    let db = Db::connect(&server.database_url).await;
    let count = "SELECT COUNT(*) FROM snapshots WHERE env = 'development' AND kind = 'server'";
    assert_eq!(db.number(count).await, 3);
    assert_eq!(db.number("SELECT COUNT(*) FROM snapshot_prune_permits").await, 0, "permits end with their prune");

    let oldest = newest - 2;
    let update = db.execute("UPDATE snapshots SET sha256 = 'forged' WHERE env = 'development'").await;
    assert!(update.is_err(), "an update went through: {update:?}");
    let delete = db.execute(&format!("DELETE FROM snapshots WHERE env = 'development' AND version = {oldest}")).await;
    let refusal = delete.expect_err("a delete without a permit went through");
    assert!(refusal.contains("deleted only by retention"), "{refusal}");
    // Even with a permit covering it, the newest stays, and the statement deletes nothing.
    let permit = format!(
        "INSERT INTO snapshot_prune_permits (env, kind, below) VALUES ('development', 'server', {})",
        newest + 1
    );
    db.execute(&permit).await.unwrap();
    let everything = db.execute("DELETE FROM snapshots WHERE env = 'development' AND kind = 'server'").await;
    assert!(everything.is_err(), "the newest was deleted: {everything:?}");
    assert_eq!(db.number(count).await, 3);
    // What a permit covers below the newest may go; other audiences are not covered.
    assert_eq!(
        db.execute(&format!("DELETE FROM snapshots WHERE env = 'development' AND version < {newest}")).await.ok(),
        None
    );
    let pruned = db
        .execute(&format!("DELETE FROM snapshots WHERE env = 'development' AND kind = 'server' AND version < {newest}"))
        .await;
    assert_eq!(pruned, Ok(2));
    db.execute("DELETE FROM snapshot_prune_permits").await.unwrap();
    if let Db::Postgres(_) = db {
        let truncate = db.execute("TRUNCATE snapshots").await;
        assert!(truncate.is_err(), "TRUNCATE went through: {truncate:?}");
    }
    assert_eq!(db.number(count).await, 1);
    db.close().await;
    assert_eq!(versions(&admin, "development", "server").await, [newest]);
    server.stop().await;
}

/// A prune that fails part-way (here on the client snapshots, after the server ones
/// went) is undone whole, and the write it was part of is published all the same.
async fn a_failed_prune_fails_nothing(backend: Backend) {
    let server = Server::start_with(&backend, keep(Some(2))).await;
    let admin = server.admin();
    boolean_flag(&admin, "search", false).await;
    let db = Db::connect(&server.database_url).await;
    match db {
        Db::Sqlite(_) => {
            db.execute(
                "CREATE TRIGGER sabotage AFTER DELETE ON snapshots WHEN OLD.kind = 'client' \
                 BEGIN SELECT RAISE(ABORT, 'sabotaged'); END",
            )
            .await
            .unwrap();
        }
        Db::Postgres(_) => {
            db.script(
                "CREATE FUNCTION sabotage() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'sabotaged'; END; $$; \
                 CREATE TRIGGER sabotage AFTER DELETE ON snapshots FOR EACH ROW WHEN (OLD.kind = 'client') \
                 EXECUTE FUNCTION sabotage();",
            )
            .await;
        }
    }
    let before = versions(&admin, "development", "server").await;
    let mut newest = 0;
    for enabled in [true, false, true] {
        let reply = admin.toggle("development", "search", enabled).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        newest = reply.version.unwrap();
    }
    let sdk = server.api(&server.sdk_dev);
    assert_eq!(sdk.raw(Method::GET, "/v1/snapshots/development", None, &[]).await.version, Some(newest));
    let all: Vec<u64> = (before[before.len() - 1]..=newest).rev().collect();
    assert_eq!(versions(&admin, "development", "server").await, all, "the server prune was undone too");
    assert_eq!(versions(&admin, "development", "client").await, all);
    assert_eq!(db.number("SELECT COUNT(*) FROM snapshot_prune_permits").await, 0);

    let repair = if let Db::Sqlite(_) = db { "DROP TRIGGER sabotage" } else { "DROP TRIGGER sabotage ON snapshots" };
    db.execute(repair).await.unwrap();
    let next = admin.toggle("development", "search", false).await.version.unwrap();
    settles_to(&admin, "development", &[next, next - 1]).await;
    db.close().await;
    server.stop().await;
}

/// The sweep prunes without a write: the backlog when the limit is lowered, versions
/// older than `max_age`, and deleted environments, whose newest version is kept so a
/// new environment of the same name continues after it.
async fn sweeps_what_no_write_reaches(backend: Backend) {
    let server = Server::start_with(&backend, keep(None)).await;
    let admin = server.admin();
    boolean_flag(&admin, "search", false).await;
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);
    for i in 0..4 {
        admin.toggle("development", "search", i % 2 == 0).await;
        admin.toggle("qa", "search", i % 2 == 0).await;
    }
    let (dev, qa) = (admin.version("development").await, admin.version("qa").await);
    assert_eq!(versions(&admin, "development", "server").await.len() as u64, dev, "everything kept");
    let etag = admin.get("/api/v1/environments/qa").await.etag.unwrap();
    assert_eq!(admin.delete("/api/v1/environments/qa", &etag).await.status, 204);

    let server = server.restart_with(keep(Some(2))).await;
    let admin = server.admin();
    settles_to(&admin, "development", &[dev, dev - 1]).await;
    let db = Db::connect(&server.database_url).await;
    let qa_left = "SELECT COUNT(*) FROM snapshots WHERE env = 'qa'";
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while db.number(qa_left).await != 4 {
        assert!(tokio::time::Instant::now() < deadline, "qa keeps {}", db.number(qa_left).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(db.number("SELECT MAX(version) FROM snapshots WHERE env = 'qa'").await, qa as i64);
    db.close().await;
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);
    assert_eq!(admin.version("qa").await, qa + 1, "the new `qa` continues the versions");

    // Every version but the newest is older than a millisecond by the time it restarts.
    let server =
        server.restart_with(|c| c.retention = Retention { keep: None, max_age: Some(Duration::from_millis(1)) }).await;
    let admin = server.admin();
    settles_to(&admin, "development", &[dev]).await;
    let gone = admin.get(&format!("/api/v1/environments/development/snapshots/{}", dev - 1)).await;
    assert_eq!((gone.status, gone.code()), (410, "pruned"), "{}", gone.body);
    assert!(gone.body["error"]["message"].as_str().unwrap().contains("issued in the last 1ms"), "{}", gone.body);
    server.stop().await;
}

crate::on_both_backends!(
    keeps_the_newest_versions,
    an_approval_after_pruning_fails_clearly,
    triggers_guard_the_history,
    a_failed_prune_fails_nothing,
    sweeps_what_no_write_reaches
);
