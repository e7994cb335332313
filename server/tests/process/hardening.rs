//! What a security review asked of a running server: refused credentials are logged,
//! and its files are kept from other users.

use std::os::unix::fs::PermissionsExt as _;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::Api;
use crate::proc::{spawn, spawn_under};

#[tokio::test]
async fn refused_credentials_are_logged_without_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let (admin, sdk) = (server.admin(), server.sdk());
    let unknown = format!("{}x", &admin[..admin.len() - 1]);
    assert_eq!(Api::new(&server.url, &unknown).get("/api/v1/flags").await.status, 401);
    assert_eq!(Api::new(&server.url, &sdk).get("/v1/snapshots/production").await.status, 403);
    assert_eq!(Api::new(&server.url, "").get("/api/v1/audit?limit=1").await.status, 401);
    assert_eq!(Api::new(&server.url, &admin).get("/api/v1/flags").await.status, 200);
    server.stop();

    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    let refusals: Vec<&str> = log.lines().filter(|line| line.contains("refused ")).collect();
    assert_eq!(refusals.len(), 3, "one line per refusal, none for the success:\n{log}");
    let expected = [
        "refused GET /api/v1/flags from 127.0.0.1:".to_owned(),
        format!("with {}…: unknown or revoked API token", &unknown[..10]),
        "refused GET /v1/snapshots/production from 127.0.0.1:".to_owned(),
        format!("with {}…: ", &sdk[..10]),
        "refused GET /api/v1/audit from 127.0.0.1:".to_owned(),
        "with no credentials: send an API token".to_owned(),
    ];
    for part in expected {
        assert!(log.contains(&part), "the log lacks {part:?}:\n{log}");
    }
    for secret in [&unknown, &sdk, &admin] {
        assert!(!log.contains(secret.as_str()), "a secret is in the log:\n{log}");
    }
}

/// A data directory made beforehand with the usual umask (0755) is made 0700; a
/// signing key others can read is named in a warning; a symbolic link planted where
/// `signing.pub` goes is replaced, not followed.
#[tokio::test]
async fn files_are_kept_from_other_users() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pennon-data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me\n").unwrap();
    std::os::unix::fs::symlink(&victim, data.join("signing.pub")).unwrap();

    let server = spawn(dir.path(), &[], &[]);
    server.stop();
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    let public = std::fs::read_to_string(data.join("signing.pub")).unwrap();
    assert!(public.starts_with("ed25519:"), "{public}");
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("was mode 0755, open to other users; it is now 0700"), "{log}");

    let key = data.join("signing.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let again = spawn(dir.path(), &[], &[]);
    again.stop();
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("signing key `pennon-data/signing.key` is mode 0644: users other than its owner"), "{log}");
}

/// Started with a soft open-file limit of 256 (systemd's default is 1,024), the server
/// raises it to the hard limit: every stream holds a descriptor.
#[tokio::test]
async fn the_open_file_limit_is_raised_to_the_hard_limit() {
    let dir = tempfile::tempdir().unwrap();
    let hard = std::fs::read_to_string("/proc/self/limits").unwrap();
    let limits = |text: &str| -> (String, String) {
        let line = text.lines().find(|line| line.starts_with("Max open files")).unwrap().to_owned();
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields[3].to_owned(), fields[4].to_owned())
    };
    let (_, hard) = limits(&hard);
    let soft = format!("--nofile=256:{hard}");
    let server = spawn_under(&["prlimit", &soft], dir.path(), &[], &[]);
    let theirs = std::fs::read_to_string(format!("/proc/{}/limits", server.child.id())).unwrap();
    assert_eq!(limits(&theirs), (hard.clone(), hard));
    server.stop();
}

/// Under an open-file limit of 600, `--max-streams` (10,000 by default) is lowered to
/// the 300 the limit leaves after its reserve, with a warning, and the 301st stream is
/// refused (503) instead of taking the descriptors every other request needs.
#[tokio::test]
async fn the_stream_cap_fits_the_open_file_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_under(&["prlimit", "--nofile=600:600"], dir.path(), &["--heartbeat", "60s"], &[]);
    let (sdk, address) = (server.sdk(), server.url.trim_start_matches("http://").to_owned());
    let request =
        format!("GET /v1/stream/development HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {sdk}\r\n\r\n");
    let mut streams = Vec::new();
    for _ in 0..300 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        assert!(status_line(&mut stream).await.starts_with("HTTP/1.1 200 "));
        streams.push(stream);
    }
    let mut over = tokio::net::TcpStream::connect(&address).await.unwrap();
    over.write_all(request.as_bytes()).await.unwrap();
    let refused = status_line(&mut over).await;
    assert!(refused.starts_with("HTTP/1.1 503 "), "{refused}");
    assert_eq!(Api::new(&server.url, &server.admin()).get("/api/v1/flags").await.status, 200, "the admin API answers");
    drop(streams);
    server.stop();
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    let expected = "--max-streams 10000 is more than the open-file limit of 600 leaves for streams after 300 for \
                    everything else; streams are capped at 300";
    assert!(log.contains(expected), "{log}");
}

/// The first line of an answer on `stream`.
async fn status_line(stream: &mut tokio::net::TcpStream) -> String {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n") {
        let read = tokio::time::timeout(crate::common::PATIENCE, stream.read(&mut byte)).await;
        match read.expect("an answer in time").expect("a read") {
            0 => break,
            _ => seen.push(byte[0]),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}
