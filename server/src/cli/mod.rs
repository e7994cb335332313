//! The `pennon` subcommands: one module each, sharing input readers and the trust
//! arguments.
//!
//! Commands print their results to stdout and diagnostics to stderr, and report how
//! they failed as a [`Failure`], which `main` turns into an exit code. Everything goes
//! out through [`print_line`] and [`note`], which escape the control characters a
//! terminal would act on, whether they came from a server, a file or an argument.

pub(crate) mod admin_token;
pub(crate) mod api;
pub(crate) mod eval;
pub(crate) mod inputs;
pub(crate) mod keygen;
pub(crate) mod serve;
pub(crate) mod sign;
pub(crate) mod trust;
pub(crate) mod verify;

use std::borrow::Cow;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use pennon_server::model::escaped;

/// Pennon: feature flags served from signed snapshots.
#[derive(Debug, clap::Parser)]
#[command(name = "pennon", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The exit codes, as `pennon --help` lists them (also in `main.rs` and the README).
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  success (a write applied, or already so)
  1  refused: a snapshot, a `pennon check`, or the control plane refused; or a write got
     no answer in time (it may have been applied)
  2  usage error: bad arguments or input, no PENNON_TOKEN, no control plane at PENNON_URL,
     no Pennon database for `pennon admin-token`
  3  a write to a protected environment opened a change request instead of applying
     (its id is printed; `--json`: {\"outcome\": \"change_request\", \"result\": {\"id\": ...}})

API commands take --json: reads print the API's JSON, writes print
{\"outcome\": \"applied\" | \"unchanged\" | \"change_request\", \"snapshot_version\", \"result\"}.";

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
    /// Make a new admin token in the server's database, when every admin token is lost.
    ///
    /// Run it where `pennon serve` was started, or with its --data-dir or --database-url
    /// (servers may be running). It prints the secret once, alone on stdout, and creates
    /// nothing where there is no Pennon database. See docs/OPERATIONS.md, "Lost admin
    /// token".
    #[command(name = "admin-token")]
    AdminToken(admin_token::Args),
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
    /// A write to a protected environment opened a change request instead of applying
    /// (already printed): exit 3, so that a script can tell it from "applied" (0) and
    /// from an error (1, 2).
    Proposed,
}

/// Set once stdout turned out to be closed: nothing more is written to it.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Prints `text` and a newline to stdout, [`inert`]. A closed pipe is a failure, not a
/// panic, except when the reader quit (`| head`, a pager closed): then only the output is
/// cut, quietly, as `ls`, `git` and ripgrep do. The command still runs to its end, so it
/// is never left half done, and exits with its own code (0 on success, as ripgrep does,
/// rather than 141 for a death by `SIGPIPE`): under `set -o pipefail` a script sees
/// whether the work succeeded, or was refused (1) or proposed (3), not that a reader
/// stopped reading.
pub(crate) fn print_line(text: &str) -> Result<(), Failure> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{}", inert(text)).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        written => written.map_err(|e| Failure::Usage(format!("cannot write to standard output: {e}"))),
    }
}

/// Whether stdout was found closed (by [`print_line`]).
pub(crate) fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Refuses to create a `what` whose secret, shown only once, would go to `/dev/null`:
/// nobody could ever use it.
pub(crate) fn refuse_discarded_secret(what: &str) -> Result<(), Failure> {
    if stdout_discards() {
        return Err(Failure::Usage(format!(
            "standard output is /dev/null (or was closed), where the new {what}'s secret, shown only once, would \
             be lost: nothing was created. Send the output to a file or a variable"
        )));
    }
    Ok(())
}

/// Whether stdout is `/dev/null`, as a stdout closed at start (`>&-`) also is: Rust's
/// runtime opens `/dev/null` in place of a closed standard descriptor.
#[cfg(unix)]
fn stdout_discards() -> bool {
    use std::os::fd::AsFd as _;
    use std::os::unix::fs::MetadataExt as _;
    let stdout = std::io::stdout().as_fd().try_clone_to_owned().map(std::fs::File::from);
    match (stdout.and_then(|file| file.metadata()), std::fs::metadata("/dev/null")) {
        (Ok(stdout), Ok(null)) => (stdout.dev(), stdout.ino(), stdout.rdev()) == (null.dev(), null.ino(), null.rdev()),
        _ => false,
    }
}

/// [`stdout_discards`] where there is no `/dev/null` to compare with.
#[cfg(not(unix))]
fn stdout_discards() -> bool {
    false
}

/// Prints a diagnostic line to stderr, [`inert`]; if stderr is gone there is nobody to
/// tell.
pub(crate) fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", inert(text));
}

/// `text` with every character [`escaped`] would escape written as its escape, except
/// the line feeds and tabs the CLI lays its output out with. Text from a server is
/// escaped where it is taken apart (`api::text`); this catches the rest on the way out:
/// an argument or a path quoted in an error (`PENNON_URL`, `--file`, a percentage) could
/// otherwise clear the screen or rewrite the line above. Escaped text holds no control
/// characters, so escaping twice changes nothing.
pub(crate) fn inert(text: &str) -> Cow<'_, str> {
    if !text.split(['\n', '\t']).any(|part| matches!(escaped(part), Cow::Owned(_))) {
        return Cow::Borrowed(text);
    }
    let parts: Vec<String> =
        text.split('\n').map(|line| line.split('\t').map(escaped).collect::<Vec<_>>().join("\t")).collect();
    Cow::Owned(parts.join("\n"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::{inert, Cli};

    /// Every command's arguments are consistent: `--json` comes from the flattened API
    /// arguments alone (two `json` fields in one command would panic here).
    #[test]
    fn arguments_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn inert_keeps_layout_and_escapes_the_rest() {
        assert_eq!(inert("a\tb\nc"), "a\tb\nc");
        assert_eq!(inert("x\u{1b}[2J\ty\r\n\u{202e}z"), "x\\u{1b}[2J\ty\\r\n\\u{202e}z");
        assert_eq!(inert(&inert("\u{7}")), "\\u{7}", "escaping twice changes nothing");
    }
}
