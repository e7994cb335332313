//! `pennon admin-token`: a new admin token made directly in the database, for when
//! every admin token is lost (`pennon_server::recover_admin_token` says why this is
//! safe). It finds the database as `pennon serve` does, and creates none.

use pennon_server::{recover_admin_token, RecoveryError};

use super::{note, print_line, refuse_discarded_secret, stdout_closed, Failure};

/// Arguments of `pennon admin-token`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The data directory and database of `pennon serve`.
    #[command(flatten)]
    pub(crate) place: super::serve::Place,
    /// The new token's name (it must not be a live token's, in any case). Default:
    /// recovered-admin, or the first free recovered-admin-2, -3, ...
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
}

/// Creates the token, prints its secret alone on stdout and what was done on stderr.
pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    // The store reports a database it cannot reach in the log, with the cause.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    refuse_discarded_secret("admin token")?;
    let url = args.place.database_url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the async runtime: {e}")))?;
    let token = runtime.block_on(recover_admin_token(&url, args.name.as_deref())).map_err(|e| match e {
        RecoveryError::Database(message) => Failure::Usage(message),
        RecoveryError::Refused(error) if error.status.is_server_error() => {
            Failure::Api(format!("the database did not take the token (the cause is logged above): {}", error.message))
        }
        RecoveryError::Refused(error) => Failure::Api(format!("no token was created: {}", error.message)),
    })?;
    note(&format!(
        "created admin token {} `{}` (every environment) directly in the database, audited as `pennon` \
         [request {}]; its secret is shown once. Revoke the lost one: `pennon tokens list`, then \
         `pennon tokens revoke ID`.",
        token.id, token.name, token.request_id
    ));
    print_line(&token.secret)?;
    // Not cut quietly as a command's output is: nothing can show the secret again.
    if stdout_closed() {
        return Err(Failure::Usage(format!(
            "cannot write the new token's secret to standard output: it is closed. Token {} `{}` was created \
             all the same; run this again for another, and revoke that one",
            token.id, token.name
        )));
    }
    Ok(())
}
