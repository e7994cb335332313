//! A mirror or CDN edge that lags behind the control plane.

use std::time::Duration;

use pennon_provider::{ProviderEvent, Status};

use crate::common::server::{Mode, TestServer};
use crate::common::{builder, capture_logs, envelope, logs, next_event, open_feature, wait_version};

/// A mirror serving an older version than the primary: refused and logged once, then
/// asked conditionally (304s, not the whole body each poll); and its answers keep
/// nothing fresh, so with the primary down the provider still turns STALE.
async fn lagging_mirror(mirror_answers_first: bool) {
    capture_logs();
    let (primary, mirror) = (TestServer::start().await, TestServer::start().await);
    primary.publish(&envelope(5));
    let lagging = mirror.publish(&envelope(4));
    if mirror_answers_first {
        primary.set_mode(Mode::Status(500));
    }
    let provider = builder()
        .url(primary.url("/snapshot"))
        .url(mirror.url("/snapshot"))
        .stale_after(Duration::from_millis(400))
        .build()
        .unwrap();
    let handle = provider.handle();
    let mut events = handle.subscribe();
    let (_api, client) = open_feature(provider).await;
    primary.set_mode(Mode::Serve);
    wait_version(&handle, 5).await;
    // Two polls of the mirror with version 5 served.
    let polled = mirror.requests("/snapshot").len();
    mirror.wait_requests(lagging, polled + 2).await;

    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v5");
    let asked = mirror.requests("/snapshot");
    assert_eq!(asked[0].status, 200);
    for request in &asked[1..] {
        assert_eq!((request.status, request.if_none_match.as_deref()), (304, Some("\"g1\"")), "{asked:?}");
    }
    let mirror_url = mirror.url("/snapshot");
    let refusal = "rollback check failed: offered version 4 is older than held version 5";
    let log = logs();
    let warnings = log.lines().filter(|line| line.contains("WARN") && line.contains(&mirror_url));
    assert_eq!(warnings.filter(|line| line.contains(refusal)).count(), 1, "logged once:\n{log}");

    primary.set_mode(Mode::Status(500));
    let ProviderEvent::Stale { reason } =
        next_event(&mut events, "stale", |e| matches!(e, ProviderEvent::Stale { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(handle.status(), Status::Stale);
    assert!(reason.contains(&format!("{mirror_url}: snapshot refused: {refusal}")), "{reason}");
    assert_eq!(mirror.requests("/snapshot").iter().filter(|request| request.status == 200).count(), 1);

    // Caught up: the mirror's new version is served, and the provider is fresh again.
    mirror.publish(&envelope(6));
    next_event(&mut events, "recovered", |e| matches!(e, ProviderEvent::Recovered { version: 6 })).await;
    assert_eq!(handle.status(), Status::Ready);
}

/// Its body arrives with version 5 already served: refused as a rollback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_mirror_answering_after_the_primary_is_refused_then_asked_conditionally() {
    lagging_mirror(false).await;
}

/// Its version 4 was served first, then the primary's 5: its 304s to version 4's tag
/// are refused as the body would be, not counted as syncing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_that_answered_first_and_fell_behind_keeps_nothing_fresh() {
    lagging_mirror(true).await;
}
