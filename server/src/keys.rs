//! Signing keys: from files or the environment, never from the database; generated
//! into the data directory on a first run when none is configured.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use pennon_core::{PublicKey, SigningKey};

use crate::Config;

/// The keys a server signs with and the public keys it publishes.
#[derive(Debug)]
pub struct KeyRing {
    /// Every snapshot is signed by all of these (two during a rotation).
    pub signing: Vec<SigningKey>,
    /// Public keys published at `/v1/keys` besides the signing keys' own.
    pub published: Vec<PublicKey>,
    /// Where a key was generated on this start, if one was.
    pub generated: Option<PathBuf>,
    /// Where the signing keys came from, for the start-up message.
    pub source: String,
}

/// The file a first run generates its key into.
pub const GENERATED_KEY_FILE: &str = "signing.key";

impl KeyRing {
    /// Loads the keys `config` names: `--signing-key` files, else `PENNON_SIGNING_KEY`,
    /// else `DATA_DIR/signing.key`, which is created (mode 0600) when missing unless
    /// `signed_in` names where snapshots signed by an earlier key are (this database, an
    /// export directory): clients verify those with that key, so a new one would be
    /// refused by all of them.
    pub fn load(config: &Config, signed_in: Option<&str>) -> Result<KeyRing, String> {
        let mut signing: Vec<SigningKey> = Vec::new();
        let mut generated = None;
        let source;
        if !config.signing_key_files.is_empty() {
            for path in &config.signing_key_files {
                signing.push(read_key(path)?);
            }
            source = "--signing-key".to_owned();
        } else if let Some(text) = config.signing_key_text.as_deref() {
            // Set but empty (a secret store that injected nothing) is a mistake, not a
            // wish for the data directory's key.
            if text.trim().is_empty() {
                return Err("PENNON_SIGNING_KEY is set but empty: give the key, or unset it to use the \
                            data directory's signing.key"
                    .to_owned());
            }
            for part in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()) {
                signing.push(
                    SigningKey::parse(part)
                        .map_err(|e| format!("PENNON_SIGNING_KEY: {e} (expected ed25519-private:...)"))?,
                );
            }
            source = "PENNON_SIGNING_KEY".to_owned();
        } else {
            let path = config.data_dir.join(GENERATED_KEY_FILE);
            if !path.exists() {
                if let Some(signed_in) = signed_in {
                    return Err(format!(
                        "no signing key is configured and `{}` is missing, but {signed_in} holds snapshots that \
                         clients verify with its key: restore the file (or give the key with --signing-key or \
                         PENNON_SIGNING_KEY). To start over with a new key, after giving clients its public half, \
                         pass --replace-signing-key",
                        path.display()
                    ));
                }
                generate(&path)?;
                generated = Some(path.clone());
            }
            signing.push(read_key(&path)?);
            source = path.display().to_string();
        }
        let mut unique: Vec<SigningKey> = Vec::new();
        for key in signing {
            if !unique.iter().any(|k| k.public_key().key_id() == key.public_key().key_id()) {
                unique.push(key);
            }
        }
        let published = config
            .published_keys
            .iter()
            .filter(|p| !unique.iter().any(|k| k.public_key().key_id() == p.key_id()))
            .cloned()
            .collect();
        Ok(KeyRing { signing: unique, published, generated, source })
    }

    /// A ring of the given keys (for tests and embedding).
    pub fn from_keys(signing: Vec<SigningKey>, published: Vec<PublicKey>) -> KeyRing {
        KeyRing { signing, published, generated: None, source: "given".into() }
    }

    /// The signing keys' ids, comma-separated, as stored with each snapshot.
    pub fn key_ids(&self) -> String {
        self.signing.iter().map(|k| k.public_key().key_id()).collect::<Vec<_>>().join(",")
    }

    /// Signs a payload with every signing key.
    pub fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, pennon_core::Error> {
        let keys: Vec<&SigningKey> = self.signing.iter().collect();
        pennon_core::sign_envelope(payload, &keys)
    }
}

fn read_key(path: &Path) -> Result<SigningKey, String> {
    crate::files::warn_if_shared(path);
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read signing key `{}`: {e}", path.display()))?;
    SigningKey::parse(&text).map_err(|e| format!("signing key `{}`: {e}", path.display()))
}

/// Writes a new key to `path` (mode 0600, never overwriting) and its `.pub` beside it.
fn generate(path: &Path) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    let key = SigningKey::from_seed(crate::clock::random_bytes::<32>()?);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot create `{}`: {e}", path.display()))?;
    file.write_all(format!("{}\n", key.to_text()).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    // A `.pub` left there by an earlier key is replaced, and so is a symbolic link
    // someone planted in its place: never the file it points to.
    let public = path.with_extension("pub");
    crate::files::replace_file(&public, format!("{}\n", key.public_key().to_text()).as_bytes())
        .map_err(|e| format!("cannot write `{}`: {e}", public.display()))
}
