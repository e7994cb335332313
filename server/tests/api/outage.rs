//! PostgreSQL unreachable, or a lock held by an instance cut off mid-write: snapshots in
//! memory are still served, and writes are refused in bounded time with a 503 saying
//! why, instead of waiting out the pool (30 s, then a 500) or the lock (for ever).

use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use crate::common::proxy::{through, Proxy};
use crate::common::{boolean_flag, fresh_postgres, test_config, Api, Backend, Db, Resp, Server, PATIENCE};

/// A server on PostgreSQL through a proxy the test can cut, with a flag and the
/// snapshot an SDK key read before any outage.
struct Outage {
    _dir: tempfile::TempDir,
    direct: String,
    proxy: Proxy,
    running: pennon_server::Running,
    admin: Api,
    sdk: Api,
    before: Resp,
}

impl Outage {
    /// `None` without PostgreSQL.
    async fn start() -> Option<Outage> {
        let Some(Backend::Postgres(admin_url)) = Backend::postgres() else { return None };
        let dir = tempfile::tempdir().unwrap();
        let direct = fresh_postgres(&admin_url).await;
        let proxy = Proxy::start(through(&direct, "").1).await;
        let running = pennon_server::start(test_config(dir.path(), &through(&direct, &proxy.address).0)).await.unwrap();
        let first = running.first_run.clone().unwrap();
        let (admin, sdk) =
            (Api::new(&running.base_url, &first.admin_token), Api::new(&running.base_url, &first.sdk_key));
        boolean_flag(&admin, "steady", false).await;
        let before = sdk.get("/v1/snapshots/development").await;
        assert_eq!(before.status, 200);
        Some(Outage { _dir: dir, direct, proxy, running, admin, sdk, before })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshots_are_served_through_a_database_outage() {
    let Some(Outage { _dir, proxy, running, admin, sdk, before, .. }) = Outage::start().await else { return };

    proxy.cut();
    // Past a poll (500 ms here): the SDK key cache has been refreshed since.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = Instant::now();
    let during = sdk.get("/v1/snapshots/development").await;
    assert_eq!((during.status, &during.body), (200, &before.body), "the snapshot in memory is still served");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let stranger = Api::new(&running.base_url, "pns_0000000000000000000000000000000000000000")
        .get("/v1/snapshots/development")
        .await;
    assert_eq!((stranger.status, stranger.code()), (503, "database_unavailable"), "{}", stranger.body);
    assert_eq!(stranger.headers.get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));

    proxy.restore();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let reply = admin.toggle("development", "steady", true).await;
        if reply.status == 200 {
            break;
        }
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert!(Instant::now() < deadline, "writes did not resume: {}", reply.body);
    }
    running.shutdown().await.unwrap();
}

/// Once a key check has timed out, the keys this instance accepted are answered from
/// memory at once for the rest of the outage, instead of each request waiting out the
/// 2 s check; keys never seen are still refused; and once the database answers again,
/// keys are checked as usual (one deleted meanwhile is refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn known_keys_wait_for_the_database_once_per_outage() {
    let Some(Outage { _dir, direct, proxy, running, sdk, before, .. }) = Outage::start().await else { return };

    proxy.cut();
    // Past a poll (500 ms here): the key is checked again on its next use, which times out.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = Instant::now();
    assert_eq!(sdk.get("/v1/snapshots/development").await.status, 200);
    let first_wait = started.elapsed();
    assert!(first_wait >= Duration::from_secs(2), "the first check waits for the database: {first_wait:?}");
    // Five more, across several polls (each refresh has the key checked again): none
    // waits out a check, as each did before.
    for _ in 0..5 {
        let started = Instant::now();
        let during = sdk.get("/v1/snapshots/development").await;
        assert_eq!((during.status, &during.body), (200, &before.body));
        assert!(started.elapsed() < Duration::from_secs(2), "a request waited {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let started = Instant::now();
    let stranger = Api::new(&running.base_url, "pns_0000000000000000000000000000000000000000")
        .get("/v1/snapshots/development")
        .await;
    assert_eq!((stranger.status, stranger.code()), (503, "database_unavailable"), "{}", stranger.body);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());

    // Deleted while this instance cannot see it: still served from memory until it can.
    let db = Db::connect(&direct).await;
    assert_eq!(db.execute("DELETE FROM sdk_keys WHERE env = 'development' AND kind = 'server'").await, Ok(1));
    assert_eq!(sdk.get("/v1/snapshots/development").await.status, 200);
    proxy.restore();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let reply = sdk.get("/v1/snapshots/development").await;
        if reply.status == 401 {
            break;
        }
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(Instant::now() < deadline, "the deleted key is still accepted after the outage");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    db.close().await;
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_behind_a_held_lock_is_refused_in_time() {
    use sqlx::Connection as _;
    let Some(backend) = Backend::postgres() else { return };
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "steady", false).await;
    // An instance cut off mid-write: its transaction holds the environment's lock.
    let mut holder = sqlx::PgConnection::connect(&server.database_url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("SELECT name FROM environments WHERE name = 'development' FOR UPDATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let started = Instant::now();
    let reply = tokio::time::timeout(Duration::from_secs(30), admin.toggle("development", "steady", true))
        .await
        .expect("a write behind a held lock is answered");
    assert_eq!((reply.status, reply.code()), (503, "busy"), "{}", reply.body);
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    assert_eq!(admin.toggle("development", "steady", true).await.status, 200);
    server.stop().await;
}

/// Keys this instance never accepted, sent together during an outage (a new deployment
/// starting, or a scan with made-up keys), are refused with 503 at once but for one
/// request that probes the database: before, each started its own read and waited
/// out the 2 s check.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_keys_in_an_outage_start_one_check_between_them() {
    let Some(Outage { _dir, proxy, running, sdk, .. }) = Outage::start().await else { return };

    proxy.cut();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sdk.get("/v1/snapshots/development").await.status, 200, "the outage is noticed");
    let strangers = (0..20).map(|i| {
        let stranger = Api::new(&running.base_url, &format!("pns_{i:040}"));
        tokio::spawn(async move { stranger.get("/v1/snapshots/development").await })
    });
    let mut probes = Vec::new();
    for reply in strangers {
        let reply = reply.await.unwrap();
        assert_eq!((reply.status, reply.code()), (503, "database_unavailable"), "{}", reply.body);
        let message = reply.body["error"]["message"].as_str().unwrap_or_default().to_owned();
        if !message.contains("is not answering SDK key checks") {
            probes.push(message);
        }
    }
    assert!(probes.len() <= 1, "{} of 20 unknown keys each checked the database: {probes:?}", probes.len());
    running.shutdown().await.unwrap();
}

/// Revoking an SDK key, or deleting an environment with its keys, drops those keys
/// alone, on every instance: the other keys keep being served through a database outage
/// that follows. Before, any revocation emptied every instance's key cache, and the
/// development key got `503 database_unavailable` on both once the database was gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_keeps_the_other_keys_through_an_outage() {
    let Some(Outage { _dir, direct, proxy, running, admin, sdk, before }) = Outage::start().await else { return };
    // A second instance, which learns of the revocations by notice alone (it polls
    // every 30 s); the first polls every 500 ms, so the development key's grant there
    // is one kept for outages when the database goes.
    let mut config = test_config(_dir.path(), &through(&direct, &proxy.address).0);
    config.poll_interval = Duration::from_secs(30);
    let other = pennon_server::start(config).await.unwrap();
    let dev = [sdk.clone(), Api::new(&other.base_url, &sdk.token)];
    assert_eq!(dev[1].get("/v1/snapshots/development").await.status, 200);
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa" })).await.status, 201);
    let revoked = admin.post("/api/v1/environments/staging/sdk-keys", &json!({ "kind": "client" })).await;
    let deleted = admin.post("/api/v1/environments/qa/sdk-keys", &json!({ "kind": "server" })).await;
    let on_both = |key: &Json, env: &'static str| {
        let secret = key["key"].as_str().unwrap().to_owned();
        let apis = [Api::new(&running.base_url, &secret), Api::new(&other.base_url, &secret)];
        (apis, format!("/v1/snapshots/{env}"))
    };
    let (staging, qa) = (on_both(&revoked.body, "staging"), on_both(&deleted.body, "qa"));
    // Accepted on both (the other instance serves `qa` once the notice of its creation
    // is in).
    for (apis, path) in [&staging, &qa] {
        for api in apis {
            let deadline = Instant::now() + PATIENCE;
            while api.get(path).await.status != 200 {
                assert!(Instant::now() < deadline, "{path} is not served with its key");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    let id = revoked.body["id"].as_i64().unwrap();
    assert_eq!(admin.delete(&format!("/api/v1/environments/staging/sdk-keys/{id}"), "").await.status, 204);
    let etag = admin.get("/api/v1/environments/qa").await.etag.unwrap();
    assert_eq!(admin.delete("/api/v1/environments/qa", &etag).await.status, 204);
    // Refused at once where revoked, and on the other instance once its notice is in.
    for (apis, path) in [&staging, &qa] {
        assert_eq!(apis[0].get(path).await.status, 401, "{path} on the instance that revoked it");
        let deadline = Instant::now() + PATIENCE;
        while apis[1].get(path).await.status != 401 {
            assert!(Instant::now() < deadline, "{path}: the other instance still accepts the key");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    proxy.cut();
    // Past a poll of the first instance: its key check there times out, after 2 s.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for (instance, api) in dev.iter().enumerate() {
        let during = api.get("/v1/snapshots/development").await;
        assert_eq!((during.status, &during.body), (200, &before.body), "instance {instance}: {}", during.body);
    }
    for (apis, path) in [&staging, &qa] {
        for api in apis {
            assert_ne!(api.get(path).await.status, 200, "{path} was accepted again in the outage");
        }
    }
    proxy.restore(); // reads stuck in the outage end, and the instances stop at once
    other.shutdown().await.unwrap();
    running.shutdown().await.unwrap();
}
