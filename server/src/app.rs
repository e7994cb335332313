//! Starting the control plane: open the database, load keys, bootstrap a first run,
//! warm the hub, start the background tasks and serve HTTP.

use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt as _;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::SdkKeyCache;
use crate::hub::Hub;
use crate::keys::KeyRing;
use crate::model::SdkKind;
use crate::snapshot::{Exporter, Published, Served};
use crate::store::{Repository, Tx};
use crate::telemetry::Telemetry;
use crate::{bootstrap, sync, Config, FirstRun};

/// Shared state of a running server.
pub(crate) struct AppInner {
    pub(crate) store: Arc<dyn Repository>,
    pub(crate) keys: KeyRing,
    pub(crate) hub: Hub,
    pub(crate) sdk_keys: SdkKeyCache,
    /// The event streams open, held to `--max-streams` and `--max-streams-per-key`.
    pub(crate) streams: crate::limits::StreamCaps,
    pub(crate) config: Config,
    pub(crate) exporter: Option<Exporter>,
    /// Evaluation telemetry: its store, rate limiter and flag catalogs.
    pub(crate) telemetry: Telemetry,
    /// Set to `true` when the server stops: streams end so that shutdown completes.
    pub(crate) stopping: watch::Sender<bool>,
}

/// The state handlers share.
pub(crate) type App = Arc<AppInner>;

impl AppInner {
    /// Tells the hub (and so the streams) and the exporter about a committed publish.
    /// Every version is exported, also one the hub already has a newer one than (a
    /// later version may be announced by the database before this instance's own).
    pub(crate) async fn announce(&self, published: Published) {
        self.hub.offer(published.clone());
        if let Some(exporter) = &self.exporter {
            if !exporter.has(&published.env, SdkKind::Server, published.version) {
                exporter.export(published).await;
            }
        }
    }

    /// Reads the latest published snapshots of `env` from the database into the hub,
    /// exporting first the versions published after `held`, the version the caller saw
    /// in the hub (0 at start, where every missing version is exported anyway). Not the
    /// hub's version now: this instance's own next commit may have moved it meanwhile.
    pub(crate) async fn load_latest(&self, tx: &mut Tx, env: &str, held: u64) -> Result<(), sqlx::Error> {
        let Some(server) = tx.latest_snapshot(env, "server").await? else { return Ok(()) };
        // The client snapshot of that same version: two "latest" reads could straddle a
        // commit (each statement sees what was committed when it began), and a pair of
        // two versions was skipped, leaving a version another instance published
        // unannounced and unexported.
        let Some(client) = tx.snapshot(env, "client", server.version).await? else { return Ok(()) };
        if let (Some(exporter), true) = (&self.exporter, held > 0) {
            let between = held + 1..crate::store::to_u64(server.version);
            crate::sync::export_missing(tx, exporter, env, between).await?;
        }
        let published = Published {
            env: env.to_owned(),
            version: crate::store::to_u64(server.version),
            server: Arc::new(Served::from_row(&server)),
            client: Arc::new(Served::from_row(&client)),
        };
        self.announce(published).await;
        Ok(())
    }
}

/// A running control plane.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The base URL of its API.
    pub base_url: String,
    /// What a first run created (printed once), if this start was one.
    pub first_run: Option<FirstRun>,
    /// Where the signing keys came from, and whether one was generated.
    pub keys: KeyInfo,
    server: JoinHandle<std::io::Result<()>>,
    tasks: Vec<JoinHandle<()>>,
    app: App,
}

/// The signing keys of a running server, for its start-up message.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// Each signing key's public key, whose text clients trust and whose key id
    /// refusals name.
    pub public_keys: Vec<pennon_core::PublicKey>,
    /// Where they came from.
    pub source: String,
    /// The file a key was generated into on this start.
    pub generated: Option<std::path::PathBuf>,
}

impl Running {
    /// Stops accepting requests, ends the background tasks and closes the database.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.app.stopping.send_replace(true);
        let result = self.server.await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        for task in self.tasks {
            task.abort();
        }
        self.app.telemetry.store.close().await;
        self.app.store.close().await;
        result
    }

    /// Serves until the server stops by itself (an I/O error) or `signal` resolves.
    pub async fn serve_until(self, signal: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        signal.await;
        self.shutdown().await
    }
}

/// Starts the control plane described by `config`.
pub async fn start(config: Config) -> Result<Running, String> {
    // A database of its own (PostgreSQL) is reached first: one that cannot be leaves no
    // empty data directory behind. SQLite may live in the data directory.
    let url = config.database_url();
    let database_first = crate::store::is_postgres(&url);
    if !database_first {
        make_data_dir(&config)?;
    }
    let store = crate::store::open(&url, crate::store::Opener::Server).await?;
    if database_first {
        make_data_dir(&config)?;
    }
    tracing::info!("database: {} ({})", crate::store::redact(&url), store.backend());
    let telemetry = Telemetry::open(&config).await?;
    let signers = store.read().await.map_err(|e| e.to_string())?.latest_signers().await.map_err(|e| e.to_string())?;
    let exported = config.export_dir.as_deref().map(crate::snapshot::export_signers).unwrap_or_default();
    let signed_in = match (signers.is_empty(), exported.is_empty(), &config.export_dir) {
        _ if config.replace_signing_key => None,
        (false, _, _) => Some("this database".to_owned()),
        (true, false, Some(dir)) => Some(format!("the export directory `{}`", dir.display())),
        _ => None,
    };
    let keys = KeyRing::load(&config, signed_in.as_deref())?;
    keys_continue(&signers, &keys, &config)?;
    exports_continue(&exported, &signers, &keys, &config)?;
    let key_info = KeyInfo {
        public_keys: keys.signing.iter().map(|k| k.public_key().clone()).collect(),
        source: keys.source.clone(),
        generated: keys.generated.clone(),
    };
    let listener =
        TcpListener::bind(config.listen).await.map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let base_url =
        config.public_url.clone().unwrap_or_else(|| format!("http://{addr}")).trim_end_matches('/').to_owned();
    let exporter = config.export_dir.clone().map(Exporter::new).transpose()?;
    let (stopping, stop) = watch::channel(false);
    let app: App = Arc::new(AppInner {
        store,
        keys,
        hub: Hub::default(),
        sdk_keys: SdkKeyCache::default(),
        streams: crate::limits::StreamCaps::new(config.max_streams_per_key, config.max_streams),
        config,
        exporter,
        telemetry,
        stopping,
    });
    let first_run = if app.config.bootstrap { bootstrap::run(&app).await.map_err(|e| e.to_string())? } else { None };
    sync::warm(&app).await.map_err(|e| format!("cannot read the published snapshots: {e}"))?;
    if let Some(exporter) = &app.exporter {
        crate::snapshot::overtake_export(&app, exporter)
            .await
            .map_err(|e| format!("cannot overtake the export: {e}"))?;
    }
    crate::snapshot::resign_due(&app, true).await.map_err(|e| format!("cannot re-sign snapshots: {e}"))?;
    if let Some(exporter) = &app.exporter {
        sync::export_all(&app, exporter).await.map_err(|e| format!("export: {e}"))?;
    }
    // What aged out while the server was down goes before anyone reads it.
    if let Err(error) = app.telemetry.sweep(crate::clock::now_ms()).await {
        tracing::warn!("telemetry sweep: {error}");
    }

    tracing::info!("snapshot retention, per environment and audience: keeping {}", app.config.retention.describe());
    let mut tasks = vec![
        tokio::spawn(crate::snapshot::run_resigner(Arc::clone(&app))),
        tokio::spawn(crate::snapshot::run_sweeper(Arc::clone(&app))),
        tokio::spawn(crate::telemetry::run_sweeper(Arc::clone(&app))),
    ];
    tasks.extend(sync::spawn_listeners(&app).await.map_err(|e| format!("cannot listen for changes: {e}"))?);
    let router = crate::routes::router(Arc::clone(&app));
    let timeouts = crate::listen::Timeouts { head: app.config.head_timeout, body: app.config.body_timeout };
    let server = tokio::spawn(crate::listen::serve(listener, router, timeouts, stop));
    Ok(Running { addr, base_url, first_run, keys: key_info, server, tasks, app })
}

/// Makes the data directory when this start uses it, the owner's alone: it may hold the
/// signing key.
fn make_data_dir(config: &Config) -> Result<(), String> {
    if config.uses_data_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&config.data_dir)
            .map_err(|e| format!("cannot create data directory `{}`: {e}", config.data_dir.display()))?;
        crate::files::keep_private(&config.data_dir);
    }
    Ok(())
}

/// Refuses to start when an environment's latest snapshot was signed by none of this
/// start's keys. Clients trust the keys they were given; signing with another (a key
/// setting lost, so a new key was generated, or a retired key's file found again) would
/// make every one of them refuse each update from then on, silently on this side. The
/// documented rotation always signs with both keys for a while, so it never trips this.
fn keys_continue(signers: &[(String, String)], keys: &KeyRing, config: &Config) -> Result<(), String> {
    if config.replace_signing_key {
        return Ok(());
    }
    let ours = key_ids(keys);
    let Some((env, signed_by)) = signers.iter().find(|(_, ids)| !signed_by_one_of(ids, &ours)) else {
        return Ok(());
    };
    Err(format!(
        "the latest snapshot of `{env}` was signed by key {signed_by}, and this start signs with {} (from {}): \
         clients that trust {signed_by} would refuse every update. Configure that key (--signing-key or \
         PENNON_SIGNING_KEY; see docs/OPERATIONS.md, key rotation), or, to switch keys without overlap after \
         giving clients the new one, pass --replace-signing-key",
        ours.join(","),
        keys.source
    ))
}

/// Refuses to start when the export directory holds snapshots this start's keys did not
/// sign: an environment this database also has, or, when none of them is signed by these
/// keys, any. Publishing there would replace another deployment's snapshots (a new
/// server pointed at its directory), or this one's own after its key was lost, with
/// snapshots their clients refuse: a client starting cold (a new worker, a browser) would
/// then have nothing to serve. An environment deleted here and left in the directory
/// keeps whatever key signed it last, so it alone does not refuse a start.
fn exports_continue(
    exported: &[(String, String)],
    signers: &[(String, String)],
    keys: &KeyRing,
    config: &Config,
) -> Result<(), String> {
    let (Some(dir), false) = (&config.export_dir, config.replace_signing_key) else { return Ok(()) };
    let ours = key_ids(keys);
    let foreign = |(_, ids): &&(String, String)| !signed_by_one_of(ids, &ours);
    let in_database = |(env, _): &&(String, String)| signers.iter().any(|(ours, _)| ours == env);
    let refused = exported
        .iter()
        .filter(foreign)
        .find(in_database)
        .or_else(|| exported.iter().all(|entry| foreign(&entry)).then(|| exported.first()).flatten());
    let Some((env, signed_by)) = refused else { return Ok(()) };
    Err(format!(
        "the export directory `{}` holds snapshots of `{env}` signed by key {signed_by}, and this start signs \
         with {} (from {}): publishing there would replace them with snapshots that clients trusting \
         {signed_by} refuse. Configure that key (--signing-key or PENNON_SIGNING_KEY), or give another \
         --export-dir if this one belongs to another deployment; to switch keys without overlap after giving \
         clients the new one, pass --replace-signing-key",
        dir.display(),
        ours.join(","),
        keys.source
    ))
}

/// The key ids this start signs with.
fn key_ids(keys: &KeyRing) -> Vec<String> {
    keys.signing.iter().map(|k| k.public_key().key_id().to_owned()).collect()
}

/// Whether `ids` (comma-separated, as stored and as read from an export) holds one of `ours`.
fn signed_by_one_of(ids: &str, ours: &[String]) -> bool {
    ids.split(',').any(|id| ours.iter().any(|ours| ours == id))
}
