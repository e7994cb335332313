//! `pennon`: the command-line tool and, later, the control plane of Pennon.
//!
//! Publishers use it to make keys (`pennon keygen`), to sign snapshots (`pennon sign`)
//! and to check what clients will make of them (`pennon verify`, `pennon eval`). Every
//! check is `pennon-core`'s own, so the tool accepts exactly what clients accept.
//!
//! Exit codes are part of the interface, because scripts and CI rely on them:
//!
//! - `0`: success, including an evaluation whose result carries an error code such as
//!   `FLAG_NOT_FOUND` (that outcome is data, as in OpenFeature);
//! - `1`: a snapshot or payload was refused; the message names the check that failed;
//! - `2`: a usage error: bad arguments, an unreadable file, a bad key, time or context.
//!
//! This file only parses, dispatches and maps failures to exit codes; each subcommand
//! lives in its own module under [`cli`].

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

use cli::{Cli, Command, Failure};

fn main() -> ExitCode {
    // clap prints its own usage errors and exits with 2, `--help` and `--version` with 0.
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Keygen(args) => cli::keygen::run(args),
        Command::Sign(args) => cli::sign::run(args),
        Command::Verify(args) => cli::verify::run(args),
        Command::Eval(args) => cli::eval::run(args),
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
    }
}
