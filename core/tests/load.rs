//! Verification and compilation: every refusal of `docs/SPEC.md` section 2.3, with a
//! message that names the check and the place.

#![allow(clippy::cast_possible_truncation)]

mod common;

use common::{boolean_flag, key, now, payload, policy, time};
use pennon_core::{compile_payload, sign_envelope, Error, Held, Limits, Loaded, PublicKey, TrustPolicy};
use serde_json::json;

fn load(envelope: &[u8], held: Option<Held>) -> Result<Loaded, Error> {
    policy().load(envelope, held, now())
}

fn signed(version: u64) -> Vec<u8> {
    sign_envelope(&payload(version, json!({"f": boolean_flag(json!({}))}), json!({})), &[&key(1)]).expect("signs")
}

#[test]
fn a_signed_snapshot_loads() {
    let Ok(Loaded::Updated(snapshot)) = load(&signed(4), None) else { panic!("refused") };
    assert_eq!(snapshot.version(), 4);
    assert_eq!(snapshot.environment(), "production");
    assert_eq!(snapshot.flag_keys().collect::<Vec<_>>(), ["f"]);
}

#[test]
fn a_tampered_payload_is_refused_as_a_bad_signature() {
    let envelope = String::from_utf8(signed(4)).expect("utf-8");
    let other = sign_envelope(&payload(5, json!({}), json!({})), &[&key(2)]).expect("signs");
    let other: serde_json::Value = serde_json::from_slice(&other).expect("json");
    let mut tampered: serde_json::Value = serde_json::from_str(&envelope).expect("json");
    tampered["payload"] = other["payload"].clone();
    let error = load(&serde_json::to_vec(&tampered).expect("json"), None).expect_err("must refuse");
    assert_eq!(error.kind(), "bad_signature");
    assert!(error.to_string().contains(key(1).public_key().key_id()), "{error}");
}

#[test]
fn an_unknown_key_is_named() {
    let envelope = sign_envelope(&payload(1, json!({}), json!({})), &[&key(9)]).expect("signs");
    let error = load(&envelope, None).expect_err("must refuse");
    let signer = key(9).public_key().key_id().to_owned();
    let trusted = key(1).public_key().key_id().to_owned();
    assert_eq!(error, Error::UnknownKey { key_ids: vec![signer.clone()], trusted: vec![trusted.clone()] });
    assert!(error.to_string().contains(&format!("in the envelope: [{signer}]; trusted: [{trusted}]")), "{error}");
}

#[test]
fn thresholds_count_distinct_trusted_keys() {
    let keys = vec![key(1).public_key().clone(), key(2).public_key().clone(), key(3).public_key().clone()];
    let policy = TrustPolicy::new("production", keys).and_then(|p| p.with_threshold(2)).expect("policy");
    let body = payload(1, json!({}), json!({}));
    let one = sign_envelope(&body, &[&key(1)]).expect("signs");
    assert_eq!(sign_envelope(&body, &[&key(1), &key(1)]).expect_err("twice").kind(), "invalid_key");
    // The same signature twice: refused before any is verified (SPEC 2), whatever it is.
    let mut same_twice: serde_json::Value = serde_json::from_slice(&one).expect("json");
    same_twice["signatures"] = json!([same_twice["signatures"][0].clone(), same_twice["signatures"][0].clone()]);
    let same_twice = serde_json::to_vec(&same_twice).expect("json");
    let two = sign_envelope(&body, &[&key(1), &key(3)]).expect("signs");
    assert_eq!(policy.load(&one, None, now()).expect_err("below").kind(), "below_threshold");
    let refused = policy.load(&same_twice, None, now()).expect_err("repeated");
    assert_eq!(refused.kind(), "malformed_envelope");
    assert!(refused.to_string().contains("`signatures[1]` repeats the keyid of `signatures[0]`"), "{refused}");
    assert!(matches!(policy.load(&two, None, now()), Ok(Loaded::Updated(_))));
    assert!(TrustPolicy::new("production", vec![key(1).public_key().clone()])
        .and_then(|p| p.with_threshold(2))
        .is_err());
}

#[test]
fn rollback_unchanged_and_equivocation() {
    let Ok(Loaded::Updated(held)) = load(&signed(5), None) else { panic!("refused") };
    assert_eq!(load(&signed(4), Some(held.held())).expect_err("rollback"), Error::Rollback { held: 5, offered: 4 });
    assert!(matches!(load(&signed(5), Some(held.held())), Ok(Loaded::Unchanged)));
    let different = sign_envelope(&payload(5, json!({}), json!({})), &[&key(1)]).expect("signs");
    assert_eq!(load(&different, Some(held.held())).expect_err("conflict").kind(), "version_conflict");
    assert!(matches!(load(&signed(6), Some(held.held())), Ok(Loaded::Updated(s)) if s.version() == 6));
}

#[test]
fn a_minimum_version_refuses_older_and_fully_loads_equal() {
    assert_eq!(
        policy().load_fresh(&signed(4), 5, now()).expect_err("rollback"),
        Error::Rollback { held: 5, offered: 4 }
    );
    assert_eq!(policy().load_fresh(&signed(5), 5, now()).map(|s| s.version()), Ok(5));
    // An equal version is still checked in full: an expired one is refused.
    let later = time("2028-01-01T00:00:00Z");
    assert_eq!(policy().load_fresh(&signed(5), 5, later).expect_err("stale").kind(), "expired");
}

#[test]
fn expiry_honours_the_grace_period() {
    let after = time("2027-01-01T00:00:30Z");
    let error = policy().load(&signed(1), None, after).expect_err("stale");
    assert_eq!(error.kind(), "expired");
    assert!(error.to_string().contains("stale") && error.to_string().contains("2027-01-01T00:00:00Z"), "{error}");
    assert!(policy().with_grace_ms(60_000).load(&signed(1), None, after).is_ok());
}

#[test]
fn other_environments_and_oversized_input_are_refused() {
    let staging = TrustPolicy::new("staging", vec![key(1).public_key().clone()]).expect("policy");
    let error = staging.load(&signed(1), None, now()).expect_err("wrong env");
    assert_eq!(error, Error::WrongEnvironment { expected: "staging".into(), found: "production".into() });
    let envelope = signed(1);
    let small = policy().with_max_bytes(envelope.len() - 1);
    assert_eq!(small.load(&envelope, None, now()).expect_err("too large").kind(), "too_large");
}

#[test]
fn compile_errors_name_the_json_path() {
    let flag = boolean_flag(json!({"rules": [
        {"id": "ok", "conditions": [], "serve": {"variant": "on"}},
        {"id": "bad", "conditions": [{"attribute": "email", "op": "matches", "value": "("}], "serve": {"variant": "on"}}
    ]}));
    let error =
        compile_payload(&payload(1, json!({"checkout": flag}), json!({})), &Limits::default()).expect_err("bad regex");
    let Error::InvalidSnapshot { path, message } = &error else { panic!("{error:?}") };
    assert_eq!(path, r#"flags["checkout"].rules[1].conditions[0].value"#);
    assert!(message.contains("invalid regex"), "{message}");
}

#[test]
fn prerequisite_cycles_are_refused_at_load() {
    let a = boolean_flag(json!({"prerequisites": [{"flag": "b", "variant": "on"}]}));
    let b = boolean_flag(json!({"prerequisites": [{"flag": "a", "variant": "on"}]}));
    let error =
        compile_payload(&payload(1, json!({"a": a, "b": b}), json!({})), &Limits::default()).expect_err("cycle");
    assert!(error.to_string().contains("prerequisite cycle: a -> b -> a"), "{error}");
}

/// A shallow graph can still fan out: each flag requiring the same three, four levels
/// down, is 1 + 3 + 9 + 27 + 81 visits for the top one. Past the limit it is refused,
/// naming the flag and the count.
#[test]
fn fan_out_past_the_step_limit_is_refused_naming_the_flag() {
    let mut flags = serde_json::Map::new();
    let level = |i: usize| (0..3).map(|j| json!({"flag": format!("l{i}-{j}"), "variant": "on"})).collect::<Vec<_>>();
    flags.insert("top".into(), boolean_flag(json!({"prerequisites": level(1)})));
    for i in 1..=4 {
        for j in 0..3 {
            let below = if i < 4 { level(i + 1) } else { Vec::new() };
            flags.insert(format!("l{i}-{j}"), boolean_flag(json!({"prerequisites": below})));
        }
    }
    let body = payload(1, serde_json::Value::Object(flags), json!({}));
    assert!(compile_payload(&body, &Limits { max_steps: 121, ..Limits::default() }).is_ok());
    let error = compile_payload(&body, &Limits { max_steps: 120, ..Limits::default() }).expect_err("fan-out");
    let Error::InvalidSnapshot { path, message } = &error else { panic!("{error:?}") };
    assert_eq!(path, r#"flags["top"]"#);
    assert!(message.starts_with("one evaluation can visit 121 flags and segments"), "{message}");
}

/// Regexes share one budget of states, each distinct pattern counted once: repeating
/// one costs nothing more, and the one that crosses the budget is named.
#[test]
fn regexes_past_the_state_budget_are_refused_naming_the_condition() {
    let matches = |pattern: &str| json!({"attribute": "a", "op": "matches", "value": pattern});
    let rule = |id: &str, patterns: &[&str]| json!({"id": id, "conditions": patterns.iter().map(|p| matches(p)).collect::<Vec<_>>(), "serve": {"variant": "on"}});
    let repeated = boolean_flag(json!({"rules": [rule("r1", &["a{99}"; 50]), rule("r2", &["b{99}"])]}));
    let body = payload(1, json!({"f": repeated}), json!({}));
    let limits = |max_regex_states| Limits { max_regex_states, ..Limits::default() };
    assert!(compile_payload(&body, &limits(200)).is_ok(), "a{{99}} is 100 states, counted once");
    let error = compile_payload(&body, &limits(199)).expect_err("over the budget");
    let Error::InvalidSnapshot { path, message } = &error else { panic!("{error:?}") };
    assert_eq!(path, r#"flags["f"].rules[1].conditions[0].value"#);
    assert_eq!(
        message,
        "the snapshot's distinct regexes compile to 200 automaton states with this one, more than the limit of 199"
    );
}

#[test]
fn deep_chains_are_refused_before_evaluation_could_recurse() {
    let mut flags = serde_json::Map::new();
    for i in 0..40 {
        let prerequisites = if i == 0 { json!([]) } else { json!([{"flag": format!("f{}", i - 1), "variant": "on"}]) };
        flags.insert(format!("f{i}"), boolean_flag(json!({"prerequisites": prerequisites})));
    }
    let error = compile_payload(&payload(1, flags.into(), json!({})), &Limits::default()).expect_err("too deep");
    assert!(error.to_string().contains("deeper than 32"), "{error}");
}

#[test]
fn duplicate_keys_and_unknown_members_are_refused() {
    let text = br#"{"schema":1,"environment":"production","version":1,"issued_at":"2026-01-01T00:00:00Z",
        "expires_at":"2027-01-01T00:00:00Z","flags":{"a":{"type":"boolean","enabled":true,
        "variants":{"on":true,"on":false},"off_variant":"on","fallthrough":{"variant":"on"}}}}"#;
    let error = compile_payload(text, &Limits::default()).expect_err("duplicate");
    assert!(error.to_string().contains("duplicate key `on`"), "{error}");
    let unknown = boolean_flag(json!({"colour": "red"}));
    let error =
        compile_payload(&payload(1, json!({"a": unknown}), json!({})), &Limits::default()).expect_err("unknown");
    assert_eq!(error.kind(), "malformed_payload");
    assert!(error.to_string().contains("colour"), "{error}");
}

#[test]
fn nesting_depth_is_checked_before_parsing() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let envelope = sign_envelope(deep.as_bytes(), &[&key(1)]).expect("signs");
    let error = load(&envelope, None).expect_err("too deep");
    assert_eq!(error.kind(), "malformed_payload");
    assert!(error.to_string().contains("nesting"), "{error}");
}

#[test]
fn structural_limits_name_what_and_where() {
    let conditions: Vec<_> = (0..65).map(|_| json!({"attribute": "a", "op": "exists"})).collect();
    let flag = boolean_flag(json!({"rules": [{"id": "r", "conditions": conditions, "serve": {"variant": "on"}}]}));
    let error = compile_payload(&payload(1, json!({"f": flag}), json!({})), &Limits::default()).expect_err("limit");
    assert_eq!(
        error,
        Error::LimitExceeded {
            what: "the number of conditions",
            path: r#"flags["f"].rules[0].conditions"#.into(),
            limit: 64,
            found: 65
        }
    );
}

#[test]
fn keys_round_trip_through_text() {
    let signing = key(7);
    let again = pennon_core::SigningKey::parse(&signing.to_text()).expect("parses");
    assert_eq!(again.public_key(), signing.public_key());
    let public = PublicKey::parse(&signing.public_key().to_text()).expect("parses");
    assert_eq!(&public, signing.public_key());
    assert_eq!(public.key_id().len(), 16);
    assert!(PublicKey::parse("ed25519:AAAA").is_err());
    assert!(PublicKey::parse("rsa:AAAA").is_err());
}

/// Text from an unverified envelope reaches messages (and logs) escaped and shortened:
/// no forged log line, no terminal escape, no 2 MB message.
#[test]
fn unverified_text_in_messages_is_escaped_and_shortened() {
    let forged =
        format!("x\n2026-11-22T00:00:00Z  INFO serving snapshot version 99\u{1b}[31m{}", "y".repeat(2_000_000));
    let mut envelope: serde_json::Value = serde_json::from_slice(&signed(4)).expect("json");
    envelope[forged.as_str()] = json!(1);
    let member = load(&serde_json::to_vec(&envelope).expect("json"), None).expect_err("must refuse").to_string();
    let mut envelope: serde_json::Value = serde_json::from_slice(&signed(4)).expect("json");
    envelope["signatures"][0]["keyid"] = json!(forged);
    let key_id = load(&serde_json::to_vec(&envelope).expect("json"), None).expect_err("must refuse");
    assert_eq!(key_id.kind(), "unknown_key");
    let mut envelope: serde_json::Value = serde_json::from_slice(&signed(4)).expect("json");
    envelope["payloadType"] = json!(forged);
    let payload_type = load(&serde_json::to_vec(&envelope).expect("json"), None).expect_err("must refuse");
    assert_eq!(payload_type.kind(), "wrong_payload_type");
    for message in [member, key_id.to_string(), payload_type.to_string()] {
        assert!(message.len() < 1_000, "{} bytes", message.len());
        assert!(!message.contains('\n') && !message.contains('\u{1b}'), "{message}");
        assert!(message.contains(r"x\u{000a}2026-11-22T00:00:00Z") && message.contains("bytes)"), "{message}");
    }
}

#[test]
fn versions_out_of_range_and_variants_of_another_type_read_plainly() {
    for (version, shown) in [(0, "not 0"), (1 << 53, "not 9007199254740992")] {
        let error = load(&signed(version), None).expect_err("out of range");
        assert_eq!(error.kind(), "malformed_payload");
        assert!(error.to_string().contains(&format!("`version` must be 1 to 9007199254740991, {shown}")), "{error}");
    }
    // No integer at all: the message states the same range, not the `u64` it is read as.
    for version in ["11.0", "-1", "1e15"] {
        let text = String::from_utf8(payload(7, json!({}), json!({}))).expect("utf-8");
        let body = text.replacen("\"version\":7", &format!("\"version\":{version}"), 1);
        assert_ne!(body, text, "the payload names version 7");
        let error =
            load(&sign_envelope(body.as_bytes(), &[&key(1)]).expect("signs"), None).expect_err("not an integer");
        assert_eq!(error.kind(), "malformed_payload");
        let expected = format!("version: `{version}` is not an integer from 1 to 9007199254740991");
        assert!(error.to_string().contains(&expected), "{error}");
    }
    let flag = json!({"type": "integer", "enabled": true, "variants": {"one": 1, "half": 0.5},
        "off_variant": "one", "fallthrough": {"variant": "one"}});
    let error =
        compile_payload(&payload(1, json!({"limit": flag}), json!({})), &Limits::default()).expect_err("a float");
    let Error::InvalidSnapshot { path, message } = &error else { panic!("{error:?}") };
    assert_eq!(path, r#"flags["limit"].variants["half"]"#);
    assert_eq!(message, "is not a signed 64-bit integer");
}
