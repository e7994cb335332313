//! `pennon sign`: wraps a payload in a DSSE envelope signed by one or more keys.
//!
//! The payload is compiled first with the very code clients run, so the tool never
//! signs a snapshot that clients would refuse.

use std::path::PathBuf;

use pennon_core::{Error, Limits, SigningKey, Snapshot, DEFAULT_MAX_BYTES};

use super::{inputs, note, print_line, Failure};

/// Arguments of `pennon sign`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A private key file (`ed25519-private:...`). Repeat to add more signatures.
    #[arg(long = "key", value_name = "PRIVATE_KEY_FILE", required = true)]
    pub(crate) keys: Vec<PathBuf>,
    /// The snapshot payload (JSON). Its exact bytes are signed; nothing is reformatted.
    #[arg(long, value_name = "PAYLOAD.json")]
    pub(crate) payload: PathBuf,
    /// Where to write the envelope. Default: standard output.
    #[arg(long, value_name = "ENVELOPE.json")]
    pub(crate) out: Option<PathBuf>,
}

/// Checks the payload, signs it and writes the envelope.
pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let keys = read_keys(&args.keys)?;
    let payload = inputs::read_file(&args.payload, "payload")?;
    let refused = |error| Failure::Refused { subject: args.payload.clone(), error };
    let snapshot = check_payload(&payload).map_err(refused)?;

    let key_refs: Vec<&SigningKey> = keys.iter().collect();
    let mut envelope = pennon_core::sign_envelope(&payload, &key_refs).map_err(|e| Failure::Usage(e.to_string()))?;
    if envelope.len() > DEFAULT_MAX_BYTES {
        // Clients with the default size cap would refuse this envelope.
        return Err(refused(Error::TooLarge { size: envelope.len(), max: DEFAULT_MAX_BYTES }));
    }
    match &args.out {
        Some(path) => {
            envelope.push(b'\n');
            // Whole or not at all: a provider may be polling this file.
            pennon_server::replace_file(path, &envelope)
                .map_err(|e| Failure::Usage(format!("cannot write `{}`: {e}", path.display())))?;
        }
        // The envelope is JSON that `serde_json` wrote: ASCII, so nothing is lossy here.
        None => print_line(&String::from_utf8_lossy(&envelope))?,
    }

    let ids: Vec<&str> = keys.iter().map(|key| key.public_key().key_id()).collect();
    let flags = snapshot.len();
    note(&format!(
        "signed version {} of environment {} ({flags} flag{}) with key{} {}{}",
        snapshot.version(),
        snapshot.environment(),
        if flags == 1 { "" } else { "s" },
        if ids.len() == 1 { "" } else { "s" },
        ids.join(", "),
        args.out.as_ref().map(|path| format!(", wrote {}", path.display())).unwrap_or_default(),
    ));
    if snapshot.expires_at() < inputs::system_now() {
        note(&format!(
            "warning: the snapshot expired at {}; clients will refuse it as `expired`",
            pennon_core::format_rfc3339(snapshot.expires_at())
        ));
    }
    Ok(())
}

/// Reads every key, skipping (with a warning) a key given twice: its second signature
/// would count for nothing.
fn read_keys(paths: &[PathBuf]) -> Result<Vec<SigningKey>, Failure> {
    let mut keys: Vec<SigningKey> = Vec::with_capacity(paths.len());
    for path in paths {
        let key = inputs::read_signing_key(path)?;
        if keys.iter().any(|k| k.public_key().key_id() == key.public_key().key_id()) {
            note(&format!(
                "warning: `{}` repeats key {}; signing once with it",
                path.display(),
                key.public_key().key_id()
            ));
            continue;
        }
        keys.push(key);
    }
    Ok(keys)
}

/// Everything a client checks about a payload that does not depend on its trust policy
/// or clock: parsing, limits, compilation and the version range.
fn check_payload(payload: &[u8]) -> Result<Snapshot, Error> {
    pennon_core::compile_payload(payload, &Limits::default())
}
