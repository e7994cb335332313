//! A database of the schema before snapshot retention (migrations 0001 to 0004) is
//! upgraded in place: its history is kept until the server starts with a policy, then
//! pruned to it, and from then on the new triggers guard it.
//!
//! The old database is made by the current server and then taken back to the old
//! schema (the old triggers restored, retention's table, index and migration record
//! removed, and what follows it: on PostgreSQL the telemetry tables of 0006, 0008 and
//! 0009, and the audit log's `changes_json` column and TRUNCATE trigger of 0007), and
//! checked to be the very schema migrations 0001 to 0004 create on an empty database.
//! So it holds a real history, published and signed, and audit entries written before
//! 0007, which read as they did.

use std::path::Path;

use pennon_server::Retention;

use crate::common::{boolean_flag, fresh_postgres, Backend, Db, Server};
use crate::retention::settles_to;

/// The migrations before retention.
const BEFORE: [&str; 4] = [
    "0001_init.sql",
    "0002_change_definition_rev.sql",
    "0003_environment_base_version.sql",
    "0004_flag_definition_rev.sql",
];

/// Takes a migrated database back to the schema of migration 0004.
const SQLITE_DOWN: &str = "
    ALTER TABLE audit_log DROP COLUMN changes_json;
    DELETE FROM _sqlx_migrations WHERE version = 7;
    DROP TRIGGER snapshots_pruned_only;
    DROP INDEX snapshots_issued;
    DROP TABLE snapshot_prune_permits;
    DELETE FROM _sqlx_migrations WHERE version = 5;
";
const POSTGRES_DOWN: &str = "
    DROP TABLE telemetry_batches;
    DELETE FROM _sqlx_migrations WHERE version IN (8, 9);
    DROP TRIGGER audit_log_no_truncate ON audit_log;
    ALTER TABLE audit_log DROP COLUMN changes_json;
    DELETE FROM _sqlx_migrations WHERE version = 7;
    DROP TABLE telemetry_usage, telemetry_seen, telemetry_reporting, telemetry_sources,
        telemetry_instances, telemetry_not_found, telemetry_exposures;
    DELETE FROM _sqlx_migrations WHERE version = 6;
    DROP TRIGGER snapshots_pruned_only ON snapshots;
    DROP TRIGGER snapshots_no_truncate ON snapshots;
    DROP TRIGGER snapshots_immutable ON snapshots;
    CREATE TRIGGER snapshots_immutable BEFORE UPDATE OR DELETE ON snapshots
        FOR EACH ROW EXECUTE FUNCTION pennon_refuse_change();
    DROP FUNCTION pennon_prune_only();
    DROP INDEX snapshots_issued;
    DROP TABLE snapshot_prune_permits;
    DELETE FROM _sqlx_migrations WHERE version = 5;
";

fn migrations(backend: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend)
}

/// SQLite's statement for the trigger 0005 dropped, as 0001 wrote it (SQLite keeps
/// the text, so the schemas compare equal only with the very same words).
fn old_sqlite_trigger() -> String {
    let init = std::fs::read_to_string(migrations("sqlite").join(BEFORE[0])).unwrap();
    let start = init.find("CREATE TRIGGER snapshots_immutable_delete").unwrap();
    let end = start + init[start..].find("END;").unwrap() + "END;".len();
    init[start..end].to_owned()
}

/// The schema of `db` as sorted lines, without what differs between two databases of
/// one schema (SQLite's page numbers).
async fn schema(db: &Db) -> Vec<String> {
    let queries: &[&str] = match db {
        Db::Sqlite(_) => &[
            "SELECT type || ' ' || name || ' ' || tbl_name || ': ' || COALESCE(sql, '') FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%'",
            "SELECT 'migration ' || version || ' ' || description FROM _sqlx_migrations",
        ],
        Db::Postgres(_) => &[
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || \
             COALESCE(column_default, '') FROM information_schema.columns WHERE table_schema = 'public'",
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'",
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal",
            "SELECT proname || ': ' || prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace",
            "SELECT 'migration ' || version || ' ' || description FROM _sqlx_migrations",
        ],
    };
    let mut lines = Vec::new();
    for query in queries {
        lines.extend(db.texts(query).await);
    }
    lines.sort();
    lines
}

/// The schema migrations 0001 to 0004 make on an empty database of `backend`.
async fn schema_before_retention(backend: &Backend, dir: &Path) -> Vec<String> {
    let (name, url) = match backend {
        Backend::Sqlite => ("sqlite", format!("sqlite://{}?mode=rwc", dir.join("old.db").display())),
        Backend::Postgres(admin) => ("postgres", fresh_postgres(admin).await),
    };
    let files = dir.join("migrations");
    std::fs::create_dir_all(&files).unwrap();
    for file in BEFORE {
        std::fs::copy(migrations(name).join(file), files.join(file)).unwrap();
    }
    let migrator = sqlx::migrate::Migrator::new(files.as_path()).await.unwrap();
    let db = Db::connect(&url).await;
    match &db {
        Db::Sqlite(pool) => migrator.run(pool).await.unwrap(),
        Db::Postgres(pool) => migrator.run(pool).await.unwrap(),
    }
    let lines = schema(&db).await;
    db.close().await;
    lines
}

async fn upgrades_a_database_from_before_retention(backend: Backend) {
    let server = Server::start_with(&backend, |c| c.retention = Retention::keep_all()).await;
    let admin = server.admin();
    boolean_flag(&admin, "search", false).await;
    for i in 0..5 {
        admin.toggle("development", "search", i % 2 == 0).await;
    }
    let newest = admin.version("development").await;
    let server_dir = server.dir.path().to_path_buf();
    let (database_url, sdk, token) = (server.database_url.clone(), server.sdk_dev.clone(), server.admin.clone());
    let dir = server.stop().await;

    let db = Db::connect(&database_url).await;
    match db {
        Db::Sqlite(_) => db.script(&format!("{SQLITE_DOWN}\n{}", old_sqlite_trigger())).await,
        Db::Postgres(_) => db.script(POSTGRES_DOWN).await,
    }
    let scratch = tempfile::tempdir().unwrap();
    assert_eq!(schema(&db).await, schema_before_retention(&backend, scratch.path()).await);
    let history = "SELECT COUNT(*) FROM snapshots WHERE env = 'development'";
    assert_eq!(db.number(history).await, 2 * newest as i64);
    let old_refusal = db.execute("DELETE FROM snapshots WHERE env = 'development' AND version = 1").await;
    assert!(old_refusal.is_err(), "the old schema let a snapshot be deleted");
    db.close().await;

    // The upgrade: migration 0005 runs at start, and the sweep prunes to the policy.
    let mut config = crate::common::test_config(&server_dir, &database_url);
    config.retention = Retention { keep: Some(2), max_age: None };
    let running = pennon_server::start(config).await.expect("the upgraded server starts");
    let server = Server {
        url: running.base_url.clone(),
        admin: token,
        sdk_dev: sdk,
        database_url: database_url.clone(),
        public_keys: Vec::new(),
        dir,
        running: Some(running),
    };
    let admin = server.admin();
    settles_to(&admin, "development", &[newest, newest - 1]).await;
    let db = Db::connect(&database_url).await;
    assert_eq!(db.number(history).await, 4);
    let versions = db.texts("SELECT CAST(version AS TEXT) FROM _sqlx_migrations ORDER BY version").await;
    assert!(versions.iter().any(|version| version == "5"), "retention's migration ran: {versions:?}");
    let delete = format!("DELETE FROM snapshots WHERE env = 'development' AND version = {}", newest - 1);
    assert!(db.execute(&delete).await.unwrap_err().contains("deleted only by retention"));
    assert!(versions.iter().any(|version| version == "7"), "the audit log's migration ran: {versions:?}");
    if let Db::Postgres(_) = db {
        assert!(db.execute("TRUNCATE audit_log").await.unwrap_err().contains("append-only"));
    }
    db.close().await;
    // Entries from before 0007 read whole, as they were written.
    let toggles = admin.get("/api/v1/audit?action=config.toggle&limit=10").await.body;
    let toggles = toggles["entries"].as_array().unwrap();
    assert_eq!(toggles.len(), 5, "{toggles:?}");
    assert!(toggles.iter().all(|e| e["before"]["enabled"].is_boolean() && e.get("changes").is_none()), "{toggles:?}");
    let next = admin.toggle("development", "search", false).await.version.unwrap();
    assert_eq!(next, newest + 1);
    server.stop().await;
}

crate::on_both_backends!(upgrades_a_database_from_before_retention);
