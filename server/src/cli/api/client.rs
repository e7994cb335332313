//! A small client of the admin API.

use pennon_server::model::{escaped, SdkKind, API_TOKEN_PREFIX};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MATCH, LOCATION};
use reqwest::Method;
use serde_json::Value as Json;

use super::refusal::{describe, Names, ENVIRONMENT};
use crate::cli::Failure;

/// Where the server is.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ApiArgs {
    /// The control plane's base URL. The API token is read from PENNON_TOKEN only (an
    /// argument would show in `ps` and shell history).
    #[arg(long, env = "PENNON_URL", value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) url: String,
    /// Seconds to wait for an answer. Longer than the server's own waits for a database
    /// lock (30 s), so that its "busy, try again" arrives rather than a timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) timeout: u64,
    /// Print JSON on stdout, one document: a read prints the API's answer; a write its
    /// outcome, {"outcome": "applied" | "unchanged" | "change_request",
    /// "snapshot_version": N | null, "result": the API's answer}. A change request
    /// opened exits 3 either way.
    #[arg(long)]
    pub(crate) json: bool,
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

impl Reply {
    /// The reply, or for a 4xx or 5xx status a [`Failure::Api`] with the server's reason.
    pub(crate) fn accepted(self) -> Result<Reply, Failure> {
        self.accepted_as(&[])
    }

    /// [`Reply::accepted`], naming the API's fields and parameters as `names` says.
    fn accepted_as(self, names: &Names) -> Result<Reply, Failure> {
        match self.status {
            400.. => Err(Failure::Api(describe(self.status, &self.body, names))),
            _ => Ok(self),
        }
    }

    /// The server's reason for a refusal, on one line ([`describe`]).
    pub(crate) fn reason(&self) -> String {
        describe(self.status, &self.body, &[])
    }
}

/// An authenticated client.
pub(crate) struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
    timeout: u64,
    /// The command's flags for the API's names, for refusals ([`Client::naming`]).
    names: Vec<(&'static str, &'static str)>,
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
        // The server could only answer "unknown or revoked API token".
        if let Some(kind) = SdkKind::of_secret(token.trim()) {
            return Err(Failure::Usage(format!(
                "PENNON_TOKEN looks like a {} SDK key ({}…), which SDKs fetch snapshots with; API commands need \
                 an API token ({API_TOKEN_PREFIX}…): an admin makes one with `pennon tokens create NAME --role \
                 ROLE`, and the first run of `pennon serve` printed an admin token (lost: `pennon admin-token`)",
                kind.as_str(),
                kind.secret_prefix()
            )));
        }
        // Redirects are not followed: the admin API never sends one, and following a
        // proxy's redirect to a login page would turn a write into a GET of that page.
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(args.timeout))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Failure::Usage(format!("cannot build an HTTP client: {}", causes(&e))))?;
        let base = args.url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Failure::Usage(format!(
                "PENNON_URL (or --url) `{base}` must start with http:// or https://, like http://127.0.0.1:8080"
            )));
        }
        // Every command adds /api/v1/... itself: /api/v1 twice would reach no route
        // (a 404 `no_route` that says nothing of the URL).
        if let Some(root) = base.strip_suffix("/api/v1") {
            return Err(Failure::Usage(format!(
                "PENNON_URL (or --url) `{base}` must be the server's base URL, without /api/v1: {root}"
            )));
        }
        let names = vec![ENVIRONMENT];
        Ok(Client { base, token: token.trim().to_owned(), http, timeout: args.timeout, names })
    }

    /// Names the API's fields and query parameters in refusals as this command's flags
    /// (`("variant", "--variant")`; `environment` is `--env` for every command).
    pub(crate) fn naming(mut self, names: &Names) -> Client {
        self.names.extend_from_slice(names);
        self
    }

    /// Sends a request; a 4xx or 5xx reply is a [`Failure::Api`] with the server's reason.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Json>,
        if_match: Option<&str>,
    ) -> Result<Reply, Failure> {
        self.exchange(method, path, body, if_match).await?.accepted_as(&self.names)
    }

    /// Sends a request and returns the Pennon API's reply whatever its status, for a
    /// caller that answers a refusal itself (then [`Reply::accepted`] for the others).
    pub(crate) async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<&Json>,
        if_match: Option<&str>,
    ) -> Result<Reply, Failure> {
        let url = format!("{}{path}", self.base);
        // `.` and `..` would be taken as path steps and collapsed out of the URL.
        if path.split(['/', '?']).any(|step| step == "." || step == ".." || step.eq_ignore_ascii_case("%2e%2e")) {
            return Err(Failure::Usage(format!("`.` and `..` are not names: {path}")));
        }
        let mut request =
            self.http.request(method.clone(), &url).header(AUTHORIZATION, format!("Bearer {}", self.token));
        if let Some(tag) = if_match {
            request = request.header(IF_MATCH, tag);
        }
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body.to_string());
        }
        let writes = method != Method::GET;
        let response = request.send().await.map_err(|e| self.unanswered(&url, &e, writes))?;
        let status = response.status().as_u16();
        let header = |v: Option<&HeaderValue>| v.and_then(|v| v.to_str().ok()).map(str::to_owned);
        let etag = header(response.headers().get(ETAG));
        let version = header(response.headers().get("pennon-snapshot-version")).and_then(|v| v.parse().ok());
        let json_reply =
            header(response.headers().get(CONTENT_TYPE)).is_some_and(|t| t.starts_with("application/json"));
        if (300..400).contains(&status) {
            let to = header(response.headers().get(LOCATION)).unwrap_or_default();
            return Err(Failure::Usage(format!(
                "{url} answered {status}, a redirect to `{}`: PENNON_URL must be the control plane's own \
                 address (nothing was sent on)",
                escaped(&to)
            )));
        }
        let text = response.text().await.map_err(|e| self.unanswered(&url, &e, writes))?;
        let body = if text.trim().is_empty() { Json::Null } else { serde_json::from_str(&text).unwrap_or(Json::Null) };
        // Every reply of the admin API with a body is a JSON object; anything else is
        // another server (a proxy's login page, a default web page) answering for it.
        let pennon_json = text.trim().is_empty() || (json_reply && body.is_object());
        if !pennon_json {
            let shown: String = text.trim().chars().take(80).collect();
            return Err(Failure::Usage(format!(
                "{url} answered {status} with something other than the Pennon API's JSON (`{}`): is \
                 PENNON_URL the control plane?",
                escaped(&shown)
            )));
        }
        Ok(Reply { status, body, etag, version })
    }

    /// Why no answer came, and whether a write may have been applied all the same.
    fn unanswered(&self, url: &str, error: &reqwest::Error, writes: bool) -> Failure {
        if error.is_timeout() {
            let outcome = if writes {
                "the change may still have been applied: see `pennon audit` before trying again"
            } else {
                "raise --timeout, or check the server"
            };
            return Failure::Api(format!("no answer from {url} within {} s; {outcome}", self.timeout));
        }
        if error.is_connect() {
            return Failure::Usage(format!(
                "cannot reach {url}: {} (is `pennon serve` running? see PENNON_URL)",
                causes(error)
            ));
        }
        let outcome = if writes { "; the change may have been applied: see `pennon audit`" } else { "" };
        Failure::Api(format!("the exchange with {url} failed: {}{outcome}", causes(error)))
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> Result<Reply, Failure> {
        self.send(Method::GET, path, None, None).await
    }

    /// Reads `read`, then sends `method` to `write` with the body `body` makes of what was
    /// read and the ETag read in `If-Match`: for a command that says what should be
    /// ("enable it", "delete it"), not an edit of something its user read earlier. A 412
    /// then only means that `what` ("`beta` in `staging`") changed between this read and
    /// the write, so it reads again and re-applies, [`ATTEMPTS`] times at most. Returns
    /// the last read and the reply.
    pub(crate) async fn send_current(
        &self,
        method: Method,
        (read, write): (&str, &str),
        what: &str,
        body: impl Fn(&Reply) -> Result<Option<Json>, Failure>,
    ) -> Result<(Reply, Reply), Failure> {
        for attempt in 1..=ATTEMPTS {
            let current = self.get(read).await?;
            let body = body(&current)?;
            let reply = self.exchange(method.clone(), write, body.as_ref(), current.etag.as_deref()).await?;
            if reply.status != 412 {
                return Ok((current, reply.accepted_as(&self.names)?));
            }
            if attempt < ATTEMPTS {
                pause(attempt).await;
            }
        }
        Err(Failure::Api(format!(
            "the server refused (412 precondition_failed) {ATTEMPTS} times: {what} changed each time between this \
             command's read and its write, as others are changing it now; nothing was applied: run it again"
        )))
    }
}

/// How many times [`Client::send_current`] reads and writes before giving up: each 412
/// means another write landed, and with the pauses between attempts ([`pause`]) a few
/// dozen commands racing on one resource all get through (35 at once needed 7 at most
/// in 1,400 runs); something that rewrites it without pause ends the command within
/// about 10 s.
const ATTEMPTS: u32 = 12;

/// A pause after failed attempt `attempt`: random, so that commands racing for one
/// resource do not meet again, and up to twice as long each time (50 ms, 100 ms, ... at
/// most 1.6 s), so that a burst of them spreads out until the server's queue of writes
/// drains, rather than every read going stale behind it.
async fn pause(attempt: u32) {
    let random = getrandom::u64().unwrap_or(u64::from(std::process::id()));
    let most = (25_u64 << attempt.min(6)).min(1600);
    tokio::time::sleep(std::time::Duration::from_millis(random % most)).await;
}

/// An error and its causes, outermost first: reqwest's own message ("error sending
/// request") says nothing of what went wrong.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
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
