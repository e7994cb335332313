//! A small HTTP/1.1 server on 127.0.0.1 whose faults the test controls.
//!
//! `GET /snapshot` serves the published envelope with an ETag (304 on a matching
//! `If-None-Match`), or with a `Last-Modified` date (304 on a matching
//! `If-Modified-Since`), or misbehaves as `Mode` says; `GET /events` is a
//! server-sent-events stream fed by [`TestServer::notify`]. One request per connection.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};

/// How `/snapshot` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The envelope, with `Content-Length`.
    Serve,
    /// The envelope, chunked, with no `Content-Length`.
    ServeChunked,
    /// This status code and a short body.
    Status(u16),
    /// This status code with `Retry-After` of this many seconds (a busy server).
    Busy(u16, u64),
    /// Accepts the request and never answers.
    Hang,
    /// Announces the whole length, sends half the body, closes.
    Truncate,
    /// Sends the body one byte every 50 ms.
    Slow,
    /// Redirects (302) to `/snapshot` at this address: another origin.
    RedirectTo(SocketAddr),
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    /// Every header line, as sent.
    pub headers: Vec<String>,
    /// The status sent, 0 when no status line was sent.
    pub status: u16,
    /// The publication the answer was about.
    pub generation: u64,
    /// Bytes of body sent.
    pub body_bytes: usize,
}

/// The validators `/snapshot` sends: an ETag, a `Last-Modified` date, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validators {
    pub etag: bool,
    pub last_modified: bool,
}

struct State {
    envelope: Vec<u8>,
    generation: u64,
    mode: Mode,
    validators: Validators,
    /// While set, `/events` answers this status with this `Retry-After`, as a server at
    /// its stream cap does.
    stream_refusal: Option<(u16, String)>,
    requests: Vec<Request>,
}

pub struct TestServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    /// Text written to every open stream.
    events: broadcast::Sender<String>,
    /// Bumped to close every open stream.
    close_streams: watch::Sender<u64>,
    /// Streams opened so far.
    streams: Arc<watch::Sender<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            envelope: Vec::new(),
            generation: 0,
            mode: Mode::Serve,
            validators: Validators { etag: true, last_modified: false },
            stream_refusal: None,
            requests: vec![],
        }));
        let (events, _) = broadcast::channel(64);
        let (close_streams, _) = watch::channel(0);
        let streams = Arc::new(watch::channel(0).0);
        let conn = Conn {
            state: state.clone(),
            events: events.clone(),
            close: close_streams.subscribe(),
            streams: streams.clone(),
        };
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                tokio::spawn(conn.clone().handle(socket));
            }
        });
        TestServer { addr, state, events, close_streams, streams, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Serves `envelope` from now on, under a new ETag. Returns its generation.
    pub fn publish(&self, envelope: &[u8]) -> u64 {
        let mut state = self.state.lock().unwrap();
        state.envelope = envelope.to_vec();
        state.generation += 1;
        state.generation
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    /// Which validators `/snapshot` sends (by default an ETag only).
    pub fn set_validators(&self, validators: Validators) {
        self.state.lock().unwrap().validators = validators;
    }

    /// The `Last-Modified` date of publication `generation`: a minute apart each.
    pub fn last_modified(generation: u64) -> String {
        httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600 + generation * 60))
    }

    /// Refuses new streams with `status` and `Retry-After: retry_after` (`None`: accepts
    /// them again).
    pub fn refuse_streams(&self, refusal: Option<(u16, &str)>) {
        self.state.lock().unwrap().stream_refusal = refusal.map(|(status, wait)| (status, wait.to_owned()));
    }

    /// Sends one event (`data: ...`) to every open stream.
    pub fn notify(&self, data: &str) {
        let _ = self.events.send(format!("data: {data}\n\n"));
    }

    /// Writes `text` as it is to every open stream (several events at once, say).
    pub fn notify_raw(&self, text: String) {
        let _ = self.events.send(text);
    }

    /// Closes every open stream.
    pub fn drop_streams(&self) {
        self.close_streams.send_modify(|n| *n += 1);
    }

    /// Waits until at least `n` streams were opened in total (5 s at most).
    pub async fn wait_streams(&self, n: usize) {
        let mut streams = self.streams.subscribe();
        let waited = tokio::time::timeout(Duration::from_secs(5), streams.wait_for(|&opened| opened >= n)).await;
        assert!(waited.is_ok(), "expected {n} stream connection(s) within 5 s, saw {}", *self.streams.borrow());
    }

    pub fn requests(&self, path: &str) -> Vec<Request> {
        self.state.lock().unwrap().requests.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Waits until `count` snapshot requests have been answered about `generation`.
    pub async fn wait_requests(&self, generation: u64, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let seen =
                self.requests("/snapshot").iter().filter(|r| r.generation == generation && r.status != 0).count();
            if seen >= count {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "expected {count} requests about generation {generation}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[derive(Clone)]
struct Conn {
    state: Arc<Mutex<State>>,
    events: broadcast::Sender<String>,
    close: watch::Receiver<u64>,
    streams: Arc<watch::Sender<usize>>,
}

impl Conn {
    async fn handle(mut self, socket: TcpStream) {
        let mut reader = BufReader::new(socket);
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            head.push(line.trim_end().to_owned());
        }
        let path = head.first().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("/").to_owned();
        let header = |wanted: &str| {
            head.iter().find_map(|h| {
                let (name, value) = h.split_once(':')?;
                name.eq_ignore_ascii_case(wanted).then(|| value.trim().to_owned())
            })
        };
        let (if_none_match, if_modified_since) = (header("if-none-match"), header("if-modified-since"));
        let mut socket = reader.into_inner();
        let refusal = self.state.lock().unwrap().stream_refusal.clone();
        match (path.as_str(), refusal) {
            ("/events", Some((status, wait))) => {
                self.state.lock().unwrap().requests.push(Request {
                    path,
                    if_none_match,
                    if_modified_since,
                    headers: head,
                    status,
                    generation: 0,
                    body_bytes: 0,
                });
                let body = br#"{"error": {"code": "too_many_streams", "message": "this SDK key has 2 streams open"}}"#;
                let head = format!(
                    "HTTP/1.1 {status} X\r\nConnection: close\r\nRetry-After: {wait}\r\n\
                     Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(&[head.as_bytes(), body].concat()).await;
                let _ = socket.shutdown().await;
                return;
            }
            ("/events", None) => {
                self.stream(socket).await;
                return;
            }
            _ => {}
        }
        let (mode, envelope, generation, validators) = {
            let state = self.state.lock().unwrap();
            (state.mode, state.envelope.clone(), state.generation, state.validators)
        };
        let etag = format!("\"g{generation}\"");
        let date = TestServer::last_modified(generation);
        // RFC 9110 13.2.2: If-None-Match first; If-Modified-Since only without it.
        let unmodified = match (&if_none_match, &if_modified_since) {
            (Some(tag), _) => validators.etag && *tag == etag,
            (None, Some(since)) => validators.last_modified && *since == date,
            (None, None) => false,
        };
        let status = match (path.as_str(), mode) {
            ("/snapshot", Mode::Hang) => 0,
            ("/snapshot", Mode::Status(code) | Mode::Busy(code, _)) => code,
            ("/snapshot", Mode::RedirectTo(_)) => 302,
            ("/snapshot", _) if unmodified => 304,
            ("/snapshot", _) => 200,
            _ => 404,
        };
        let headers = head.iter().skip(1).cloned().collect();
        let body_bytes = if status == 200 { envelope.len() } else { 0 };
        let request =
            Request { path: path.clone(), if_none_match, if_modified_since, headers, status, generation, body_bytes };
        self.state.lock().unwrap().requests.push(request);
        let mut shown = String::new();
        if validators.etag {
            shown.push_str(&format!("ETag: {etag}\r\n"));
        }
        if validators.last_modified {
            shown.push_str(&format!("Last-Modified: {date}\r\n"));
        }
        let head = |status: u16, extra: &str| {
            format!("HTTP/1.1 {status} X\r\nConnection: close\r\n{shown}{extra}\r\n").into_bytes()
        };
        let _ = match (status, mode) {
            (0, _) => {
                std::future::pending::<()>().await;
                Ok(())
            }
            (304, _) => socket.write_all(&head(304, "")).await,
            (302, Mode::RedirectTo(to)) => {
                socket.write_all(&head(302, &format!("Location: http://{to}/snapshot\r\nContent-Length: 0\r\n"))).await
            }
            (200, Mode::ServeChunked) => {
                let mut out = head(200, "Transfer-Encoding: chunked\r\n");
                for chunk in envelope.chunks(1024) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
                socket.write_all(&out).await
            }
            (200, Mode::Truncate) => {
                let mut out = head(200, &format!("Content-Length: {}\r\n", envelope.len()));
                out.extend_from_slice(&envelope[..envelope.len() / 2]);
                socket.write_all(&out).await
            }
            (200, Mode::Slow) => {
                let _ = socket.write_all(&head(200, &format!("Content-Length: {}\r\n", envelope.len()))).await;
                for byte in &envelope {
                    if socket.write_all(&[*byte]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok(())
            }
            (200, _) => {
                let mut out = head(200, &format!("Content-Length: {}\r\n", envelope.len()));
                out.extend_from_slice(&envelope);
                socket.write_all(&out).await
            }
            (code, mode) => {
                // As `pennon serve` refuses.
                let body = br#"{"error": {"code": "refused", "message": "the server\nsays no"}}"#;
                let wait = match mode {
                    Mode::Busy(_, seconds) => format!("Retry-After: {seconds}\r\n"),
                    _ => String::new(),
                };
                let mut out =
                    head(code, &format!("Content-Type: application/json\r\nContent-Length: {}\r\n{wait}", body.len()));
                out.extend_from_slice(body);
                socket.write_all(&out).await
            }
        };
        let _ = socket.shutdown().await;
    }

    async fn stream(&mut self, mut socket: TcpStream) {
        let mut events = self.events.subscribe();
        self.close.borrow_and_update();
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        self.state.lock().unwrap().requests.push(Request {
            path: "/events".into(),
            if_none_match: None,
            if_modified_since: None,
            headers: vec![],
            status: 200,
            generation: 0,
            body_bytes: 0,
        });
        self.streams.send_modify(|n| *n += 1);
        loop {
            tokio::select! {
                event = events.recv() => {
                    let Ok(text) = event else { return };
                    if socket.write_all(text.as_bytes()).await.is_err() {
                        return;
                    }
                }
                _ = self.close.changed() => return,
            }
        }
    }
}
