//! Change requests: in a protected environment a change is proposed by one person and
//! applied only when another approves it. The proposal is checked in full first (the
//! change is applied and its snapshot compiled in a transaction that is then rolled
//! back), so an approver never approves something that cannot publish.

use axum::http::StatusCode;
use serde_json::Value as Json;

use super::ops::{apply, Applied};
use super::{to_json, Actor, IfMatch, Writer};
use crate::app::AppInner;
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::model::{ChangeRequest, ChangeStatus, Operation};
use crate::store::{to_i64, to_u64, ChangeRow, Lock};

/// Opens a change request for `op` (already checked by the caller), unless the same
/// proposer already has one open in `env` for exactly this change: then the answer is
/// that one, with `already_open: true`, and nothing is stored or audited. A repeated
/// `pennon flags enable X --env production` so points at the request it opened
/// rather than opening a second one to approve. The lock on `env` makes the check
/// and the insert one step: two identical writes at once open one request.
pub(crate) async fn propose(
    app: &AppInner,
    actor: &Actor,
    env: &str,
    op: &Operation,
    if_match: &IfMatch,
) -> Result<Json, ApiError> {
    let mut w = Writer::begin(app, actor, Lock::Envs(vec![env.to_owned()])).await?;
    let text = serde_json::to_string(op).map_err(ApiError::internal)?;
    let stored = if_match.to_stored();
    let definition_rev = definition_rev(&mut w, op).await?;
    let open = w.tx.open_change_like(env, &actor.name, &text, stored.as_deref(), definition_rev).await?;
    let (id, already_open) = match open {
        Some(id) => (id, true),
        None => (w.tx.insert_change(env, &text, stored.as_deref(), definition_rev, &actor.name, w.now).await?, false),
    };
    let change = w.tx.change(id).await?.ok_or_else(|| ApiError::internal("change request vanished"))?;
    let change = from_row(&change)?;
    let mut body = to_json(&change)?;
    if !already_open {
        let id = id.to_string();
        let resource = ("change_request", id.as_str());
        match proposed_against(&mut w, env, op, &body).await? {
            Some(base) => w.audit_against("change_request.open", resource, Some(env), base, body.clone()),
            None => w.audit::<Json, Json>("change_request.open", resource, Some(env), None, Some(&body)),
        }
        w.commit().await?;
    }
    if let Json::Object(members) = &mut body {
        members.insert("already_open".into(), already_open.into());
    }
    Ok(body)
}

/// The change request `change` (as JSON) as if it proposed what `env` has now, for an
/// operation that replaces a resource there: what its audit entry is compacted
/// against, so that a 45,000-key segment proposed with one key moved records that key
/// rather than a second whole copy of the segment (the request keeps the whole).
async fn proposed_against(
    w: &mut Writer<'_>,
    env: &str,
    op: &Operation,
    change: &Json,
) -> Result<Option<Json>, ApiError> {
    let (member, now) = match op {
        Operation::UpdateSegment { segment } => ("segment", w.tx.segment(env, &segment.key).await?.map(|row| row.body)),
        Operation::UpdateConfig { flag, .. } => ("config", w.tx.config(env, flag).await?.map(|row| row.config)),
        _ => return Ok(None),
    };
    let Some(now) = now else { return Ok(None) };
    let now: Json = serde_json::from_str(&now).map_err(ApiError::internal)?;
    let mut base = change.clone();
    base["operation"][member] = now;
    Ok(Some(base))
}

/// Approves and applies change request `id`. The approver must not be its proposer.
pub(crate) async fn approve(app: &AppInner, approver: &Actor, id: i64, env: &str) -> Result<Applied, ApiError> {
    let mut w = Writer::begin(app, approver, Lock::Envs(vec![env.to_owned()])).await?;
    let row = open_change(&mut w, id, env).await?;
    if row.proposed_by == approver.name {
        return Err(ApiError::forbidden(format!(
            "change request {id} was proposed by `{}`: someone else must approve it",
            row.proposed_by
        )));
    }
    if w.tx.env(env).await?.is_none() {
        return Err(ApiError::conflict(format!("environment `{env}` of change request {id} no longer exists")));
    }
    let op: Operation = serde_json::from_str(&row.operation).map_err(ApiError::internal)?;
    // The definition holds the variant values the change serves: one edited since the
    // proposal (allowed unreviewed while the flag was off here) was not approved.
    if let (Some(flag), Some(proposed)) = (op.flag(), row.definition_rev) {
        let now = definition_rev(&mut w, &op).await?;
        if now.is_some_and(|now| now != proposed) {
            return Err(ApiError::conflict(format!(
                "the definition of flag `{flag}` (its variants, type or visibility) changed after change request {id} \
                 was proposed, so approving it could serve values nobody approved here: reject it and propose the \
                 change again"
            )));
        }
    }
    let before = from_row(&row)?;
    // The change itself is the proposer's, approved by the approver.
    w.act_as(&row.proposed_by);
    w.approved(id, &approver.name);
    match apply(&mut w, env, &op, &IfMatch::from_stored(row.if_match.as_deref())).await {
        Err(error) if error.status == StatusCode::PRECONDITION_FAILED => {
            // Changed since the proposal, before anything was written. A request whose
            // change is in effect all the same (another request did it) is closed as
            // applied, changing nothing; any other would overwrite that change.
            let in_effect = apply(&mut w, env, &op, &IfMatch::Any).await.is_ok() && !w.changed();
            if !in_effect {
                return Err(no_longer_applies(&row, &op, error));
            }
        }
        other => {
            other?;
        }
    }
    let versions = w.publish_now().await?;
    let version = versions.get(env).copied();
    if !w.tx.decide_change(id, "applied", &approver.name, w.now, version.map(to_i64)).await? {
        return Err(ApiError::conflict(format!("change request {id} is no longer open")));
    }
    let after = w.tx.change(id).await?.map(|r| from_row(&r)).transpose()?;
    w.act_as(&approver.name);
    w.audit("change_request.approve", ("change_request", &id.to_string()), Some(env), Some(&before), after.as_ref());
    w.commit().await?;
    Ok(Applied { status: StatusCode::OK, body: after.map(|a| to_json(&a)).transpose()?, etag: None, version })
}

/// The refusal of an approval whose request was proposed against a state changed since
/// (`error`, the 412 of applying it): the approver cannot redo the change, so the advice
/// is to reject it and have it proposed again, not the editor's "read it again".
fn no_longer_applies(row: &ChangeRow, op: &Operation, error: ApiError) -> ApiError {
    let (id, env, proposer) = (row.id, &row.env, &row.proposed_by);
    let what = match op {
        Operation::UpdateConfig { flag, .. } | Operation::Toggle { flag, .. } | Operation::Rollout { flag, .. } => {
            format!("`{flag}` in `{env}`")
        }
        Operation::CreateSegment { segment } | Operation::UpdateSegment { segment } => {
            format!("segment `{}` in `{env}`", segment.key)
        }
        Operation::DeleteSegment { key } => format!("segment `{key}` in `{env}`"),
        Operation::Rollback { .. } => format!("`{env}`"),
    };
    let etags = match (row.if_match.as_deref(), error.etag.as_deref()) {
        (Some(then), Some(now)) => format!(" (ETag {then} then, {now} now)"),
        _ => String::new(),
    };
    let mut refusal = ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        format!(
            "change request {id} no longer applies: {what} changed after `{proposer}` proposed it{etags}, and \
             approving it would overwrite that change unseen. Reject it (`pennon change-requests reject {id}`) \
             and, if its change is still wanted, ask `{proposer}` to make it again from what is there now"
        ),
    );
    refusal.etag = error.etag;
    refusal
}

/// Rejects change request `id`; nothing changes.
pub(crate) async fn reject(app: &AppInner, actor: &Actor, id: i64, env: &str) -> Result<Json, ApiError> {
    let mut w = Writer::begin(app, actor, Lock::Envs(vec![env.to_owned()])).await?;
    let row = open_change(&mut w, id, env).await?;
    let before = from_row(&row)?;
    if !w.tx.decide_change(id, "rejected", &actor.name, w.now, None).await? {
        return Err(ApiError::conflict(format!("change request {id} is no longer open")));
    }
    let after = w.tx.change(id).await?.map(|r| from_row(&r)).transpose()?;
    w.audit("change_request.reject", ("change_request", &id.to_string()), Some(env), Some(&before), after.as_ref());
    w.commit().await?;
    to_json(&after)
}

/// The revision of what the flag `op` changes serves (its type, variant values and
/// visibility), if it changes one that exists.
async fn definition_rev(w: &mut Writer<'_>, op: &Operation) -> Result<Option<i64>, ApiError> {
    let Some(flag) = op.flag() else { return Ok(None) };
    Ok(w.tx.flag(flag).await?.map(|row| row.definition_rev))
}

/// Rejects every open change request of `env`, which is being deleted: none may be
/// approved into an environment created later under its name.
pub(crate) async fn reject_all_in(w: &mut Writer<'_>, env: &str) -> Result<(), ApiError> {
    for row in w.tx.changes(Some(env), Some("open"), i64::MAX).await? {
        let id = row.id;
        let before = from_row(&row)?;
        let by = w.actor_name().to_owned();
        w.tx.decide_change(id, "rejected", &by, w.now, None).await?;
        let after = w.tx.change(id).await?.map(|r| from_row(&r)).transpose()?;
        w.audit("change_request.reject", ("change_request", &id.to_string()), Some(env), Some(&before), after.as_ref());
    }
    Ok(())
}

async fn open_change(w: &mut Writer<'_>, id: i64, env: &str) -> Result<ChangeRow, ApiError> {
    let row = w.tx.change(id).await?.filter(|r| r.env == env);
    let row = row.ok_or_else(|| ApiError::not_found(format!("no change request {id}")))?;
    if row.status != "open" {
        return Err(ApiError::conflict(format!("change request {id} is already {}", row.status)));
    }
    Ok(row)
}

/// The API form of a stored change request.
pub(crate) fn from_row(row: &ChangeRow) -> Result<ChangeRequest, ApiError> {
    Ok(ChangeRequest {
        id: row.id,
        environment: row.env.clone(),
        status: ChangeStatus::parse(&row.status).ok_or_else(|| ApiError::internal("stored change status"))?,
        operation: serde_json::from_str(&row.operation).map_err(ApiError::internal)?,
        if_match: row.if_match.clone(),
        proposed_by: row.proposed_by.clone(),
        proposed_at: rfc3339(row.proposed_at),
        decided_by: row.decided_by.clone(),
        decided_at: row.decided_at.map(rfc3339),
        snapshot_version: row.snapshot_version.map(to_u64),
    })
}
