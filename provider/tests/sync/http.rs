//! Polling an HTTP source: first load, 304, new versions, files.

use std::time::Duration;

use open_feature::provider::ProviderStatus;
use pennon_provider::{ProviderEvent, Status};

use crate::common::server::{Mode, TestServer, Validators};
use crate::common::{
    builder, capture_logs, envelope, flags, key, logs, next_event, open_feature, payload, sign, wait_version,
};

/// Spec 2.4.1 (initialize performs start-up logic) and 2.4.2.1: `initialize` waits for
/// the first snapshot, and the provider is READY when it returns normally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_load_makes_the_provider_ready() {
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    let provider = builder().url(server.url("/snapshot")).http_header("X-Sdk-Key", "sdk-test-1").build().unwrap();
    let handle = provider.handle();
    let mut events = handle.subscribe();

    let (_api, client) = open_feature(provider).await;

    assert_eq!(handle.status(), Status::Ready);
    assert_eq!(handle.status().to_open_feature(), ProviderStatus::Ready);
    assert_eq!(handle.version(), Some(1));
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v1");
    let first = server.requests("/snapshot")[0].clone();
    assert_eq!((first.status, first.if_none_match), (200, None));
    assert!(first.headers.iter().any(|h| h.eq_ignore_ascii_case("x-sdk-key: sdk-test-1")), "{:?}", first.headers);
    let event = events.try_recv().unwrap();
    let ProviderEvent::ConfigurationChanged { changed_flags, old_version: None, new_version: 1 } = event else {
        panic!("unexpected first event {event:?}")
    };
    assert_eq!(changed_flags, ["banner", "new-checkout"]);
}

/// A refusal quotes the server's explanation, and after a redirect to another origin
/// says where it ended: reqwest does not carry `Authorization` there, so a 401 there is
/// the redirect's doing, not the key's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_after_a_redirect_to_another_origin_says_where() {
    let elsewhere = TestServer::start().await;
    elsewhere.set_mode(Mode::Status(401));
    let front = TestServer::start().await;
    front.set_mode(Mode::RedirectTo(elsewhere.addr));
    let provider = builder()
        .url(front.url("/snapshot"))
        .http_header("Authorization", "Bearer sdk-test-1")
        .init_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let handle = provider.handle();
    let (_api, _client) = open_feature(provider).await;

    assert_eq!(handle.status(), Status::Error);
    let message = handle.state().message.expect("the ERROR status says why");
    let expected = format!(
        "HTTP status 401 Unauthorized from {} (redirected to another origin, so an `Authorization` header was not \
         sent): the server says no",
        elsewhere.url("/snapshot")
    );
    assert!(message.contains(&expected), "{message}");
    let seen = elsewhere.requests("/snapshot");
    assert!(seen.iter().all(|r| !r.headers.iter().any(|h| h.to_ascii_lowercase().starts_with("authorization"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_304_keeps_the_same_snapshot() {
    let server = TestServer::start().await;
    let generation = server.publish(&envelope(1));
    let provider = builder().url(server.url("/snapshot")).build().unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;
    let before = handle.snapshot().unwrap();
    let mut events = handle.subscribe();

    server.wait_requests(generation, 4).await;

    let conditional: Vec<_> = server.requests("/snapshot").into_iter().skip(1).collect();
    assert!(conditional.iter().all(|r| r.status == 304 && r.if_none_match.as_deref() == Some("\"g1\"")));
    assert!(std::sync::Arc::ptr_eq(&before, &handle.snapshot().unwrap()), "the same compiled snapshot is served");
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v1");
    assert!(events.try_recv().is_err(), "a 304 announces no change");
    assert_eq!(handle.status(), Status::Ready);
}

/// A static host that sends `Last-Modified` and no ETag (`python3 -m http.server`, many
/// buckets): each poll asks `If-Modified-Since` with the date as sent, and the 304 costs
/// no body; a new date brings the new version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_without_etags_is_polled_with_if_modified_since() {
    let server = TestServer::start().await;
    server.set_validators(Validators { etag: false, last_modified: true });
    let generation = server.publish(&envelope(1));
    let provider = builder().url(server.url("/snapshot")).build().unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;
    server.wait_requests(generation, 4).await;

    let requests = server.requests("/snapshot");
    assert_eq!((requests[0].status, requests[0].if_modified_since.as_deref()), (200, None));
    let date = TestServer::last_modified(generation);
    for request in &requests[1..] {
        assert_eq!((request.status, request.if_modified_since.as_deref()), (304, Some(date.as_str())), "{request:?}");
        assert_eq!(request.if_none_match, None);
    }
    let bodies: usize = requests.iter().map(|r| r.body_bytes).sum();
    assert_eq!(bodies, envelope(1).len(), "the body was downloaded once");

    let next = server.publish(&envelope(2));
    wait_version(&handle, 2).await;
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v2");
    server.wait_requests(next, 3).await;
    let last = server.requests("/snapshot").last().cloned().unwrap();
    assert_eq!((last.status, last.if_modified_since), (304, Some(TestServer::last_modified(next))));
}

/// RFC 9110 13.1.3: with both validators the ETag wins; `If-Modified-Since` is not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_etag_is_preferred_to_last_modified() {
    let server = TestServer::start().await;
    server.set_validators(Validators { etag: true, last_modified: true });
    let generation = server.publish(&envelope(1));
    let provider = builder().url(server.url("/snapshot")).build().unwrap();
    let (_api, _client) = open_feature(provider).await;
    server.wait_requests(generation, 3).await;
    for request in &server.requests("/snapshot")[1..] {
        assert_eq!(request.status, 304);
        assert_eq!((request.if_none_match.as_deref(), request.if_modified_since.as_deref()), (Some("\"g1\""), None));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_version_propagates_by_polling() {
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    let provider = builder().url(server.url("/snapshot")).build().unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;
    let mut events = handle.subscribe();

    server.publish(&envelope(2));

    let event =
        next_event(&mut events, "configuration changed", |e| matches!(e, ProviderEvent::ConfigurationChanged { .. }))
            .await;
    assert!(matches!(event, ProviderEvent::ConfigurationChanged { old_version: Some(1), new_version: 2, .. }));
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v2");
    let details = client.get_string_details("banner", None, None).await.unwrap();
    assert_eq!(details.flag_metadata.values["snapshotVersion"], open_feature::FlagMetadataValue::Int(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_source_follows_changes_and_refuses_bad_ones() {
    capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.json");
    let replace = |bytes: &[u8]| {
        let temp = dir.path().join("next.json");
        std::fs::write(&temp, bytes).unwrap();
        std::fs::rename(&temp, &path).unwrap();
    };
    replace(&envelope(1));
    let provider = builder().file(&path).stale_after(Duration::from_millis(200)).build().unwrap();
    let handle = provider.handle();
    let mut events = handle.subscribe();
    let (_api, client) = open_feature(provider).await;
    assert_eq!(handle.version(), Some(1));

    replace(&envelope(2));
    wait_version(&handle, 2).await;
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v2");

    // Version 3 signed by an untrusted key: refused, logged, and after `stale_after` STALE.
    replace(&sign(&payload("test", 3, "2099-01-01T00:00:00Z", flags(3)), &[&key(9)]));
    next_event(&mut events, "stale after a refused file", |e| matches!(e, ProviderEvent::Stale { .. })).await;
    assert_eq!(handle.version(), Some(2));
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v2");
    let logs = logs();
    let refusal = format!("refused snapshot from file {}: signature check failed", path.display());
    assert!(logs.contains(&refusal), "the log names the source and the reason: {logs}");

    // The file disappears: still version 2. A good version 3 arrives: recovered.
    std::fs::remove_file(&path).unwrap();
    replace(&envelope(3));
    next_event(&mut events, "recovered", |e| matches!(e, ProviderEvent::Recovered { version: 3 })).await;
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v3");
}
