//! A control plane's telemetry endpoint on 127.0.0.1 that checks every request exactly
//! as the wire format says (docs/OPERATIONS.md, "Telemetry"), and answers as the test
//! scripts it: 202 by default, or a queue of other answers.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How one request is answered.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 202 with the accepted tallies.
    Accept,
    /// 202 with the accepted tallies and these members added (`exposures_refused`).
    AcceptWith(Value),
    /// This status and a JSON error naming `field` and `message`.
    Refuse(u16, &'static str, &'static str),
    /// This status, a `Retry-After` if given, and a JSON error naming `message`.
    Status(u16, Option<&'static str>, &'static str),
    /// Reads the request and never answers.
    Hang,
}

/// A request the endpoint received, with what it found wrong with it.
#[derive(Debug, Clone)]
pub struct Post {
    pub path: String,
    pub authorization: Option<String>,
    /// The body, parsed (`Null` if it did not parse).
    pub body: Value,
    /// The status it was answered with (0: none).
    pub status: u16,
    /// Every way the request breaks the wire format.
    pub violations: Vec<String>,
}

#[derive(Default)]
struct State {
    script: VecDeque<Answer>,
    posts: Vec<Post>,
}

pub struct TelemetryServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    seen: Arc<watch::Sender<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TelemetryServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TelemetryServer {
    pub async fn start() -> TelemetryServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let seen = Arc::new(watch::channel(0).0);
        let (conn_state, conn_seen) = (state.clone(), seen.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                tokio::spawn(handle(socket, conn_state.clone(), conn_seen.clone()));
            }
        });
        TelemetryServer { addr, state, seen, task }
    }

    /// The base URL to give the provider.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next requests so, in order; 202 after them.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    pub fn posts(&self) -> Vec<Post> {
        self.state.lock().unwrap().posts.clone()
    }

    /// The bodies of the posts answered 2xx, each checked against the wire format.
    pub fn accepted(&self) -> Vec<Value> {
        self.posts()
            .into_iter()
            .filter(|post| (200..300).contains(&post.status))
            .map(|post| {
                assert!(post.violations.is_empty(), "the post breaks the wire format: {:?}", post.violations);
                post.body
            })
            .collect()
    }

    /// Waits until `n` requests have arrived in all (10 s at most).
    pub async fn wait_posts(&self, n: usize, patience: Duration) {
        let mut seen = self.seen.subscribe();
        let waited = tokio::time::timeout(patience, seen.wait_for(|&count| count >= n)).await;
        assert!(waited.is_ok(), "expected {n} telemetry posts within {patience:?}, saw {}", *self.seen.borrow());
    }
}

async fn handle(socket: TcpStream, state: Arc<Mutex<State>>, seen: Arc<watch::Sender<usize>>) {
    let mut reader = BufReader::new(socket);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        head.push(line.trim_end().to_owned());
    }
    let header = |name: &str| {
        head.iter().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    };
    let mut violations = Vec::new();
    let mut request_line = head.first().map(|line| line.split_whitespace()).into_iter().flatten();
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    if method != "POST" {
        violations.push(format!("method {method}, not POST"));
    }
    if header("content-type").as_deref() != Some("application/json") {
        violations.push(format!("Content-Type {:?}", header("content-type")));
    }
    let length: usize = header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    if length > 1024 * 1024 {
        violations.push(format!("body of {length} bytes, over 1 MiB"));
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).await.is_err() {
        return;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
        violations.push(format!("body is not JSON: {e}"));
        Value::Null
    });
    check_report(&body, &mut violations);
    let answer = state.lock().unwrap().script.pop_front().unwrap_or(Answer::Accept);
    let status = match &answer {
        Answer::Accept | Answer::AcceptWith(_) => 202,
        Answer::Status(code, _, _) | Answer::Refuse(code, _, _) => *code,
        Answer::Hang => 0,
    };
    let post = Post { path, authorization: header("authorization"), body: body.clone(), status, violations };
    state.lock().unwrap().posts.push(post);
    seen.send_modify(|n| *n += 1);
    let mut socket = reader.into_inner();
    let answer_kind = answer.clone();
    let (extra, text) = match answer {
        Answer::Hang => {
            std::future::pending::<()>().await;
            return;
        }
        Answer::Accept | Answer::AcceptWith(_) => {
            let counts = body["counts"].as_array().map_or(0, Vec::len);
            let exposures = body["exposures"].as_array().map_or(0, Vec::len);
            let mut answer = serde_json::json!({"accepted": {"counts": counts, "exposures": exposures}});
            if let (Answer::AcceptWith(Value::Object(extra)), Value::Object(members)) = (&answer_kind, &mut answer) {
                members.extend(extra.clone());
            }
            (String::new(), answer.to_string())
        }
        Answer::Refuse(_, field, message) => (
            String::new(),
            serde_json::json!({"error": {"code": "invalid_field", "message": message, "field": field}}).to_string(),
        ),
        Answer::Status(_, retry_after, message) => (
            retry_after.map(|value| format!("Retry-After: {value}\r\n")).unwrap_or_default(),
            serde_json::json!({"error": {"code": "refused", "message": message}}).to_string(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n{text}",
        text.len()
    );
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}

/// Every way `body` breaks the wire format's request (unknown members are allowed).
pub fn check_report(body: &Value, violations: &mut Vec<String>) {
    let mut fail = |what: String| violations.push(what);
    let ascii = |value: &Value| {
        value.as_str().is_some_and(|s| (1..=64).contains(&s.len()) && s.bytes().all(|b| (0x20..0x7f).contains(&b)))
    };
    if !ascii(&body["sdk"]) {
        fail(format!("sdk: {}", body["sdk"]));
    }
    if !body["instance"].is_null() && !ascii(&body["instance"]) {
        fail(format!("instance: {}", body["instance"]));
    }
    if !body["batch"].is_null() && !ascii(&body["batch"]) {
        fail(format!("batch: {}", body["batch"]));
    }
    match (body["window"]["start_ms"].as_i64(), body["window"]["end_ms"].as_i64()) {
        (Some(start), Some(end)) if start <= end => {}
        _ => fail(format!("window: {}", body["window"])),
    }
    if !body["snapshot_version"].is_null() && !body["snapshot_version"].is_u64() {
        fail(format!("snapshot_version: {}", body["snapshot_version"]));
    }
    let text = |value: &Value| value.as_str().is_some_and(|s| !s.is_empty() && !s.chars().any(char::is_control));
    let positive = |value: &Value| value.as_u64().is_some_and(|n| n >= 1);
    // As `pennon serve` bounds them: names 256 bytes, rule and context texts 1,024, reasons 64.
    let short = |value: &Value, bytes: usize| value.as_str().is_none_or(|s| s.len() <= bytes);
    let counts = body["counts"].as_array().cloned().unwrap_or_else(|| {
        fail("counts: not an array".into());
        Vec::new()
    });
    if counts.len() > 10_000 {
        fail(format!("counts: {} entries, over 10,000", counts.len()));
    }
    for (i, count) in counts.iter().enumerate() {
        let named = text(&count["flag"]) && (count["variant"].is_null() || text(&count["variant"]));
        if !named || !short(&count["flag"], 256) || !short(&count["variant"], 256) {
            fail(format!("counts[{i}]: {count}"));
        }
        if !positive(&count["count"]) {
            fail(format!("counts[{i}].count: {count}"));
        }
    }
    for (i, entry) in body["flag_not_found"].as_array().into_iter().flatten().enumerate() {
        if !(entry["flag"].is_null() || text(&entry["flag"])) || !positive(&entry["count"]) {
            fail(format!("flag_not_found[{i}]: {entry}"));
        }
    }
    let exposures = body["exposures"].as_array().cloned().unwrap_or_default();
    if exposures.len() > 1_000 {
        fail(format!("exposures: {} entries, over 1,000", exposures.len()));
    }
    for (i, exposure) in exposures.iter().enumerate() {
        let required = ["flag", "variant", "reason"].iter().all(|name| text(&exposure[name]));
        // `pennon serve` refuses one from more than 7 days before its clock (here, the window's end).
        let week = 7 * 86_400_000;
        let end = body["window"]["end_ms"].as_i64().unwrap_or_default();
        let numbers = exposure["snapshot_version"].is_u64()
            && exposure["timestamp_ms"].as_i64().is_some_and(|at| at >= end - week);
        // Rule ids and context texts may be empty; `bucket_attribute` may not.
        let any_text = |value: &Value| value.as_str().is_some_and(|s| !s.chars().any(char::is_control));
        let optional = ["rule_id", "targeting_key", "bucket_value"]
            .iter()
            .all(|name| exposure.get(name).is_none() || any_text(&exposure[name]))
            && (exposure.get("bucket_attribute").is_none() || text(&exposure["bucket_attribute"]));
        let bounded =
            [("flag", 256), ("variant", 256), ("reason", 64), ("rule_id", 1_024), ("bucket_attribute", 1_024)]
                .into_iter()
                .chain([("targeting_key", 1_024), ("bucket_value", 1_024)])
                .all(|(name, bytes)| short(&exposure[name], bytes));
        if !(required && numbers && optional && bounded) {
            fail(format!("exposures[{i}]: {exposure}"));
        }
    }
    if !body["exposures_dropped"].is_null() && !body["exposures_dropped"].is_u64() {
        fail(format!("exposures_dropped: {}", body["exposures_dropped"]));
    }
}
