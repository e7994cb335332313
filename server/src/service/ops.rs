//! Changes to one environment ([`Operation`]): applied directly, or, in a protected
//! environment, checked and held as a change request until someone else approves it.

use axum::http::StatusCode;
use serde_json::Value as Json;

use super::{etag_rev, to_json, Actor, IfMatch, Writer};
use crate::app::AppInner;
use crate::error::ApiError;
use crate::model::{FlagConfig, FlagType, Operation, Rollout, RolloutRequest, Serve, WeightedVariant};
use crate::snapshot::{default_config, flag_from_row, Focus};
use crate::store::Lock;

/// The outcome of a write to one environment.
#[derive(Debug)]
pub(crate) struct Applied {
    /// 200 for a change, 201 for a creation, 204 for a deletion, 202 for a proposal.
    pub(crate) status: StatusCode,
    /// The resource after the change (or the change request).
    pub(crate) body: Option<Json>,
    /// Its new ETag.
    pub(crate) etag: Option<String>,
    /// The snapshot version published, if one was.
    pub(crate) version: Option<u64>,
}

/// Applies `op` to `env`, or opens a change request if `env` is protected.
pub(crate) async fn submit(
    app: &AppInner,
    actor: &Actor,
    env: &str,
    op: Operation,
    if_match: &IfMatch,
) -> Result<Applied, ApiError> {
    let mut w = Writer::begin(app, actor, Lock::Envs(vec![env.to_owned()])).await?;
    let row = w.tx.env(env).await?.ok_or_else(|| ApiError::no_environment(env))?;
    let mut applied = apply(&mut w, env, &op, if_match).await?;
    if !w.changed() {
        return Ok(applied); // nothing to approve or publish
    }
    if row.protected {
        w.validate().await?;
        let change = super::changes::propose(app, actor, env, &op, if_match).await?;
        return Ok(Applied { status: StatusCode::ACCEPTED, body: Some(change), etag: None, version: None });
    }
    let versions = w.commit().await?;
    applied.version = versions.get(env).copied();
    if let (Some(Json::Object(body)), Operation::Rollback { .. }) = (&mut applied.body, &op) {
        body.insert("version".into(), applied.version.into());
    }
    Ok(applied)
}

/// Applies `op` inside `w` (which holds `env`'s lock) and marks `env` for publishing.
pub(crate) async fn apply(
    w: &mut Writer<'_>,
    env: &str,
    op: &Operation,
    if_match: &IfMatch,
) -> Result<Applied, ApiError> {
    match op {
        Operation::UpdateConfig { flag, config } => {
            super::labels::check_config(config)?;
            let config = FlagConfig::clone(config);
            change_config(w, env, flag, if_match, op.action(), move |_, _| Ok(config)).await
        }
        Operation::Toggle { flag, enabled } => {
            let enabled = *enabled;
            change_config(w, env, flag, if_match, op.action(), move |mut config, _| {
                config.enabled = enabled;
                Ok(config)
            })
            .await
        }
        Operation::Rollout { flag, rollout } => {
            let rollout = rollout.clone();
            change_config(w, env, flag, if_match, op.action(), move |config, variants| {
                set_rollout(config, variants, &rollout)
            })
            .await
        }
        Operation::CreateSegment { segment } => super::segments::create(w, env, segment).await,
        Operation::UpdateSegment { segment } => super::segments::update(w, env, segment, if_match).await,
        Operation::DeleteSegment { key } => super::segments::delete(w, env, key, if_match).await,
        Operation::Rollback { to_version } => super::rollback::rollback(w, env, *to_version, if_match).await,
    }
}

/// Reads a flag's configuration in `env`, checks `If-Match`, changes it with `edit`,
/// and stores it.
async fn change_config(
    w: &mut Writer<'_>,
    env: &str,
    key: &str,
    if_match: &IfMatch,
    action: &str,
    edit: impl FnOnce(FlagConfig, &(FlagType, Json)) -> Result<FlagConfig, ApiError>,
) -> Result<Applied, ApiError> {
    w.focus = Focus::Flag(key.to_owned());
    let flag = w.tx.flag(key).await?.ok_or_else(|| ApiError::not_found(format!("no flag `{key}`")))?;
    let flag = flag_from_row(&flag)?;
    let variants = flag.variants_or_default().unwrap_or_default();
    let (before, rev) = match w.tx.config(env, key).await? {
        Some(row) => (serde_json::from_str::<FlagConfig>(&row.config).map_err(ApiError::internal)?, row.rev),
        None => (default_config(&variants), 0),
    };
    if_match.check(&etag_rev(rev))?;
    let after = edit(before.clone(), &(flag.kind, to_json(&variants)?))?;
    check_metadata(&after)?;
    if rev != 0 && after == before {
        // Enabling an enabled flag, say: no revision, snapshot or audit entry.
        return Ok(Applied {
            status: StatusCode::OK,
            body: Some(to_json(&after)?),
            etag: Some(etag_rev(rev)),
            version: None,
        });
    }
    let text = serde_json::to_string(&after).map_err(ApiError::internal)?;
    let rev = w.next_rev(rev);
    w.tx.put_config(env, key, &text, rev, w.now).await?;
    w.publish(env);
    w.audit(action, ("flag", key), Some(env), Some(&before), Some(&after));
    Ok(Applied { status: StatusCode::OK, body: Some(to_json(&after)?), etag: Some(etag_rev(rev)), version: None })
}

/// Metadata values are strings, numbers or booleans (`docs/SPEC.md` section 3.2).
fn check_metadata(config: &FlagConfig) -> Result<(), ApiError> {
    for (name, value) in &config.metadata {
        if !(value.is_string() || value.is_number() || value.is_boolean()) {
            return Err(ApiError::invalid(format!("metadata[{name:?}]"), "must be a string, number or boolean"));
        }
    }
    Ok(())
}

/// Makes the fallthrough a two-way split; bucketing settings of an existing rollout
/// are kept, so users already in stay in as the percentage grows.
fn set_rollout(
    mut config: FlagConfig,
    (kind, variants): &(FlagType, Json),
    request: &RolloutRequest,
) -> Result<FlagConfig, ApiError> {
    let percent = request.percent;
    let thousandths = (percent * 1000.0).round();
    if !(0.0..=100.0).contains(&percent) || (percent * 1000.0 - thousandths).abs() > 1e-6 {
        return Err(ApiError::invalid(
            "percent",
            format!("{percent} is not a percentage from 0 to 100 with at most three decimals"),
        ));
    }
    let by_value = |wanted: bool| {
        variants
            .as_object()
            .and_then(|v| v.iter().find(|(_, value)| value.as_bool() == Some(wanted)))
            .map(|(n, _)| n.clone())
    };
    let pick = |given: &Option<String>, field: &str, wanted: bool| -> Result<String, ApiError> {
        let name = match given {
            Some(name) => name.clone(),
            None if *kind == FlagType::Boolean => by_value(wanted).ok_or_else(|| {
                ApiError::invalid(field, format!("required: the flag has no variant whose value is {wanted}"))
            })?,
            None => return Err(ApiError::invalid(field, format!("required for {} flags", kind.as_str()))),
        };
        if variants.get(&name).is_none() {
            return Err(ApiError::invalid(field, format!("the flag has no variant `{name}`")));
        }
        Ok(name)
    };
    let on = pick(&request.variant, "variant", true)?;
    let off = pick(&request.otherwise, "otherwise", false)?;
    if on == off {
        return Err(ApiError::invalid("otherwise", "must differ from the variant rolled out"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let weight = thousandths as u32; // 0..=100_000, checked above
    let (bucket_by, salt) = match config.fallthrough.rollout.take() {
        Some(old) => (old.bucket_by, old.salt),
        None => (None, None),
    };
    config.fallthrough = Serve {
        variant: None,
        rollout: Some(Rollout {
            variants: vec![
                WeightedVariant { variant: on, weight },
                WeightedVariant { variant: off, weight: 100_000 - weight },
            ],
            bucket_by,
            salt,
            schedule: None,
        }),
    };
    Ok(config)
}
