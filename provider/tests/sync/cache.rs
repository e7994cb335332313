//! The last-known-good cache on cold starts.

use std::path::Path;
use std::time::Duration;

use open_feature::EvaluationErrorCode;
use pennon_core::Audience;
use pennon_provider::{PennonProviderBuilder, ProviderEvent, Status};

use crate::common::server::TestServer;
use crate::common::{builder, builder_trusting, capture_logs, envelope, flags, key, logs, open_feature, payload, sign};

/// A URL on 127.0.0.1 where nothing listens: connections are refused.
async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/snapshot")
}

/// Runs a provider against a live server until `version` is cached in `dir`.
async fn fill_cache(dir: &Path, version: u64) {
    fill_cache_with(dir, builder(), &envelope(version)).await;
}

/// Runs a provider built from `builder` against a live server serving `envelope` until
/// it is cached in `dir`.
async fn fill_cache_with(dir: &Path, builder: PennonProviderBuilder, envelope: &[u8]) {
    let server = TestServer::start().await;
    let generation = server.publish(envelope);
    let provider = builder.url(server.url("/snapshot")).cache_dir(dir).build().unwrap();
    let (mut api, _client) = open_feature(provider).await;
    server.wait_requests(generation, 2).await; // the cache is written before the next poll
    api.shutdown().await;
}

/// `test`'s snapshot of `version`, signed by `signer`.
fn signed_by(signer: u8, version: u64) -> Vec<u8> {
    sign(&payload("test", version, "2099-01-01T00:00:00Z", flags(version)), &[&key(signer)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start_with_the_server_down_serves_a_good_cache_as_stale() {
    capture_logs();
    let dir = tempfile::tempdir().unwrap();
    fill_cache(dir.path(), 5).await;

    let provider = builder().url(dead_url().await).cache_dir(dir.path()).build().unwrap();
    let handle = provider.handle();
    let cache_file = handle.cache_file().unwrap();
    assert_eq!(std::fs::read(&cache_file).unwrap(), envelope(5));
    let (_api, client) = open_feature(provider).await;

    // Served, but `STALE`: how old the cache is, nothing has said.
    assert_eq!(handle.status(), Status::Stale);
    let message = handle.state().message.unwrap_or_default();
    let expected = format!("serving version 5 from the last-known-good cache {}: no source", cache_file.display());
    assert!(message.starts_with(&expected) && message.contains("refused"), "{message}");
    assert_eq!(handle.version(), Some(5));
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v5");
    let expected = format!("serving last-known-good cache {}, version 5: no source answered", cache_file.display());
    assert!(logs().contains(&expected), "the log says the cache is served: {expected}");
    // A source that answers, even with the same version, makes it current.
    assert!(matches!(handle.offer(&envelope(5)), Ok(pennon_provider::Offered::Unchanged { version: 5 })));
    assert_eq!(handle.status(), Status::Ready);
}

/// A corrupt or tampered cache is never served: with the server down the provider is
/// ERROR (spec 2.4.2.1: initialize fails), and says precisely why (spec 5.1.4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start_with_the_server_down_and_a_corrupt_cache_is_error() {
    capture_logs();
    let tampered = {
        let mut good: serde_json::Value = serde_json::from_slice(&envelope(5)).unwrap();
        let evil = sign(&payload("test", 5, "2099-01-01T00:00:00Z", flags(666)), &[&key(1)]);
        good["payload"] = serde_json::from_slice::<serde_json::Value>(&evil).unwrap()["payload"].clone();
        serde_json::to_vec(&good).unwrap()
    };
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("garbage", b"{\"payloadType\": \"appl".to_vec(), "envelope check failed"),
        ("tampered", tampered, "signature check failed"),
        ("truncated", envelope(5)[..100].to_vec(), "envelope check failed"),
    ];
    for (name, bytes, reason) in cases {
        let dir = tempfile::tempdir().unwrap();
        let url = dead_url().await;
        let provider =
            builder().url(&url).cache_dir(dir.path()).init_timeout(Duration::from_millis(300)).build().unwrap();
        let handle = provider.handle();
        let cache_file = handle.cache_file().unwrap();
        std::fs::write(&cache_file, &bytes).unwrap();
        let mut events = handle.subscribe();
        let (_api, client) = open_feature(provider).await;

        assert_eq!(handle.status(), Status::Error, "{name}");
        assert_eq!(handle.version(), None, "{name}: nothing is served");
        let message = handle.state().message.unwrap();
        let cache_reason = format!("last-known-good cache {} refused: {reason}", cache_file.display());
        assert!(message.contains(&cache_reason), "{name}: {message}");
        assert!(message.contains(&format!("{url}: cannot connect")), "{name}: names the source: {message}");
        let event = events.recv().await.unwrap();
        assert_eq!(event, ProviderEvent::Error { message }, "{name}");
        let log = format!("ignoring corrupt or tampered last-known-good cache {}: {reason}", cache_file.display());
        assert!(logs().contains(&log), "{name}: a clear log line: {log}");
        let error = client.get_string_value("banner", None, None).await.unwrap_err();
        assert_eq!(error.code, EvaluationErrorCode::ProviderNotReady, "{name}");
        assert_eq!(std::fs::read(&cache_file).unwrap(), bytes, "{name}: the cache file is left for inspection");
    }
}

/// The cache's version is the rollback floor from the start: an older snapshot from a
/// source (a replayed or stale mirror) is refused and the newer cache is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_newer_than_the_source_refuses_the_rollback() {
    let dir = tempfile::tempdir().unwrap();
    fill_cache(dir.path(), 7).await;
    let server = TestServer::start().await;
    server.publish(&envelope(6));

    let provider = builder().url(server.url("/snapshot")).cache_dir(dir.path()).build().unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;

    assert_eq!(handle.version(), Some(7));
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v7");
}

/// A cache too old to serve is still verified: its version stays the rollback floor,
/// and the older snapshot a source offers is refused (and not written over it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_cache_still_refuses_older_versions() {
    let dir = tempfile::tempdir().unwrap();
    let expired_v5 = sign(&payload("test", 5, "2026-05-08T00:00:00Z", flags(5)), &[&key(1)]);
    let older_v3 = sign(&payload("test", 3, "2026-07-01T00:00:00Z", flags(3)), &[&key(1)]);
    let june = pennon_core::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
    let provider = builder().inline(older_v3.clone()).cache_dir(dir.path()).clock(move || june).build().unwrap();
    let handle = provider.handle();
    let cache_file = handle.cache_file().unwrap();
    std::fs::write(&cache_file, &expired_v5).unwrap();
    let (_api, _client) = open_feature(provider).await;
    assert_eq!(handle.version(), None, "version 3 is below the expired cache's 5");
    assert_eq!(handle.status(), Status::Error);
    assert_eq!(std::fs::read(&cache_file).unwrap(), expired_v5, "the cache was not rolled back");
    // The floor is a minimum: the expired version itself is refused as expired, not
    // taken as unchanged (nothing is served that it could be unchanged from).
    let refused = handle.offer(&expired_v5).unwrap_err();
    assert_eq!(refused.kind(), "expired", "{refused}");
    assert_eq!(handle.version(), None);
}

/// An offer through the handle before `initialize` is held to the cache's floor too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_before_initialize_is_held_to_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    fill_cache(dir.path(), 5).await;
    let provider = builder().url(dead_url().await).cache_dir(dir.path()).build().unwrap();
    let handle = provider.handle();
    let refused = handle.offer(&envelope(3)).unwrap_err();
    assert_eq!(refused.kind(), "rollback", "{refused}");
    let (_api, client) = open_feature(provider).await;
    assert_eq!(handle.version(), Some(5));
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v5");
    assert!(handle.offer(&envelope(6)).is_ok());
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v6");
}

/// Providers of two control planes (other keys) for one environment name share a
/// directory: each keeps its own file, so each starts from its own cache with its
/// source down. One file for both had each replace the other's, which to it does not
/// verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_trusting_other_keys_share_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    fill_cache_with(dir.path(), builder_trusting(&[&key(1)]), &signed_by(1, 5)).await;
    fill_cache_with(dir.path(), builder_trusting(&[&key(2)]), &signed_by(2, 9)).await;

    for (signer, version) in [(1, 5), (2, 9)] {
        let provider = builder_trusting(&[&key(signer)]).url(dead_url().await).cache_dir(dir.path()).build().unwrap();
        let handle = provider.handle();
        let (_api, client) = open_feature(provider).await;
        assert_eq!(handle.version(), Some(version), "key {signer}");
        let expected = format!("v{version}");
        assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), expected);
        assert_eq!(std::fs::read(handle.cache_file().unwrap()).unwrap(), signed_by(signer, version));
    }
    let cache_file = |audience| {
        let provider = builder().audience(audience).inline(envelope(1)).cache_dir(dir.path()).build().unwrap();
        provider.handle().cache_file().unwrap()
    };
    assert_ne!(cache_file(Some(Audience::Client)), cache_file(Some(Audience::Server)), "each audience has its own");
}

/// A key rotation that adds a key renames the cache file. Started with every source
/// down before anything is written under the new name, the provider serves the newest
/// file it can verify among the environment's earlier ones: here the old keys' file,
/// over an older file named the way providers named it before, and over another
/// control plane's newer file, which does not verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_during_a_key_rotation_reads_the_earlier_keys_file() {
    capture_logs();
    let dir = tempfile::tempdir().unwrap();
    fill_cache_with(dir.path(), builder_trusting(&[&key(1)]), &signed_by(1, 5)).await;
    fill_cache_with(dir.path(), builder_trusting(&[&key(3)]), &signed_by(3, 50)).await;
    std::fs::write(dir.path().join("pennon-test.envelope.json"), signed_by(1, 4)).unwrap();
    let earlier = builder_trusting(&[&key(1)]).inline(envelope(1)).cache_dir(dir.path()).build().unwrap();
    let earlier = earlier.handle().cache_file().unwrap();

    let provider = builder_trusting(&[&key(2), &key(1)]).url(dead_url().await).cache_dir(dir.path()).build().unwrap();
    let handle = provider.handle();
    let own = handle.cache_file().unwrap();
    assert_ne!(own, earlier, "the file is named by the keys trusted");
    let (_api, client) = open_feature(provider).await;

    assert_eq!(handle.status(), Status::Stale, "the cache is served until a source answers");
    assert_eq!(handle.version(), Some(5));
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v5");
    let expected = format!("{}, written under earlier trusted keys, holds verified version 5", earlier.display());
    assert!(logs().contains(&expected), "the log names the file: {expected}");
    // Its version is the floor, and the next snapshot goes to the new name; the earlier
    // file may be another provider's, and stays.
    assert_eq!(handle.offer(&signed_by(2, 4)).unwrap_err().kind(), "rollback");
    handle.offer(&signed_by(2, 6)).unwrap();
    assert_eq!(handle.status(), Status::Ready);
    assert_eq!(std::fs::read(&own).unwrap(), signed_by(2, 6));
    assert_eq!(std::fs::read(&earlier).unwrap(), signed_by(1, 5));
}

/// A cache written under the name providers gave it before names carried the trust
/// policy is still read: upgrading with the control plane down keeps the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_under_the_name_before_trust_policies_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pennon-test.envelope.json"), envelope(8)).unwrap();
    let provider = builder().url(dead_url().await).cache_dir(dir.path()).build().unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;
    assert_eq!(handle.version(), Some(8));
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v8");
}
