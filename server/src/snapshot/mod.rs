//! Snapshots: building the payload of an environment from the database, proving with
//! `pennon_core::compile_payload` that clients will accept it, signing it, and storing
//! it with the change that caused it.

mod export;
mod export_signers;
mod overtake;
mod payload;
mod publish;
mod resign;
mod retention;
mod state;

pub(crate) use export::Exporter;
pub(crate) use export_signers::export_signers;
pub(crate) use overtake::overtake_export;
pub(crate) use payload::{segment_names, Focus};
pub(crate) use publish::{publish, Published, Served};
pub(crate) use resign::{resign_due, run_resigner};
pub(crate) use retention::{missing_version, prune_published, run_sweeper};
pub(crate) use state::{decode_envelope_payload, default_config, flag_from_row, initial_config, EnvState};
