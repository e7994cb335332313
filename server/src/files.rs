//! Files written whole or not at all.

use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file and a rename, so readers see the
/// old file or the new one, never half of one. The temporary name is random: instances
/// in containers sharing the directory are all process 1.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let unique = crate::clock::random_bytes::<8>().map_err(std::io::Error::other)?;
    let tmp = path.with_extension(format!("tmp-{}", crate::clock::hex(&unique)));
    let written = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp); // nothing to clean when it was never created
            Err(e)
        }
    }
}
