//! The admin and SDK API over real HTTP on 127.0.0.1, each test run once on SQLite and
//! once on PostgreSQL (when `PENNON_TEST_DATABASE_URL` is set; `scripts/postgres.sh`
//! starts one).

#[path = "../common/mod.rs"]
mod common;

mod audit_log;
mod authz;
mod bad_input;
mod changes;
mod concurrency;
mod confusable_names;
mod control_chars;
mod cors;
mod database_modes;
mod duplicate_members;
mod end_to_end;
mod export_modes;
mod hangups;
mod if_match_any;
mod keys;
mod limits;
mod no_op;
mod off_variant;
mod openapi;
mod outage;
mod recreate;
mod resources;
mod retention;
mod revocation;
mod rollback;
mod stale;
mod stale_unused;
mod telemetry;
mod telemetry_batches;
mod telemetry_bounds;
mod telemetry_exposures;
mod telemetry_forget;
mod unread_bodies;
mod upgrade;
mod usage;
