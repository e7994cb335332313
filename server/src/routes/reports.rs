//! `/api/v1/reports/...`: read-only reports over the flags (see `crate::report`).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{respond, Auth, Doc, QueryParams, Routes};
use crate::app::App;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::model::Role;
use crate::report::{Settings, MAX_DAYS};
use crate::service::to_json;

pub(super) fn add(routes: Routes) -> Routes {
    routes.add(
        Doc::new(
            Method::GET,
            "/api/v1/reports/stale-flags",
            "Temporary flags due for removal: why, since when, and what to do",
            Auth::Token(Role::Viewer),
        )
        .query(
            "settled_days",
            "days each environment must have served one value to everyone for `settled`, `diverged` and \
             `never_configured` (0 to 3650, default 7)",
        )
        .query("lifetime_days", "days a temporary flag without expires_at may live (0 to 3650, default 40)")
        .query(
            "unused_days",
            "days without a reported evaluation for `unused`, in environments where SDKs report telemetry \
             (0 to 3650, default 7)",
        )
        .query("environment", "only this environment (required for tokens scoped to environments)")
        .ok(200, Some("StaleReport"), "stale longest first, then by key")
        .ok(404, Some("Error"), "no such environment")
        .ok(
            400,
            Some("Error"),
            "`invalid_query`: a number of days out of range or not a whole number, or an unknown parameter; \
             `field` names the parameter",
        ),
        stale_flags,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaleQuery {
    settled_days: Option<String>,
    lifetime_days: Option<String>,
    unused_days: Option<String>,
    environment: Option<String>,
}

/// A number of days from query parameter `name`, `default` when absent.
fn days(name: &str, text: Option<&str>, default: u32) -> Result<u32, ApiError> {
    let Some(text) = text else { return Ok(default) };
    match text.parse::<u32>() {
        Ok(days) if days <= MAX_DAYS && text.bytes().all(|b| b.is_ascii_digit()) => Ok(days),
        _ => Err(ApiError::bad_query(name, format!("`{text}` is not a whole number of days from 0 to {MAX_DAYS}"))),
    }
}

async fn stale_flags(
    State(app): State<App>,
    who: Principal,
    QueryParams(query): QueryParams<StaleQuery>,
) -> Result<Response, ApiError> {
    match &query.environment {
        Some(env) => who.require_env(Role::Viewer, env)?,
        None => who.require_all(
            Role::Viewer,
            "the stale-flag report spans every environment (ask for one with `environment=`)",
        )?,
    }
    let settings = Settings {
        settled_days: days("settled_days", query.settled_days.as_deref(), 7)?,
        lifetime_days: days("lifetime_days", query.lifetime_days.as_deref(), 40)?,
        unused_days: days("unused_days", query.unused_days.as_deref(), 7)?,
    };
    let mut tx = app.store.read().await?;
    if let Some(env) = &query.environment {
        tx.env(env).await?.ok_or_else(|| ApiError::no_environment(env))?;
    }
    let envs: Vec<_> = tx
        .envs()
        .await?
        .into_iter()
        .filter(|e| query.environment.as_ref().is_none_or(|only| *only == e.name))
        .collect();
    let evidence = crate::report::evidence(&mut app.telemetry.store.read().await?, &envs).await?;
    let now = crate::clock::now_ms();
    let report = crate::report::stale_flags(&mut tx, query.environment.as_deref(), settings, &evidence, now).await?;
    Ok(respond(StatusCode::OK, Some(to_json(&report)?), None, None))
}
