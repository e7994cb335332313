//! Syncing against real servers on 127.0.0.1, real files and real temp dirs: first
//! load, 304s, propagation by polling and by stream, faults, refusals, the cache,
//! staleness and shutdown.

#[path = "../common/mod.rs"]
mod common;

mod cache;
mod faults;
mod http;
mod lifecycle;
mod mirrors;
mod stream;
mod telemetry;
mod telemetry_exposures;
mod telemetry_listener;
