//! Initialization timeout, expiry, shutdown and drop.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use open_feature::EvaluationErrorCode;
use pennon_core::parse_rfc3339;
use pennon_provider::{ProviderEvent, Status};

use crate::common::server::{Mode, TestServer};
use crate::common::{builder, envelope, flags, key, next_event, open_feature, payload, sign, within};

/// Spec 2.4.2.1 and 5.3.2: when nothing loads within the init timeout the provider is
/// ERROR; syncing goes on, and the first good snapshot makes it READY (5.3.2's note:
/// a provider may emit READY after a failed initialization).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_within_the_init_timeout_is_error_then_recovers() {
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    server.set_mode(Mode::Hang);
    let provider = builder()
        .url(server.url("/snapshot"))
        .request_timeout(Duration::from_millis(200))
        .init_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let handle = provider.handle();
    let mut events = handle.subscribe();
    let (_api, client) = open_feature(provider).await;

    assert_eq!(handle.status(), Status::Error);
    let error = client.get_bool_value("new-checkout", None, None).await.unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::ProviderNotReady);
    next_event(&mut events, "error event", |e| matches!(e, ProviderEvent::Error { .. })).await;

    server.set_mode(Mode::Serve);
    next_event(&mut events, "recovered", |e| matches!(e, ProviderEvent::Recovered { version: 1 })).await;
    assert_eq!(handle.status(), Status::Ready);
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v1");
}

/// A snapshot past `expires_at` (plus grace) is STALE but keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_plus_grace_makes_the_provider_stale() {
    let now = Arc::new(AtomicI64::new(parse_rfc3339("2026-05-01T00:00:00Z").unwrap()));
    let clock = now.clone();
    let snapshot = sign(&payload("test", 1, "2026-06-01T00:00:00Z", flags(1)), &[&key(1)]);
    let provider = builder()
        .inline(snapshot)
        .grace_period(Duration::from_secs(86_400))
        .clock(move || clock.load(Ordering::SeqCst))
        .build()
        .unwrap();
    let handle = provider.handle();
    let mut events = handle.subscribe();
    let (_api, client) = open_feature(provider).await;
    assert_eq!(handle.status(), Status::Ready);

    now.store(parse_rfc3339("2026-06-01T12:00:00Z").unwrap(), Ordering::SeqCst);
    assert_eq!(handle.status(), Status::Ready, "within the grace period");

    now.store(parse_rfc3339("2026-06-02T00:00:01Z").unwrap(), Ordering::SeqCst);
    assert_eq!(handle.status(), Status::Stale, "status reads the expiry at once");
    let ProviderEvent::Stale { reason } =
        next_event(&mut events, "stale event", |e| matches!(e, ProviderEvent::Stale { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(reason, "snapshot version 1 expired at 2026-06-01T00:00:00Z (grace 86400 s)");
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v1");
}

/// Spec 2.5.1 and 2.5.2: shutdown stops every background task, and the provider is
/// back to NOT_READY with nothing served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_background_tasks() {
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    let provider = builder()
        .url(server.url("/snapshot"))
        .poll_interval(Duration::from_millis(10))
        .notification_url(server.url("/events"))
        .build()
        .unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;
    server.wait_streams(1).await;
    assert_eq!(handle.running_tasks(), 3, "poller, stream and status monitor");

    within("shutdown", handle.shutdown()).await;

    assert_eq!(handle.running_tasks(), 0);
    assert_eq!(handle.status(), Status::NotReady);
    let error = client.get_string_value("banner", None, None).await.unwrap_err();
    assert_eq!(error.code, EvaluationErrorCode::ProviderNotReady);
    let message = error.message.unwrap_or_default();
    assert!(message.ends_with("it was shut down, and serves nothing until it is initialized again"), "{message}");
    assert_no_more_requests(&server).await;
}

/// A shutdown while `initialize` still waits for a first snapshot ends that run: the
/// provider stays NOT_READY, and the initialization timing out later reports nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_initialize_reports_nothing_afterwards() {
    use open_feature::provider::FeatureProvider as _;
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    server.set_mode(Mode::Hang);
    let mut provider = builder()
        .url(server.url("/snapshot"))
        .request_timeout(Duration::from_secs(5))
        .init_timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let handle = provider.handle();
    let mut events = handle.subscribe();
    let initializing = tokio::spawn(async move {
        provider.initialize(&open_feature::EvaluationContext::default()).await;
        provider
    });
    within("a first request", async {
        while server.requests("/snapshot").is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    within("shutdown", handle.shutdown()).await;
    while events.try_recv().is_ok() {} // what the shutdown itself announced
    let _provider = within("initialize", initializing).await.unwrap();
    assert_eq!(handle.status(), Status::NotReady);
    assert_eq!(handle.running_tasks(), 0);
    assert!(events.try_recv().is_err(), "no event after the shutdown");
}

/// Dropping the provider (here by `OpenFeature::shutdown`, which drops its providers)
/// stops its tasks too, even while a handle is still held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_provider_stops_background_tasks() {
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    let provider = builder()
        .url(server.url("/snapshot"))
        .poll_interval(Duration::from_millis(10))
        .notification_url(server.url("/events"))
        .build()
        .unwrap();
    let handle = provider.handle();
    let (mut api, _client) = open_feature(provider).await;
    server.wait_streams(1).await;
    assert!(handle.running_tasks() > 0);

    api.shutdown().await;

    within("tasks stop after drop", handle.stopped()).await;
    assert_eq!(handle.running_tasks(), 0);
    assert_eq!(handle.status(), Status::NotReady, "a dropped provider is shut down");
    assert_eq!(handle.version(), None);
    assert_no_more_requests(&server).await;
}

/// With polls every 10 ms, 300 ms without a request shows the poller is gone. (An
/// absence cannot be awaited; the margin is thirty poll intervals.)
async fn assert_no_more_requests(server: &TestServer) {
    // Let a request written just before the cancellation reach the server's log.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = server.requests("/snapshot").len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.requests("/snapshot").len(), before, "no request after the tasks stopped");
}

/// Sync tasks run on the runtime that ran `initialize` (here one that a test, or a
/// request handler, built for itself). When it shuts down the provider keeps serving
/// what it holds but is STALE, saying why, instead of reading READY while nothing
/// updates it; a later `initialize`, on a runtime that lives on, syncs again.
#[test]
fn a_shut_down_runtime_makes_the_provider_stale_until_initialized_again() {
    use open_feature::provider::FeatureProvider as _;
    let lasting = tokio::runtime::Runtime::new().unwrap();
    let server = lasting.block_on(TestServer::start());
    server.publish(&envelope(1));
    let mut provider = builder().url(server.url("/snapshot")).poll_interval(Duration::from_millis(10)).build().unwrap();
    let handle = provider.handle();
    let mut events = handle.subscribe();

    let short_lived = tokio::runtime::Runtime::new().unwrap();
    short_lived.block_on(provider.initialize(&open_feature::EvaluationContext::default()));
    assert_eq!(handle.status(), Status::Ready);
    drop(short_lived);

    assert_eq!(handle.running_tasks(), 0, "the tasks ended with their runtime");
    assert_eq!(handle.status(), Status::Stale);
    let message = handle.state().message.unwrap_or_default();
    assert!(
        message.starts_with("syncing stopped, serving version 1: the tokio runtime that ran `initialize` shut down"),
        "{message}"
    );
    let stale = std::iter::from_fn(|| events.try_recv().ok()).find(|e| matches!(e, ProviderEvent::Stale { .. }));
    assert!(matches!(stale, Some(ProviderEvent::Stale { reason }) if reason == message));
    let served = lasting.block_on(provider.resolve_string_value("banner", &open_feature::EvaluationContext::default()));
    assert_eq!(served.unwrap().value, "v1", "what it holds is still served");

    server.publish(&envelope(2));
    lasting.block_on(async {
        within("initialize again", provider.initialize(&open_feature::EvaluationContext::default())).await;
        crate::common::wait_version(&handle, 2).await;
    });
    assert_eq!(handle.status(), Status::Ready);
    assert_eq!(handle.state().message, None);
    assert_eq!(handle.running_tasks(), 2, "poller and status monitor, on the lasting runtime");
    lasting.block_on(handle.shutdown());
}
