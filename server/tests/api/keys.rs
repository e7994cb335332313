//! Key rotation (docs/OPERATIONS.md) and re-signing before expiry.

use std::time::Duration;

use pennon_core::{PublicKey, SigningKey};
use pennon_server::Config;

use crate::common::{load, now_ms, test_config, Api, Backend, Server};

fn write_key(dir: &std::path::Path, name: &str, seed: u8) -> (std::path::PathBuf, PublicKey) {
    let key = SigningKey::from_seed([seed; 32]);
    let path = dir.join(name);
    std::fs::write(&path, format!("{}\n", key.to_text())).unwrap();
    (path, key.public_key().clone())
}

async fn fetch(url: &str, sdk: &str) -> Vec<u8> {
    let response =
        reqwest::Client::new().get(format!("{url}/v1/snapshots/development")).bearer_auth(sdk).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

async fn published_keys(url: &str) -> Vec<(String, String)> {
    let body = Api::new(url, "").get("/v1/keys").await.body;
    body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["public_key"].as_str().unwrap().to_owned(), k["status"].as_str().unwrap().to_owned()))
        .collect()
}

async fn restart(dir: &std::path::Path, database_url: &str, tweak: impl FnOnce(&mut Config)) -> pennon_server::Running {
    let mut config = test_config(dir, database_url);
    tweak(&mut config);
    pennon_server::start(config).await.expect("restart")
}

async fn rotation(backend: Backend) {
    let keys_dir = tempfile::tempdir().unwrap();
    let (old_path, old) = write_key(keys_dir.path(), "old.key", 1);
    let (new_path, new) = write_key(keys_dir.path(), "new.key", 2);
    // Step 0: signing with the old key.
    let old_file = old_path.clone();
    let server = Server::start_with(&backend, move |c| c.signing_key_files = vec![old_file]).await;
    let (url, sdk, db) = (server.url.clone(), server.sdk_dev.clone(), server.database_url.clone());
    let admin_token = server.admin.clone();
    let v0 = load(&fetch(&url, &sdk).await, std::slice::from_ref(&old), "development").unwrap().version();
    let dir = server.stop().await;

    // Step 1: sign with both. The restart re-signs every environment at once.
    let (a, b) = (old_path.clone(), new_path.clone());
    let running = restart(dir.path(), &db, move |c| c.signing_key_files = vec![a, b]).await;
    let url = running.base_url.clone();
    let envelope = fetch(&url, &sdk).await;
    let v1 = load(&envelope, std::slice::from_ref(&old), "development").expect("old clients keep working").version();
    assert!(v1 > v0);
    load(&envelope, std::slice::from_ref(&new), "development").expect("new clients work");
    let listed = published_keys(&url).await;
    assert_eq!(listed, [(old.to_text(), "signing".into()), (new.to_text(), "signing".into())]);
    running.shutdown().await.unwrap();

    // Step 2: sign with the new key only, still publishing the old one.
    let (b, old_public) = (new_path.clone(), old.clone());
    let running = restart(dir.path(), &db, move |c| {
        c.signing_key_files = vec![b];
        c.published_keys = vec![old_public];
    })
    .await;
    let url = running.base_url.clone();
    let envelope = fetch(&url, &sdk).await;
    let both = load(&envelope, &[old.clone(), new.clone()], "development").expect("clients trusting both keys");
    assert!(both.version() > v1);
    let refused = load(&envelope, std::slice::from_ref(&old), "development").unwrap_err();
    assert_eq!(refused.kind(), "unknown_key", "clients that never learnt the new key are refused");
    assert_eq!(published_keys(&url).await, [(new.to_text(), "signing".into()), (old.to_text(), "published".into())]);
    let audit = Api::new(&url, &admin_token).get("/api/v1/audit?action=snapshot.resign&limit=100").await.body;
    assert!(
        audit["entries"].as_array().unwrap().iter().any(|e| e["after"]["reason"] == "signing keys changed"),
        "{audit}"
    );
    running.shutdown().await.unwrap();
}

async fn resigns_before_expiry(backend: Backend) {
    let server = Server::start_with(&backend, |c| {
        c.snapshot_ttl = Duration::from_secs(3);
        c.resign_before = Duration::from_millis(2500);
        c.resign_interval = Duration::from_millis(100);
    })
    .await;
    let admin = server.admin();
    let start = admin.version("development").await;
    // Without any change, the version moves on and every snapshot stays valid.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while admin.version("development").await < start + 2 {
        assert!(tokio::time::Instant::now() < deadline, "not re-signed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let envelope = fetch(&server.url, &server.sdk_dev).await;
    let snapshot = load(&envelope, &server.public_keys, "development").unwrap();
    assert!(snapshot.expires_at() > now_ms());
    let audit = admin.get("/api/v1/audit?action=snapshot.resign&environment=development").await.body;
    let entry = &audit["entries"][0];
    assert_eq!((entry["actor"].as_str(), entry["after"]["reason"].as_str()), (Some("pennon"), Some("expires soon")));
    server.stop().await;
}

crate::on_both_backends!(rotation, resigns_before_expiry);
