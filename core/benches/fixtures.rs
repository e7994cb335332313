//! Fixtures shared by Pennon's benchmarks: flag payloads, evaluation contexts and a
//! signing key with a fixed seed, so every run measures the same bytes.
//!
//! `core/benches/evaluate.rs` includes this file as `mod fixtures;`, and the peer
//! benchmark crate (`bench/src/lib.rs`) includes it with `#[path]`, so Pennon's numbers
//! in both places come from one definition of each case.
//!
//! The cases:
//!
//! - (a) [`SIMPLE`]: a boolean flag, enabled, serving a fixed variant;
//! - (b) [`ROLLOUT50`]: a 50% rollout by targeting key;
//! - (c) [`CONDITIONS`]: `ends_with` on `email`, `in` a list of 20 countries, and
//!   `semver_gte` on `app_version`, then a 25% rollout;
//! - (d) [`VARIANTS`]: a string flag with four variants weighted 25/25/25/25;
//! - (e) [`load_payload`]: 10,000 flags shaped like (c), to verify and compile.

// Each including crate uses a different subset, and the peer crate re-exports the module
// publicly while the core benchmark keeps it private.
#![allow(dead_code, unreachable_pub)]

use pennon_core::{Context, Loaded, SigningKey, Snapshot, TrustPolicy, Value};
use serde_json::{json, Value as Json};

/// The environment every fixture snapshot is for.
pub const ENVIRONMENT: &str = "bench";
/// The seed of the fixture signing key. Fixed: the envelopes are the same on every run.
pub const SEED: [u8; 32] = *b"pennon-bench-fixed-seed-32-bytes";
/// The snapshot version of every fixture.
pub const VERSION: u64 = 7;

/// Case (a): a boolean flag that is on for everyone.
pub const SIMPLE: &str = "a-simple";
/// Case (b): 50% of targeting keys get `on`.
pub const ROLLOUT50: &str = "b-rollout50";
/// Case (c): three conditions, then 25% of those who match get `on`.
pub const CONDITIONS: &str = "c-conditions";
/// The conditions of case (c) serving `on` to everyone who matches, with no rollout: the
/// equivalence check compares peers' condition outcomes with it.
pub const CONDITIONS_ONLY: &str = "c-conditions-only";
/// Case (d): four string variants, 25% each.
pub const VARIANTS: &str = "d-variants";
/// The four variants of case (d), in weight order.
pub const VARIANT_NAMES: [&str; 4] = ["red", "green", "blue", "yellow"];

/// How many flags the evaluation snapshot and the load snapshot hold: the same size as
/// the map of the `HashMap` floor.
pub const FLAG_COUNT: usize = 10_000;

/// Case (c): the email suffix that matches.
pub const EMAIL_SUFFIX: &str = "@example.com";
/// Case (c): the oldest app version that matches.
pub const MIN_APP_VERSION: &str = "4.2.0";
/// Case (c): the 20 countries that match.
pub const COUNTRIES: [&str; 20] = [
    "AT", "BE", "CH", "CZ", "DE", "DK", "ES", "FI", "FR", "GB", "IE", "IT", "LU", "NL", "NO", "PL", "PT", "SE", "SK",
    "US",
];
/// Countries users come from that are not in [`COUNTRIES`].
pub const OTHER_COUNTRIES: [&str; 10] = ["BR", "CA", "IN", "JP", "KR", "MX", "NZ", "SG", "TR", "ZA"];

/// The key of the `i`th filler flag: `flag-00000` to `flag-09999`.
pub fn filler_key(i: usize) -> String {
    format!("flag-{i:05}")
}

/// The fixed signing key.
pub fn signing_key() -> SigningKey {
    SigningKey::from_seed(SEED)
}

/// A trust policy for [`ENVIRONMENT`] trusting [`signing_key`] alone.
pub fn policy() -> TrustPolicy {
    TrustPolicy::new(ENVIRONMENT, vec![signing_key().public_key().clone()]).expect("a valid policy")
}

/// The `now` every evaluation and load uses, Unix milliseconds (inside the validity window).
pub fn now() -> i64 {
    pennon_core::parse_rfc3339("2026-06-01T12:00:00Z").expect("a valid time")
}

/// Case (a).
pub fn simple_flag() -> Json {
    json!({
        "type": "boolean", "enabled": true,
        "variants": {"on": true, "off": false}, "off_variant": "off",
        "fallthrough": {"variant": "on"}
    })
}

/// Case (b): the salt is the flag key (the default), the bucketing value the targeting key.
pub fn rollout50_flag() -> Json {
    json!({
        "type": "boolean", "enabled": true,
        "variants": {"on": true, "off": false}, "off_variant": "off",
        "fallthrough": {"rollout": {"variants": [
            {"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}
        ]}}
    })
}

fn conditions() -> Json {
    json!([
        {"attribute": "email", "op": "ends_with", "value": EMAIL_SUFFIX},
        {"attribute": "country", "op": "in", "value": COUNTRIES},
        {"attribute": "app_version", "op": "semver_gte", "value": MIN_APP_VERSION}
    ])
}

/// Case (c); also the shape of every filler flag.
pub fn conditions_flag() -> Json {
    json!({
        "type": "boolean", "enabled": true,
        "variants": {"on": true, "off": false}, "off_variant": "off",
        "fallthrough": {"variant": "off"},
        "rules": [{"id": "beta-testers", "conditions": conditions(), "serve": {"rollout": {"variants": [
            {"variant": "on", "weight": 25}, {"variant": "off", "weight": 75}
        ]}}}]
    })
}

/// [`CONDITIONS_ONLY`]: case (c) without the rollout.
pub fn conditions_only_flag() -> Json {
    json!({
        "type": "boolean", "enabled": true,
        "variants": {"on": true, "off": false}, "off_variant": "off",
        "fallthrough": {"variant": "off"},
        "rules": [{"id": "beta-testers", "conditions": conditions(), "serve": {"variant": "on"}}]
    })
}

/// Case (d).
pub fn variants_flag() -> Json {
    let variants: serde_json::Map<String, Json> =
        VARIANT_NAMES.iter().map(|name| ((*name).to_owned(), Json::from(*name))).collect();
    let weights: Vec<Json> = VARIANT_NAMES.iter().map(|name| json!({"variant": name, "weight": 25})).collect();
    json!({
        "type": "string", "enabled": true,
        "variants": variants, "off_variant": VARIANT_NAMES[0],
        "fallthrough": {"rollout": {"variants": weights}}
    })
}

/// A schema-1 payload holding `flags`, valid at [`now`].
pub fn payload(flags: impl IntoIterator<Item = (String, Json)>) -> Vec<u8> {
    let flags: serde_json::Map<String, Json> = flags.into_iter().collect();
    let payload = json!({
        "schema": 1, "environment": ENVIRONMENT, "version": VERSION,
        "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z",
        "flags": flags
    });
    serde_json::to_vec(&payload).expect("JSON serialises")
}

/// The case flags (a) to (d), plus [`CONDITIONS_ONLY`].
pub fn case_flags() -> Vec<(String, Json)> {
    vec![
        (SIMPLE.to_owned(), simple_flag()),
        (ROLLOUT50.to_owned(), rollout50_flag()),
        (CONDITIONS.to_owned(), conditions_flag()),
        (CONDITIONS_ONLY.to_owned(), conditions_only_flag()),
        (VARIANTS.to_owned(), variants_flag()),
    ]
}

/// The snapshot cases (a) to (d) are evaluated in: the case flags among fillers shaped
/// like (c), [`FLAG_COUNT`] flags in all, so the key lookup works on a realistic index.
pub fn cases_payload() -> Vec<u8> {
    let cases = case_flags();
    let fillers = (0..FLAG_COUNT - cases.len()).map(|i| (filler_key(i), conditions_flag()));
    payload(cases.into_iter().chain(fillers))
}

/// Case (e): [`FLAG_COUNT`] flags shaped like (c).
pub fn load_payload() -> Vec<u8> {
    payload((0..FLAG_COUNT).map(|i| (filler_key(i), conditions_flag())))
}

/// `payload` in a DSSE envelope signed by [`signing_key`].
pub fn envelope(payload: &[u8]) -> Vec<u8> {
    pennon_core::sign_envelope(payload, &[&signing_key()]).expect("signing succeeds")
}

/// Verifies and compiles an envelope made by [`envelope`].
pub fn load(envelope: &[u8]) -> Snapshot {
    match policy().load(envelope, None, now()).expect("the fixture envelope loads") {
        Loaded::Updated(snapshot) => snapshot,
        Loaded::Unchanged => unreachable!("nothing is held"),
    }
}

/// Who is asking: the attributes every engine's context is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The targeting key (Unleash's `userId`).
    pub key: String,
    /// An email address.
    pub email: String,
    /// An ISO 3166 country code.
    pub country: String,
    /// A semantic version.
    pub app_version: String,
    /// A plan name; no case reads it, it is there because real contexts carry more than
    /// the flags ask about.
    pub plan: String,
}

/// The user of the timing loops: a realistic context that matches every condition of
/// case (c), so that (c) runs all three conditions and then the rollout.
pub fn user() -> User {
    User {
        key: "user-7f3a9c21".to_owned(),
        email: "ada.lovelace@example.com".to_owned(),
        country: "DE".to_owned(),
        app_version: "5.3.1".to_owned(),
        plan: "enterprise".to_owned(),
    }
}

/// `count` varied users, the same on every run: three quarters match the email, four
/// fifths the country and seven tenths the version (about 40% match all three), with
/// prerelease versions on both sides of [`MIN_APP_VERSION`] and look-alike emails that
/// must not match.
pub fn users(count: usize) -> Vec<User> {
    const EMAILS: [&str; 6] = ["@example.com", "@example.org", "@mail.example.com", "@EXAMPLE.COM", "@example.co", ""];
    const VERSIONS: [&str; 10] =
        ["3.9.9", "4.1.12", "4.2.0-rc.1", "4.2.0", "4.2.1-beta", "4.10.0", "5.0.0", "5.3.1", "6.0.0", "12.0.3"];
    const PLANS: [&str; 3] = ["free", "pro", "enterprise"];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |bound: usize| {
        // xorshift64*: deterministic, no dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let value = state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33;
        usize::try_from(value).expect("33 bits fit") % bound
    };
    (0..count)
        .map(|i| {
            let email_index = if next(4) > 0 { 0 } else { 1 + next(EMAILS.len() - 1) };
            let country = if next(5) > 0 {
                COUNTRIES[next(COUNTRIES.len())]
            } else {
                OTHER_COUNTRIES[next(OTHER_COUNTRIES.len())]
            };
            User {
                key: format!("user-{i:06}-{:04x}", next(0x1_0000)),
                email: format!("person{i}{}", EMAILS[email_index]),
                country: country.to_owned(),
                app_version: VERSIONS[next(VERSIONS.len())].to_owned(),
                plan: PLANS[next(PLANS.len())].to_owned(),
            }
        })
        .collect()
}

/// `user` as a Pennon context.
pub fn context(user: &User) -> Context {
    let text = |s: &str| Value::String(s.into());
    Context::new(Some(&user.key))
        .with("email", text(&user.email))
        .with("country", text(&user.country))
        .with("app_version", text(&user.app_version))
        .with("plan", text(&user.plan))
}

/// SPEC section 5.6's bucketing input for `salt` and `value`:
/// `u64be(len(salt)) || salt || u64be(len(value)) || value`.
pub fn bucketing_input(salt: &str, value: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(16 + salt.len() + value.len());
    input.extend_from_slice(&(salt.len() as u64).to_be_bytes());
    input.extend_from_slice(salt.as_bytes());
    input.extend_from_slice(&(value.len() as u64).to_be_bytes());
    input.extend_from_slice(value);
    input
}
