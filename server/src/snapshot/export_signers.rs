//! Who signed what an export directory already holds, read before a start publishes
//! there: a new deployment pointed at another's directory (or one whose key was lost)
//! would otherwise put its snapshots over theirs, signed by a key their clients do not
//! trust, and a client starting cold would then have nothing it can verify.

use std::path::Path;

use serde::Deserialize;

/// The key ids that signed each environment's newest exported snapshot, as
/// `(environment, "id1,id2")`: the server snapshot's, else the client's. Files that
/// cannot be read as envelopes are left out (the next export replaces them).
pub(crate) fn export_signers(dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut signers: Vec<(String, String)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let env = entry.file_name().into_string().ok()?;
            let ids =
                ["server", "client"].iter().find_map(|kind| signed_by(&entry.path().join(kind).join("latest.json")))?;
            Some((env, ids))
        })
        .collect();
    signers.sort();
    signers
}

/// The key ids of the envelope in `file`, comma-separated; `None` when it holds none.
fn signed_by(file: &Path) -> Option<String> {
    #[derive(Deserialize)]
    struct Envelope {
        signatures: Vec<Signature>,
    }
    #[derive(Deserialize)]
    struct Signature {
        keyid: String,
    }
    let envelope: Envelope = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    let ids: Vec<String> = envelope.signatures.into_iter().map(|s| s.keyid).collect();
    (!ids.is_empty()).then(|| ids.join(","))
}

#[cfg(test)]
mod tests {
    use super::export_signers;

    #[test]
    fn reads_the_newest_snapshots_signers_per_environment() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("production/server/latest.json", r#"{"signatures":[{"keyid":"aa","sig":"x"},{"keyid":"bb"}]}"#);
        write("staging/client/latest.json", r#"{"signatures":[{"keyid":"cc"}]}"#);
        write("broken/server/latest.json", "not json");
        write("keys.json", "{}");
        assert_eq!(
            export_signers(dir.path()),
            [("production".to_owned(), "aa,bb".to_owned()), ("staging".to_owned(), "cc".to_owned())]
        );
        assert!(export_signers(&dir.path().join("missing")).is_empty());
    }
}
