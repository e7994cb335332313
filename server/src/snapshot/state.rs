//! An environment's full state, read inside the write transaction that publishes it.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value as Json;

use crate::error::ApiError;
use crate::model::{Flag, FlagConfig, FlagType, Segment, Serve};
use crate::store::{FlagRow, Tx};

/// Everything one environment's payload is built from.
pub(crate) struct EnvState {
    /// Every flag with its variants (defaults filled in).
    pub(crate) flags: Vec<(Flag, BTreeMap<String, Json>)>,
    /// Configurations by flag key.
    pub(crate) configs: BTreeMap<String, FlagConfig>,
    /// Segments by key.
    pub(crate) segments: BTreeMap<String, Segment>,
}

impl EnvState {
    /// Reads `env`'s state through `tx`.
    pub(crate) async fn load(tx: &mut Tx, env: &str) -> Result<EnvState, ApiError> {
        let mut flags = Vec::new();
        for row in tx.flags().await? {
            let flag = flag_from_row(&row)?;
            let variants = flag.variants_or_default().unwrap_or_default();
            flags.push((flag, variants));
        }
        let mut configs = BTreeMap::new();
        for row in tx.configs(env).await? {
            let config: FlagConfig = serde_json::from_str(&row.config)
                .map_err(|e| ApiError::internal(format!("stored config of {} in {env}: {e}", row.flag)))?;
            configs.insert(row.flag, config);
        }
        let mut segments = BTreeMap::new();
        for row in tx.segments(env).await? {
            let segment: Segment = serde_json::from_str(&row.body)
                .map_err(|e| ApiError::internal(format!("stored segment {} in {env}: {e}", row.key)))?;
            segments.insert(row.key, segment);
        }
        Ok(EnvState { flags, configs, segments })
    }
}

/// A flag definition from its row.
pub(crate) fn flag_from_row(row: &FlagRow) -> Result<Flag, ApiError> {
    let corrupt =
        |what: &str, e: serde_json::Error| ApiError::internal(format!("stored {what} of flag {}: {e}", row.key));
    Ok(Flag {
        key: row.key.clone(),
        kind: FlagType::parse(&row.kind).ok_or_else(|| ApiError::internal(format!("stored type of {}", row.key)))?,
        variants: Some(serde_json::from_str(&row.variants).map_err(|e| corrupt("variants", e))?),
        description: row.description.clone(),
        owner: row.owner.clone(),
        tags: serde_json::from_str(&row.tags).map_err(|e| corrupt("tags", e))?,
        temporary: row.temporary,
        expires_at: row.expires_at.clone(),
        client_visible: row.client_visible,
    })
}

/// The configuration a flag starts with in every environment: disabled, serving
/// `off` (or its first variant by name) when off, and `on` (or the off variant) when
/// enabled.
pub(crate) fn default_config(variants: &BTreeMap<String, Json>) -> FlagConfig {
    initial_config(variants, None)
}

/// [`default_config`], but serving `off_variant` when off (and when enabled, without an
/// `on`): the variant its creator chose, a control group rather than a treatment.
pub(crate) fn initial_config(variants: &BTreeMap<String, Json>, off_variant: Option<&str>) -> FlagConfig {
    let first = variants.keys().next().cloned().unwrap_or_default();
    let off = match off_variant {
        Some(off) => off.to_owned(),
        None if variants.contains_key("off") => "off".to_owned(),
        None => first,
    };
    let on = if variants.contains_key("on") { "on".to_owned() } else { off.clone() };
    FlagConfig {
        enabled: false,
        off_variant: off,
        fallthrough: Serve::variant(&on),
        targets: Vec::new(),
        rules: Vec::new(),
        prerequisites: Vec::new(),
        metadata: BTreeMap::new(),
    }
}

/// The payload bytes inside a stored envelope (which this server signed itself).
pub(crate) fn decode_envelope_payload(envelope: &str) -> Result<Vec<u8>, ApiError> {
    let json: Json = serde_json::from_str(envelope).map_err(|e| ApiError::internal(format!("stored envelope: {e}")))?;
    let payload = json.get("payload").and_then(Json::as_str).unwrap_or_default();
    STANDARD.decode(payload).map_err(|e| ApiError::internal(format!("stored envelope payload: {e}")))
}
