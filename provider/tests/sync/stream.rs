//! The notification stream: an announcement makes the provider fetch at once.

use std::time::Duration;

use crate::common::server::TestServer;
use crate::common::{builder, envelope, open_feature, wait_version};

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
