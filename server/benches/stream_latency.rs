//! Change-to-delivery latency on many open streams: opens N `GET /v1/stream/{env}`
//! connections to a running `pennon serve`, makes a series of changes through the
//! admin API, and measures when each stream hears of each new version.
//!
//! Run by `server/bench/load.sh` (which starts the server); by hand:
//!
//! ```text
//! PENNON_BENCH_URL=http://127.0.0.1:8080 PENNON_BENCH_TOKEN=pnt_... PENNON_BENCH_SDK_KEY=pns_... \
//!   cargo bench -p pennon-server --bench stream_latency
//! ```
//!
//! Latency is reported from two instants: when the change request was sent (an upper
//! bound: it includes the transaction, signing and commit) and when its response
//! arrived (the acknowledged commit; an event that beats the response counts as 0).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::mpsc;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

/// Keeps one stream open, reporting `(version, when)` for every `version` event.
async fn follow(client: reqwest::Client, url: String, key: String, events: mpsc::UnboundedSender<(u64, Instant)>) {
    let Ok(mut response) = client.get(&url).bearer_auth(&key).send().await else { return };
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let now = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.lines().any(|l| l == "event: version") {
                if let Some(version) = event.lines().find_map(|l| l.strip_prefix("data: ")?.parse().ok()) {
                    if events.send((version, now)).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let Ok(url) = std::env::var("PENNON_BENCH_URL") else {
        eprintln!("stream_latency: set PENNON_BENCH_URL, PENNON_BENCH_TOKEN and PENNON_BENCH_SDK_KEY (see server/bench/load.sh); skipping");
        return;
    };
    let token = env("PENNON_BENCH_TOKEN", "");
    let key = env("PENNON_BENCH_SDK_KEY", "");
    let streams: usize = env("PENNON_BENCH_STREAMS", "1000").parse().unwrap_or(1000);
    let changes: usize = env("PENNON_BENCH_CHANGES", "30").parse().unwrap_or(30);
    let flag = env("PENNON_BENCH_FLAG", "bench-latency");
    let stream_url = format!("{url}/v1/stream/development");

    let (tx, mut rx) = mpsc::unbounded_channel();
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap_or_default();
    for _ in 0..streams {
        tokio::spawn(follow(client.clone(), stream_url.clone(), key.clone(), tx.clone()));
    }
    drop(tx);
    // Wait until every stream has reported the current version.
    let mut connected = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while connected < streams && Instant::now() < deadline {
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
            connected += 1;
        }
    }
    println!("streams connected: {connected} of {streams}");

    let admin = reqwest::Client::new();
    let config_url = format!("{url}/api/v1/environments/development/flags/{flag}");
    let _ = admin
        .post(format!("{url}/api/v1/flags"))
        .bearer_auth(&token)
        .body(json!({ "key": flag, "type": "boolean" }).to_string())
        .send()
        .await;
    let mut from_send = Vec::new();
    let mut from_ack = Vec::new();
    let mut missed = 0;
    for i in 0..changes {
        let current = admin.get(&config_url).bearer_auth(&token).send().await.expect("read the flag");
        let etag = current.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or("*").to_owned();
        let sent = Instant::now();
        let reply = admin
            .post(format!("{config_url}/toggle"))
            .bearer_auth(&token)
            .header("if-match", etag)
            .header("content-type", "application/json")
            .body(json!({ "enabled": i % 2 == 0 }).to_string())
            .send()
            .await
            .expect("toggle");
        let acked = Instant::now();
        let version: u64 = reply
            .headers()
            .get("pennon-snapshot-version")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .expect("a published version");
        let _ = reply.bytes().await;
        let mut seen: HashMap<u64, usize> = HashMap::new();
        let deadline = sent + Duration::from_secs(10);
        while seen.get(&version).copied().unwrap_or(0) < connected && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
                Ok(Some((v, when))) => {
                    *seen.entry(v).or_default() += 1;
                    if v == version {
                        from_send.push(when.saturating_duration_since(sent));
                        from_ack.push(when.saturating_duration_since(acked));
                    }
                }
                Ok(None) => break,
                Err(_) => {}
            }
        }
        missed += connected.saturating_sub(seen.get(&version).copied().unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    from_send.sort_unstable();
    from_ack.sort_unstable();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!("deliveries: {} ({changes} changes x {connected} streams; {missed} missed)", from_send.len());
    println!(
        "change-to-delivery from request sent:     p50 {}  p99 {}  max {}",
        ms(percentile(&from_send, 0.50)),
        ms(percentile(&from_send, 0.99)),
        ms(from_send.last().copied().unwrap_or_default())
    );
    println!(
        "change-to-delivery from commit acknowledged: p50 {}  p99 {}  max {}",
        ms(percentile(&from_ack, 0.50)),
        ms(percentile(&from_ack, 0.99)),
        ms(from_ack.last().copied().unwrap_or_default())
    );
}
