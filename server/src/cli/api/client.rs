//! A small client of the admin API.

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MATCH};
use reqwest::Method;
use serde_json::Value as Json;

use crate::cli::Failure;

/// Where the server is.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ApiArgs {
    /// The control plane's base URL. The API token is read from PENNON_TOKEN only (an
    /// argument would show in `ps` and shell history).
    #[arg(long, env = "PENNON_URL", value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) url: String,
}

/// A reply from the server.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The JSON body (`null` when empty).
    pub(crate) body: Json,
    /// The ETag header.
    pub(crate) etag: Option<String>,
    /// The `Pennon-Snapshot-Version` header.
    pub(crate) version: Option<u64>,
}

/// An authenticated client.
pub(crate) struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// A client for `args.url` with the token in `PENNON_TOKEN`.
    pub(crate) fn new(args: &ApiArgs) -> Result<Client, Failure> {
        let token = std::env::var("PENNON_TOKEN").unwrap_or_default();
        if token.trim().is_empty() {
            return Err(Failure::Usage(
                "set PENNON_TOKEN to an API token (the first run of `pennon serve` printed an admin token)".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| Failure::Usage(format!("cannot build an HTTP client: {e}")))?;
        Ok(Client { base: args.url.trim_end_matches('/').to_owned(), token: token.trim().to_owned(), http })
    }

    /// Sends a request; a 4xx or 5xx reply is a [`Failure::Api`] with the server's reason.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Json>,
        if_match: Option<&str>,
    ) -> Result<Reply, Failure> {
        let url = format!("{}{path}", self.base);
        let mut request =
            self.http.request(method.clone(), &url).header(AUTHORIZATION, format!("Bearer {}", self.token));
        if let Some(tag) = if_match {
            request = request.header(IF_MATCH, tag);
        }
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body.to_string());
        }
        let response = request.send().await.map_err(|e| {
            Failure::Usage(format!("cannot reach {url}: {e} (is `pennon serve` running? see PENNON_URL)"))
        })?;
        let status = response.status().as_u16();
        let header = |v: Option<&HeaderValue>| v.and_then(|v| v.to_str().ok()).map(str::to_owned);
        let etag = header(response.headers().get(ETAG));
        let version = header(response.headers().get("pennon-snapshot-version")).and_then(|v| v.parse().ok());
        let text = response.text().await.map_err(|e| Failure::Usage(format!("reading the reply from {url}: {e}")))?;
        let body =
            if text.trim().is_empty() { Json::Null } else { serde_json::from_str(&text).unwrap_or(Json::String(text)) };
        if status >= 400 {
            return Err(Failure::Api(describe(status, &body)));
        }
        Ok(Reply { status, body, etag, version })
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> Result<Reply, Failure> {
        self.send(Method::GET, path, None, None).await
    }
}

/// The server's error as one line: `422 invalid_field at rules[0].serve: ...`.
fn describe(status: u16, body: &Json) -> String {
    let error = body.get("error");
    let text = |name: &str| error.and_then(|e| e.get(name)).and_then(Json::as_str);
    let mut line = format!("the server refused ({status}");
    if let Some(code) = text("code") {
        line.push(' ');
        line.push_str(code);
    }
    line.push(')');
    if let Some(field) = text("field") {
        line.push_str(&format!(" at `{field}`"));
    }
    match text("message") {
        Some(message) => line.push_str(&format!(": {message}")),
        None => line.push_str(&format!(": {body}")),
    }
    line
}

/// Percent-encodes a path segment (keys are restricted, but be safe).
pub(crate) fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
