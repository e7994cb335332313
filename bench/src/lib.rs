//! Pennon's evaluation core measured beside two peers that also evaluate flags in
//! process: Unleash's Yggdrasil and flagd's evaluation engine.
//!
//! The cases and Pennon's fixtures live in `core/benches/fixtures.rs`, included here as
//! [`fixtures`], so Pennon is measured on the same bytes as in `core/benches/evaluate.rs`.
//! [`yggdrasil`] and [`flagd`] express the same cases in each peer's own format, and
//! [`equivalence`] checks that the three engines agree wherever their semantics allow.
//! The timing loops are in `benches/peers.rs`; see `README.md` for how to run them.

#[path = "../../core/benches/fixtures.rs"]
pub mod fixtures;

pub mod equivalence;
pub mod flagd;
pub mod yggdrasil;
