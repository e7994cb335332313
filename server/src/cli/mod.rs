//! The `pennon` subcommands: one module each, sharing input readers and the trust
//! arguments.
//!
//! Commands print their results to stdout and diagnostics to stderr, and report how
//! they failed as a [`Failure`], which `main` turns into an exit code.

pub(crate) mod api;
pub(crate) mod eval;
pub(crate) mod inputs;
pub(crate) mod keygen;
pub(crate) mod serve;
pub(crate) mod sign;
pub(crate) mod trust;
pub(crate) mod verify;

use std::io::Write as _;
use std::path::PathBuf;

/// Pennon: feature flags served from signed snapshots.
#[derive(Debug, clap::Parser)]
#[command(name = "pennon", version)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Create an Ed25519 signing key pair.
    Keygen(keygen::Args),
    /// Sign a snapshot payload, after checking that clients would accept it.
    Sign(sign::Args),
    /// Check a signed envelope as a client would, and print the verdict in one line.
    Verify(verify::Args),
    /// Verify an envelope, then evaluate flags against a context.
    Eval(eval::Args),
    /// Run the control plane (first run: creates ./pennon-data and prints an admin token).
    Serve(serve::Args),
    /// Manage flags on a running control plane (PENNON_URL, PENNON_TOKEN).
    #[command(subcommand)]
    Flags(api::flags::Command),
    /// Manage segments on a running control plane.
    #[command(subcommand)]
    Segments(api::segments::Command),
    /// Read the audit log.
    Audit(api::audit::Args),
    /// Republish an earlier snapshot version's content as a new version.
    Rollback(api::rollback::Args),
    /// Fail unless every FLAG is in the environment's published snapshot (for CI/CD).
    Check(api::check::Args),
    /// List, approve and reject change requests for protected environments.
    #[command(subcommand, name = "change-requests")]
    ChangeRequests(api::changes::Command),
    /// List, create, protect and delete environments.
    #[command(subcommand)]
    Environments(api::envs::Command),
    /// List, create and revoke API tokens (admin).
    #[command(subcommand)]
    Tokens(api::access::TokenCommand),
    /// List, create and revoke an environment's SDK keys (admin).
    #[command(subcommand, name = "sdk-keys")]
    SdkKeys(api::access::SdkKeyCommand),
}

/// How a command failed, which decides the exit code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad arguments, unreadable input or unwritable output: exit 2.
    Usage(String),
    /// `pennon-core` refused the snapshot in `subject`: exit 1.
    Refused {
        /// The file refused.
        subject: PathBuf,
        /// The check that failed.
        error: pennon_core::Error,
    },
    /// A refusal the command has already printed as its output: exit 1.
    RefusalPrinted,
    /// The control plane refused a request; the message says why: exit 1.
    Api(String),
}

/// Prints `text` and a newline to stdout. A closed pipe is a failure, not a panic.
pub(crate) fn print_line(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::Usage(format!("cannot write to standard output: {e}")))
}

/// Prints a diagnostic line to stderr; if stderr is gone there is nobody to tell.
pub(crate) fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
