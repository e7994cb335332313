//! Rebuilds the server when a migration changes.
//!
//! `sqlx::migrate!` (in `store/sqlite.rs`, `store/postgres.rs` and
//! `store/telemetry/mod.rs`) embeds the files of `migrations/sqlite`,
//! `migrations/postgres` and `migrations/sqlite-telemetry` at compile time, but on
//! stable Rust it cannot tell cargo it read them: without this, a change to a migration
//! alone left the old one in the binary. Watching the parent directory also catches a
//! migration added or a directory created.

fn main() {
    println!("cargo::rerun-if-changed=migrations");
}
