//! `pennon serve` with no arguments, as a new user runs it.

use std::os::unix::fs::PermissionsExt as _;

use crate::common::{Api, Backend};
use crate::proc::{serve_exits, spawn};

#[tokio::test]
async fn first_run_creates_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let text = server.banner.join("\n");
    for expected in [
        "signing key:  ed25519:",
        "generated pennon-data/signing.key",
        "First run: created environments development, staging, production",
        "admin API:",
        "pennon CLI:   PENNON_URL=http://127.0.0.1:",
        "/openapi.json",
        "/v1/snapshots/{env}",
        "/v1/stream/{env}",
        "/v1/keys",
    ] {
        assert!(text.contains(expected), "banner lacks {expected:?}:\n{text}");
    }
    let data = dir.path().join("pennon-data");
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(data.join("signing.key")).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(data.join("pennon.db").exists());
    let line = server.banner_value("signing key:").unwrap();
    let (public, id) = line.split_once(' ').unwrap();
    assert_eq!(std::fs::read_to_string(data.join("signing.pub")).unwrap().trim(), public);
    let key_id = pennon_core::PublicKey::parse(public).unwrap().key_id().to_owned();
    assert_eq!(id, format!("(key id {key_id})"), "the id refusals name, beside the key clients trust");

    let admin = Api::new(&server.url, &server.admin());
    let envs = admin.get("/api/v1/environments").await.body;
    let names: Vec<(&str, bool)> = envs["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["protected"] == true))
        .collect();
    assert_eq!(names, [("development", false), ("production", true), ("staging", false)]);
    let sdk = Api::new(&server.url, &server.sdk());
    assert_eq!(sdk.get("/v1/snapshots/development").await.status, 200);
    let keys = Api::new(&server.url, "").get("/v1/keys").await.body;
    assert_eq!(keys["keys"][0]["public_key"], public);
    // The secrets are not in the database file.
    let db = std::fs::read(data.join("pennon.db")).unwrap();
    let wal = std::fs::read(data.join("pennon.db-wal")).unwrap_or_default();
    for secret in [server.admin(), server.sdk()] {
        let found = |bytes: &[u8]| bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found(&db) && !found(&wal), "a secret is stored in clear");
    }
    server.stop();

    // A second start reuses everything and prints no secrets.
    let again = spawn(dir.path(), &[], &[]);
    let text = again.banner.join("\n");
    assert!(!text.contains("First run") && !text.contains("admin token"), "{text}");
    assert_eq!(again.banner_value("signing key:").unwrap(), line);
    assert_eq!(Api::new(&again.url, &admin.token).get("/api/v1/flags").await.status, 200);
    again.stop();
}

/// A start that would sign with a key no client trusts is refused: the data directory's
/// key lost (a new one would be generated), or `PENNON_SIGNING_KEY` set but empty.
#[tokio::test]
async fn a_lost_signing_key_is_not_replaced_silently() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let original = server.banner_value("signing key:").unwrap();
    server.stop();
    let key = dir.path().join("pennon-data/signing.key");
    let saved = std::fs::read(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    std::fs::remove_file(key.with_extension("pub")).unwrap();

    let serve = |extra: &[&str], envs: &[(&str, &str)]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pennon"));
        command.current_dir(dir.path()).args(["serve", "--listen", "127.0.0.1:0", "--log", "warn"]).args(extra);
        for (name, value) in envs {
            command.env(name, value);
        }
        command.output().unwrap()
    };
    let refused = serve(&[], &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("signing.key` is missing") && stderr.contains("--replace-signing-key"), "{stderr}");
    assert!(!key.exists() && !key.with_extension("pub").exists(), "no key is generated for it");
    // Another key in its place (a retired key's file found again).
    let other = "ed25519-private:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    std::fs::write(&key, other).unwrap();
    let refused = serve(&[], &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("clients that trust"), "{stderr}");
    let empty = serve(&[], &[("PENNON_SIGNING_KEY", " ")]);
    assert!(String::from_utf8_lossy(&empty.stderr).contains("PENNON_SIGNING_KEY is set but empty"));

    // The key back: it starts, and signs with it.
    std::fs::write(&key, &saved).unwrap();
    let server = spawn(dir.path(), &[], &[]);
    assert_eq!(server.banner_value("signing key:").unwrap(), original);
    server.stop();
    // A deliberate switch.
    std::fs::remove_file(&key).unwrap();
    let server = spawn(dir.path(), &["--replace-signing-key"], &[]);
    assert_ne!(server.banner_value("signing key:").unwrap(), original);
    server.stop();
}

/// The edge trial's case: a new deployment (its own data directory and key) pointed at
/// another's export directory replaced its snapshots with ones signed by a new key. It
/// is refused now, generating no key and writing nothing there; with the key that signed
/// them it starts, and `--replace-signing-key` is the deliberate switch.
#[tokio::test]
async fn an_export_directory_signed_by_another_key_is_not_taken_over() {
    let theirs = tempfile::tempdir().unwrap();
    let export = theirs.path().join("export");
    let export_arg = export.to_str().unwrap();
    let server = spawn(theirs.path(), &["--export-dir", export_arg], &[]);
    let their_key = server.banner_value("signing key:").unwrap();
    server.stop();
    let latest = export.join("development/server/latest.json");
    let before = std::fs::read(&latest).unwrap();
    let keys_before = std::fs::read(export.join("keys.json")).unwrap();

    let serve =
        |dir: &std::path::Path, extra: &[&str]| serve_exits(dir, &[&["--export-dir", export_arg], extra].concat());
    let ours = tempfile::tempdir().unwrap();
    let refused = serve(ours.path(), &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "signing.key` is missing, but the export directory `{export_arg}` holds snapshots that clients verify \
             with its key"
        )),
        "{stderr}"
    );
    assert!(!ours.path().join("pennon-data/signing.key").exists(), "no key is generated for it");
    // Its own key (a deployment of its own, started before without the directory).
    let own = tempfile::tempdir().unwrap();
    spawn(own.path(), &[], &[]).stop();
    let refused = serve(own.path(), &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    let their_id = their_key.split("(key id ").nth(1).unwrap().trim_end_matches(')');
    assert!(
        stderr.contains(&format!(
            "the export directory `{export_arg}` holds snapshots of `development` signed by key {their_id}, and \
             this start signs with"
        )) && stderr.contains("give another --export-dir if this one belongs to another deployment"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&latest).unwrap(), before, "their snapshot is untouched");
    assert_eq!(std::fs::read(export.join("keys.json")).unwrap(), keys_before);

    // With their key (a lost database, say) it starts and continues their versions.
    let key_file = theirs.path().join("pennon-data/signing.key");
    let server = spawn(ours.path(), &["--export-dir", export_arg, "--signing-key", key_file.to_str().unwrap()], &[]);
    assert_eq!(server.banner_value("signing key:").unwrap(), their_key);
    server.stop();
    let switched = spawn(own.path(), &["--export-dir", export_arg, "--replace-signing-key"], &[]);
    assert_ne!(switched.banner_value("signing key:").unwrap(), their_key);
    switched.stop();
}

/// A restart on PostgreSQL logs nothing about the migrations table it already has: sqlx
/// logged PostgreSQL's NOTICE `relation "_sqlx_migrations" already exists, skipping` at
/// INFO on every start after the first.
#[tokio::test]
async fn a_restart_on_postgres_logs_no_migration_notice() {
    let Some(Backend::Postgres(admin_url)) = Backend::postgres() else { return };
    let url = crate::common::fresh_postgres(&admin_url).await;
    let dir = tempfile::tempdir().unwrap();
    let envs = [("PENNON_DATABASE_URL", url.as_str())];
    spawn(dir.path(), &["--log", "info"], &envs).stop();
    spawn(dir.path(), &["--log", "info"], &envs).stop();
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains(" INFO "), "the log is at info: {log}");
    assert!(!log.contains("_sqlx_migrations"), "{log}");
}

/// A database a newer release migrated further still opens: migrations only add, and
/// refusing it would stop a rolling upgrade (or its rollback) at the first restart.
#[tokio::test]
async fn a_database_from_a_newer_release_opens() {
    let dir = tempfile::tempdir().unwrap();
    spawn(dir.path(), &[], &[]).stop();
    let url = format!("sqlite:{}", dir.path().join("pennon-data/pennon.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (9999, 'from a newer release', CURRENT_TIMESTAMP, 1, x'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let server = spawn(dir.path(), &[], &[]);
    assert!(Api::new(&server.url, "none").get("/healthz").await.status == 200);
    server.stop();
}
