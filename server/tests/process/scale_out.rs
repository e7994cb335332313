//! Two `pennon serve` processes on one PostgreSQL: versions never collide, and each
//! instance's stream clients learn of the other's changes.

use std::collections::BTreeSet;
use std::time::Duration;

use pennon_core::SigningKey;
use serde_json::json;

use crate::common::sse::Stream;
use crate::common::{Api, Backend};
use crate::proc::spawn;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_database() {
    let Some(Backend::Postgres(admin_url)) = Backend::postgres() else { return };
    let database_url = crate::common::fresh_postgres(&admin_url).await;
    // Both instances sign with the same key, from the environment.
    let key = SigningKey::from_seed([9; 32]).to_text();
    let envs = [("PENNON_SIGNING_KEY", key.as_str()), ("PENNON_DATABASE_URL", database_url.as_str())];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Each instance exports into its own directory, which must hold every version.
    let exports = [dir_a.path().join("export"), dir_b.path().join("export")];
    let export_arg = |i: usize| exports[i].to_str().unwrap().to_owned();
    let (export_a, export_b) = (export_arg(0), export_arg(1));
    let a = spawn(dir_a.path(), &["--poll-interval", "30s", "--export-dir", &export_a], &envs);
    let b = spawn(dir_b.path(), &["--poll-interval", "30s", "--export-dir", &export_b], &envs);
    assert!(b.banner_value("admin token:").is_none(), "the second instance found the first one's bootstrap");
    let (token, sdk) = (a.admin(), a.sdk());
    let (api_a, api_b) = (Api::new(&a.url, &token), Api::new(&b.url, &token));

    // A change made on A reaches B's stream clients within a second.
    let mut stream = Stream::open(&b.url, "development", &sdk).await;
    stream.next_version(Duration::from_secs(2)).await.expect("current version");
    let created = api_a.post("/api/v1/flags", &json!({ "key": "shared", "type": "boolean" })).await;
    assert_eq!(created.status, 201);
    let toggled = api_a.toggle("development", "shared", true).await;
    let version = toggled.version.unwrap();
    assert!(
        stream.wait_for(version, Duration::from_secs(1)).await,
        "B's stream did not announce A's version {version}"
    );
    let fetched = Api::new(&b.url, &sdk).get("/v1/snapshots/development").await;
    assert_eq!(fetched.version, Some(version), "B serves A's snapshot");

    // Concurrent writes through both: every one gets its own version.
    for key in ["on-a", "on-b"] {
        assert_eq!(api_a.post("/api/v1/flags", &json!({ "key": key, "type": "boolean" })).await.status, 201);
    }
    let write = |api: Api, flag: &'static str| {
        tokio::spawn(async move {
            let mut versions = Vec::new();
            for i in 0..10 {
                let reply = api.toggle("development", flag, i % 2 == 0).await;
                assert_eq!(reply.status, 200, "{}", reply.body);
                versions.push(reply.version.unwrap());
            }
            versions
        })
    };
    let (from_a, from_b) = (write(api_a.clone(), "on-a"), write(api_b.clone(), "on-b"));
    let mut all: Vec<u64> = from_a.await.unwrap();
    let on_a = all.clone();
    all.extend(from_b.await.unwrap());
    let unique: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(unique.len(), 20, "versions collided: {all:?}");
    let list = api_b.get("/api/v1/environments/development/snapshots?limit=1000").await.body;
    let mut published: Vec<u64> =
        list["snapshots"].as_array().unwrap().iter().map(|s| s["version"].as_u64().unwrap()).collect();
    published.sort_unstable();
    assert_eq!(published, (1..=*published.last().unwrap()).collect::<Vec<_>>());
    // Both instances end up serving the same latest version.
    let latest = api_a.version("development").await;
    assert!(stream.wait_for(latest, Duration::from_secs(2)).await);
    for url in [&a.url, &b.url] {
        assert_eq!(Api::new(url, &sdk).get("/v1/snapshots/development").await.version, Some(latest));
    }
    // Every version in both export directories, also those the other instance published
    // (an instance may serve its own latest commit before its listener has caught up).
    for export in &exports {
        for kind in ["server", "client"] {
            let dir = export.join("development").join(kind);
            let exported = || {
                let mut versions: Vec<u64> = std::fs::read_dir(&dir)
                    .unwrap()
                    .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json")?.parse().ok())
                    .collect();
                versions.sort_unstable();
                versions
            };
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while exported() != (1..=latest).collect::<Vec<_>>() && std::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(
                exported(),
                (1..=latest).collect::<Vec<_>>(),
                "{} (A published {on_a:?}; this is {})",
                dir.display(),
                if export == &exports[0] { "A" } else { "B" }
            );
        }
    }

    // A key revoked on A ends B's streams opened with it (heartbeats are 15 s apart, so
    // the database's notification does it) and B refuses the key.
    let keys = api_a.get("/api/v1/environments/development/sdk-keys").await.body;
    let id =
        keys["sdk_keys"].as_array().unwrap().iter().find(|k| sdk.starts_with(k["prefix"].as_str().unwrap())).unwrap()
            ["id"]
            .as_i64()
            .unwrap();
    assert_eq!(api_a.delete(&format!("/api/v1/environments/development/sdk-keys/{id}"), "").await.status, 204);
    assert!(stream.ends_within(Duration::from_secs(2)).await, "B kept the revoked key's stream open");
    assert_eq!(Api::new(&b.url, &sdk).get("/v1/snapshots/development").await.status, 401);
    a.stop();
    b.stop();
}
