//! The `matches` operator against `regex-lite`, whose syntax the core's own engine
//! keeps: an arbitrary pattern goes into a payload as a `matches` condition, and an
//! arbitrary text is evaluated against it. The payload must compile exactly when
//! `regex-lite` accepts the pattern (sizes aside: the two bound size differently), and
//! the rule must match exactly when `regex-lite` finds a match.
//!
//! Input: a flags byte (bit 0: `case_insensitive`), the pattern, a zero byte, the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pennon_core::{Context, Limits, Value};
use serde_json::json;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let mut parts = rest.splitn(2, |&b| b == 0);
    let (Some(pattern), Some(text)) = (parts.next(), parts.next()) else { return };
    let (Ok(pattern), Ok(text)) = (std::str::from_utf8(pattern), std::str::from_utf8(text)) else { return };
    if pattern.len() > 4096 {
        return;
    }
    let case_insensitive = flags & 1 == 1;
    let payload = json!({
        "schema": 1, "environment": common::ENVIRONMENT, "version": 1,
        "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2099-01-01T00:00:00Z",
        "flags": {"f": {
            "type": "boolean", "enabled": true, "variants": {"on": true, "off": false},
            "off_variant": "off", "fallthrough": {"variant": "off"},
            "rules": [{"id": "r", "conditions": [{
                "attribute": "v", "op": "matches", "value": pattern, "case_insensitive": case_insensitive,
            }], "serve": {"variant": "on"}}],
        }},
    });
    let compiled = pennon_core::compile_payload(payload.to_string().as_bytes(), &Limits::default());
    let reference = regex_lite::RegexBuilder::new(pattern).case_insensitive(case_insensitive).build();
    let ours_too_large = compiled.as_ref().is_err_and(|e| e.to_string().contains("pattern too large"));
    let theirs_too_large = reference.as_ref().is_err_and(|e| e.to_string().contains("size limit"));
    if ours_too_large || theirs_too_large {
        return;
    }
    assert_eq!(compiled.is_ok(), reference.is_ok(), "{pattern:?}: {:?} vs {:?}", compiled.err(), reference.err());
    if let (Ok(snapshot), Ok(reference)) = (compiled, reference) {
        let context = Context::new(Some("user-1")).with("v", Value::String(text.into()));
        let matched = snapshot.evaluate("f", &context, common::NOW).variant == Some("on");
        assert_eq!(matched, reference.is_match(text), "{pattern:?} on {text:?}");
    }
});
