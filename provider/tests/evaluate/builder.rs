//! The builder refuses incomplete or inconsistent configurations, saying what to do.

use std::time::Duration;

use pennon_provider::{BuildError, Offered, PennonProvider};

use crate::common::{envelope, key, payload, sign};

#[test]
fn keys_environment_and_a_source_are_required() {
    let key = key(1).public_key().clone();
    let no_env = PennonProvider::builder().trusted_key(key.clone()).inline(envelope(1)).build();
    assert!(matches!(no_env, Err(BuildError::MissingEnvironment)));
    let no_keys = PennonProvider::builder().environment("test").inline(envelope(1)).build();
    let message = no_keys.unwrap_err().to_string();
    assert!(message.contains("there is no unsigned mode"), "{message}");
    let no_source = PennonProvider::builder().trusted_key(key.clone()).environment("test").build();
    assert!(matches!(no_source, Err(BuildError::NoSource)));

    let base = || PennonProvider::builder().trusted_key(key.clone()).environment("test");
    assert!(matches!(base().url("ftp://example.com/s").build(), Err(BuildError::InvalidUrl { .. })));
    assert!(matches!(base().url("not a url").build(), Err(BuildError::InvalidUrl { .. })));
    let policy = base().inline(vec![]).threshold(2).build().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(policy.starts_with("invalid trust policy: the threshold must be 1 to"), "said once: {policy}");
    // Exposure slots are allocated at build: a huge queue is refused, not a panic.
    let queue = base().inline(vec![]).exposure_queue(usize::MAX / 64).build().err().map(|e| e.to_string());
    assert!(queue.unwrap_or_default().contains("exposure_queue must be at most 1048576"));
    assert!(base().inline(vec![]).exposure_queue(1 << 20).build().is_ok());
    assert!(matches!(base().inline(vec![]).jitter(1.5).build(), Err(BuildError::InvalidSetting(_))));
    let zero = base().inline(vec![]).poll_interval(Duration::ZERO).build();
    assert!(matches!(zero, Err(BuildError::InvalidSetting(_))));
    let message = |built: Result<_, BuildError>| built.err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(message(base().inline(vec![]).max_bytes(0).build()), "invalid setting: max_bytes must be above zero");
    assert!(message(base().inline(vec![]).cache_dir("").build()).starts_with("invalid setting: cache_dir is empty"));
    let header = base().inline(vec![]).http_header("bad header", "x").build();
    assert!(matches!(header, Err(BuildError::InvalidHeader { .. })));
    // Durations past a year would overflow deadline arithmetic: refused, not a panic.
    let forever = base().inline(vec![]).init_timeout(Duration::MAX).build();
    let message = forever.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("init_timeout must be at most 365 days"), "{message}");
    assert!(matches!(base().inline(vec![]).poll_interval(Duration::MAX).build(), Err(BuildError::InvalidSetting(_))));
    assert!(
        base().inline(vec![]).poll_interval(Duration::from_secs(365 * 86_400)).build().is_ok(),
        "a year is allowed"
    );
}

/// Telemetry is off unless a base URL and an SDK key are given; bad values are refused
/// naming what is wrong.
#[test]
fn telemetry_settings_are_checked() {
    let key = key(1).public_key().clone();
    let base = || PennonProvider::builder().trusted_key(key.clone()).environment("test").inline(vec![]);
    let message = |built: Result<PennonProvider, BuildError>| built.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(base().telemetry("https://flags.example.com", "pns_x").build().is_ok());
    assert!(base()
        .telemetry("https://example.com/pennon/", "pns_x")
        .telemetry_interval(Duration::from_secs(10))
        .build()
        .is_ok());
    assert_eq!(
        message(
            base().telemetry("https://flags.example.com", "pns_x").telemetry_interval(Duration::from_secs(9)).build()
        ),
        "invalid setting: telemetry_interval must be 10 s to 365 days, not 9s"
    );
    assert_eq!(
        message(base().telemetry_interval(Duration::from_secs(30)).build()),
        "invalid setting: telemetry_interval is set, but telemetry is off: call `telemetry(base_url, sdk_key)`"
    );
    let endpoint = message(base().telemetry("https://flags.example.com/v1/telemetry/test", "pns_x").build());
    assert!(
        endpoint.starts_with(
            "invalid URL `https://flags.example.com/v1/telemetry/test`: give the control plane's base URL"
        ),
        "{endpoint}"
    );
    assert!(message(base().telemetry("ftp://flags.example.com", "pns_x").build()).contains("must be http or https"));
    assert!(
        message(base().telemetry("https://flags.example.com?k=1", "pns_x").build()).contains("no query or fragment")
    );
    assert_eq!(
        message(base().telemetry("https://flags.example.com", " ").build()),
        "invalid setting: the telemetry SDK key is empty"
    );
    assert!(
        message(base().telemetry("https://flags.example.com", "pns\nx").build()).contains("cannot be sent in a header")
    );
}

/// With two trusted keys and a threshold of two, one signature is not enough.
#[test]
fn the_threshold_requires_distinct_trusted_signatures() {
    let provider = PennonProvider::builder()
        .trusted_keys([key(1).public_key().clone(), key(2).public_key().clone()])
        .threshold(2)
        .environment("test")
        .inline(vec![])
        .build()
        .unwrap();
    let handle = provider.handle();
    let bytes = payload("test", 1, "2099-01-01T00:00:00Z", crate::common::flags(1));
    let error = handle.offer(&sign(&bytes, &[&key(1)])).unwrap_err();
    assert_eq!(error.kind(), "below_threshold");
    let accepted = handle.offer(&sign(&bytes, &[&key(1), &key(2)])).unwrap();
    assert_eq!(accepted, Offered::Updated { old_version: None, new_version: 1 });
}
