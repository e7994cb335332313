//! Files written whole or not at all, and kept from other users.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file and a rename, so readers see the
/// old file or the new one, never half of one. The temporary name is random: instances
/// in containers sharing the directory are all process 1. The file's mode is 0666
/// less the umask, as for any new file.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_file_with_mode(path, bytes, 0o666)
}

/// [`replace_file`], creating the file with `mode` (less the umask, which can only take
/// permissions away).
pub(crate) fn replace_file_with_mode(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let unique = crate::clock::random_bytes::<8>().map_err(std::io::Error::other)?;
    let tmp = path.with_extension(format!("tmp-{}", crate::clock::hex(&unique)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true).mode(mode);
    let written = options.open(&tmp).and_then(|mut file| {
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

/// Makes the data directory its owner's alone (0700) if it is open to others: it holds
/// the database (every flag, segment, audit entry and snapshot) and usually the signing
/// key. A directory created beforehand (`mkdir`, mode 0755 under the usual umask) kept
/// its mode, as creating one that exists changes nothing.
pub(crate) fn keep_private(dir: &Path) {
    let Ok(metadata) = std::fs::metadata(dir) else { return };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return;
    }
    match std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
        Ok(()) => tracing::warn!(
            "data directory `{}` was mode {mode:04o}, open to other users; it is now 0700",
            dir.display()
        ),
        Err(e) => tracing::warn!(
            "data directory `{}` is mode {mode:04o}, open to other users, and cannot be made 0700: {e}",
            dir.display()
        ),
    }
}

/// Warns when a signing key can be read by users other than its owner. Not refused, as
/// OpenSSH refuses such keys: secrets mounted in containers are often 0644 by default,
/// where no other user exists.
pub(crate) fn warn_if_shared(key: &Path) {
    let Ok(metadata) = std::fs::metadata(key) else { return };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            "signing key `{}` is mode {mode:04o}: users other than its owner can read it and sign snapshots \
             every client trusts; `chmod 600` it",
            key.display()
        );
    }
}
