//! Pennon's control plane: flags kept in a database, every change audited and
//! published as a signed snapshot that SDKs fetch or are told about within a second.
//!
//! Why it is built this way:
//!
//! - **A change and its snapshot commit together.** Each write is one transaction that
//!   locks the environments it publishes, changes rows, builds the full payload of each
//!   environment, compiles it with [`pennon_core::compile_payload`] (the code every
//!   client runs, so the server never publishes what clients would refuse), signs it,
//!   and inserts the snapshot and the audit entries before committing. There is no
//!   outbox to drain and no window in which a change exists without its snapshot.
//! - **The database is the shared engine.** Versions are decided under a row lock
//!   (PostgreSQL `SELECT ... FOR UPDATE`; SQLite `BEGIN IMMEDIATE`), so several
//!   instances on one PostgreSQL never collide, and `NOTIFY` tells each of them to wake
//!   its own stream clients. Instances hold nothing the database does not.
//! - **Fetches never touch the database.** The latest envelopes live in memory, keyed
//!   by environment; a fetch is a hash of the SDK key and a lookup, and `If-None-Match`
//!   on the payload hash answers 304 without a body.
//! - **Keys never live in the database.** Signing keys come from files or
//!   `PENNON_SIGNING_KEY`; tokens and SDK keys are stored as SHA-256 hashes.
//! - **Telemetry never queues with flag writes.** What SDKs report is added up per hour
//!   in tables that take none of the locks publishing takes (on SQLite, a file of their
//!   own), and checked against the snapshot in memory; see `telemetry`.
//!
//! [`start`] runs the server described by a [`Config`]; the `pennon serve` command is a
//! thin wrapper around it. [`recover_admin_token`] makes an admin token directly in the
//! database, for `pennon admin-token` when every admin token is lost. The `model` module holds the API's JSON types.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod app;
mod auth;
mod bootstrap;
mod clock;
mod config;
mod error;
mod files;
mod hub;
mod keys;
mod limits;
mod listen;
pub mod model;
mod recovery;
mod report;
mod routes;
mod service;
mod snapshot;
mod store;
mod sync;
mod telemetry;

pub use app::{start, KeyInfo, Running};
pub use bootstrap::{FirstRun, DEFAULT_ENVIRONMENTS};
pub use config::{format_duration, parse_duration, parse_keep, Config, Retention};
pub use error::ApiError;
pub use files::replace_file;
pub use keys::{KeyRing, GENERATED_KEY_FILE};
pub use recovery::{recover_admin_token, RecoveredToken, RecoveryError};
pub use report::{days, for_days};
pub use routes::openapi_document;
