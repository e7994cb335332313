//! Two exporters sharing one directory, as instances sharing an export volume do.
//! Each has its own in-process mutex, as separate processes would; in one process they
//! also share a process id, as containers (all process 1) do.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::Exporter;
use crate::model::SdkKind;
use crate::snapshot::Served;

fn served(version: u64) -> Served {
    let body = format!("{{\"version\":{version},\"padding\":\"{}\"}}", "x".repeat(64 * 1024));
    Served { version, etag: format!("\"{version}\""), body: body.into() }
}

fn version_in(path: &Path) -> Result<u64, String> {
    let text = std::fs::read(path).map_err(|e| e.to_string())?;
    let json: serde_json::Value = serde_json::from_slice(&text).map_err(|e| format!("{e} ({} bytes)", text.len()))?;
    json["version"].as_u64().ok_or_else(|| "no version".to_owned())
}

#[test]
fn exporters_sharing_a_directory_write_whole_files_and_latest_only_moves_forward() {
    let dir = tempfile::tempdir().unwrap();
    let exporters = [Exporter::new(dir.path().to_owned()).unwrap(), Exporter::new(dir.path().to_owned()).unwrap()];
    let latest = dir.path().join("production/server/latest.json");
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (latest, done) = (latest.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            let (mut reads, mut highest) = (0, 0);
            while !done.load(Ordering::Relaxed) {
                if let Ok(text) = std::fs::metadata(&latest).map(|_| version_in(&latest)) {
                    let version = text.unwrap_or_else(|e| panic!("latest.json read torn: {e}"));
                    assert!(version >= highest, "latest.json went back from {highest} to {version}");
                    (reads, highest) = (reads + 1, version);
                }
            }
            reads
        })
    };
    // Both exporters write every version, in the order each learns of them: as instances
    // do with their own commits and those announced by the other.
    let writers: Vec<_> = exporters
        .into_iter()
        .map(|exporter| {
            std::thread::spawn(move || {
                for version in 1..=200 {
                    exporter.write("production", SdkKind::Server, &served(version)).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    for version in 1..=200 {
        assert_eq!(version_in(&dir.path().join(format!("production/server/{version}.json"))), Ok(version));
    }
    assert_eq!(version_in(&latest), Ok(200));
    let stray: Vec<_> = std::fs::read_dir(dir.path().join("production/server"))
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.contains(".tmp"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
}

/// A peer stuck holding the directory's lock (a paused container) holds up an export
/// for at most its patience: the files are then written without the lock.
#[test]
fn a_stuck_lock_holder_delays_an_export_only_briefly() {
    let dir = tempfile::tempdir().unwrap();
    let exporter = Exporter::new(dir.path().to_owned()).unwrap();
    exporter.write("production", SdkKind::Server, &served(1)).unwrap();
    let holder = std::fs::File::open(dir.path().join("production/server/.lock")).unwrap();
    holder.lock().unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        done.send(exporter.write("production", SdkKind::Server, &served(2)).map_err(|e| e.to_string()))
    });
    let outcome =
        finished.recv_timeout(std::time::Duration::from_secs(10)).expect("the export went on without the lock");
    assert_eq!(outcome, Ok(()));
    assert_eq!(version_in(&dir.path().join("production/server/latest.json")), Ok(2));
    drop(holder);
}
