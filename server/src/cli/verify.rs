//! `pennon verify`: checks an envelope exactly as a client would and prints the
//! verdict as one line on stdout, `ok: ...` or `refused: <kind>: <message>`.

use super::trust::TrustArgs;
use super::{print_line, Failure};

/// Arguments of `pennon verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// What to load and whom to trust.
    #[command(flatten)]
    pub(crate) trust: TrustArgs,
    /// Refuse versions below N, as a client holding version N would.
    #[arg(long, value_name = "N")]
    pub(crate) min_version: Option<u64>,
}

/// Loads the envelope and prints the one-line verdict.
pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    match args.trust.load(args.min_version.unwrap_or(0)) {
        Ok((snapshot, _)) => {
            let flags = snapshot.len();
            print_line(&format!(
                "ok: version {} of environment {}, {flags} flag{}, expires {}",
                snapshot.version(),
                snapshot.environment(),
                if flags == 1 { "" } else { "s" },
                pennon_core::format_rfc3339(snapshot.expires_at()),
            ))
        }
        Err(Failure::Refused { error, .. }) => {
            print_line(&format!("refused: {}: {error}", error.kind()))?;
            Err(Failure::RefusalPrinted)
        }
        Err(other) => Err(other),
    }
}
