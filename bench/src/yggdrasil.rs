//! The benchmark cases as Unleash client features, evaluated by Yggdrasil, the engine
//! inside Unleash's SDKs.
//!
//! How each case maps onto Unleash:
//!
//! - (a) a feature with the `default` strategy: on for everyone;
//! - (b) `flexibleRollout` at 50% with `stickiness: userId` and `groupId` the flag key
//!   (Unleash hashes `groupId:userId`, as Pennon hashes the flag key and targeting key);
//! - (c) `flexibleRollout` at 25% with three constraints: `STR_ENDS_WITH` on `email`,
//!   `IN` on `country`, `SEMVER_GTE` on `app_version`. Yggdrasil 0.21 reads
//!   `SEMVER_GTE` directly; the Unleash server's own API only offers `SEMVER_EQ`, `_GT`
//!   and `_LT`, where "at least 4.2.0" takes two strategies (`SEMVER_GT` and `SEMVER_EQ`),
//!   which would only make Yggdrasil slower on a miss;
//! - (d) `flexibleRollout` at 100% with four strategy variants of weight 250 (Unleash
//!   weights add up to 1,000), sticky on `userId`.
//!
//! Only evaluation is timed: no metrics counting, which Unleash SDKs add on every call.

use std::collections::HashMap;

use serde_json::{json, Value as Json};
use unleash_yggdrasil::{ClientFeatures, Context, EngineState, UpdateMessage};

use crate::fixtures::{self, User};

fn feature(name: &str, strategy: Json) -> Json {
    json!({"name": name, "enabled": true, "strategies": [strategy]})
}

fn rollout(group: &str, percent: u32) -> serde_json::Map<String, Json> {
    let parameters = json!({"rollout": percent.to_string(), "stickiness": "userId", "groupId": group});
    let mut strategy = serde_json::Map::new();
    strategy.insert("name".into(), "flexibleRollout".into());
    strategy.insert("parameters".into(), parameters);
    strategy
}

fn constraints() -> Json {
    json!([
        {"contextName": "email", "operator": "STR_ENDS_WITH", "values": [fixtures::EMAIL_SUFFIX]},
        {"contextName": "country", "operator": "IN", "values": fixtures::COUNTRIES},
        {"contextName": "app_version", "operator": "SEMVER_GTE", "value": fixtures::MIN_APP_VERSION}
    ])
}

/// Case (c) as a feature named `name`, with the rollout at `percent`.
fn conditions_feature(name: &str, percent: u32) -> Json {
    let mut strategy = rollout(name, percent);
    strategy.insert("constraints".into(), constraints());
    feature(name, Json::Object(strategy))
}

/// The case features, [`fixtures::CONDITIONS_ONLY`] included.
fn case_features() -> Vec<Json> {
    let weights: Vec<Json> = fixtures::VARIANT_NAMES
        .iter()
        .map(|name| json!({"name": name, "weight": 250, "stickiness": "userId"}))
        .collect();
    let mut variants = rollout(fixtures::VARIANTS, 100);
    variants.insert("variants".into(), Json::Array(weights));
    vec![
        feature(fixtures::SIMPLE, json!({"name": "default"})),
        feature(fixtures::ROLLOUT50, Json::Object(rollout(fixtures::ROLLOUT50, 50))),
        conditions_feature(fixtures::CONDITIONS, 25),
        conditions_feature(fixtures::CONDITIONS_ONLY, 100),
        feature(fixtures::VARIANTS, Json::Object(variants)),
    ]
}

fn client_features(features: Vec<Json>) -> Vec<u8> {
    serde_json::to_vec(&json!({"version": 2, "features": features})).expect("JSON serialises")
}

/// Client features JSON for the evaluation cases: the case features among fillers shaped
/// like (c), [`fixtures::FLAG_COUNT`] features in all, as in Pennon's snapshot.
pub fn cases_json() -> Vec<u8> {
    let mut features = case_features();
    let fillers = fixtures::FLAG_COUNT - features.len();
    features.extend((0..fillers).map(|i| conditions_feature(&fixtures::filler_key(i), 25)));
    client_features(features)
}

/// Client features JSON for case (e): [`fixtures::FLAG_COUNT`] features shaped like (c).
pub fn load_json() -> Vec<u8> {
    client_features((0..fixtures::FLAG_COUNT).map(|i| conditions_feature(&fixtures::filler_key(i), 25)).collect())
}

/// Parses client features JSON and compiles it into a new engine: Yggdrasil's load.
pub fn load(json: &[u8]) -> EngineState {
    let features: ClientFeatures = serde_json::from_slice(json).expect("valid client features");
    let engine = EngineState::default();
    let warnings = engine.take_state(UpdateMessage::FullResponse(features));
    assert!(warnings.is_none(), "Yggdrasil refused a feature: {warnings:?}");
    engine
}

/// `user` as an Unleash context: the targeting key is `userId`, the rest are properties.
pub fn context(user: &User) -> Context {
    let properties = HashMap::from([
        ("email".to_owned(), user.email.clone()),
        ("country".to_owned(), user.country.clone()),
        ("app_version".to_owned(), user.app_version.clone()),
        ("plan".to_owned(), user.plan.clone()),
    ]);
    Context { user_id: Some(user.key.clone()), properties: Some(properties), ..Context::default() }
}

/// A boolean case: `is_enabled`, as an Unleash SDK's `isEnabled` calls it.
pub fn is_enabled(engine: &EngineState, name: &str, context: &Context) -> bool {
    engine.is_enabled(name, context, &None)
}

/// A variant case: `get_variant`, as an Unleash SDK's `getVariant` calls it. Returns
/// the variant name (`disabled` when the feature is off).
pub fn variant(engine: &EngineState, name: &str, context: &Context) -> String {
    engine.get_variant(name, context, &None).name
}
