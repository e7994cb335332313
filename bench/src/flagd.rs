//! The benchmark cases as a flagd flag configuration, evaluated by
//! `flagd-evaluation-engine`, the JsonLogic engine of flagd's Rust in-process provider.
//!
//! How each case maps onto flagd:
//!
//! - (a) no targeting: the default variant;
//! - (b) `{"fractional": [["on", 50], ["off", 50]]}`, which hashes the flag key and the
//!   targeting key, as Pennon's default salt and bucketing value do;
//! - (c) `{"if": [{"and": [ends_with, in, sem_ver >=]}, {"fractional": 25/75}, "off"]}`;
//! - (d) `fractional` over four string variants, 25 each.
//!
//! The engine's public API (0.1.0) is `Operator::apply(flag_key, rule_text, context)`,
//! which parses, normalises and compiles the rule text and converts the context to JSON
//! on every call; it has no way to keep a compiled rule. [`Flagd`] is the thin store a
//! provider keeps around it: rule text is rendered once at load, so the timed path is
//! one map lookup, `apply`, and the variant lookup.

use std::collections::HashMap;

use flagd_evaluation_engine::{FlagParser, Operator};
use open_feature::EvaluationContext;
use serde_json::{json, Value as Json};

use crate::fixtures::{self, User};

/// A loaded flag configuration and the engine that evaluates its rules.
pub struct Flagd {
    flags: HashMap<String, Flag>,
    operator: Operator,
}

struct Flag {
    enabled: bool,
    default_variant: String,
    variants: HashMap<String, Json>,
    /// The rule as JSON text, rendered once; `None` when the flag has no targeting.
    targeting: Option<String>,
}

/// What an evaluation served: the variant name and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Served<'f> {
    /// The variant name.
    pub variant: &'f str,
    /// Its value.
    pub value: &'f Json,
}

impl Flagd {
    /// Parses a flag configuration: flagd's load.
    pub fn load(config: &str) -> Flagd {
        let parsed = FlagParser::parse_string(config).expect("a valid flagd configuration");
        let flags = parsed
            .flags
            .into_iter()
            .map(|(key, flag)| {
                let targeting = flag.targeting.as_ref().filter(|rule| !is_empty_rule(rule)).map(Json::to_string);
                let flag = Flag {
                    enabled: flag.state == "ENABLED",
                    default_variant: flag.default_variant,
                    variants: flag.variants,
                    targeting,
                };
                (key, flag)
            })
            .collect();
        Flagd { flags, operator: Operator::new() }
    }

    /// Evaluates `key`: `None` when the flag is missing or disabled, or the rule failed.
    pub fn evaluate(&self, key: &str, context: &EvaluationContext) -> Option<Served<'_>> {
        let flag = self.flags.get(key).filter(|flag| flag.enabled)?;
        let chosen = match &flag.targeting {
            None => None,
            Some(rule) => self.operator.apply(key, rule, context).ok()?,
        };
        let name = chosen.as_deref().unwrap_or(&flag.default_variant);
        let (variant, value) =
            flag.variants.get_key_value(name).or_else(|| flag.variants.get_key_value(&flag.default_variant))?;
        Some(Served { variant, value })
    }
}

fn is_empty_rule(rule: &Json) -> bool {
    rule.is_null() || rule.as_object().is_some_and(serde_json::Map::is_empty)
}

fn boolean_flag(default_variant: &str, targeting: Option<Json>) -> Json {
    let mut flag =
        json!({"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": default_variant});
    if let Some(targeting) = targeting {
        flag["targeting"] = targeting;
    }
    flag
}

fn conditions() -> Json {
    json!({"and": [
        {"ends_with": [{"var": "email"}, fixtures::EMAIL_SUFFIX]},
        {"in": [{"var": "country"}, fixtures::COUNTRIES]},
        {"sem_ver": [{"var": "app_version"}, ">=", fixtures::MIN_APP_VERSION]}
    ]})
}

fn conditions_flag() -> Json {
    let rollout = json!({"fractional": [["on", 25], ["off", 75]]});
    boolean_flag("off", Some(json!({"if": [conditions(), rollout, "off"]})))
}

fn case_flags() -> Vec<(String, Json)> {
    let variants: serde_json::Map<String, Json> =
        fixtures::VARIANT_NAMES.iter().map(|name| ((*name).to_owned(), Json::from(*name))).collect();
    let buckets: Vec<Json> = fixtures::VARIANT_NAMES.iter().map(|name| json!([name, 25])).collect();
    let variants_flag = json!({
        "state": "ENABLED", "variants": variants, "defaultVariant": fixtures::VARIANT_NAMES[0],
        "targeting": {"fractional": buckets}
    });
    vec![
        (fixtures::SIMPLE.to_owned(), boolean_flag("on", None)),
        (fixtures::ROLLOUT50.to_owned(), boolean_flag("off", Some(json!({"fractional": [["on", 50], ["off", 50]]})))),
        (fixtures::CONDITIONS.to_owned(), conditions_flag()),
        (fixtures::CONDITIONS_ONLY.to_owned(), boolean_flag("off", Some(json!({"if": [conditions(), "on", "off"]})))),
        (fixtures::VARIANTS.to_owned(), variants_flag),
    ]
}

fn configuration(flags: impl IntoIterator<Item = (String, Json)>) -> String {
    let flags: serde_json::Map<String, Json> = flags.into_iter().collect();
    json!({"flags": flags}).to_string()
}

/// The flag configuration for the evaluation cases: the case flags among fillers shaped
/// like (c), [`fixtures::FLAG_COUNT`] flags in all, as in Pennon's snapshot.
pub fn cases_json() -> String {
    let cases = case_flags();
    let fillers = (0..fixtures::FLAG_COUNT - cases.len()).map(|i| (fixtures::filler_key(i), conditions_flag()));
    configuration(cases.into_iter().chain(fillers))
}

/// The flag configuration for case (e): [`fixtures::FLAG_COUNT`] flags shaped like (c).
pub fn load_json() -> String {
    configuration((0..fixtures::FLAG_COUNT).map(|i| (fixtures::filler_key(i), conditions_flag())))
}

/// `user` as an OpenFeature evaluation context.
pub fn context(user: &User) -> EvaluationContext {
    EvaluationContext::default()
        .with_targeting_key(user.key.as_str())
        .with_custom_field("email", user.email.as_str())
        .with_custom_field("country", user.country.as_str())
        .with_custom_field("app_version", user.app_version.as_str())
        .with_custom_field("plan", user.plan.as_str())
}
