//! Reading `GET /v1/stream/{env}` in tests.

use std::time::Duration;

/// A stream the server would not open.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: serde_json::Value,
}

/// An open event stream.
pub struct Stream {
    response: reqwest::Response,
    buffer: String,
}

impl Stream {
    /// Opens the stream of `env` with `key`.
    pub async fn open(base: &str, env: &str, key: &str) -> Stream {
        match Stream::attempt(base, env, key).await {
            Ok(stream) => stream,
            Err(refused) => panic!("stream status {}: {}", refused.status, refused.body),
        }
    }

    /// Opens the stream of `env` with `key`, or says how the server refused it.
    pub async fn attempt(base: &str, env: &str, key: &str) -> Result<Stream, Refused> {
        let response = reqwest::Client::new()
            .get(format!("{base}/v1/stream/{env}"))
            .bearer_auth(key)
            .header("accept", "text/event-stream")
            .send()
            .await
            .expect("stream request");
        if response.status() == 200 {
            return Ok(Stream { response, buffer: String::new() });
        }
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let body = serde_json::from_slice(&response.bytes().await.unwrap_or_default()).unwrap_or_default();
        Err(Refused { status, retry_after, body })
    }

    /// The next `version` event's number, or `None` after `within`.
    pub async fn next_version(&mut self, within: Duration) -> Option<u64> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                let is_version = event.lines().any(|l| l == "event: version");
                let data = event.lines().find_map(|l| l.strip_prefix("data: ")).and_then(|d| d.parse().ok());
                if is_version {
                    return data;
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Waits for a `version` event of at least `version`.
    pub async fn wait_for(&mut self, version: u64, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_version(left).await {
                Some(seen) if seen >= version => return true,
                Some(_) => {}
                None => return false,
            }
        }
    }

    /// Raw text received so far and within `within` (for heartbeat checks).
    pub async fn read_for(&mut self, within: Duration) -> String {
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, self.response.chunk()).await {
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
        std::mem::take(&mut self.buffer)
    }

    /// Whether the server ends the stream within `within` (events before the end are
    /// dropped); `false` if it is still open then.
    pub async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(Ok(None) | Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }
}
