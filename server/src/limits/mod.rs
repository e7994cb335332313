//! Limits that keep one client from holding what every other client needs: a deadline
//! for request bodies (`body.rs`) and caps on open event streams (`streams.rs`).
//!
//! The request head has its own deadline in the accept loop (`listen.rs`); a body is
//! read later, by the handler, so its deadline travels with the body itself.

mod body;
mod streams;

pub(crate) use body::{timed_out, Deadline};
pub(crate) use streams::{StreamCaps, StreamPermit, StreamRefusal};
