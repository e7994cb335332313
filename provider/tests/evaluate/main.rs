//! Evaluation through the provider: conformance vectors via the OpenFeature client,
//! result and error mapping, context conversion, torn-read freedom, telemetry.

#[path = "../common/mod.rs"]
mod common;

mod builder;
mod conformance;
mod context;
mod details;
mod exposures;
mod swaps;
mod telemetry;
