//! The notification stream: an announcement makes the provider fetch at once.

use std::time::Duration;

use pennon_provider::Status;

use crate::common::server::{Mode, TestServer};
use crate::common::{builder, capture_logs, envelope, logs, open_feature, wait_version, within};

/// With polling effectively off (one hour), only the stream can bring version 2 in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_announcement_triggers_an_immediate_fetch() {
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    let provider = builder()
        .url(server.url("/snapshot"))
        .poll_interval(Duration::from_secs(3600))
        .notification_url(server.url("/events"))
        .build()
        .unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;
    server.wait_streams(1).await;

    // An announcement of what is already served causes no fetch.
    server.notify("version 1 is available");
    server.publish(&envelope(2));
    server.notify("version 2 is available");

    wait_version(&handle, 2).await;
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v2");
    assert_eq!(server.requests("/snapshot").len(), 2, "the first load and one fetch on announcement");
}

/// The stream reconnects after the server closes it, and after it goes silent for
/// longer than the idle timeout; announcements work on the new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_reconnects_after_a_drop_and_after_silence() {
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    let provider = builder()
        .url(server.url("/snapshot"))
        .poll_interval(Duration::from_secs(3600))
        .notification_url(server.url("/events"))
        .stream_idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let handle = provider.handle();
    let (_api, _client) = open_feature(provider).await;
    server.wait_streams(1).await;

    server.drop_streams();
    server.wait_streams(2).await;
    // No heartbeats from this server: the idle timeout reconnects again.
    server.wait_streams(3).await;

    server.publish(&envelope(2));
    server.notify(r#"{"version": 2}"#);
    wait_version(&handle, 2).await;
}

/// A notification URL that answers something other than an event stream (here the
/// snapshot itself, JSON, then closes) is refused and retried with growing backoff: it
/// neither resets the backoff nor makes the sources fetch on every reconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_url_that_is_not_a_stream_causes_no_fetch_storm() {
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    let provider = builder()
        .url(server.url("/snapshot"))
        .poll_interval(Duration::from_secs(3600))
        .notification_url(server.url("/snapshot"))
        .backoff(Duration::from_millis(20), Duration::from_millis(160))
        .jitter(0.0)
        .build()
        .unwrap();
    let (_api, _client) = open_feature(provider).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let requests = server.requests("/snapshot");
    let is_stream = |r: &&crate::common::server::Request| {
        r.headers.iter().any(|h| h.to_ascii_lowercase().starts_with("accept: text/event-stream"))
    };
    let (streams, fetches): (Vec<_>, Vec<_>) = requests.iter().partition(is_stream);
    assert_eq!(fetches.len(), 1, "only the first load: {} stream attempts", streams.len());
    // 20, 40, 80, then 160 ms apart: about a dozen attempts in 1.5 s, not seventy.
    assert!((3..=16).contains(&streams.len()), "{} stream attempts", streams.len());
}

/// A stream refused with `Retry-After` (a server at its stream cap answers 429) is
/// asked for again no sooner than that, not at the 20 ms backoff, and the source goes
/// on polling meanwhile; once the server accepts streams again, one is opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_stream_waits_as_asked_while_polling_goes_on() {
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    server.refuse_streams(Some((429, "1")));
    let started = tokio::time::Instant::now();
    let provider = builder()
        .url(server.url("/snapshot"))
        .poll_interval(Duration::from_millis(200))
        .notification_url(server.url("/events"))
        .backoff(Duration::from_millis(20), Duration::from_secs(5))
        .jitter(0.0)
        .build()
        .unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;
    server.publish(&envelope(2));
    wait_version(&handle, 2).await;
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v2", "polling brought it");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let attempts = server.requests("/events");
    assert!(attempts.iter().all(|r| r.status == 429));
    // One attempt at start, then one a second at most: without the floor, 20, 40, 80,
    // 160, 320, 640 ms apart, six or more in these 1.5 s.
    let allowed = usize::try_from(started.elapsed().as_secs()).unwrap() + 1;
    assert!((1..=allowed).contains(&attempts.len()), "{} stream attempts in {:?}", attempts.len(), started.elapsed());
    server.refuse_streams(None);
    server.wait_streams(1).await;
}

/// A stream that was up and cannot reopen (the control plane went away) makes the
/// sources fetch at once: with polling effectively off (one hour), only that fetch's
/// failure can start the stale clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_cannot_reopen_starts_the_stale_clock_at_once() {
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    let provider = builder()
        .url(server.url("/snapshot"))
        .poll_interval(Duration::from_secs(3600))
        .notification_url(server.url("/events"))
        .stale_after(Duration::from_millis(100))
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .build()
        .unwrap();
    let handle = provider.handle();
    let (_api, _client) = open_feature(provider).await;
    server.wait_streams(1).await;
    server.notify(r#"{"version": 1}"#); // the stream is heard: it was up
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.requests("/snapshot").len(), 1, "the first load only");

    server.set_mode(Mode::Status(503));
    server.refuse_streams(Some((503, "0")));
    server.drop_streams();
    let mut state = handle.watch_state();
    within("STALE after the stream could not reopen", state.wait_for(|s| s.status == Status::Stale)).await.unwrap();
    let fetches = server.requests("/snapshot");
    assert!(fetches.len() >= 2 && fetches[1..].iter().all(|r| r.status == 503), "{fetches:?}");
}

/// A stream cut and reopened at once (a proxy's idle limit) fetches once, on
/// reconnecting, as before: a healthy reconnect costs no extra request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_reopens_fetches_once() {
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    let provider = builder()
        .url(server.url("/snapshot"))
        .poll_interval(Duration::from_secs(3600))
        .notification_url(server.url("/events"))
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .build()
        .unwrap();
    let (_api, _client) = open_feature(provider).await;
    server.wait_streams(1).await;
    server.notify(r#"{"version": 1}"#);
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.drop_streams();
    server.wait_streams(2).await;
    server.wait_requests(1, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.requests("/snapshot").len(), 2, "the first load and the reconnect's fetch");
}

/// A stream that announces versions never published (2,000 of them, above the one
/// served) costs a bounded number of fetches, not one per event: after a fetch that does
/// not deliver the announced version, events wait out a hold that doubles (from the
/// 20 ms backoff, up to the poll interval), and the warning is logged once. A stream
/// naming the served version after it causes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_announcing_versions_never_published_costs_few_fetches() {
    capture_logs();
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    let provider = builder()
        .url(server.url("/snapshot"))
        .poll_interval(Duration::from_secs(3600))
        .notification_url(server.url("/events"))
        .build()
        .unwrap();
    let (_api, _client) = open_feature(provider).await;
    server.wait_streams(1).await;

    // Ten events every 5 ms: 2,000 over a second or more, as a lying stream sends them.
    for batch in 0..200u64 {
        let events: String =
            (0..10).map(|n| format!("event: version\ndata: {}\n\n", 1_000_000_000_000_000 + batch * 10 + n)).collect();
        server.notify_raw(events);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let fetches = server.requests("/snapshot").len();
    // Holds of 20, 40, 80, 160, 320, 640 ms... fill the window with about eight fetches;
    // one per event would be hundreds.
    assert!((2..20).contains(&fetches), "{fetches} snapshot requests for 2,000 announcements");
    let port = server.addr.port().to_string();
    let warned = logs()
        .lines()
        .filter(|line| line.contains(&port) && line.contains("announcements are acted on at most every"))
        .count();
    assert_eq!(warned, 1, "warned once: {}", logs());
    let warning = logs().lines().find(|line| line.contains(&port) && line.contains("WARN")).map(str::to_owned);
    let named = format!("and {} then served version 1: ", server.url("/snapshot"));
    assert!(
        warning
            .as_deref()
            .is_some_and(|line| line.contains("announced version 10000000000000") && line.contains(&named)),
        "the warning names the versions announced and served: {warning:?}"
    );
    eprintln!("{fetches} snapshot requests");
}
