//! The exposure listener beside the reports: the host's pipeline and the control plane
//! both get every exposure (draining the queue would have split them), and a kill
//! switch evaluated on every request takes no room in the queue.

use std::sync::{Arc, Mutex};

use open_feature::EvaluationContext;
use pennon_provider::{Exposure, ReportOutcome};
use serde_json::{json, Value};

use crate::common::telemetry::TelemetryServer;
use crate::common::{builder, key, open_feature, payload, sign};

/// A 50/50 experiment and a kill switch.
fn flags() -> Vec<u8> {
    let flags = json!({
        "experiment": {"type": "string", "enabled": true, "variants": {"a": "A", "b": "B"}, "off_variant": "a",
                       "fallthrough": {"rollout": {"variants": [{"variant": "a", "weight": 1}, {"variant": "b", "weight": 1}]}}},
        "kill-switch": {"type": "boolean", "enabled": true, "variants": {"on": true}, "off_variant": "on",
                        "fallthrough": {"variant": "on"}},
    });
    sign(&payload("test", 1, "2099-01-01T00:00:00Z", flags), &[&key(1)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_and_the_reports_both_get_every_exposure() {
    const USERS: usize = 300;
    let server = TelemetryServer::start().await;
    let heard = Arc::new(Mutex::new(Vec::<Exposure>::new()));
    let into = heard.clone();
    let provider = builder()
        .inline(flags())
        .telemetry(server.base(), "pns_secret")
        // Room for the experiment's exposures only: the kill switch takes none.
        .exposure_queue(USERS)
        .on_exposure(move |exposure| into.lock().unwrap().push(exposure.clone()))
        .build()
        .unwrap();
    let handle = provider.handle();
    let (_api, client) = open_feature(provider).await;
    for user in 0..USERS {
        let ctx = EvaluationContext::default().with_targeting_key(format!("user-{user}"));
        assert!(client.get_bool_value("kill-switch", Some(&ctx), None).await.unwrap());
        client.get_string_value("experiment", Some(&ctx), None).await.unwrap();
    }
    assert_eq!(handle.flush_telemetry().await, ReportOutcome::Accepted);

    let [report] = &server.accepted()[..] else { panic!("one report") };
    let sent: Vec<(String, String, String)> = report["exposures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (text(&e["flag"]), text(&e["variant"]), text(&e["targeting_key"])))
        .collect();
    let heard: Vec<(String, String, String)> = heard
        .lock()
        .unwrap()
        .iter()
        .map(|e| (e.flag.to_string(), e.variant.to_string(), e.targeting_key.clone().unwrap()))
        .collect();
    assert_eq!(sent.len(), USERS);
    assert_eq!(sent, heard, "the same exposures, in the same order");
    assert_eq!(report["exposures_dropped"], 0);
    let variants: std::collections::BTreeSet<&str> = sent.iter().map(|(_, variant, _)| variant.as_str()).collect();
    assert_eq!(variants, ["a", "b"].into(), "both arms");
    let kill_switch = json!({"flag": "kill-switch", "variant": "on", "count": USERS});
    assert!(report["counts"].as_array().unwrap().contains(&kill_switch), "counted, not exposed: {report}");
}

fn text(value: &Value) -> String {
    value.as_str().unwrap().to_owned()
}
