//! Publishing one environment inside the write transaction that changed it.
//!
//! The version is read from the environment row this transaction has locked, so it is
//! the only writer that can decide it; the snapshot rows (server and client, same
//! version) are inserted in the same transaction as the change and its audit entries.
//! Either all of it commits or none of it does.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use sha2::{Digest, Sha256};

use super::payload::{build, check, Header};
use super::{default_config, EnvState, Focus};
use crate::error::ApiError;
use crate::keys::KeyRing;
use crate::model::SdkKind;
use crate::store::{to_i64, to_u64, Notice, SnapshotRow, Tx};

/// One signed snapshot, ready to serve.
#[derive(Debug)]
pub(crate) struct Served {
    /// Its version.
    pub(crate) version: u64,
    /// `"<hex SHA-256 of the payload>"`, quoted as an HTTP entity tag.
    pub(crate) etag: String,
    /// The envelope.
    pub(crate) body: Bytes,
}

impl Served {
    /// The served form of a stored snapshot.
    pub(crate) fn from_row(row: &SnapshotRow) -> Served {
        Served {
            version: to_u64(row.version),
            etag: format!("\"{}\"", row.sha256),
            body: Bytes::from(row.envelope.clone().into_bytes()),
        }
    }
}

/// What one publish produced: the server and client snapshots of one version.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    /// The environment.
    pub(crate) env: String,
    /// The version.
    pub(crate) version: u64,
    /// Every flag.
    pub(crate) server: Arc<Served>,
    /// Client-visible flags only.
    pub(crate) client: Arc<Served>,
}

/// Builds, checks and (unless `dry_run`) signs and stores the next snapshot of `env`.
/// The caller holds `env`'s write lock and commits `tx` afterwards.
pub(crate) async fn publish(
    tx: &mut Tx,
    keys: &KeyRing,
    ttl: Duration,
    now: i64,
    env: &str,
    focus: &Focus,
    dry_run: bool,
) -> Result<Option<Published>, ApiError> {
    let row = tx.env(env).await?.ok_or_else(|| ApiError::no_environment(env))?;
    let version = to_u64(row.version) + 1;
    if version > pennon_core::MAX_VERSION {
        return Err(ApiError::conflict(format!("environment `{env}` has used every snapshot version")));
    }
    let state = EnvState::load(tx, env).await?;
    let defaults: BTreeMap<String, _> = state
        .flags
        .iter()
        .filter(|(flag, _)| !state.configs.contains_key(&flag.key))
        .map(|(flag, variants)| (flag.key.clone(), default_config(variants)))
        .collect();
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let header = Header { environment: env, version, issued_at: now, expires_at: now.saturating_add(ttl_ms) };
    let mut payloads = Vec::with_capacity(2);
    for kind in [SdkKind::Server, SdkKind::Client] {
        let payload = build(&header, &state, &defaults, kind, focus)?;
        check(&payload, kind, focus)?;
        payloads.push((kind, payload));
    }
    let mut signed = Vec::with_capacity(2);
    for (kind, payload) in payloads {
        let envelope = keys.sign(&payload).map_err(ApiError::internal)?;
        check_size(envelope.len(), kind)?;
        signed.push((kind, payload, envelope));
    }
    if dry_run {
        return Ok(None);
    }
    let mut served = Vec::with_capacity(2);
    for (kind, payload, envelope) in signed {
        let envelope = String::from_utf8(envelope).map_err(ApiError::internal)?;
        let row = SnapshotRow {
            env: env.to_owned(),
            kind: kind.as_str().to_owned(),
            version: to_i64(version),
            sha256: crate::clock::hex(&Sha256::digest(&payload)),
            envelope,
            key_ids: keys.key_ids(),
            issued_at: header.issued_at,
            expires_at: header.expires_at,
        };
        tx.insert_snapshot(&row).await?;
        served.push(Arc::new(Served::from_row(&row)));
    }
    tx.set_env_version(env, to_i64(version)).await?;
    tx.notify(&Notice::Published { env: env.to_owned(), version }).await?;
    let client = served.pop().ok_or_else(|| ApiError::internal("no client snapshot"))?;
    let server = served.pop().ok_or_else(|| ApiError::internal("no server snapshot"))?;
    Ok(Some(Published { env: env.to_owned(), version, server, client }))
}

/// Refuses a signed snapshot larger than clients accept by default (SPEC 2.3's size
/// check, `pennon_core::DEFAULT_MAX_BYTES`): every client would refuse it and keep its
/// last version while the write reported success.
fn check_size(size: usize, kind: SdkKind) -> Result<(), ApiError> {
    let max = pennon_core::DEFAULT_MAX_BYTES;
    if size <= max {
        return Ok(());
    }
    let which = match kind {
        SdkKind::Server => "the snapshot",
        SdkKind::Client => "the client snapshot (client-visible flags only)",
    };
    let message = format!(
        "{which} would be {size} bytes signed, over the {max} bytes clients accept by default: \
         nothing was changed; remove flags, segments or segment members"
    );
    Err(ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "too_large", message))
}
