//! Telemetry reports posted to a control plane on 127.0.0.1 that checks each one
//! against the wire format: exact deltas, failures carried over, `Retry-After`, a
//! refused batch dropped, the last report at shutdown, not-found keys and their bound.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use open_feature::{Client, EvaluationContext};
use pennon_provider::{ExposureScope, PennonProviderBuilder, ProviderHandle, ReportOutcome};
use serde_json::{json, Value};

use crate::common::telemetry::{Answer, TelemetryServer};
use crate::common::{builder, capture_logs, envelope, key, logs, open_feature, payload, sign, within, PATIENCE};

const START_MS: i64 = 1_763_800_000_000;

/// A provider serving version 1 inline, reporting to `server`, on a clock the test moves.
fn reporting(server: &TelemetryServer, clock: &Arc<AtomicI64>) -> PennonProviderBuilder {
    let clock = clock.clone();
    builder().inline(envelope(1)).telemetry(server.base(), "pns_secret").clock(move || clock.load(Ordering::SeqCst))
}

async fn started(builder: PennonProviderBuilder) -> (ProviderHandle, open_feature::OpenFeature, Client) {
    let provider = builder.build().unwrap();
    let handle = provider.handle();
    let (api, client) = open_feature(provider).await;
    (handle, api, client)
}

fn staff() -> EvaluationContext {
    EvaluationContext::default().with_targeting_key("user-7").with_custom_field("email", "ann@acme.com")
}

/// `n` evaluations of `new-checkout` for staff (`on`) and `m` for guests (`off`).
async fn evaluate(client: &Client, on: usize, off: usize) {
    for _ in 0..on {
        assert!(client.get_bool_value("new-checkout", Some(&staff()), None).await.unwrap());
    }
    for _ in 0..off {
        assert!(!client.get_bool_value("new-checkout", None, None).await.unwrap());
    }
}

fn counts(body: &Value) -> Value {
    body["counts"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_carry_the_exact_deltas_since_the_last_accepted_one() {
    let server = TelemetryServer::start().await;
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (handle, _api, client) = started(reporting(&server, &clock)).await;
    evaluate(&client, 3, 2).await;
    client.get_int_value("new-checkout", None, None).await.unwrap_err(); // TYPE_MISMATCH: an error
    client.get_bool_value("old-banner", None, None).await.unwrap_err(); // FLAG_NOT_FOUND
    clock.store(START_MS + 60_000, Ordering::SeqCst);
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);

    evaluate(&client, 1, 0).await;
    clock.store(START_MS + 120_000, Ordering::SeqCst);
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Empty, "nothing since: nothing sent");

    let posts = server.posts();
    assert_eq!(posts.len(), 2);
    for post in &posts {
        assert_eq!(post.path, "/v1/telemetry/test");
        assert_eq!(post.authorization.as_deref(), Some("Bearer pns_secret"));
    }
    let [first, second] = &server.accepted()[..] else { panic!("two reports") };
    assert_eq!(
        counts(first),
        json!([
            {"flag": "new-checkout", "variant": null, "count": 1},
            {"flag": "new-checkout", "variant": "off", "count": 2},
            {"flag": "new-checkout", "variant": "on", "count": 3},
        ])
    );
    assert_eq!(first["flag_not_found"], json!([{"flag": "old-banner", "count": 1}]));
    assert_eq!(first["window"], json!({"start_ms": START_MS, "end_ms": START_MS + 60_000}));
    assert_eq!((&first["snapshot_version"], &first["exposures_dropped"]), (&json!(1), &json!(0)));
    assert!(first["sdk"].as_str().unwrap().starts_with("pennon-rust/"), "{}", first["sdk"]);
    let instance = first["instance"].as_str().unwrap();
    assert!(instance.len() == 16 && instance.bytes().all(|b| b.is_ascii_hexdigit()), "{instance}");

    // Deltas, not readings: only what came after the first report.
    assert_eq!(counts(second), json!([{"flag": "new-checkout", "variant": "on", "count": 1}]));
    assert_eq!(second["flag_not_found"], json!([]));
    assert_eq!(second["window"], json!({"start_ms": START_MS + 60_000, "end_ms": START_MS + 120_000}));
    assert_eq!(second["instance"], first["instance"]);
}

/// A failed post is sent again unchanged, its `batch` id included, before the counts
/// made since: the server may have stored it, and tells a repeat by its id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_post_is_sent_again_unchanged_before_newer_counts() {
    let server = TelemetryServer::start().await;
    server.script([Answer::Status(503, None, "the database is unreachable")]);
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (handle, _api, client) = started(reporting(&server, &clock)).await;
    evaluate(&client, 4, 1).await;
    clock.store(START_MS + 60_000, Ordering::SeqCst);
    let failed = handle.flush_telemetry().await;
    assert!(
        matches!(&failed, ReportOutcome::Failed(why) if why.contains("503") && why.contains("the database is unreachable")),
        "{failed:?}"
    );

    evaluate(&client, 2, 3).await;
    clock.store(START_MS + 120_000, Ordering::SeqCst);
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);

    let posts = server.posts();
    assert_eq!(posts.len(), 3);
    assert!(posts[0].violations.is_empty(), "{:?}", posts[0].violations);
    assert_eq!(posts[1].body, posts[0].body, "the same batch, byte for byte");
    let [again, newer] = &server.accepted()[..] else { panic!("two accepted reports") };
    assert_eq!(
        counts(again),
        json!([{"flag": "new-checkout", "variant": "off", "count": 1}, {"flag": "new-checkout", "variant": "on", "count": 4}])
    );
    assert_eq!(again["window"], json!({"start_ms": START_MS, "end_ms": START_MS + 60_000}));
    let id = again["batch"].as_str().unwrap();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(
        counts(newer),
        json!([{"flag": "new-checkout", "variant": "off", "count": 3}, {"flag": "new-checkout", "variant": "on", "count": 2}]),
        "what came since, once"
    );
    assert_eq!(newer["window"], json!({"start_ms": START_MS + 60_000, "end_ms": START_MS + 120_000}));
    assert_ne!(newer["batch"], again["batch"]);
}

/// A post the server stored but answered only after the request timeout: the SDK sends
/// the same batch again and the server, knowing its id, adds it once. Counted by id as
/// the control plane does, the reports add up to the evaluations exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_stored_but_answered_too_late_counts_once() {
    let server = TelemetryServer::start().await;
    server.script([Answer::Hang]);
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (handle, _api, client) = started(reporting(&server, &clock).request_timeout(Duration::from_millis(300))).await;
    evaluate(&client, 100, 0).await;
    clock.store(START_MS + 60_000, Ordering::SeqCst);
    assert!(matches!(handle.flush_telemetry().await, ReportOutcome::Failed(why) if why.contains("300ms")));
    evaluate(&client, 0, 7).await;
    clock.store(START_MS + 120_000, Ordering::SeqCst);
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    let posts = server.posts();
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[1].body, posts[0].body);
    // The endpoint stored the hung post (it read it whole): once per id, as pennon serve.
    let mut ids = std::collections::BTreeSet::new();
    let mut total = 0;
    for post in &posts {
        if ids.insert(post.body["batch"].as_str().unwrap().to_owned()) {
            total += post.body["counts"].as_array().unwrap().iter().map(|c| c["count"].as_u64().unwrap()).sum::<u64>();
        }
    }
    assert_eq!((ids.len(), total), (2, 107));
}

/// A batch not accepted within a day goes back to the counts and is sent with newer
/// ones under a new id (the control plane keeps ids for two days).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_failing_for_a_day_is_sent_afresh() {
    let server = TelemetryServer::start().await;
    server.script([Answer::Status(503, None, "down"), Answer::Status(503, None, "down")]);
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (handle, _api, client) = started(reporting(&server, &clock)).await;
    evaluate(&client, 3, 0).await;
    assert!(matches!(handle.flush_telemetry().await, ReportOutcome::Failed(_)));
    evaluate(&client, 1, 0).await;
    clock.store(START_MS + 86_400_000, Ordering::SeqCst);
    assert!(matches!(handle.flush_telemetry().await, ReportOutcome::Failed(_)));
    clock.store(START_MS + 86_400_001, Ordering::SeqCst);
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    let posts = server.posts();
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[1].body, posts[0].body, "within a day: the same batch");
    let [afresh] = &server.accepted()[..] else { panic!("one accepted report") };
    assert_ne!(afresh["batch"], posts[0].body["batch"]);
    assert_eq!(counts(afresh), json!([{"flag": "new-checkout", "variant": "on", "count": 4}]));
    assert_eq!(afresh["window"], json!({"start_ms": START_MS, "end_ms": START_MS + 86_400_001}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_no_sooner_than_its_retry_after() {
    let server = TelemetryServer::start().await;
    server.script([Answer::Status(429, Some("1"), "too many reports from this SDK key")]);
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (handle, _api, client) = started(reporting(&server, &clock)).await;
    evaluate(&client, 2, 0).await;
    let asked_at = tokio::time::Instant::now();
    assert!(matches!(handle.flush_telemetry().await, ReportOutcome::Failed(why) if why.contains("429")));

    evaluate(&client, 1, 0).await;
    let deferred = handle.flush_telemetry().await;
    assert!(matches!(deferred, ReportOutcome::Deferred(wait) if wait <= Duration::from_secs(1)), "{deferred:?}");
    assert_eq!(server.posts().len(), 1, "nothing is posted while the server asks to wait");

    tokio::time::sleep_until(asked_at + Duration::from_millis(1_050)).await;
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    let [again, newer] = &server.accepted()[..] else { panic!("the refused batch, then the newer counts") };
    assert_eq!(counts(again), json!([{"flag": "new-checkout", "variant": "on", "count": 2}]));
    assert_eq!(counts(newer), json!([{"flag": "new-checkout", "variant": "on", "count": 1}]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_batch_is_logged_once_and_dropped() {
    capture_logs();
    let server = TelemetryServer::start().await;
    let refusal = "counts[0].count: must be at least 1 (test 7c1e)";
    server.script([Answer::Status(422, None, refusal), Answer::Status(422, None, refusal)]);
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (handle, _api, client) = started(reporting(&server, &clock)).await;
    evaluate(&client, 5, 0).await;
    clock.store(START_MS + 10_000, Ordering::SeqCst);
    let rejected = handle.flush_telemetry().await;
    assert!(
        matches!(&rejected, ReportOutcome::Rejected(why) if why.contains("422") && why.contains(refusal)),
        "{rejected:?}"
    );
    evaluate(&client, 1, 0).await;
    clock.store(START_MS + 20_000, Ordering::SeqCst);
    assert!(matches!(handle.flush_telemetry().await, ReportOutcome::Rejected(_)));
    assert_eq!(logs().matches(refusal).count(), 1, "logged once, not at every report");

    evaluate(&client, 0, 2).await;
    clock.store(START_MS + 60_000, Ordering::SeqCst);
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    let [accepted] = &server.accepted()[..] else { panic!("one accepted report") };
    assert_eq!(
        counts(accepted),
        json!([{"flag": "new-checkout", "variant": "off", "count": 2}]),
        "refused batches are not sent again"
    );
    assert_eq!(
        accepted["window"],
        json!({"start_ms": START_MS + 20_000, "end_ms": START_MS + 60_000}),
        "after the refused windows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sends_a_last_report_and_waits_no_longer_than_the_request_timeout() {
    let server = TelemetryServer::start().await;
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (handle, _api, client) = started(reporting(&server, &clock)).await;
    evaluate(&client, 2, 1).await;
    within("shutdown", handle.shutdown()).await;
    let [last] = &server.accepted()[..] else { panic!("one report at shutdown") };
    assert_eq!(
        counts(last),
        json!([{"flag": "new-checkout", "variant": "off", "count": 1}, {"flag": "new-checkout", "variant": "on", "count": 2}])
    );

    // A control plane that never answers holds the shutdown for the request timeout only.
    let hanging = TelemetryServer::start().await;
    hanging.script([Answer::Hang]);
    let (handle, _api, client) = started(reporting(&hanging, &clock).request_timeout(Duration::from_millis(300))).await;
    evaluate(&client, 1, 0).await;
    within("shutdown with a hanging control plane", handle.shutdown()).await;
    assert_eq!(hanging.posts().len(), 1);
    assert_eq!(handle.running_tasks(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_keys_are_counted_per_key_up_to_a_thousand_a_window() {
    let server = TelemetryServer::start().await;
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (handle, _api, client) = started(reporting(&server, &clock)).await;
    for i in 0..1_005 {
        client.get_bool_value(&format!("gone-{i:04}"), None, None).await.unwrap_err();
    }
    client.get_bool_value("gone-0000", None, None).await.unwrap_err();
    // No flag can have these keys: never named in a report.
    for odd in ["with space", "", ".hidden", &"x".repeat(129)] {
        client.get_bool_value(odd, None, None).await.unwrap_err();
    }
    let read = handle.evaluation_counts();
    assert_eq!((read.flag_not_found, read.not_found.len()), (1_010, 1_001));
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);

    // A new window names new keys again, and never keys no flag can have.
    client.get_bool_value("gone-1004", None, None).await.unwrap_err();
    client.get_bool_value("with space", None, None).await.unwrap_err();
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);

    let [first, second] = &server.accepted()[..] else { panic!("two reports") };
    let entries = first["flag_not_found"].as_array().unwrap();
    assert_eq!(entries.len(), 1_001);
    assert_eq!(entries[0], json!({"flag": "gone-0000", "count": 2}));
    assert_eq!(entries[999], json!({"flag": "gone-0999", "count": 1}));
    assert_eq!(entries[1_000], json!({"flag": null, "count": 5 + 4}), "the keys past the bound, and the odd ones");
    assert_eq!(second["flag_not_found"], json!([{"flag": "gone-1004", "count": 1}, {"flag": null, "count": 1}]));
}

/// Exposures go with the report, as the wire format names their fields; the queue's
/// drops are reported per window, and exposures the server could not take are left out
/// and counted as dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exposures_and_their_drops_are_reported_per_window() {
    let server = TelemetryServer::start().await;
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (handle, _api, client) =
        started(reporting(&server, &clock).exposure_queue(2).exposures(ExposureScope::All)).await;
    evaluate(&client, 5, 0).await; // 2 queued, 3 dropped
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    let odd = EvaluationContext::default().with_targeting_key("line\nbreak").with_custom_field("email", "ann@acme.com");
    client.get_bool_value("new-checkout", Some(&odd), None).await.unwrap();
    evaluate(&client, 0, 2).await; // 1 queued, 1 dropped
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    let keyed =
        |key: String| EvaluationContext::default().with_targeting_key(key).with_custom_field("email", "a@acme.com");
    for bytes in [1_025, 1_024] {
        client.get_bool_value("new-checkout", Some(&keyed("k".repeat(bytes))), None).await.unwrap();
    }
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    assert_eq!(handle.exposures_dropped(), 4, "the handle's reading is still cumulative");
    // Held through an outage of 6 days: an exposure over 5 days old is not sent.
    server.script([Answer::Status(503, None, "down")]);
    evaluate(&client, 1, 0).await;
    assert!(matches!(handle.flush_telemetry().await, ReportOutcome::Failed(_)));
    clock.store(START_MS + 6 * 86_400_000 + 1, Ordering::SeqCst);
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);

    let [first, second, third, fourth] = &server.accepted()[..] else { panic!("four reports") };
    let exposure = json!({
        "flag": "new-checkout", "variant": "on", "reason": "TARGETING_MATCH", "rule_id": "staff",
        "targeting_key": "user-7", "snapshot_version": 1, "timestamp_ms": START_MS,
    });
    assert_eq!(first["exposures"], json!([exposure, exposure]));
    assert_eq!(first["exposures_dropped"], json!(3));
    let fallthrough = json!({"flag": "new-checkout", "variant": "off", "reason": "DEFAULT", "snapshot_version": 1, "timestamp_ms": START_MS});
    assert_eq!(second["exposures"], json!([fallthrough]));
    assert_eq!(
        second["exposures_dropped"],
        json!(1 + 1),
        "a delta: one the queue dropped, one the server could not take"
    );
    let kept: Vec<usize> =
        third["exposures"].as_array().unwrap().iter().map(|e| e["targeting_key"].as_str().unwrap().len()).collect();
    assert_eq!(
        (kept, &third["exposures_dropped"]),
        (vec![1_024], &json!(1)),
        "a targeting key over 1,024 bytes is not sent"
    );
    assert_eq!((&fourth["exposures"], &fourth["exposures_dropped"]), (&json!([]), &json!(1)), "too old to send");
    assert_eq!(counts(fourth), json!([{"flag": "new-checkout", "variant": "on", "count": 1}]));
}

/// Over 10,000 counts are sent in several reports, one after another, none over the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_counts_than_one_report_holds_go_in_several() {
    let flag = json!({"type": "boolean", "enabled": true, "variants": {"on": true}, "off_variant": "on", "fallthrough": {"variant": "on"}});
    let flags: serde_json::Map<String, Value> = (0..10_050).map(|i| (format!("f{i:05}"), flag.clone())).collect();
    let snapshot = sign(&payload("test", 1, "2099-01-01T00:00:00Z", Value::Object(flags)), &[&key(1)]);
    let server = TelemetryServer::start().await;
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (handle, _api, client) = started(
        builder().inline(snapshot).telemetry(server.base(), "pns_secret").clock(move || clock.load(Ordering::SeqCst)),
    )
    .await;
    for i in 0..10_050 {
        assert!(client.get_bool_value(&format!("f{i:05}"), None, None).await.unwrap());
    }
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    let reports = server.accepted();
    let sizes: Vec<usize> = reports.iter().map(|r| r["counts"].as_array().unwrap().len()).collect();
    assert_eq!(sizes, [10_000, 50]);
    let total: u64 =
        reports.iter().flat_map(|r| r["counts"].as_array().unwrap()).map(|c| c["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 10_050);
    assert_eq!(reports[0]["window"], reports[1]["window"], "the same window, split");
}

/// Reports taken while evaluations run on other threads lose and repeat none.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_during_concurrent_evaluations_count_each_once() {
    let server = TelemetryServer::start().await;
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (handle, _api, client) = started(reporting(&server, &clock)).await;
    let client = Arc::new(client);
    const PER_TASK: usize = 3_000;
    let tasks: Vec<_> = (0..3)
        .map(|t| {
            let client = client.clone();
            tokio::spawn(async move {
                for i in 0..PER_TASK {
                    let _ = client.get_bool_value("new-checkout", None, None).await;
                    let _ = client.get_bool_value(&format!("gone-{}", (i + t) % 7), None, None).await;
                }
            })
        })
        .collect();
    let mut reports = 0;
    while !tasks.iter().all(|task| task.is_finished()) {
        if handle.flush_telemetry().await == ReportOutcome::Accepted {
            reports += 1;
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    handle.flush_telemetry().await;
    let accepted = server.accepted();
    let sum = |field: &str| -> u64 {
        accepted.iter().flat_map(|r| r[field].as_array().unwrap().clone()).map(|c| c["count"].as_u64().unwrap()).sum()
    };
    assert!(reports > 1, "reports were taken while evaluating ({reports})");
    assert_eq!((sum("counts"), sum("flag_not_found")), (3 * PER_TASK as u64, 3 * PER_TASK as u64));
}

/// The background task reports on its own, at the shortest interval allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_task_reports_every_interval() {
    let server = TelemetryServer::start().await;
    let clock = Arc::new(AtomicI64::new(START_MS));
    let (_handle, _api, client) = started(reporting(&server, &clock).telemetry_interval(Duration::from_secs(10))).await;
    evaluate(&client, 1, 0).await;
    server.wait_posts(1, Duration::from_secs(10) + PATIENCE * 2).await;
    let [report] = &server.accepted()[..] else { panic!("one report") };
    assert_eq!(counts(report), json!([{"flag": "new-checkout", "variant": "on", "count": 1}]));
}
