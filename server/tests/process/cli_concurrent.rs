//! Commands run while others change the same things: one-shot commands (enable,
//! disable, rollout, a segment's keys) re-apply what they state when a write lands
//! between their read and their write, edits of a document read earlier do not, and an
//! approver is told what to do with a change request overtaken by another change.

use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value as Json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::cli::{ok, pennon};
use crate::cli_configure::{serve, stderr, stdout, Cli};
use crate::common::{Api, Backend};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|arg| (*arg).to_owned()).collect()
}

/// `pennon ARGS` run at once, each its own process; their outputs in order.
async fn at_once(url: &str, token: &str, runs: &[Vec<String>]) -> Vec<Output> {
    let children = runs.iter().map(|args| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_pennon"))
            .env("PENNON_URL", url)
            .env("PENNON_TOKEN", token)
            .args(args)
            .output()
    });
    futures_util::future::join_all(children).await.into_iter().map(|output| output.expect("run pennon")).collect()
}

/// The trial's burst, 10 × (rollout + enable + disable) of one flag at once, and five
/// edits of one segment's keys besides: every one applies, none refused with a 412.
async fn one_shot_commands_apply_in_a_burst(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let (url, admin) = (server.url.clone(), server.admin());
    let cli = Cli { dir: dir.path(), url: url.clone(), token: admin.clone() };
    ok(&cli.run(&["flags", "create", "fx"]));
    ok(&cli.run(&["segments", "create", "beta", "--env", "development", "--include", "ann"]));
    let mut runs = Vec::new();
    for i in 0..10 {
        runs.push(args(&["flags", "rollout", "fx", &(i * 10).to_string(), "--env", "development"]));
        runs.push(args(&["flags", "enable", "fx", "--env", "development"]));
        runs.push(args(&["flags", "disable", "fx", "--env", "development"]));
    }
    for i in 0..5 {
        runs.push(args(&["segments", "update", "beta", "--env", "development", "--include", &format!("ann,user-{i}")]));
    }
    let outputs = at_once(&url, &admin, &runs).await;
    for (args, output) in runs.iter().zip(&outputs) {
        assert!(output.status.success(), "{args:?}: {}", stderr(output));
    }
    let rolled = outputs.iter().filter(|output| stdout(output).contains("% rolled out")).count();
    assert_eq!(rolled, 10);
    let included = Api::new(&url, &admin).get("/api/v1/environments/development/segments/beta").await.body;
    assert!(included["included"][1].as_str().unwrap().starts_with("user-"), "{included}");
    server.stop();
}

/// Approving a request whose change is in effect all the same (the same change
/// approved from another request) closes it, changing nothing; approving one
/// overtaken by another change says to reject it and have it proposed again.
async fn approvers_are_told_what_to_do_with_overtaken_requests(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let (url, admin) = (server.url.clone(), server.admin());
    let api = Api::new(&url, &admin);
    let cli = Cli { dir: dir.path(), url: url.clone(), token: admin.clone() };
    let token = |name: &'static str| {
        let api = api.clone();
        async move {
            let created = api.post("/api/v1/tokens", &json!({ "name": name, "role": "editor" })).await;
            created.body["token"].as_str().unwrap().to_owned()
        }
    };
    let (alice, bob) = (token("alice").await, token("bob").await);
    let run = |token: &str, args: &[&str]| pennon(dir.path(), &url, token, args);
    ok(&cli.run(&["flags", "create", "payments"]));
    let proposed = |output: Output| {
        assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
        let id = stdout(&output).split("change request ").nth(1).unwrap().split(';').next().unwrap().to_owned();
        id
    };

    let first = proposed(run(&alice, &["flags", "enable", "payments", "--env", "production"]));
    let second = proposed(run(&admin, &["flags", "enable", "payments", "--env", "production"]));
    ok(&run(&bob, &["change-requests", "approve", &first]));
    let version = api.version("production").await;
    let moot = ok(&run(&bob, &["change-requests", "approve", &second]));
    assert_eq!(
        moot,
        format!("approved change request {second}, whose change was already in effect: no change, nothing published\n")
    );
    assert_eq!(api.version("production").await, version, "nothing published");
    let listed: Json = serde_json::from_str(&ok(&run(&admin, &["change-requests", "get", &second, "--json"]))).unwrap();
    assert_eq!((&listed["status"], &listed["snapshot_version"]), (&json!("applied"), &Json::Null));

    let etag = api.get("/api/v1/environments/production/flags/payments").await.etag.unwrap();
    let rollout = proposed(run(&alice, &["flags", "rollout", "payments", "50", "--env", "production"]));
    let disable = proposed(run(&admin, &["flags", "disable", "payments", "--env", "production"]));
    ok(&run(&bob, &["change-requests", "approve", &disable]));
    let now = api.get("/api/v1/environments/production/flags/payments").await.etag.unwrap();
    let stale = run(&bob, &["change-requests", "approve", &rollout]);
    assert_eq!(stale.status.code(), Some(1), "{}", stderr(&stale));
    assert_eq!(
        stderr(&stale),
        format!(
            "error: the server refused (412 precondition_failed): change request {rollout} no longer applies: \
             `payments` in `production` changed after `alice` proposed it (ETag {etag} then, {now} now), and \
             approving it would overwrite that change unseen. Reject it (`pennon change-requests reject {rollout}`) \
             and, if its change is still wanted, ask `alice` to make it again from what is there now\n"
        )
    );
    ok(&run(&bob, &["change-requests", "reject", &rollout]));
    server.stop();
}

crate::on_both_backends!(one_shot_commands_apply_in_a_burst, approvers_are_told_what_to_do_with_overtaken_requests);

/// A server whose resource changes between every read and write: it answers each `GET`
/// with a new ETag and each write with 412. Returns its URL and the count of writes.
async fn always_changing() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let writes = Arc::new(AtomicUsize::new(0));
    let counted = writes.clone();
    tokio::spawn(async move {
        for read in 1.. {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let writes = counted.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0; 4096];
                // The head, then as much body as it announces.
                while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                    request.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&request).to_lowercase();
                    let Some(end) = text.find("\r\n\r\n") else { continue };
                    let length = text
                        .lines()
                        .find_map(|line| line.strip_prefix("content-length:"))
                        .map_or(0, |n| n.trim().parse::<usize>().unwrap());
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
                let (status, body) = if request.starts_with(b"GET ") {
                    ("200 OK", json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" } }))
                } else {
                    writes.fetch_add(1, Ordering::SeqCst);
                    let message = format!("the resource changed since you read it: its ETag is now \"r{read}\"");
                    (
                        "412 Precondition Failed",
                        json!({ "error": { "code": "precondition_failed", "message": message } }),
                    )
                };
                let body = body.to_string();
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\netag: \"r{read}\"\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, writes)
}

/// A one-shot command gives up after a bounded number of attempts, saying what
/// happened in words that fit (nobody read anything); a write under an ETag the user
/// holds (`--if-match`, a `get` document) is sent once and refused with the advice to
/// read it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_bounded_and_only_for_one_shot_commands() {
    let dir = tempfile::tempdir().unwrap();
    let (url, writes) = always_changing().await;
    let cli = Cli { dir: dir.path(), url: url.clone(), token: "any".to_owned() };
    let enable = at_once(&url, "any", &[args(&["flags", "enable", "fx", "--env", "development"])]).await.remove(0);
    assert_eq!(enable.status.code(), Some(1), "{}", stderr(&enable));
    assert_eq!(
        stderr(&enable),
        "error: the server refused (412 precondition_failed) 12 times: `fx` in `development` changed each time \
         between this command's read and its write, as others are changing it now; nothing was applied: run it \
         again\n"
    );
    assert_eq!(writes.swap(0, Ordering::SeqCst), 12);

    let config = cli.write("config.json", &json!({ "enabled": false }));
    let configure = args(&["flags", "configure", "fx", "--env", "development", "--file", &config, "--if-match", "r1"]);
    let held = at_once(&url, "any", &[configure]).await.remove(0);
    assert_eq!(held.status.code(), Some(1), "{}", stderr(&held));
    assert!(stderr(&held).contains("changed since you read ETag \"r1\""), "{}", stderr(&held));
    assert_eq!(writes.swap(0, Ordering::SeqCst), 1, "sent once");

    let document = json!({ "environment": "development", "etag": "\"r1\"", "segment": { "included": ["ann"] } });
    let document = cli.write("sg.json", &document);
    let update = args(&["segments", "update", "beta", "--env", "development", "--file", &document]);
    let held = at_once(&url, "any", &[update]).await.remove(0);
    assert_eq!(held.status.code(), Some(1), "{}", stderr(&held));
    assert!(stderr(&held).contains("run `pennon segments get beta --env development` again"), "{}", stderr(&held));
    assert_eq!(writes.load(Ordering::SeqCst), 1, "sent once");
}
