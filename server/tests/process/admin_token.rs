//! `pennon admin-token`: a new admin token made in the database when every one is lost,
//! beside a running server, on SQLite and PostgreSQL; and nothing made where there is
//! no Pennon database.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::json;

use crate::common::{Api, Backend};
use crate::proc::spawn;

/// Runs `pennon admin-token ARGS` in `dir` with only `envs` of Pennon's variables set.
fn admin_token(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pennon"));
    command.current_dir(dir).env_remove("PENNON_DATA_DIR").env_remove("PENNON_DATABASE_URL");
    command.arg("admin-token").args(args).envs(envs.iter().copied());
    command.output().expect("run pennon admin-token")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The secret a successful run printed, alone on stdout.
fn secret(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "stdout: {stdout}\nstderr: {}", stderr(output));
    let secret = stdout.strip_suffix('\n').unwrap_or(&stdout);
    assert!(secret.starts_with("pnt_") && !secret.contains(char::is_whitespace), "{stdout:?}");
    secret.to_owned()
}

/// The live tokens' names, read with `admin`.
async fn live_names(admin: &Api) -> Vec<String> {
    let tokens = admin.get("/api/v1/tokens").await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let live = tokens.body["tokens"].as_array().unwrap().iter().filter(|t| t["revoked_at"].is_null());
    live.map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

/// Bootstraps a server on `backend`, then runs the command beside it twice (finding the
/// database as the server does: from the directory, or `PENNON_DATABASE_URL`) and uses
/// each new token at once, without a restart.
async fn recover_beside_a_running_server(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let envs: Vec<(&str, String)> = match &backend {
        Backend::Sqlite => Vec::new(),
        Backend::Postgres(_) => vec![("PENNON_DATABASE_URL", backend.fresh_url(dir.path()).await)],
    };
    let envs: Vec<(&str, &str)> = envs.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let server = spawn(dir.path(), &[], &envs);
    let lost = server.admin();

    let first = admin_token(dir.path(), &[], &envs);
    let token = secret(&first);
    assert!(stderr(&first).contains("created admin token 2 `recovered-admin`"), "{}", stderr(&first));
    assert!(stderr(&first).contains("pennon tokens revoke"), "{}", stderr(&first));
    let recovered = Api::new(&server.url, &token);
    assert_eq!(live_names(&recovered).await, ["admin", "recovered-admin"]);
    let made = recovered.post("/api/v1/tokens", &json!({ "name": "ci", "role": "editor" })).await;
    assert_eq!(made.status, 201, "the new token is an admin: {}", made.body);
    let tokens = recovered.get("/api/v1/tokens").await.body;
    let mine = &tokens["tokens"][1];
    assert_eq!(
        (&mine["role"], &mine["environments"], &mine["created_by"]),
        (&json!("admin"), &json!(["*"]), &json!("pennon"))
    );

    // The audit log says who made it: no token, the command, with direct database access.
    let audit = recovered.get("/api/v1/audit?action=token.create&resource=2").await.body;
    let entry = &audit["entries"][0];
    assert_eq!((&entry["actor"], &entry["after"]["name"]), (&json!("pennon"), &json!("recovered-admin")), "{audit}");
    let request = entry["request_id"].as_str().unwrap();
    assert!(request.starts_with("admin-token-"), "{request}");
    assert!(stderr(&first).contains(&format!("[request {request}]")), "{}", stderr(&first));
    let made_by = recovered.get("/api/v1/audit?action=token.create&resource=3").await.body;
    assert_eq!(made_by["entries"][0]["actor"], "recovered-admin", "{made_by}");

    // Again: another secret, the next free name, and both work (so does the old one:
    // revoking it is the operator's next step).
    let again = secret(&admin_token(dir.path(), &[], &envs));
    assert_ne!(again, token);
    let second = Api::new(&server.url, &again);
    assert_eq!(live_names(&second).await, ["admin", "recovered-admin", "ci", "recovered-admin-2"]);
    assert_eq!(recovered.get("/api/v1/flags").await.status, 200);
    assert_eq!(second.raw(reqwest::Method::DELETE, "/api/v1/tokens/1", None, &[]).await.status, 204);
    assert_eq!(Api::new(&server.url, &lost).get("/api/v1/flags").await.status, 401);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_beside_a_running_server_on_sqlite() {
    recover_beside_a_running_server(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_beside_a_running_server_on_postgres() {
    let Some(backend) = Backend::postgres() else { return };
    recover_beside_a_running_server(backend).await;
}

/// On SQLite a write under way (the server's, or any) holds the database's write lock:
/// the command waits for it, as the server's own writes do, instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_for_a_write_under_way_on_sqlite() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let url = format!("sqlite:{}", dir.path().join("pennon-data/pennon.db").display());
    let mut writer = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut writer).await.unwrap();
    let command = Command::new(env!("CARGO_BIN_EXE_pennon"))
        .current_dir(dir.path())
        .arg("admin-token")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Long enough for the command to start and find the lock taken; it passes either way.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    sqlx::query("COMMIT").execute(&mut writer).await.unwrap();
    let output = tokio::task::spawn_blocking(move || command.wait_with_output().unwrap()).await.unwrap();
    let token = secret(&output);
    assert_eq!(live_names(&Api::new(&server.url, &token)).await, ["admin", "recovered-admin"]);
    server.stop();
}

/// A first run whose banner could not be written (stdout closed) lost its admin token:
/// `pennon serve` says what to run, and the token it makes works after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_run_banner_lost_to_a_closed_stdout_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let serve = Command::new(env!("CARGO_BIN_EXE_pennon"))
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--log", "warn"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(serve.status.code(), Some(2));
    assert!(stderr(&serve).contains("`pennon admin-token`"), "{}", stderr(&serve));

    // Into a closed stdout the command fails too, and says the token exists all the same.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let unread = Command::new(env!("CARGO_BIN_EXE_pennon"))
        .current_dir(dir.path())
        .arg("admin-token")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(unread.status.code(), Some(2));
    assert!(stderr(&unread).contains("Token 2 `recovered-admin` was created all the same"), "{}", stderr(&unread));
    // Into /dev/null (or a stdout closed at start) it is known before: nothing is made.
    let discarded = Command::new(env!("CARGO_BIN_EXE_pennon"))
        .current_dir(dir.path())
        .arg("admin-token")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(discarded.status.code(), Some(2));
    assert!(stderr(&discarded).contains("nothing was created"), "{}", stderr(&discarded));

    let token = secret(&admin_token(dir.path(), &[], &[]));
    let server = spawn(dir.path(), &[], &[]);
    assert!(!server.banner.join("\n").contains("admin token"), "not a first run");
    let admin = Api::new(&server.url, &token);
    assert_eq!(live_names(&admin).await, ["admin", "recovered-admin", "recovered-admin-2"]);
    server.stop();
}

/// Where there is no bootstrapped database, nothing is created, on disk or in a
/// database: a mistyped path must not leave an empty store that no server uses.
#[tokio::test]
async fn nothing_is_created_where_there_is_no_pennon_database() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |output: &Output, expected: &str| {
        assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
        assert!(stderr(output).contains(expected), "{}", stderr(output));
        assert!(output.stdout.is_empty());
    };
    let listing = || {
        let mut names: Vec<String> = walkdir(dir.path())
            .into_iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        names.sort();
        names
    };

    let missing = admin_token(dir.path(), &[], &[]);
    refused(
        &missing,
        "there is no database at `pennon-data/pennon.db` (no directory `pennon-data`); nothing was created",
    );
    refused(&missing, "--data-dir or --database-url");
    let elsewhere = dir.path().join("elsewhere");
    refused(&admin_token(dir.path(), &[], &[("PENNON_DATA_DIR", elsewhere.to_str().unwrap())]), "elsewhere/pennon.db");
    refused(&admin_token(dir.path(), &["--database-url", "sqlite:other.db"], &[]), "no database at `other.db`");
    assert!(listing().is_empty(), "{:?}", listing());

    // A data directory with an empty database file (`pennon serve` never got as far as
    // creating its tables), and an SQLite file of something else.
    std::fs::create_dir(dir.path().join("pennon-data")).unwrap();
    std::fs::write(dir.path().join("pennon-data/pennon.db"), b"").unwrap();
    refused(&admin_token(dir.path(), &[], &[]), "`pennon-data/pennon.db` holds no Pennon data");
    assert_eq!(std::fs::metadata(dir.path().join("pennon-data/pennon.db")).unwrap().len(), 0, "left empty");
    let other = dir.path().join("other.db");
    let url = format!("sqlite:{}", other.display());
    let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=rwc")).await.unwrap();
    sqlx::query("CREATE TABLE notes (body TEXT)").execute(&pool).await.unwrap();
    pool.close().await;
    refused(&admin_token(dir.path(), &["--database-url", &url], &[]), "holds no Pennon data");
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'").fetch_all(&pool).await.unwrap();
    assert_eq!(tables, ["notes"], "no migration ran");
    pool.close().await;
    assert_eq!(listing(), ["other.db", "pennon-data", "pennon-data/pennon.db"]);

    // PostgreSQL: an empty database stays empty; a missing one is named.
    let Some(Backend::Postgres(admin_url)) = Backend::postgres() else { return };
    let empty = crate::common::fresh_postgres(&admin_url).await;
    refused(&admin_token(dir.path(), &["--database-url", &empty], &[]), "holds no Pennon data");
    let pool = sqlx::PgPool::connect(&empty).await.unwrap();
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(tables, 0, "no migration ran");
    pool.close().await;
    let (base, query) = empty.split_once('?').map_or((empty.as_str(), String::new()), |(b, q)| (b, format!("?{q}")));
    let absent = format!("{}/pennon_t_absent{query}", &base[..base.rfind('/').unwrap()]);
    refused(&admin_token(dir.path(), &["--database-url", &absent], &[]), "there is no database at");
}

/// Every path under `dir`, recursively.
fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walkdir(&path));
        }
        found.push(path);
    }
    found
}

/// `--name` of a live token is refused, and nothing is written: no token, no audit entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_a_live_token_has_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let admin = Api::new(&server.url, &server.admin());
    let audit_before = admin.get("/api/v1/audit").await.body["entries"].as_array().unwrap().len();

    let taken = admin_token(dir.path(), &["--name", "admin"], &[]);
    assert_eq!(taken.status.code(), Some(1), "{}", stderr(&taken));
    assert!(taken.stdout.is_empty());
    assert_eq!(
        stderr(&taken).trim_end(),
        "error: no token was created: a live token is already named `admin`: the audit log and change-request \
         approvals tell people apart by it"
    );
    assert_eq!(live_names(&admin).await, ["admin"]);
    assert_eq!(admin.get("/api/v1/audit").await.body["entries"].as_array().unwrap().len(), audit_before);

    // A free name is taken as given.
    let named = admin_token(dir.path(), &["--name", "ops-on-call"], &[]);
    let token = secret(&named);
    assert_eq!(live_names(&Api::new(&server.url, &token)).await, ["admin", "ops-on-call"]);
    server.stop();
}
