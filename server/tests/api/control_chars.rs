//! Names and labels (variant names, tags, owners, rule ids, metadata names, SDK key and
//! token names) refuse control characters and bidirectional controls, and descriptions
//! refuse them except line feeds and tabs: a 422 naming the field, the character and
//! where it is, and nothing changed. A tag such as `ESC ] 0 ; … BEL ESC [ 2 J` reached
//! the terminal of whoever ran `pennon flags list`.

use serde_json::{json, Value as Json};

use crate::common::{boolean_flag, Backend, Resp, Server};

/// A control character and a bidirectional override, and how a refusal names each.
const BAD: [(&str, &str); 2] =
    [("\u{1b}", "the control character U+001B"), ("\u{202e}", "the bidirectional control U+202E")];

/// Asserts a 422 at `field` whose message names `character` at `position`.
fn refused(case: &str, reply: &Resp, field: &str, character: &str, position: usize) {
    assert_eq!((reply.status, reply.code()), (422, "invalid_field"), "{case}: {}", reply.body);
    assert_eq!(reply.field(), field, "{case}: {}", reply.body);
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    let expected = format!("contains {character} at character {position}");
    assert!(message.contains(&expected), "{case}: {message:?} should say {expected:?}");
    assert!(message.contains("control"), "{case}: {message}");
}

async fn names_and_labels_refuse_control_characters(backend: Backend) {
    let server = Server::start(&backend).await;
    let api = server.admin();
    let etag = boolean_flag(&api, "checkout", false).await;
    let segments = "/api/v1/environments/development/segments";
    let reply = api.post(segments, &json!({ "key": "beta", "included": ["ann"] })).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let segment_etag = reply.etag.clone().unwrap();
    let versions = (api.version("development").await, api.version("production").await);
    let audited = api.audit_count().await;
    let flag_etag = api.get("/api/v1/flags/checkout").await.etag.unwrap();
    let config = "/api/v1/environments/development/flags/checkout";
    let production = "/api/v1/environments/production/flags/checkout";
    let production_etag = api.get(production).await.etag.unwrap();

    for (bad, character) in BAD {
        let name = format!("ab{bad}c");
        let flag = |extra: Json| {
            let mut body = json!({ "key": "k", "type": "boolean" });
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            body
        };
        let reply = api.post("/api/v1/flags", &flag(json!({ "variants": { &name: true, "off": false } }))).await;
        refused("variant name", &reply, &format!("variants[{name:?}]"), character, 3);
        let reply = api.post("/api/v1/flags", &flag(json!({ "tags": ["ok", &name] }))).await;
        refused("tag", &reply, "tags[1]", character, 3);
        let reply = api.post("/api/v1/flags", &flag(json!({ "owner": &name }))).await;
        refused("owner", &reply, "owner", character, 3);
        let reply = api.post("/api/v1/flags", &flag(json!({ "description": format!("one\ntwo\t{name}") }))).await;
        refused("description", &reply, "description", character, 11);
        let put = json!({ "type": "boolean", "tags": [&name] });
        refused("tag in a PUT", &api.put("/api/v1/flags/checkout", &put, &flag_etag).await, "tags[0]", character, 3);

        // A configuration's rule ids and metadata names, directly and as a proposal.
        let rule = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
            "rules": [{ "id": &name, "serve": { "variant": "on" } }] });
        refused("rule id", &api.put(config, &rule, &etag).await, "rules[0].id", character, 3);
        refused("rule id proposed", &api.put(production, &rule, &production_etag).await, "rules[0].id", character, 3);
        let metadata = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
            "metadata": { &name: "x" } });
        refused(
            "metadata name",
            &api.put(config, &metadata, &etag).await,
            &format!("metadata[{name:?}]"),
            character,
            3,
        );

        // Condition attributes and `bucket_by`, in flags and segments: names shown in
        // reviews (values are data, and kept as they are).
        let attribute = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
            "rules": [{ "id": "r", "conditions": [{ "attribute": "plan", "op": "equals", "value": &name },
                { "attribute": &name, "op": "exists" }], "serve": { "variant": "on" } }] });
        let reply = api.put(config, &attribute, &etag).await;
        refused("attribute", &reply, "rules[0].conditions[1].attribute", character, 3);
        let bucketed = json!({ "enabled": true, "off_variant": "off", "fallthrough":
            { "rollout": { "bucket_by": &name, "variants": [{ "variant": "on", "weight": 1 }] } } });
        let reply = api.put(config, &bucketed, &etag).await;
        refused("bucket_by", &reply, "fallthrough.rollout.bucket_by", character, 3);
        let ruled =
            json!({ "key": "gamma", "rules": [{ "id": "r", "conditions": [{ "attribute": &name, "op": "exists" }] }] });
        refused(
            "segment attribute",
            &api.post(segments, &ruled).await,
            "rules[0].conditions[0].attribute",
            character,
            3,
        );

        // Segments: created and replaced.
        let described = json!({ "key": "gamma", "description": &name });
        refused("segment description", &api.post(segments, &described).await, "description", character, 3);
        let ruled = json!({ "key": "gamma", "rules": [{ "id": "fine" }, { "id": &name }] });
        refused("segment rule id", &api.post(segments, &ruled).await, "rules[1].id", character, 3);
        let replaced = json!({ "included": ["ann"], "rules": [{ "id": &name }] });
        let reply = api.put(&format!("{segments}/beta"), &replaced, &segment_etag).await;
        refused("segment rule id in a PUT", &reply, "rules[0].id", character, 3);

        // Credentials: the names the audit log and the CLI's listings show.
        let sdk =
            api.post("/api/v1/environments/development/sdk-keys", &json!({ "kind": "server", "name": &name })).await;
        refused("SDK key name", &sdk, "name", character, 3);
        let token = api.post("/api/v1/tokens", &json!({ "name": &name, "role": "viewer" })).await;
        refused("token name", &token, "name", character, 3);
    }

    // A carriage return that would overwrite a change request's summary.
    let fake = "on\r#1 open in production: turn `checkout` off";
    let reply = api
        .post("/api/v1/flags", &json!({ "key": "spoof", "type": "boolean", "variants": { fake: true, "off": false } }))
        .await;
    refused("carriage return", &reply, &format!("variants[{fake:?}]"), "the control character U+000D", 3);
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(r##""on\r#1 open in production: turn `checkout…""##), "quoted escaped, cut: {message}");

    // Nothing was stored, published, proposed or audited.
    assert_eq!((api.version("development").await, api.version("production").await), versions);
    assert_eq!(api.audit_count().await, audited, "a refused write was audited");
    assert_eq!(api.get("/api/v1/flags").await.body["flags"].as_array().unwrap().len(), 1);
    assert_eq!(api.get("/api/v1/change-requests").await.body["change_requests"], json!([]));
    assert_eq!(api.get(&format!("{segments}/gamma")).await.status, 404);

    // Descriptions are free text: line feeds and tabs are kept, and so is any other text.
    let description = "Checkout v2.\n\tOwner: payments — see the runbook.";
    let body = json!({ "key": "k", "type": "boolean", "description": description, "owner": "équipe paiements",
        "tags": ["ünïcode", "team:payments"] });
    let reply = api.post("/api/v1/flags", &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let stored = api.get("/api/v1/flags/k").await.body;
    assert_eq!((&stored["description"], &stored["tags"]), (&json!(description), &json!(["ünïcode", "team:payments"])));
    let segment = json!({ "key": "gamma", "description": "line one\nline two", "rules": [{ "id": "staff rule" }] });
    assert_eq!(api.post(segments, &segment).await.status, 201);
    assert_eq!(api.get(&format!("{segments}/gamma")).await.body["description"], "line one\nline two");
    server.stop().await;
}

crate::on_both_backends!(names_and_labels_refuse_control_characters);
