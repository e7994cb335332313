//! The file source: an envelope file polled for changes.
//!
//! Polling the file's metadata is portable and cheap, and it sees the atomic renames
//! that deployment tools (and `pennon sign --out`) use, where a watch on the old inode
//! would not. A file written in place may be read half-written: that read is refused
//! (it does not verify) and the next poll reads it whole.

use std::io::Read as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::{blocking, FirstAttempt};
use crate::state::Shared;

/// What identifies one version of the file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn stamp(metadata: &std::fs::Metadata) -> Stamp {
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(metadata);
    #[cfg(not(unix))]
    let inode = 0;
    Stamp { len: metadata.len(), modified: metadata.modified().ok(), inode }
}

#[derive(Debug)]
enum Read {
    Unchanged,
    Changed(Stamp, Vec<u8>),
    Failed(String),
}

/// Polls `path` every `file_poll_interval` (and at once on a notification) until
/// cancelled. An unchanged file repeats its last outcome silently.
pub(crate) async fn poll(shared: Arc<Shared>, path: PathBuf, mut first: FirstAttempt) {
    let source: Arc<str> = format!("file {}", path.display()).into();
    let mut last: Option<(Stamp, bool)> = None;
    let mut announcements = shared.announce.subscribe();
    loop {
        let known = last.as_ref().map(|(stamp, _)| stamp.clone());
        let (max, file) = (shared.config.max_bytes, path.clone());
        let read = blocking(&shared, move |_| read_if_changed(&file, known.as_ref(), max))
            .await
            .unwrap_or_else(|| Read::Failed("the read task was cancelled".into()));
        match read {
            Read::Unchanged => {
                if last.as_ref().is_some_and(|(_, ok)| *ok) {
                    shared.record_success(&source);
                }
            }
            Read::Changed(stamp, bytes) => {
                let label = source.clone();
                let ok = blocking(&shared, move |shared| shared.offer_and_cache(&label, &bytes).is_ok())
                    .await
                    .unwrap_or(false);
                last = Some((stamp, ok));
            }
            Read::Failed(reason) => {
                shared.record_failure(&source, reason);
                last = None;
            }
        }
        first.done();
        tokio::select! {
            () = tokio::time::sleep(shared.config.file_poll_interval) => {}
            _ = announcements.changed() => {}
        }
    }
}

fn read_if_changed(path: &std::path::Path, known: Option<&Stamp>, max: usize) -> Read {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) => return Read::Failed(format!("cannot read the file: {e}")),
    };
    let current = stamp(&metadata);
    if known == Some(&current) {
        return Read::Unchanged;
    }
    if usize::try_from(current.len).map_or(true, |len| len > max) {
        return Read::Failed(format!("the file is {} bytes, over the cap of {max} bytes", current.len));
    }
    // The length can change after `metadata` (a file being written, a FIFO): the read
    // itself stops one byte past the cap, so nothing larger is ever buffered.
    let mut bytes = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    match std::fs::File::open(path).and_then(|file| file.take(limit).read_to_end(&mut bytes)) {
        Ok(_) if bytes.len() > max => Read::Failed(format!("the file grew past the cap of {max} bytes while read")),
        Ok(_) => Read::Changed(current, bytes),
        Err(e) => Read::Failed(format!("cannot read the file: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FIFO reports length 0, then streams as much as its writer sends: the read stops
    /// one byte past the cap instead of buffering it all.
    #[cfg(unix)]
    #[test]
    fn a_file_growing_past_the_cap_while_read_is_refused_unbuffered() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("envelope.fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut file = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
                let chunk = vec![b'x'; 64 * 1024];
                // Stops with an error once the reader has gone: it never drained 64 MiB.
                (0..1024).take_while(|_| std::io::Write::write_all(&mut file, &chunk).is_ok()).count()
            })
        };
        let read = read_if_changed(&fifo, None, 4096);
        assert!(matches!(&read, Read::Failed(why) if why.contains("grew past the cap of 4096")), "{read:?}");
        assert!(writer.join().unwrap() < 1024, "the whole stream was read");
    }
}
