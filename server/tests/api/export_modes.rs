//! The export directory is kept from other users, as the data directory is: its server
//! snapshots hold every flag and segment. Before, it was 0755 with 0644 files.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{boolean_flag, Backend, Server, PATIENCE};

/// The process's umask, which takes permissions away from every mode asked for.
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find_map(|line| line.strip_prefix("Umask:")).expect("a Umask line");
    u32::from_str_radix(line.trim(), 8).unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every directory and file under `root`, but `root` itself.
fn everything_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            found.push(path);
        }
    }
    found
}

/// Starts a server exporting to `dir` (made beforehand with `dir_mode`), publishes a
/// flag, and waits until the client's `latest.json`, written last, holds it.
async fn export_into(backend: &Backend, dir: &Path, dir_mode: u32) -> Server {
    std::fs::create_dir(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(dir_mode)).unwrap();
    let export = dir.to_path_buf();
    let server = Server::start_with(backend, move |c| c.export_dir = Some(export)).await;
    boolean_flag(&server.admin(), "exported", true).await;
    let version = server.admin().version("development").await;
    let latest = dir.join("development/client/latest.json");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while std::fs::read(&latest).ok().map(|l| crate::common::payload_of(&l)["version"].as_u64()) != Some(Some(version))
    {
        assert!(tokio::time::Instant::now() < deadline, "version {version} was not exported");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server
}

async fn the_export_is_kept_from_other_users(backend: Backend) {
    let umask = umask();
    let root = tempfile::tempdir().unwrap();

    // Made beforehand with the usual umask: closed to others, everything in it private.
    let open = root.path().join("open");
    let server = export_into(&backend, &open, 0o755).await;
    assert_eq!(mode(&open), 0o700, "the directory is {:04o}", mode(&open));
    let written = everything_under(&open);
    assert!(written.iter().any(|p| p.ends_with("keys.json")) && written.len() > 8, "{written:?}");
    for path in &written {
        let expected = if path.is_dir() { 0o700 } else { 0o600 } & !umask;
        assert_eq!(mode(path), expected, "{} is {:04o}", path.display(), mode(path));
    }
    server.stop().await;

    // Shared with its group alone (a web server in it serves the files): kept, and what
    // is written is readable by the group, by no one else.
    let shared = root.path().join("shared");
    let server = export_into(&backend, &shared, 0o750).await;
    assert_eq!(mode(&shared), 0o750, "the directory is {:04o}", mode(&shared));
    for path in everything_under(&shared) {
        let expected = if path.is_dir() { 0o750 } else { 0o640 } & !umask;
        assert_eq!(mode(&path), expected, "{} is {:04o}", path.display(), mode(&path));
    }
    server.stop().await;

    // Created by the server: 0700.
    let created = root.path().join("created/export");
    let export = created.clone();
    let server = Server::start_with(&backend, move |c| c.export_dir = Some(export)).await;
    assert_eq!(mode(&created), 0o700 & !umask, "the directory is {:04o}", mode(&created));
    server.stop().await;
}

crate::on_both_backends!(the_export_is_kept_from_other_users);
