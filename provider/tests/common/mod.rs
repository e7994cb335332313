//! Shared test helpers: keys, signed snapshots, a configured builder, waiting, logs.
#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod server;
pub mod telemetry;

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use open_feature::{Client, OpenFeature};
use pennon_core::SigningKey;
use pennon_provider::{PennonProvider, PennonProviderBuilder, ProviderEvent};
use serde_json::{json, Value};
use tokio::sync::broadcast;

/// Every propagation wait is bounded by this; nothing asserts how fast it was.
pub const PATIENCE: Duration = Duration::from_secs(5);

pub fn key(n: u8) -> SigningKey {
    SigningKey::from_seed([n; 32])
}

/// A schema-1 payload for `environment`, version `version`, with `flags`.
pub fn payload(environment: &str, version: u64, expires_at: &str, flags: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schema": 1, "environment": environment, "version": version,
        "issued_at": "2026-01-01T00:00:00Z", "expires_at": expires_at, "flags": flags,
    }))
    .unwrap()
}

/// Flags whose values name the version: `banner` serves `"v<version>"`, `new-checkout`
/// is on for `@acme.com` emails (rule `staff`).
pub fn flags(version: u64) -> Value {
    json!({
        "banner": {"type": "string", "enabled": true, "variants": {"current": format!("v{version}")},
                   "off_variant": "current", "fallthrough": {"variant": "current"}},
        "new-checkout": {"type": "boolean", "enabled": true, "variants": {"on": true, "off": false},
                         "off_variant": "off", "fallthrough": {"variant": "off"},
                         "rules": [{"id": "staff", "serve": {"variant": "on"},
                                    "conditions": [{"attribute": "email", "op": "ends_with", "value": "@acme.com"}]}]},
    })
}

pub fn sign(payload: &[u8], keys: &[&SigningKey]) -> Vec<u8> {
    pennon_core::sign_envelope(payload, keys).unwrap()
}

/// The standard snapshot of `version` for environment `test`, signed by key 1.
pub fn envelope(version: u64) -> Vec<u8> {
    sign(&payload("test", version, "2099-01-01T00:00:00Z", flags(version)), &[&key(1)])
}

/// A builder trusting key 1 for `test`, with test-sized timings and no jitter.
pub fn builder() -> PennonProviderBuilder {
    builder_trusting(&[&key(1)])
}

/// [`builder`], trusting `keys` instead.
pub fn builder_trusting(keys: &[&SigningKey]) -> PennonProviderBuilder {
    PennonProvider::builder()
        .trusted_keys(keys.iter().map(|key| key.public_key().clone()))
        .environment("test")
        .jitter(0.0)
        .poll_interval(Duration::from_millis(50))
        .file_poll_interval(Duration::from_millis(20))
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
        .request_timeout(Duration::from_millis(500))
        .init_timeout(PATIENCE)
}

/// A fresh OpenFeature API (not the process-wide singleton, so tests stay independent)
/// with `provider` set, which runs its `initialize`, and a client bound to it.
pub async fn open_feature(provider: PennonProvider) -> (OpenFeature, Client) {
    let mut api = OpenFeature::default();
    api.set_provider(provider).await;
    let client = api.create_client();
    (api, client)
}

/// Awaits `future`, failing the test if it takes longer than [`PATIENCE`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(PATIENCE, future).await {
        Ok(value) => value,
        Err(_) => panic!("{what}: not within {PATIENCE:?}"),
    }
}

/// The next event that `wanted` accepts, within [`PATIENCE`].
pub async fn next_event(
    events: &mut broadcast::Receiver<ProviderEvent>,
    what: &str,
    wanted: impl Fn(&ProviderEvent) -> bool,
) -> ProviderEvent {
    within(what, async {
        loop {
            let event = events.recv().await.expect("event stream open");
            if wanted(&event) {
                return event;
            }
        }
    })
    .await
}

/// Waits until the provider behind `handle` serves `version`.
pub async fn wait_version(handle: &pennon_provider::ProviderHandle, version: u64) {
    let mut state = handle.watch_state();
    within(&format!("version {version} served"), state.wait_for(|s| s.version == Some(version))).await.unwrap();
}

/// Everything logged through `tracing` in this test binary (all tests share it: look
/// for text unique to a test, such as its server's port or its temp dir).
pub fn logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

/// Installs the capturing subscriber (once per binary). Call before building providers.
pub fn capture_logs() {
    let _ = log_buffer();
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Tee(writer.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buffer
    })
}

/// Writes to the capture buffer and to stderr (shown for failing tests).
struct Tee(Arc<Mutex<Vec<u8>>>);

impl Write for Tee {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        eprint!("{}", String::from_utf8_lossy(bytes));
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
