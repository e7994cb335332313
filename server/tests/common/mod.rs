//! Shared test helpers: servers on SQLite or PostgreSQL, an HTTP client, SSE reading,
//! and envelope checks with pennon-core.
#![allow(dead_code, unreachable_pub, missing_docs, unused_imports)]

pub mod client;
pub mod db;
pub mod proxy;
pub mod sse;
pub mod telemetry;

use std::time::Duration;

use pennon_core::{Loaded, PublicKey, Snapshot, TrustPolicy};
use pennon_server::{Config, Running};
use serde_json::Value as Json;

pub use client::{Api, Resp};
pub use db::Db;

/// Every wait in the tests is bounded by this.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Where a test server keeps its state.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A fresh SQLite file in the server's temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL of `PENNON_TEST_DATABASE_URL`.
    Postgres(String),
}

impl Backend {
    /// PostgreSQL, when `PENNON_TEST_DATABASE_URL` is set; otherwise a note and `None`.
    pub fn postgres() -> Option<Backend> {
        match std::env::var("PENNON_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres(url)),
            _ => {
                eprintln!(
                    "skipped on PostgreSQL: PENNON_TEST_DATABASE_URL is not set (scripts/postgres.sh starts one)"
                );
                None
            }
        }
    }

    /// A database URL for a new, empty database of this backend.
    pub async fn fresh_url(&self, dir: &std::path::Path) -> String {
        match self {
            Backend::Sqlite => format!("sqlite://{}", dir.join("pennon.db").display()),
            Backend::Postgres(admin) => fresh_postgres(admin).await,
        }
    }
}

/// Creates a database named `pennon_t_<random>` and returns its URL.
pub async fn fresh_postgres(admin_url: &str) -> String {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(admin_url).await.expect("connect to PENNON_TEST_DATABASE_URL");
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    let name = format!("pennon_t_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("CREATE DATABASE");
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let slash = base.rfind('/').filter(|i| *i > base.find("://").map_or(0, |s| s + 2)).unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..slash])
}

/// A control plane running in this process on 127.0.0.1.
pub struct Server {
    pub url: String,
    pub admin: String,
    /// The server SDK key of `development` created by the first run.
    pub sdk_dev: String,
    pub database_url: String,
    pub public_keys: Vec<PublicKey>,
    pub dir: tempfile::TempDir,
    pub running: Option<Running>,
}

/// A config for tests: a free port, short intervals.
pub fn test_config(dir: &std::path::Path, database_url: &str) -> Config {
    let mut config = Config::new();
    config.data_dir = dir.to_path_buf();
    config.database_url = Some(database_url.to_owned());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.heartbeat = Duration::from_millis(500);
    config.poll_interval = Duration::from_millis(500);
    config.max_body_bytes = 64 * 1024;
    config
}

impl Server {
    /// A fresh server on `backend`.
    pub async fn start(backend: &Backend) -> Server {
        Server::start_with(backend, |_| {}).await
    }

    /// A fresh server on `backend`, with `tweak` applied to its config.
    pub async fn start_with(backend: &Backend, tweak: impl FnOnce(&mut Config)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let database_url = backend.fresh_url(dir.path()).await;
        let mut config = test_config(dir.path(), &database_url);
        tweak(&mut config);
        let running = pennon_server::start(config).await.expect("server starts");
        let first = running.first_run.clone().expect("a first run");
        let public_keys = running.keys.public_keys.clone();
        Server {
            url: running.base_url.clone(),
            admin: first.admin_token,
            sdk_dev: first.sdk_key,
            database_url,
            public_keys,
            dir,
            running: Some(running),
        }
    }

    /// Stops the server and starts it again on the same directory and database (its
    /// signing key and tokens kept), with `tweak` applied to its config.
    pub async fn restart_with(self, tweak: impl FnOnce(&mut Config)) -> Server {
        let (admin, sdk_dev, database_url, public_keys) =
            (self.admin.clone(), self.sdk_dev.clone(), self.database_url.clone(), self.public_keys.clone());
        let dir = self.stop().await;
        let mut config = test_config(dir.path(), &database_url);
        tweak(&mut config);
        let running = pennon_server::start(config).await.expect("server restarts");
        Server { url: running.base_url.clone(), admin, sdk_dev, database_url, public_keys, dir, running: Some(running) }
    }

    /// An API client with the admin token.
    pub fn admin(&self) -> Api {
        Api::new(&self.url, &self.admin)
    }

    /// An API client with `token`.
    pub fn api(&self, token: &str) -> Api {
        Api::new(&self.url, token)
    }

    /// Creates a token with `role` (and environments) and returns its secret.
    pub async fn token(&self, name: &str, role: &str, environments: Option<&[&str]>) -> String {
        let mut body = serde_json::json!({ "name": name, "role": role });
        if let Some(envs) = environments {
            body["environments"] = serde_json::json!(envs);
        }
        let reply = self.admin().post("/api/v1/tokens", &body).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["token"].as_str().unwrap().to_owned()
    }

    /// Creates an SDK key of `kind` for `env` and returns its secret.
    pub async fn sdk_key(&self, env: &str, kind: &str) -> String {
        let reply = self
            .admin()
            .post(&format!("/api/v1/environments/{env}/sdk-keys"), &serde_json::json!({ "kind": kind }))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["key"].as_str().unwrap().to_owned()
    }

    /// Stops the server.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(running) = self.running.take() {
            running.shutdown().await.unwrap();
        }
        self.dir
    }
}

/// Creates a boolean flag and returns the ETag of its development configuration.
pub async fn boolean_flag(api: &Api, key: &str, client_visible: bool) -> String {
    let reply = api
        .post("/api/v1/flags", &serde_json::json!({ "key": key, "type": "boolean", "client_visible": client_visible }))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    api.get(&format!("/api/v1/environments/development/flags/{key}")).await.etag.unwrap()
}

/// Loads an envelope as a client trusting `keys` for `env` would.
pub fn load(envelope: &[u8], keys: &[PublicKey], env: &str) -> Result<Snapshot, pennon_core::Error> {
    TrustPolicy::new(env, keys.to_vec())?.load_fresh(envelope, 0, now_ms())
}

/// Loads a browser (client) snapshot, as the web provider does.
pub fn load_client(envelope: &[u8], keys: &[PublicKey], env: &str) -> Result<Snapshot, pennon_core::Error> {
    let policy = TrustPolicy::new(env, keys.to_vec())?.with_audience(Some(pennon_core::Audience::Client));
    policy.load_fresh(envelope, 0, now_ms())
}

/// The payload inside an envelope, as JSON.
pub fn payload_of(envelope: &[u8]) -> Json {
    use base64::Engine as _;
    let envelope: Json = serde_json::from_slice(envelope).unwrap();
    let bytes = base64::engine::general_purpose::STANDARD.decode(envelope["payload"].as_str().unwrap()).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

/// Generates one `#[tokio::test]` per backend for each named `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(backend) = $crate::common::Backend::postgres() {
                        super::$name(backend).await;
                    }
                }
            )*
        }
    };
}
