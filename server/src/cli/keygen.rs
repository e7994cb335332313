//! `pennon keygen`: a new Ed25519 key pair, written as `pennon-<keyid>.key` (mode 0600)
//! and `pennon-<keyid>.pub`.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use pennon_core::SigningKey;

use super::{note, print_line, Failure};

/// Arguments of `pennon keygen`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The directory to write the key pair into; created (mode 0700) if missing.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
}

/// Creates the key pair, writes both files and prints the key id and public key.
pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| Failure::Usage(format!("cannot get random bytes from the operating system: {e}")))?;
    let key = SigningKey::from_seed(seed);
    seed.fill(0);

    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&args.out)
        .map_err(|e| Failure::Usage(format!("cannot create directory `{}`: {e}", args.out.display())))?;
    let public = key.public_key();
    let id = public.key_id();
    let private_path = args.out.join(format!("pennon-{id}.key"));
    let public_path = args.out.join(format!("pennon-{id}.pub"));

    write_private(&private_path, &key)?;
    // A new file too: in a directory others can write, a `.pub` planted before this
    // write (or a symlink) would otherwise take the key clients are told to trust.
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&public_path)
        .and_then(|mut file| file.write_all(format!("{}\n", public.to_text()).as_bytes()));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&private_path);
        Failure::Usage(format!("cannot create `{}` (nothing was kept): {e}", public_path.display()))
    })?;

    print_line(&format!("key id: {id}\npublic key: {}", public.to_text()))?;
    note(&format!("wrote {} (private key, mode 0600: keep it secret)", private_path.display()));
    note(&format!("wrote {} (public key: give it to clients as --trusted-key)", public_path.display()));
    Ok(())
}

/// Writes the private key to a new file with mode 0600; an existing file is never
/// overwritten.
fn write_private(path: &Path, key: &SigningKey) -> Result<(), Failure> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::Usage(format!("`{}` already exists; refusing to overwrite a private key", path.display()))
        } else {
            Failure::Usage(format!("cannot create `{}`: {e}", path.display()))
        }
    })?;
    let written = file.write_all(format!("{}\n", key.to_text()).as_bytes()).and_then(|()| file.sync_all());
    written.map_err(|e| {
        // Leave no half-written key behind.
        let _ = std::fs::remove_file(path);
        Failure::Usage(format!("cannot write `{}`: {e}", path.display()))
    })
}
