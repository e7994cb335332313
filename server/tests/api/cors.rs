//! Browsers on another origin can poll snapshots with a client key: preflights are
//! answered without a key, responses expose the ETag, and the admin API stays closed.

use reqwest::Method;

use crate::common::{boolean_flag, Api, Backend, Server};

async fn browsers_on_any_origin_read_the_sdk_endpoints(backend: Backend) {
    let server = Server::start(&backend).await;
    boolean_flag(&server.admin(), "new-checkout", true).await;
    let client_key = server.sdk_key("development", "client").await;
    let origin = [("origin", "https://app.example.com")];

    // The preflight of a poll that sends the key and revalidates: no key on it.
    let anonymous = Api::new(&server.url, "");
    let preflight = anonymous
        .raw(
            Method::OPTIONS,
            "/v1/snapshots/development",
            None,
            &[
                origin[0],
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "authorization,if-none-match"),
            ],
        )
        .await;
    assert_eq!(preflight.status, 204, "{}", preflight.body);
    let header = |resp: &crate::common::Resp, name: &str| {
        resp.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    assert_eq!(header(&preflight, "access-control-allow-origin"), "*");
    assert_eq!(header(&preflight, "access-control-allow-methods"), "GET");
    assert_eq!(header(&preflight, "access-control-allow-headers"), "authorization, if-none-match, last-event-id");
    assert_eq!(header(&preflight, "access-control-max-age"), "86400");

    // The poll itself, then its revalidation: both readable, the ETag exposed.
    let sdk = Api::new(&server.url, &client_key);
    let fetched = sdk.raw(Method::GET, "/v1/snapshots/development", None, &origin).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(header(&fetched, "access-control-allow-origin"), "*");
    assert_eq!(header(&fetched, "access-control-expose-headers"), "etag, pennon-snapshot-version, retry-after");
    let etag = fetched.etag.expect("an ETag");
    let again = sdk.raw(Method::GET, "/v1/snapshots/development", None, &[origin[0], ("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert_eq!(header(&again, "access-control-allow-origin"), "*");
    // A refusal is readable too, so the page can tell a bad key from a network error.
    let refused = anonymous.raw(Method::GET, "/v1/snapshots/development", None, &origin).await;
    assert_eq!(refused.status, 401);
    assert_eq!(header(&refused, "access-control-allow-origin"), "*");

    // The admin API answers no preflight and grants no origin.
    let admin = server.admin();
    let listed = admin.raw(Method::GET, "/api/v1/flags", None, &origin).await;
    assert_eq!(listed.status, 200);
    assert!(listed.headers.get("access-control-allow-origin").is_none());
    let admin_preflight = anonymous
        .raw(Method::OPTIONS, "/api/v1/flags", None, &[origin[0], ("access-control-request-method", "GET")])
        .await;
    assert_ne!(admin_preflight.status, 204);
    assert!(admin_preflight.headers.get("access-control-allow-origin").is_none());
    server.stop().await;
}

crate::on_both_backends!(browsers_on_any_origin_read_the_sdk_endpoints);
