//! Measurement helpers shared by Pennon's benchmark binaries (`core/benches/evaluate.rs`
//! and `bench/benches/peers.rs`):
//!
//! - [`alloc`]: a byte-counting global allocator, for the heap a loaded snapshot retains;
//! - [`clock`]: a criterion clock of thread CPU time, for figures that a busy shared
//!   machine does not inflate.
//!
//! It is a crate of its own because both need `unsafe` (an `unsafe impl GlobalAlloc` and
//! a call to `clock_gettime`), which the workspace forbids everywhere else.

pub mod alloc;
pub mod clock;
