//! The report in words: each reason's message and the action it calls for.

use serde_json::Value as Json;

use super::{one, Defined, Found, Scope, Served, Settings};
use crate::clock::rfc3339;
use crate::model::StaleKind;
use crate::report::serving::Serving;

/// The date part of a time: reasons are about days.
pub(super) fn date(ms: i64) -> String {
    rfc3339(ms).chars().take(10).collect()
}

/// `1 day`, `7 days`.
pub fn days(count: u32) -> String {
    if count == 1 {
        "1 day".to_owned()
    } else {
        format!("{count} days")
    }
}

/// ` for 7 days`, ` for 1 day`, and nothing for 0 (at once, "for 0 days" says nothing).
pub fn for_days(count: u32) -> String {
    if count == 0 {
        String::new()
    } else {
        format!(" for {}", days(count))
    }
}

/// A value as JSON text, shortened past 60 characters.
fn shown(value: Option<&Json>) -> String {
    let text = value.map_or_else(|| "null".to_owned(), Json::to_string);
    if text.chars().count() <= 60 {
        return format!("`{text}`");
    }
    format!("`{}...`", text.chars().take(57).collect::<String>())
}

/// `expired`.
pub(super) fn expired(expiry: i64) -> Found {
    Found { kind: StaleKind::Expired, since: expiry, message: "its expires_at has passed".to_owned() }
}

/// `past_lifetime`.
pub(super) fn past_lifetime(created_at: i64, end: i64, days: u32) -> Found {
    let message = match days {
        0 => format!("created on {}, and it has no expires_at (lifetime_days is 0)", date(created_at)),
        _ => format!("created on {}, more than {} ago, and it has no expires_at", date(created_at), self::days(days)),
    };
    Found { kind: StaleKind::PastLifetime, since: end, message }
}

/// `settled`, `diverged` or `never_configured`: every environment in `served` serves
/// one variant, the last of them since `latest`.
pub(super) fn settled(d: &Defined, served: &[Served<'_>], latest: i64, never: bool, scope: &Scope) -> Found {
    let ones: Vec<(&str, &str)> =
        served.iter().filter_map(|s| one(&s.serving).map(|(variant, _)| (s.env, variant))).collect();
    let value = |variant: &str| d.variants.get(variant);
    let everywhere = where_(scope);
    if never {
        let variant = ones.first().map_or("", |(_, v)| *v);
        let unchanged = match (scope.whole, scope.envs.as_slice()) {
            (false, [env]) => format!("its configuration in `{env}` has not changed"),
            _ => "no environment's configuration has changed".to_owned(),
        };
        let message = format!(
            "{unchanged} since it was created on {}: everyone gets its off variant `{variant}` ({})",
            date(d.created_at),
            shown(value(variant))
        );
        return Found { kind: StaleKind::NeverConfigured, since: latest, message };
    }
    let first = ones.first().map(|(_, v)| value(v));
    if ones.iter().all(|(_, v)| Some(value(v)) == first) {
        let mut names: Vec<&str> = ones.iter().map(|(_, v)| *v).collect();
        names.dedup();
        let what = match names.as_slice() {
            [variant] => format!("`{variant}` ({})", shown(value(variant))),
            _ => format!("{} (variants {})", shown(first.flatten()), quoted(&names)),
        };
        let message = format!("serves {what} to everyone {everywhere}");
        return Found { kind: StaleKind::Settled, since: latest, message };
    }
    let message = format!("serves one value to everyone in each environment, not the same one: {}", per_env(d, served));
    Found { kind: StaleKind::Diverged, since: latest, message }
}

/// "in every environment" or "in `production`".
fn where_(scope: &Scope) -> String {
    match (scope.whole, scope.envs.as_slice()) {
        (false, [env]) => format!("in `{env}`"),
        _ => "in every environment".to_owned(),
    }
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// `on` (`true`) in staging, `off` (`false`) in production.
fn per_env(d: &Defined, served: &[Served<'_>]) -> String {
    let parts: Vec<String> = served
        .iter()
        .filter_map(|s| one(&s.serving).map(|(variant, _)| (s.env, variant)))
        .map(|(env, variant)| format!("`{variant}` ({}) in {env}", shown(d.variants.get(variant))))
        .collect();
    parts.join(", ")
}

/// What to do, for the most telling of the reasons `found`.
pub(super) fn action(d: &Defined, found: &[Found], served: &[Served<'_>], scope: &Scope, settings: Settings) -> String {
    let key = &d.flag.key;
    let has = |kind: StaleKind| found.iter().any(|f| f.kind == kind);
    if has(StaleKind::Unused) {
        let elsewhere = if scope.whole { "" } else { "if the other environments do not evaluate it either, " };
        return format!(
            "{elsewhere}search the code for `{key}`: if nothing evaluates it any more (SDKs that do not report \
             telemetry are not counted), delete the flag"
        );
    }
    let value = served.iter().find_map(|s| one(&s.serving)).map(|(variant, _)| shown(d.variants.get(variant)));
    let value = value.unwrap_or_default();
    if has(StaleKind::Settled) {
        let replace = format!("replace every evaluation of `{key}` in code with {value}, then delete the flag");
        return if scope.whole { replace } else { format!("if the other environments serve {value} too, {replace}") };
    }
    if has(StaleKind::NeverConfigured) {
        let elsewhere = if scope.whole { "" } else { " and no other environment uses it" };
        return format!(
            "if the work behind it was dropped{elsewhere}, delete the code it guards and then the flag (every \
             evaluation gets {value}); if not, turn it on where it is to be tried"
        );
    }
    // Over one environment a flag settles there or not: it cannot differ from itself.
    if has(StaleKind::Diverged) {
        return format!(
            "decide which value everyone should get, serve it in every environment, then replace every \
             evaluation of `{key}` in code with it and delete the flag"
        );
    }
    let keep = if has(StaleKind::Expired) {
        "to keep it longer, set a later expires_at"
    } else {
        "to keep it, set expires_at to when it should be gone, or make it permanent (temporary: false)"
    };
    let varying: Vec<&str> = served.iter().filter(|s| matches!(s.serving, Serving::Varies(_))).map(|s| s.env).collect();
    let state = if !varying.is_empty() {
        format!("{} {} not", quoted(&varying), if varying.len() == 1 { "does" } else { "do" })
    } else {
        match served.iter().filter_map(|s| one(&s.serving).map(|(_, since)| (since, s.env))).max() {
            Some((since, env)) => format!("`{env}` changed on {}", date(since)),
            None => "there is no environment".to_owned(),
        }
    };
    let period = for_days(settings.settled_days);
    // Over one environment the others are unseen: the value must be theirs too.
    let settle = match (scope.whole, scope.envs.as_slice()) {
        (false, [env]) => format!(
            "have `{env}` serve one value to everyone{period} ({state}) and check that the other environments \
             serve that value too"
        ),
        _ => format!("have every environment serve the same value to everyone{period} ({state})"),
    };
    format!(
        "settle it: {settle}, then replace every evaluation of `{key}` in code with that value and delete the flag; \
         {keep}"
    )
}
