//! `pennon`: the command-line tool and the control plane of Pennon.
//!
//! `pennon serve` runs the control plane (the `pennon_server` library), and `pennon
//! admin-token` makes a new admin token in its database when every one is lost.
//! Publishers use the tool to make keys (`pennon keygen`), to sign snapshots (`pennon
//! sign`) and to check what clients will make of them (`pennon verify`, `pennon eval`);
//! every check is `pennon-core`'s own, so the tool accepts exactly what clients accept.
//! The API commands (`pennon flags`, `segments`, `environments`, `tokens`, `sdk-keys`,
//! `audit`, `rollback`, `check`, `change-requests`) talk to a running control plane at
//! `PENNON_URL` with the token in `PENNON_TOKEN`.
//!
//! Exit codes are part of the interface, because scripts and CI rely on them:
//!
//! - `0`: success, including an evaluation whose result carries an error code such as
//!   `FLAG_NOT_FOUND` (that outcome is data, as in OpenFeature);
//! - `1`: a snapshot or payload was refused (the message names the check that failed),
//!   the control plane (or `pennon admin-token`'s database) refused a request, `pennon
//!   check` found a problem, or a write got no answer in time (it may have been applied);
//! - `2`: a usage error: bad arguments, an unreadable file, a bad key, time or context,
//!   a missing `PENNON_TOKEN`, a control plane that cannot be reached or is not one
//!   (it redirected, or answered with something other than its JSON), or no Pennon
//!   database where `pennon admin-token` looked;
//! - `3`: a write to a protected environment opened a change request instead of being
//!   applied: not an error, and not done either, so a pipeline can wait for the approval
//!   (`--json` prints the request, with its id).
//!
//! This file only parses, dispatches and maps failures to exit codes; each subcommand
//! lives in its own module under [`cli`].

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

use cli::{Cli, Command, Failure};

fn main() -> ExitCode {
    let cli = parse();
    let outcome = match &cli.command {
        Command::Keygen(args) => cli::keygen::run(args),
        Command::Sign(args) => cli::sign::run(args),
        Command::Verify(args) => cli::verify::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Serve(args) => cli::serve::run(args),
        Command::AdminToken(args) => cli::admin_token::run(args),
        Command::Flags(command) => api(cli::api::flags::run(command)),
        Command::Segments(command) => api(cli::api::segments::run(command)),
        Command::Audit(args) => api(cli::api::audit::run(args)),
        Command::Rollback(args) => api(cli::api::rollback::run(args)),
        Command::Check(args) => api(cli::api::check::run(args)),
        Command::ChangeRequests(command) => api(cli::api::changes::run(command)),
        Command::Environments(command) => api(cli::api::envs::run(command)),
        Command::Tokens(command) => api(cli::api::access::run_tokens(command)),
        Command::SdkKeys(command) => api(cli::api::access::run_sdk_keys(command)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            cli::note(&format!("error: {message}"));
            ExitCode::from(2)
        }
        Err(Failure::Refused { subject, error }) => {
            cli::note(&format!("{}: refused: {}: {error}", subject.display(), error.kind()));
            ExitCode::from(1)
        }
        Err(Failure::RefusalPrinted) => ExitCode::from(1),
        Err(Failure::Api(message)) => {
            cli::note(&format!("error: {message}"));
            ExitCode::from(1)
        }
        Err(Failure::Proposed) => ExitCode::from(3),
    }
}

/// The arguments. clap prints its own usage errors and exits with 2, `--help` and
/// `--version` with 0; but its errors quote the argument refused as it is, so when an
/// argument holds a character [`cli::inert`] escapes the error is printed escaped instead (without
/// colours, which only a terminal would see).
fn parse() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let raw = std::env::args_os().any(|arg| cli::inert(&arg.to_string_lossy()) != arg.to_string_lossy());
            if !(raw && error.use_stderr()) {
                error.exit();
            }
            cli::note(error.render().to_string().trim_end());
            std::process::exit(error.exit_code());
        }
    }
}

/// Runs an API command on a small single-threaded runtime.
fn api(command: impl std::future::Future<Output = Result<(), Failure>>) -> Result<(), Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the async runtime: {e}")))?
        .block_on(command)
}
