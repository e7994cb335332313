//! Real faults: the last good snapshot keeps serving, STALE comes after the threshold,
//! and refused snapshots change nothing served or cached.

use std::time::Duration;

use pennon_provider::{ProviderEvent, Status};
use serde_json::json;

use crate::common::server::{Mode, TestServer};
use crate::common::{
    builder, capture_logs, envelope, flags, key, logs, next_event, open_feature, payload, sign, wait_version, within,
};

/// Serves version 1, then switches the server to `mode` and publishes version 2: the
/// provider must keep serving version 1, turn STALE after `stale_after`, say why, and
/// recover once the server serves again.
async fn survives(mode: Mode, expected_reason: &str) {
    capture_logs();
    let server = TestServer::start().await;
    server.publish(&envelope(1));
    let provider = builder()
        .url(server.url("/snapshot"))
        .request_timeout(Duration::from_millis(300))
        .stale_after(Duration::from_millis(400))
        .build()
        .unwrap();
    let handle = provider.handle();
    let mut events = handle.subscribe();
    let (_api, client) = open_feature(provider).await;

    server.set_mode(mode);
    server.publish(&envelope(2));
    let ProviderEvent::Stale { reason } =
        next_event(&mut events, "stale", |e| matches!(e, ProviderEvent::Stale { .. })).await
    else {
        unreachable!()
    };

    assert!(reason.contains(expected_reason), "STALE says why ({expected_reason}): {reason}");
    assert!(reason.contains(&server.url("/snapshot")), "STALE names the source: {reason}");
    assert_eq!(handle.status(), Status::Stale);
    assert_eq!(handle.version(), Some(1));
    let details = client.get_string_details("banner", None, None).await.unwrap();
    assert_eq!(details.value, "v1", "the last good snapshot keeps serving");

    server.set_mode(Mode::Serve);
    next_event(&mut events, "recovered", |e| matches!(e, ProviderEvent::Recovered { version: 2 })).await;
    assert_eq!(handle.status(), Status::Ready);
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v2");
    let recovered = format!("{} answers again (it had failed: ", server.url("/snapshot"));
    assert!(logs().contains(&recovered), "the end of the failure is logged: {recovered}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_500_keeps_the_last_good_snapshot_then_stale() {
    // The server's explanation is quoted, on one line.
    survives(Mode::Status(500), "HTTP status 500 Internal Server Error: the server says no").await;
}

/// A busy server (503 or 429 with `Retry-After: 1`) is asked again no sooner than it
/// said, not at the 20 ms backoff; once it serves again the new version comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_server_is_polled_no_sooner_than_it_asks() {
    for status in [503, 429] {
        let server = TestServer::start().await;
        server.publish(&envelope(1));
        let provider = builder()
            .url(server.url("/snapshot"))
            .poll_interval(Duration::from_millis(50))
            .backoff(Duration::from_millis(20), Duration::from_secs(5))
            .jitter(0.0)
            .build()
            .unwrap();
        let handle = provider.handle();
        let (_api, _client) = open_feature(provider).await;
        server.set_mode(Mode::Busy(status, 1));
        server.publish(&envelope(2));
        let started = tokio::time::Instant::now();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let refused = server.requests("/snapshot").iter().filter(|r| r.status == status).count();
        // At most one poll was in its 50 ms wait at the switch; then one a second at most.
        // Without the floor: 20, 40, 80, 160, 320, 640 ms apart, six or more.
        let allowed = usize::try_from(started.elapsed().as_secs()).unwrap() + 2;
        assert!((1..=allowed).contains(&refused), "{status}: {refused} polls in {:?}", started.elapsed());
        server.set_mode(Mode::Serve);
        wait_version(&handle, 2).await;
    }
}

/// A 401 or 403 is mended by no retry: the start ends at once in ERROR, not after the
/// init timeout (an hour here), and a served snapshot is STALE at once, not after
/// `stale_after`; both recover when the server answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_key_ends_the_start_at_once_and_makes_what_is_served_stale() {
    let server = TestServer::start().await;
    server.set_mode(Mode::Status(401));
    let hour = Duration::from_secs(3600);
    let provider = builder().url(server.url("/snapshot")).init_timeout(hour).stale_after(hour).build().unwrap();
    let handle = provider.handle();
    let mut events = handle.subscribe();
    let (_api, client) = within("a start every source denies", open_feature(provider)).await;

    assert_eq!(handle.status(), Status::Error);
    let message = handle.state().message.expect("the ERROR status says why");
    assert!(message.contains("every source refuses the credentials sent: "), "{message}");
    assert!(message.contains("HTTP status 401 Unauthorized"), "{message}");

    // Syncing goes on: once the key is accepted, READY.
    server.publish(&envelope(1));
    server.set_mode(Mode::Serve);
    wait_version(&handle, 1).await;
    assert_eq!(handle.status(), Status::Ready);

    server.set_mode(Mode::Status(403));
    let ProviderEvent::Stale { reason } =
        next_event(&mut events, "stale", |e| matches!(e, ProviderEvent::Stale { .. })).await
    else {
        unreachable!()
    };
    assert!(reason.contains("every source refuses the credentials sent, serving version 1; "), "{reason}");
    assert!(reason.contains("HTTP status 403 Forbidden"), "{reason}");
    assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v1");
}

/// A snapshot for another environment, or signed by a key not trusted, is mended by no
/// retry either: the start ends at once in ERROR (the init timeout is an hour), naming
/// the refusal, and syncing goes on. A bad signature is waited on (a corrupted copy
/// may be whole next time): that start is still waiting when the good one arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_for_other_settings_ends_the_start_at_once() {
    let hour = Duration::from_secs(3600);
    for (offered, expected) in [
        (sign(&payload("staging", 1, "2099-01-01T00:00:00Z", flags(1)), &[&key(1)]), "environment"),
        (sign(&payload("test", 1, "2099-01-01T00:00:00Z", flags(1)), &[&key(7)]), "no signature is by a trusted key"),
    ] {
        let server = TestServer::start().await;
        server.publish(&offered);
        let provider = builder().url(server.url("/snapshot")).init_timeout(hour).build().unwrap();
        let handle = provider.handle();
        let _api = within("a start every source offers a refused snapshot", open_feature(provider)).await;
        assert_eq!(handle.status(), Status::Error);
        let message = handle.state().message.expect("the ERROR status says why");
        assert!(message.contains("offers a snapshot these settings refuse") && message.contains(expected), "{message}");

        server.publish(&envelope(1));
        wait_version(&handle, 1).await;
        assert_eq!(handle.status(), Status::Ready);
    }

    let server = TestServer::start().await;
    let mut tampered = envelope(1);
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    server.publish(&tampered);
    let provider = builder().url(server.url("/snapshot")).init_timeout(hour).build().unwrap();
    let handle = provider.handle();
    let start = tokio::spawn(open_feature(provider));
    server.wait_requests(1, 2).await; // refused twice, and still waiting
    assert_eq!(handle.status(), Status::NotReady);
    server.publish(&envelope(1));
    let _api = within("the start once the copy is whole", start).await.unwrap();
    assert_eq!(handle.status(), Status::Ready);
}

/// Secrets in a source's URL (credentials, a presigned URL's signature) stay out of
/// logs, status messages and events: they name the source without them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_source_urls_are_not_shown() {
    capture_logs();
    let server = TestServer::start().await;
    server.set_mode(Mode::Status(401));
    let secret =
        |path: &str| server.url(path).replacen("http://", "http://reader:hunter2@", 1) + "?X-Signature=SECRETSIG";
    let hour = Duration::from_secs(3600);
    let provider =
        builder().url(secret("/presigned")).notification_url(secret("/stream")).stale_after(hour).build().unwrap();
    let handle = provider.handle();
    let (_api, _client) = within("a start every source denies", open_feature(provider)).await;
    let message = handle.state().message.expect("the ERROR status says why");
    let shown = format!("{}?…", server.url("/presigned"));
    assert!(message.contains(&shown), "the source is named: {message}");
    let stream_shown = format!("notification stream {}?…", server.url("/stream"));
    within("the stream's failure logged", async {
        while !logs().contains(&stream_shown) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    for text in [message, logs()] {
        assert!(!text.contains("hunter2") && !text.contains("SECRETSIG"), "{text}");
    }
}

/// One source denying access while another serves: the provider is as fresh as the
/// serving one, so READY, and says nothing of every source refusing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_source_beside_a_serving_one_stays_ready() {
    let (denying, serving) = (TestServer::start().await, TestServer::start().await);
    denying.set_mode(Mode::Status(401));
    serving.publish(&envelope(1));
    let hour = Duration::from_secs(3600);
    let provider =
        builder().url(denying.url("/snapshot")).url(serving.url("/snapshot")).stale_after(hour).build().unwrap();
    let handle = provider.handle();
    let (_api, _client) = within("a start with one serving source", open_feature(provider)).await;
    assert_eq!(handle.status(), Status::Ready);
    let generation = serving.publish(&envelope(2));
    wait_version(&handle, 2).await;
    serving.wait_requests(generation, 2).await;
    denying.wait_requests(0, 3).await;
    assert_eq!(handle.status(), Status::Ready, "{:?}", handle.state().message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_server_times_out_and_keeps_the_last_good_snapshot() {
    survives(Mode::Hang, "timed out after 300ms").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_keeps_the_last_good_snapshot() {
    survives(Mode::Truncate, "reading the body failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_very_slow_server_keeps_the_last_good_snapshot() {
    survives(Mode::Slow, "timed out after 300ms").await;
}

/// The size cap holds whether the server declares the length or streams chunks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_over_the_size_cap_is_not_read() {
    let big_flags = json!({"big": {"type": "string", "enabled": true, "variants": {"a": "x".repeat(50_000)},
                                   "off_variant": "a", "fallthrough": {"variant": "a"}}});
    let big = sign(&payload("test", 2, "2099-01-01T00:00:00Z", big_flags), &[&key(1)]);
    for (mode, expected) in
        [(Mode::Serve, "over the cap of 20000 bytes"), (Mode::ServeChunked, "passed the cap of 20000 bytes")]
    {
        let server = TestServer::start().await;
        server.publish(&envelope(1));
        let provider = builder()
            .url(server.url("/snapshot"))
            .max_bytes(20_000)
            .stale_after(Duration::from_millis(200))
            .build()
            .unwrap();
        let handle = provider.handle();
        let mut events = handle.subscribe();
        let (_api, _client) = open_feature(provider).await;

        server.set_mode(mode);
        server.publish(&big);
        let ProviderEvent::Stale { reason } =
            next_event(&mut events, "stale", |e| matches!(e, ProviderEvent::Stale { .. })).await
        else {
            unreachable!()
        };
        assert!(reason.contains(expected), "{mode:?}: {reason}");
        assert_eq!(handle.version(), Some(1));
    }
}

/// Tampered, wrong key, rollback, other environment: each refused, each logged with the
/// source and the reason, and neither what is served nor what is cached changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_snapshots_change_nothing_served_or_cached() {
    capture_logs();
    let cache = tempfile::tempdir().unwrap();
    let server = TestServer::start().await;
    let generation = server.publish(&envelope(3));
    let provider = builder().url(server.url("/snapshot")).cache_dir(cache.path()).build().unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;
    server.wait_requests(generation, 2).await; // the cache is written before the next poll
    let cache_file = handle.cache_file().unwrap();
    assert_eq!(cache_file.parent(), Some(cache.path()));
    assert_eq!(std::fs::read(&cache_file).unwrap(), envelope(3));

    let tampered = {
        let mut envelope: serde_json::Value = serde_json::from_slice(&envelope(4)).unwrap();
        let other = sign(&payload("test", 4, "2099-01-01T00:00:00Z", flags(40)), &[&key(1)]);
        let other: serde_json::Value = serde_json::from_slice(&other).unwrap();
        envelope["payload"] = other["payload"].clone(); // signature of one payload, bytes of another
        serde_json::to_vec(&envelope).unwrap()
    };
    let cases = [
        ("tampered", tampered, "signature check failed: the signature by trusted key"),
        (
            "wrong key",
            sign(&payload("test", 4, "2099-01-01T00:00:00Z", flags(4)), &[&key(2)]),
            "signature check failed: no signature is by a trusted key",
        ),
        ("rollback", envelope(2), "rollback check failed: offered version 2 is older than held version 3"),
        (
            "other environment",
            sign(&payload("prod", 4, "2099-01-01T00:00:00Z", flags(4)), &[&key(1)]),
            "environment check failed",
        ),
    ];
    for (name, bytes, reason) in cases {
        let generation = server.publish(&bytes);
        // The poller fetches again only after it has judged the previous answer.
        server.wait_requests(generation, 2).await;
        assert_eq!(handle.version(), Some(3), "{name}: the served version is unchanged");
        assert_eq!(client.get_string_value("banner", None, None).await.unwrap(), "v3", "{name}");
        assert_eq!(std::fs::read(&cache_file).unwrap(), envelope(3), "{name}: the cache is unchanged");
        let expected = format!("refused snapshot from {}: {reason}", server.url("/snapshot"));
        assert!(logs().contains(&expected), "{name}: the log names source and reason: {expected}");
        assert!(logs().contains("still serving version 3"), "{name}: the log names the version");
    }

    let generation = server.publish(&envelope(4));
    wait_version(&handle, 4).await;
    server.wait_requests(generation, 2).await; // the cache is written before the next poll
    assert_eq!(std::fs::read(&cache_file).unwrap(), envelope(4), "a verified update is cached");
}
