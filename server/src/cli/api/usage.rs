//! `pennon flags usage` and `pennon flags not-found`: what SDKs that report telemetry
//! evaluated, and the keys they asked for that no flag has.

use pennon_server::model::escaped;
use serde_json::Value as Json;

use super::client::segment;
use super::{print_json, shown, text, ApiArgs, Client};
use crate::cli::inputs::time_or_back;
use crate::cli::{note, print_line, Failure};

/// Arguments of `pennon flags usage`.
#[derive(Debug, clap::Args)]
pub(crate) struct UsageArgs {
    /// Only this flag, with its evaluations hour by hour or day by day.
    key: Option<String>,
    /// Only this environment (a token scoped to environments gets each of its own).
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// From when: a time back from now (7d, 24h, 30m) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", default_value = "7d")]
    since: String,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// Arguments of `pennon flags not-found`.
#[derive(Debug, clap::Args)]
pub(crate) struct NotFoundArgs {
    /// Only this environment.
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// The server.
    #[command(flatten)]
    api: ApiArgs,
}

/// Prints the usage report.
pub(crate) async fn run_usage(args: &UsageArgs) -> Result<(), Failure> {
    let mut path = format!("/api/v1/reports/usage?since={}", segment(&time_or_back("--since", &args.since)?));
    if let Some(env) = &args.env {
        path.push_str(&format!("&environment={}", segment(env)));
    }
    if let Some(key) = &args.key {
        path.push_str(&format!("&flag={}", segment(key)));
    }
    let report = Client::new(&args.api)?.naming(&[("since", "--since")]).get(&path).await?.body;
    if args.api.json {
        return print_json(&report);
    }
    let empty = Vec::new();
    for env in report["environments"].as_array().unwrap_or(&empty) {
        let sdks = env["sdks"].as_array().unwrap_or(&empty);
        if sdks.is_empty() {
            print_line(&format!("{}: no SDK reports telemetry here", text(&env["environment"])))?;
            continue;
        }
        let reporters: Vec<String> = sdks
            .iter()
            .map(|sdk| {
                let name = if sdk["sdk"].is_string() { text(&sdk["sdk"]) } else { "(other SDKs)".to_owned() };
                let plural = if sdk["instances"] == 1 { "" } else { "s" };
                format!("{name} ({}, {} instance{plural})", text(&sdk["kind"]), shown(&sdk["instances"]))
            })
            .collect();
        print_line(&format!("{}: reported by {}", text(&env["environment"]), reporters.join(", ")))?;
        for flag in env["flags"].as_array().unwrap_or(&empty) {
            print_line(&flag_line(flag))?;
            if args.key.is_some() {
                for point in flag["series"].as_array().unwrap_or(&empty) {
                    print_line(&format!("    {}  {}", text(&point["start"]), outcomes(point)))?;
                }
            }
        }
    }
    Ok(())
}

/// `new-checkout  1205 evaluations: on 1200, errors 5; last seen ... by ...`.
fn flag_line(flag: &Json) -> String {
    let seen = match flag["last_seen"].as_str() {
        Some(_) => {
            let by = flag["sdks"][0]["sdk"].as_str().map(|sdk| format!(" by {}", escaped(sdk))).unwrap_or_default();
            format!("last seen {}{by}", text(&flag["last_seen"]))
        }
        None => "never seen".to_owned(),
    };
    format!("  {:<32} {}; {seen}", text(&flag["flag"]), outcomes(flag))
}

/// `1205 evaluations: on 1200, errors 5` of a flag or a series point.
fn outcomes(counts: &Json) -> String {
    let mut parts: Vec<String> = counts["variants"]
        .as_object()
        .map(|variants| variants.iter().map(|(name, n)| format!("{} {}", escaped(name), shown(n))).collect())
        .unwrap_or_default();
    for (member, label) in [("errors", "errors"), ("unknown_variants", "unknown variants")] {
        if counts[member].as_u64().unwrap_or(0) > 0 {
            parts.push(format!("{label} {}", shown(&counts[member])));
        }
    }
    let total = evaluations(&counts["evaluations"]);
    if parts.is_empty() {
        total
    } else {
        format!("{total}: {}", parts.join(", "))
    }
}

/// `1 evaluation`, `7 evaluations`.
fn evaluations(count: &Json) -> String {
    let noun = if count.as_u64() == Some(1) { "evaluation" } else { "evaluations" };
    format!("{} {noun}", shown(count))
}

/// Prints the keys not found.
pub(crate) async fn run_not_found(args: &NotFoundArgs) -> Result<(), Failure> {
    let mut path = "/api/v1/reports/not-found".to_owned();
    if let Some(env) = &args.env {
        path.push_str(&format!("?environment={}", segment(env)));
    }
    let report = Client::new(&args.api)?.get(&path).await?.body;
    if args.api.json {
        return print_json(&report);
    }
    let empty = Vec::new();
    let mut printed = false;
    for env in report["environments"].as_array().unwrap_or(&empty) {
        let keys = env["keys"].as_array().unwrap_or(&empty);
        if keys.is_empty() {
            continue;
        }
        if printed {
            print_line("")?;
        }
        printed = true;
        print_line(&text(&env["environment"]))?;
        for key in keys {
            let name = if key["flag"].is_string() { text(&key["flag"]) } else { "(other keys)".to_owned() };
            print_line(&format!(
                "  {name:<32} {}, last {}, first {}{}",
                evaluations(&key["evaluations"]),
                text(&key["last_seen"]),
                text(&key["first_seen"]),
                why_not_found(key)
            ))?;
        }
    }
    if !printed {
        // To stderr: a script reading the list gets no lines, not a sentence.
        note("no unknown keys reported: every key SDKs evaluated is a flag (or no SDK reports telemetry)");
    }
    Ok(())
}

/// What `exists` and the client evaluations of a not-found key say, for its line.
fn why_not_found(key: &Json) -> String {
    if key["exists"] != true {
        return String::new();
    }
    let by_browsers = key["client_evaluations"].as_u64().unwrap_or(0);
    if key["client_visible"] == false && by_browsers > 0 {
        return format!(
            " (exists, but is not client-visible, so client keys cannot evaluate it: {} by client keys; to serve \
             it to browsers, set \"client_visible\": true in its definition, PUT /api/v1/flags/{})",
            evaluations(&key["client_evaluations"]),
            text(&key["flag"])
        );
    }
    " (a flag of this key exists now: created since, or SDKs on an older snapshot)".to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn one_evaluation_is_singular() {
        assert_eq!(super::evaluations(&json!(1)), "1 evaluation");
        assert_eq!(super::evaluations(&json!(0)), "0 evaluations");
        let point = json!({ "evaluations": 1, "variants": { "on": 1 }, "errors": 0, "unknown_variants": 0 });
        assert_eq!(super::outcomes(&point), "1 evaluation: on 1");
    }
}
