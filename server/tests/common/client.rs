//! A small JSON-over-HTTP client for the tests.

use reqwest::Method;
use serde_json::Value as Json;

/// A reply.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Json,
    pub etag: Option<String>,
    pub version: Option<u64>,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// `error.code` of an error reply.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// `error.field` of an error reply.
    pub fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or_default()
    }
}

/// A client with one bearer token.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    /// Asserts that `GET route?query` is a 400 `invalid_query` naming the parameter, in
    /// `field` and at the start of the message, for each `(query, parameter)`.
    pub async fn assert_invalid_queries(&self, route: &str, cases: &[(&str, &str)]) {
        for (query, field) in cases {
            let reply = self.get(&format!("{route}?{query}")).await;
            assert_eq!(
                (reply.status, reply.code(), reply.field()),
                (400, "invalid_query", *field),
                "{query}: {}",
                reply.body
            );
            let message = reply.body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.starts_with(&format!("`{field}`: ")), "{query}: {message}");
        }
    }

    pub fn new(base: &str, token: &str) -> Api {
        Api { base: base.to_owned(), token: token.to_owned(), http: reqwest::Client::new() }
    }

    /// Sends `method path` with an optional raw body and extra headers.
    pub async fn raw(&self, method: Method, path: &str, body: Option<Vec<u8>>, headers: &[(&str, &str)]) -> Resp {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let etag = text("etag");
        let version = text("pennon-snapshot-version").and_then(|v| v.parse().ok());
        let bytes = response.bytes().await.expect("body");
        let body =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&bytes).into()));
        Resp { status, body, etag, version, headers }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.raw(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Json) -> Resp {
        self.raw(Method::POST, path, Some(body.to_string().into_bytes()), &[]).await
    }

    /// POST with `If-Match`.
    pub async fn post_if(&self, path: &str, body: &Json, etag: &str) -> Resp {
        self.raw(Method::POST, path, Some(body.to_string().into_bytes()), &[("if-match", etag)]).await
    }

    /// PUT with `If-Match`.
    pub async fn put(&self, path: &str, body: &Json, etag: &str) -> Resp {
        self.raw(Method::PUT, path, Some(body.to_string().into_bytes()), &[("if-match", etag)]).await
    }

    /// PATCH with `If-Match`.
    pub async fn patch(&self, path: &str, body: &Json, etag: &str) -> Resp {
        self.raw(Method::PATCH, path, Some(body.to_string().into_bytes()), &[("if-match", etag)]).await
    }

    /// DELETE with `If-Match`.
    pub async fn delete(&self, path: &str, etag: &str) -> Resp {
        self.raw(Method::DELETE, path, None, &[("if-match", etag)]).await
    }

    /// Toggles `key` in `env`, reading the ETag first.
    pub async fn toggle(&self, env: &str, key: &str, enabled: bool) -> Resp {
        let path = format!("/api/v1/environments/{env}/flags/{key}");
        let etag = self.get(&path).await.etag.unwrap_or_default();
        self.post_if(&format!("{path}/toggle"), &serde_json::json!({ "enabled": enabled }), &etag).await
    }

    /// The current version of `env`.
    pub async fn version(&self, env: &str) -> u64 {
        self.get(&format!("/api/v1/environments/{env}")).await.body["version"].as_u64().unwrap()
    }

    /// The number of audit entries (up to 1000).
    pub async fn audit_count(&self) -> usize {
        self.get("/api/v1/audit?limit=1000").await.body["entries"].as_array().unwrap().len()
    }
}
