//! End to end with the real Rust provider (`pennon-provider`): it fetches from the
//! server, hears of a change on the stream (polling is off), and evaluates the new
//! rule through OpenFeature.

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use open_feature::{EvaluationContext, OpenFeature};
use pennon_provider::PennonProvider;
use serde_json::json;

use common::{boolean_flag, Backend, Server};

async fn provider_follows_changes(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let etag = boolean_flag(&admin, "new-checkout", false).await;
    let cache = tempfile::tempdir().unwrap();
    let provider = PennonProvider::builder()
        .trusted_keys(server.public_keys.clone())
        .environment("development")
        .url(format!("{}/v1/snapshots/development", server.url))
        .notification_url(format!("{}/v1/stream/development", server.url))
        .http_header("Authorization", format!("Bearer {}", server.sdk_dev))
        .poll_interval(Duration::from_secs(3600))
        .cache_dir(cache.path())
        .build()
        .unwrap();
    let handle = provider.handle();
    let mut api = OpenFeature::default();
    api.set_provider(provider).await;
    let client = api.create_client();
    let staff = EvaluationContext::default().with_targeting_key("u1").with_custom_field("email", "ann@acme.com");
    let guest = EvaluationContext::default().with_targeting_key("u2").with_custom_field("email", "bob@example.com");
    assert_eq!(handle.version(), Some(admin.version("development").await));
    assert!(!client.get_bool_value("new-checkout", Some(&staff), None).await.unwrap());

    let config = json!({
        "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
        "rules": [{ "id": "staff", "conditions": [{ "attribute": "email", "op": "ends_with", "value": "@acme.com" }],
                    "serve": { "variant": "on" } }]
    });
    let reply = admin.put("/api/v1/environments/development/flags/new-checkout", &config, &etag).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let version = reply.version.unwrap();
    let mut state = handle.watch_state();
    tokio::time::timeout(Duration::from_secs(1), state.wait_for(|s| s.version == Some(version)))
        .await
        .expect("the provider serves the new version within 1 s")
        .unwrap();
    assert!(client.get_bool_value("new-checkout", Some(&staff), None).await.unwrap());
    assert!(!client.get_bool_value("new-checkout", Some(&guest), None).await.unwrap());
    server.stop().await;
}

on_both_backends!(provider_follows_changes);
