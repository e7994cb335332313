//! The real `pennon` binary in temporary directories: first run, crash safety (kill -9
//! in a burst of writes), two instances on one PostgreSQL, the API commands, and
//! `pennon admin-token` beside a running server, one server per SQLite file.

#[path = "../common/mod.rs"]
mod common;

mod admin_token;
mod cli;
mod cli_audit;
mod cli_concurrent;
mod cli_configure;
mod cli_create;
mod cli_escapes;
mod cli_exposures;
mod cli_pipe;
mod cli_results;
mod cli_segments;
mod cli_stale;
mod cli_terms;
mod cli_usage;
mod connections;
mod crash;
mod first_run;
mod hardening;
mod one_sqlite_server;
mod proc;
mod scale_out;
