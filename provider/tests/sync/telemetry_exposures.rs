//! Exposures as the control plane takes them: the provider checks each as the control
//! plane does, and leaves out (counting as dropped) what it would drop, so that no
//! exposure costs a report; what the control plane says of a refusal is logged.

use std::time::Duration;

use open_feature::EvaluationContext;
use pennon_provider::{ExposureScope::All, ReportOutcome};
use serde_json::{json, Value};

use crate::common::telemetry::{Answer, TelemetryServer};
use crate::common::{builder, capture_logs, key, logs, open_feature, payload, sign};

/// A boolean flag whose one rule, `id`, serves `on` to everyone.
fn ruled(id: &str) -> Value {
    json!({"type": "boolean", "enabled": true, "variants": {"on": true, "off": false}, "off_variant": "off",
           "fallthrough": {"variant": "off"}, "rules": [{"id": id, "serve": {"variant": "on"}}]})
}

/// A boolean flag whose fallthrough splits by `attribute`.
fn split_by(attribute: &str) -> Value {
    json!({"type": "boolean", "enabled": true, "variants": {"on": true, "off": false}, "off_variant": "off",
           "fallthrough": {"rollout": {"variants": [{"variant": "on", "weight": 1}, {"variant": "off", "weight": 1}],
                                         "bucket_by": attribute}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exposures_the_control_plane_would_drop_are_left_out_and_counted() {
    let flags = json!({
        "empty-rule": ruled(""),
        "longest-rule": ruled(&"r".repeat(1_024)),
        "long-rule": ruled(&"r".repeat(1_025)),
        "long-bucket-by": split_by(&"a".repeat(1_025)),
    });
    let snapshot = sign(&payload("test", 1, "2099-01-01T00:00:00Z", flags), &[&key(1)]);
    let server = TelemetryServer::start().await;
    let provider = builder()
        .inline(snapshot)
        .telemetry(server.base(), "pns_secret")
        .exposure_queue(10)
        .exposures(All)
        .build()
        .unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;
    let ann = EvaluationContext::default().with_targeting_key("ann").with_custom_field("a".repeat(1_025), "acme");
    for flag in ["empty-rule", "longest-rule", "long-rule"] {
        assert!(client.get_bool_value(flag, Some(&ann), None).await.unwrap(), "{flag}");
    }
    client.get_bool_value("long-bucket-by", Some(&ann), None).await.unwrap();
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    let [report] = &server.accepted()[..] else { panic!("one report") };
    let sent: Vec<(&str, Option<usize>)> = report["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["flag"].as_str().unwrap(), e["rule_id"].as_str().map(str::len)))
        .collect();
    assert_eq!(sent, [("empty-rule", Some(0)), ("longest-rule", Some(1_024))]);
    assert_eq!(report["exposures_dropped"], 2, "a rule id and a bucket_by over 1,024 bytes");
    assert_eq!(report["counts"].as_array().unwrap().len(), 4, "every count is sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_control_plane_says_of_a_refusal_is_logged_with_the_member_it_names() {
    capture_logs();
    let server = TelemetryServer::start().await;
    server.script([
        Answer::Refuse(422, "counts[0].count", "must be a whole number from 1 (test 51d2)"),
        Answer::AcceptWith(json!({"exposures_refused": 2, "exposure_refusal":
            {"field": "exposures[1].rule_id", "message": "must be 0 to 1024 bytes long (test 51d2)"}})),
        Answer::AcceptWith(json!({"exposures_refused": 2, "exposure_refusal":
            {"field": "exposures[1].rule_id", "message": "must be 0 to 1024 bytes long (test 51d2)"}})),
    ]);
    let provider = builder()
        .inline(crate::common::envelope(1))
        .telemetry(server.base(), "pns_secret")
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;
    let rejected = {
        client.get_bool_value("new-checkout", None, None).await.unwrap();
        handle.flush_telemetry().await
    };
    assert!(
        matches!(&rejected, ReportOutcome::Rejected(why) if why.contains("counts[0].count: must be a whole number from 1 (test 51d2)")),
        "{rejected:?}"
    );
    for _ in 0..2 {
        client.get_bool_value("new-checkout", None, None).await.unwrap();
        assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);
    }
    let said = "the control plane dropped 2 exposures of a report (the first: exposures[1].rule_id: must be 0 to 1024 \
                bytes long (test 51d2)); its counts were kept";
    assert_eq!(logs().matches(said).count(), 1, "logged once:\n{}", logs());
}
