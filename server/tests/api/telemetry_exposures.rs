//! An exposure the server cannot take costs that exposure only: it is dropped and
//! counted with the SDK's dropped ones, the 202 says how many and why the first was,
//! and the report's counts and other exposures are stored. Rule ids and `bucket_by`
//! are bounded alike by the admin API and the telemetry endpoint.

use serde_json::{json, Value as Json};

use crate::common::telemetry::{flag_usage, post, report, usage, DAY_MS};
use crate::common::{boolean_flag, now_ms, Backend, Server};

fn exposure(rule_id: &str, user: &str, at: i64) -> Json {
    json!({ "flag": "checkout", "variant": "on", "reason": "TARGETING_MATCH", "rule_id": rule_id,
            "targeting_key": user, "snapshot_version": 2, "timestamp_ms": at })
}

async fn exposures(server: &Server) -> Vec<Json> {
    let reply = server.admin().get("/api/v1/exposures?environment=development").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["exposures"].as_array().unwrap().clone()
}

async fn a_bad_exposure_is_dropped_alone(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let etag = boolean_flag(&admin, "checkout", false).await;
    // Rules as the API takes them: an empty id, and a long one.
    let long = "r".repeat(300);
    let config = json!({
        "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
        "rules": [{ "id": "", "serve": { "variant": "on" } }, { "id": long, "serve": { "variant": "on" } }]
    });
    let reply = admin.put("/api/v1/environments/development/flags/checkout", &config, &etag).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let now = now_ms();
    let mut body = report(now, json!([{ "flag": "checkout", "variant": "on", "count": 50 }]));
    let mut not_an_object = json!(7);
    let mut old = exposure("", "user-3", now - 8 * DAY_MS);
    old["note"] = json!("members not known are ignored here too");
    let mut mistyped = exposure("", "user-5", now);
    mistyped["snapshot_version"] = json!("two");
    body["exposures"] = json!([
        exposure("", "user-1", now),
        exposure(&long, "user-2", now),
        old,
        exposure("", "line\rbreak", now),
        mistyped,
        exposure(&"r".repeat(1025), "user-6", now),
        std::mem::take(&mut not_an_object),
        exposure("", "user-8", now),
    ]);
    body["exposures_dropped"] = json!(2);
    let reply = post(&server, &server.sdk_dev, "development", &body).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["accepted"], json!({ "counts": 1, "exposures": 3 }));
    assert_eq!(reply.body["exposures_refused"], 5);
    assert_eq!(
        reply.body["exposure_refusal"],
        json!({ "field": "exposures[2].timestamp_ms",
                "message": "is more than 7 days before the server's clock: the exposure is dropped (the report's counts are kept)" })
    );
    let kept: Vec<Json> = exposures(&server).await.iter().map(|e| e["targeting_key"].clone()).collect();
    assert_eq!(kept, [json!("user-8"), json!("user-2"), json!("user-1")]);
    let body = usage(&server, "?environment=development").await;
    assert_eq!(flag_usage(&body, "development", "checkout")["evaluations"], 50, "the counts are kept");
    assert_eq!(body["environments"][0]["sdks"][0]["exposures_dropped"], 2 + 5);

    // Each kind of refusal names its exposure by path.
    let cases = [
        (exposure("", "line\rbreak", now), "exposures[0].targeting_key"),
        (json!({ "flag": "checkout", "variant": "on" }), "exposures[0]"),
        (json!("x"), "exposures[0]"),
        (exposure(&"r".repeat(1025), "u", now), "exposures[0].rule_id"),
    ];
    for (bad, field) in cases {
        let mut body = report(now, json!([]));
        body["exposures"] = json!([bad]);
        let reply = post(&server, &server.sdk_dev, "development", &body).await;
        assert_eq!(reply.status, 202, "{}", reply.body);
        assert_eq!(reply.body["exposure_refusal"]["field"], field, "{}", reply.body);
    }
    // Over 1,000 is the report's fault, not an exposure's: refused whole.
    let mut body = report(now, json!([{ "flag": "checkout", "variant": "on", "count": 1 }]));
    body["exposures"] = json!(vec![exposure("", "u", now); 1_001]);
    let reply = post(&server, &server.sdk_dev, "development", &body).await;
    assert_eq!((reply.status, reply.field()), (422, "exposures"), "{}", reply.body);
    server.stop().await;
}

/// The admin API refuses rule ids and `bucket_by` the telemetry endpoint could not take
/// back with an exposure, naming them.
async fn rule_ids_and_bucket_by_are_bounded_as_exposures_are(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let etag = boolean_flag(&admin, "checkout", false).await;
    let rollout = |bucket_by: &str| json!({ "variants": [{ "variant": "on", "weight": 1 }, { "variant": "off", "weight": 1 }], "bucket_by": bucket_by });
    let cases = [
        (
            json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
                    "rules": [{ "id": "x".repeat(1025), "serve": { "variant": "on" } }] }),
            "rules[0].id",
        ),
        (
            json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
                    "rules": [{ "id": "r", "serve": { "rollout": rollout(&"a".repeat(1025)) } }] }),
            "rules[0].serve.rollout.bucket_by",
        ),
        (
            json!({ "enabled": true, "off_variant": "off", "fallthrough": { "rollout": rollout(&"a".repeat(1025)) } }),
            "fallthrough.rollout.bucket_by",
        ),
    ];
    for (config, field) in cases {
        let reply = admin.put("/api/v1/environments/development/flags/checkout", &config, &etag).await;
        assert_eq!((reply.status, reply.field()), (422, field), "{}", reply.body);
        assert!(reply.body["error"]["message"].as_str().unwrap().contains("at most 1024 bytes"), "{}", reply.body);
    }
    let longest = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "rollout": rollout(&"a".repeat(1024)) },
                          "rules": [{ "id": "x".repeat(1024), "serve": { "variant": "on" } }] });
    let reply = admin.put("/api/v1/environments/development/flags/checkout", &longest, &etag).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    server.stop().await;
}

crate::on_both_backends!(a_bad_exposure_is_dropped_alone, rule_ids_and_bucket_by_are_bounded_as_exposures_are);
