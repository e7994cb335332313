//! `cargo bench -p pennon-provider`: `get_bool_details` and `get_string_details`
//! through the OpenFeature client, with a realistic context, for:
//!
//! - `pennon`: this provider;
//! - `sdk-noop`: the SDK's own `NoOpProvider` (it answers with an error, so this is
//!   the SDK's error path);
//! - `sdk-constant`: a provider returning a fixed value, variant and reason without
//!   looking at the context (the SDK's success path: its own overhead);
//! - `sdk-constant+metadata`: the same, plus a clone of the metadata the issue asks
//!   every result to carry (snapshot version, environment, `flagSetId`, rule id), as
//!   Pennon's provider returns it: what any provider with that metadata pays the SDK;
//! - `flagd-file` (with `--features bench-flagd`): flagd's provider in in-process file
//!   mode on the equivalent flags;
//!
//! and, for reference, the provider called directly and `pennon-core` alone.
//!
//! ```text
//! cargo bench -p pennon-provider
//! PENNON_BENCH_CLOCK=cpu cargo bench -p pennon-provider   # thread CPU time, for busy machines
//! ```
//!
//! Last figures (CPU clock, 2-core machine, other work paused; ranges of two runs'
//! medians, after a third was disturbed):
//!
//! | | pennon | sdk-noop | sdk-constant | sdk-constant+metadata |
//! |---|---|---|---|---|
//! | `get_bool_details` | 1.47-1.50 us | 0.94-1.06 us | 0.99-1.16 us | 1.28-1.32 us |
//! | `get_string_details` | 1.49-1.55 us | 0.97-1.01 us | 1.08-1.09 us | 1.39-1.45 us |
//!
//! The metadata alone costs a provider ~300 ns over the SDK's success path: the SDK's
//! `FlagMetadata` is an owned map of owned strings, and `Client::evaluate` clones every
//! result once more (`details.clone().into_value()`) even with no hooks. Pennon adds
//! ~100-190 ns over the constant provider with the same metadata. Below the SDK,
//! `resolve_bool_value` takes ~240 ns: the core reading the context in place ~100 ns
//! (14 of them checking the fields are readable), cloning the prepared metadata
//! ~72 ns and the variant 7 ns, the rest (snapshot load, counters, the boxed future)
//! ~60 ns. The wall clock (~35 ns here) is read only for flags with a schedule.

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::measurement::Measurement;
use criterion::Criterion;
use open_feature::provider::{FeatureProvider, NoOpProvider, ProviderMetadata, ResolutionDetails};
use open_feature::{
    Client, EvaluationContext, EvaluationReason, EvaluationResult, FlagMetadata, OpenFeature, StructValue,
};
use pennon_core::{Context, FlagType, SigningKey, Value};
use pennon_provider::{ContextAttributes, PennonProvider};
use serde_json::json;

/// `new-checkout`: staff by email, else pro users in NZ/AU, else a 50/50 split.
/// `banner-text`: `new` from app version 2.0.0 on. The context takes the second rule
/// of the first and the rule of the second.
fn pennon_flags() -> serde_json::Value {
    json!({
        "new-checkout": {"type": "boolean", "enabled": true, "variants": {"on": true, "off": false},
            "off_variant": "off",
            "rules": [
                {"id": "staff", "serve": {"variant": "on"},
                 "conditions": [{"attribute": "email", "op": "ends_with", "value": "@acme.com"}]},
                {"id": "pro-anz", "serve": {"variant": "on"},
                 "conditions": [{"attribute": "plan", "op": "equals", "value": "pro"},
                                {"attribute": "country", "op": "in", "value": ["NZ", "AU"]}]}],
            "fallthrough": {"rollout": {"variants": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}},
        "banner-text": {"type": "string", "enabled": true, "variants": {"new": "new", "old": "old"},
            "off_variant": "old",
            "rules": [{"id": "v2", "serve": {"variant": "new"},
                       "conditions": [{"attribute": "app_version", "op": "semver_gte", "value": "2.0.0"}]}],
            "fallthrough": {"variant": "old"}},
    })
}

fn context() -> EvaluationContext {
    EvaluationContext::default()
        .with_targeting_key("user-123456")
        .with_custom_field("email", "ann@example.com")
        .with_custom_field("plan", "pro")
        .with_custom_field("country", "NZ")
        .with_custom_field("app_version", "2.3.1")
        .with_custom_field("age", 34)
        .with_custom_field("beta", false)
}

fn envelope() -> Vec<u8> {
    let payload = json!({"schema": 1, "environment": "bench", "version": 1, "issued_at": "2026-01-01T00:00:00Z",
                         "expires_at": "2099-01-01T00:00:00Z", "flags": pennon_flags()});
    let key = SigningKey::from_seed([42; 32]);
    pennon_core::sign_envelope(&serde_json::to_vec(&payload).unwrap(), &[&key]).unwrap()
}

fn pennon() -> PennonProvider {
    PennonProvider::builder()
        .trusted_key(SigningKey::from_seed([42; 32]).public_key().clone())
        .environment("bench")
        .inline(envelope())
        .build()
        .unwrap()
}

/// Answers every flag with a fixed value, variant and reason, and optionally a clone of
/// fixed flag metadata: the SDK's success path.
struct Constant(ProviderMetadata, Option<FlagMetadata>);

impl Constant {
    fn constant<T>(&self, value: T) -> EvaluationResult<ResolutionDetails<T>> {
        Ok(ResolutionDetails {
            value,
            variant: Some("on".into()),
            reason: Some(EvaluationReason::Static),
            flag_metadata: self.1.clone(),
        })
    }
}

/// The metadata Pennon's provider returns for `new-checkout` with [`context`].
fn required_metadata() -> FlagMetadata {
    FlagMetadata::default()
        .with_value("snapshotVersion", 1)
        .with_value("environment", "bench")
        .with_value("flagSetId", "bench")
        .with_value("ruleId", "pro-anz")
}

#[open_feature::async_trait]
impl FeatureProvider for Constant {
    fn metadata(&self) -> &ProviderMetadata {
        &self.0
    }
    async fn resolve_bool_value(&self, _: &str, _: &EvaluationContext) -> EvaluationResult<ResolutionDetails<bool>> {
        self.constant(true)
    }
    async fn resolve_int_value(&self, _: &str, _: &EvaluationContext) -> EvaluationResult<ResolutionDetails<i64>> {
        self.constant(1)
    }
    async fn resolve_float_value(&self, _: &str, _: &EvaluationContext) -> EvaluationResult<ResolutionDetails<f64>> {
        self.constant(1.0)
    }
    async fn resolve_string_value(
        &self,
        _: &str,
        _: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        self.constant("new".to_owned())
    }
    async fn resolve_struct_value(
        &self,
        _: &str,
        _: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        self.constant(StructValue::default())
    }
}

#[cfg(feature = "bench-flagd")]
async fn flagd(dir: &std::path::Path) -> open_feature_flagd::FlagdProvider {
    let flags = json!({"flags": {
        "new-checkout": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
            "targeting": {"if": [
                {"ends_with": [{"var": "email"}, "@acme.com"]}, "on",
                {"and": [{"==": [{"var": "plan"}, "pro"]}, {"in": [{"var": "country"}, ["NZ", "AU"]]}]}, "on",
                {"fractional": [["on", 50], ["off", 50]]}]}},
        "banner-text": {"state": "ENABLED", "variants": {"new": "new", "old": "old"}, "defaultVariant": "old",
            "targeting": {"if": [{"sem_ver": [{"var": "app_version"}, ">=", "2.0.0"]}, "new", "old"]}},
    }});
    let path = dir.join("flags.json");
    std::fs::write(&path, serde_json::to_vec(&flags).unwrap()).unwrap();
    let options = open_feature_flagd::FlagdOptions {
        resolver_type: open_feature_flagd::ResolverType::File,
        source_configuration: Some(path.to_string_lossy().into_owned()),
        ..Default::default()
    };
    open_feature_flagd::FlagdProvider::new(options).await.unwrap()
}

async fn client_for(provider: impl FeatureProvider) -> (OpenFeature, Client) {
    let mut api = OpenFeature::default();
    api.set_provider(provider).await;
    let client = api.create_client();
    (api, client)
}

fn bench<M: Measurement>(c: &mut Criterion<M>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ctx = context();
    let handle_keeper;
    let mut clients = Vec::new();
    {
        let provider = pennon();
        handle_keeper = provider.handle();
        clients.push(("pennon", runtime.block_on(client_for(provider))));
    }
    clients.push(("sdk-noop", runtime.block_on(client_for(NoOpProvider::default()))));
    clients.push(("sdk-constant", runtime.block_on(client_for(Constant(ProviderMetadata::new("constant"), None)))));
    let with_metadata = Constant(ProviderMetadata::new("constant"), Some(required_metadata()));
    clients.push(("sdk-constant+metadata", runtime.block_on(client_for(with_metadata))));
    #[cfg(feature = "bench-flagd")]
    let flagd_dir = tempfile::tempdir().unwrap();
    #[cfg(feature = "bench-flagd")]
    clients.push(("flagd-file", runtime.block_on(async { client_for(flagd(flagd_dir.path()).await).await })));

    for (name, (_, client)) in &clients {
        let bool_details = runtime.block_on(client.get_bool_details("new-checkout", Some(&ctx), None));
        let string_details = runtime.block_on(client.get_string_details("banner-text", Some(&ctx), None));
        let (checkout, banner) = (bool_details.map(|d| d.value), string_details.map(|d| d.value));
        println!("{name}: {:?} / {:?}", checkout.map_err(|e| e.code), banner.map_err(|e| e.code));
    }

    for (method, flag) in [("get_bool_details", "new-checkout"), ("get_string_details", "banner-text")] {
        let mut group = c.benchmark_group(method);
        for (name, (_, client)) in &clients {
            group.bench_function(*name, |b| {
                b.to_async(&runtime).iter(|| async {
                    if method == "get_bool_details" {
                        let _ = black_box(client.get_bool_details(black_box(flag), Some(&ctx), None).await);
                    } else {
                        let _ = black_box(client.get_string_details(black_box(flag), Some(&ctx), None).await);
                    }
                });
            });
        }
        group.finish();
    }

    // Reference points below the SDK: the provider called directly, and the core alone.
    let mut provider = pennon();
    runtime.block_on(provider.initialize(&EvaluationContext::default()));
    let mut group = c.benchmark_group("below_the_sdk");
    group.bench_function("provider.resolve_bool_value", |b| {
        b.to_async(&runtime).iter(|| async { black_box(provider.resolve_bool_value("new-checkout", &ctx).await) });
    });
    let empty = EvaluationContext::default().with_targeting_key("user-123456");
    group.bench_function("provider.resolve_bool_value, targeting key only", |b| {
        b.to_async(&runtime).iter(|| async { black_box(provider.resolve_bool_value("new-checkout", &empty).await) });
    });
    group.bench_function("provider.resolve_string_value", |b| {
        b.to_async(&runtime).iter(|| async { black_box(provider.resolve_string_value("banner-text", &ctx).await) });
    });
    group.bench_function("convert_context", |b| b.iter(|| black_box(pennon_provider::convert_context(&ctx))));
    group.bench_function("ContextAttributes::new", |b| b.iter(|| black_box(ContextAttributes::new(black_box(&ctx)))));
    let snapshot = handle_keeper.snapshot().unwrap();
    let now = pennon_core::parse_rfc3339("2026-06-01T00:00:00Z").unwrap();
    group.bench_function("core.evaluate_with(ContextAttributes)", |b| {
        b.iter(|| {
            let attributes = ContextAttributes::new(black_box(&ctx)).unwrap();
            black_box(snapshot.evaluate_with(black_box("new-checkout"), Some(FlagType::Boolean), &attributes, now))
        });
    });
    let core_ctx = Context::new(Some("user-123456"))
        .with("email", Value::String("ann@example.com".into()))
        .with("plan", Value::String("pro".into()))
        .with("country", Value::String("NZ".into()))
        .with("app_version", Value::String("2.3.1".into()))
        .with("age", Value::Int(34))
        .with("beta", Value::Bool(false));
    group.bench_function("core.evaluate", |b| b.iter(|| black_box(snapshot.evaluate("new-checkout", &core_ctx, now))));
    group.finish();

    // What a result's metadata costs: the SDK's `FlagMetadata` is an owned map of owned
    // strings, so each result clones one.
    let mut group = c.benchmark_group("metadata");
    let base = FlagMetadata::default()
        .with_value("snapshotVersion", 1)
        .with_value("environment", "bench")
        .with_value("flagSetId", "bench");
    let mut reserved = base;
    reserved.values.reserve(1);
    group.bench_function("clone 3 entries, add ruleId", |b| {
        b.iter(|| {
            let mut metadata = black_box(&reserved).clone();
            metadata.add_value("ruleId", "pro-anz");
            metadata
        });
    });
    let with_rule = required_metadata();
    group.bench_function("clone 4 entries", |b| b.iter(|| black_box(&with_rule).clone()));
    group.bench_function("variant String", |b| b.iter(|| black_box("on").to_owned()));
    group.finish();
}

fn run<M: Measurement>(measurement: M) {
    let mut c = Criterion::default().with_measurement(measurement).configure_from_args();
    bench(&mut c);
}

pennon_bench_support::main_with_clock!(run);
