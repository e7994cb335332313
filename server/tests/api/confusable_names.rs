//! Token names and variant names refuse what would read as another name: invisible
//! and format characters (`ed\u{200b}`), white space at either end (`ed `), a combining
//! mark at the start or on an ASCII character (`adm-stg\u{301}`); and token names are
//! unique among live tokens without regard to case (`ED` is `ed`). An approval by
//! `ed\u{200b}` read in `pennon audit` as self-approval by `ed`. Names stored before
//! stay as they are.

use serde_json::{json, Value as Json};

use crate::common::{Api, Backend, Db, Resp, Server};

/// Asserts a 422 at `field` whose message says `why` (the character and where).
fn refused(case: &str, reply: &Resp, field: &str, why: &str) {
    assert_eq!((reply.status, reply.code(), reply.field()), (422, "invalid_field", field), "{case}: {}", reply.body);
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(why), "{case}: {message:?} should say {why:?}");
}

async fn create_token(api: &Api, name: &str) -> Resp {
    api.post("/api/v1/tokens", &json!({ "name": name, "role": "editor", "environments": ["staging"] })).await
}

async fn names_that_read_as_others_are_refused(backend: Backend) {
    let server = Server::start(&backend).await;
    let api = server.admin();
    server.token("ed", "editor", Some(&["staging"])).await;
    server.token("adm-stg", "admin", Some(&["staging"])).await;
    let tokens = api.get("/api/v1/tokens").await.body;
    let audited = api.audit_count().await;

    let cases = [
        ("ed\u{200b}", "the token's name \"ed\\u{200b}\" contains the invisible character U+200B at character 3"),
        ("e\u{ad}d", "contains the invisible character U+00AD at character 2"),
        ("\u{feff}ed", "contains the invisible character U+FEFF at character 1"),
        ("ed\u{2060}", "contains the invisible character U+2060 at character 3"),
        ("ed ", "ends with the white space U+0020 at character 3"),
        ("\u{a0}ed", "starts with the white space U+00A0 at character 1"),
        ("adm-stg\u{301}", "puts on an ASCII character the combining mark U+0301 at character 8"),
        ("\u{301}ed", "starts with the combining mark U+0301 at character 1"),
    ];
    for (name, why) in cases {
        refused(&format!("{name:?}"), &create_token(&api, name).await, "name", why);
    }
    for name in ["ED", "Ed", "ADM-STG"] {
        let reply = create_token(&api, name).await;
        assert_eq!((reply.status, reply.code()), (409, "conflict"), "{name}: {}", reply.body);
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("already named `") && message.contains("differ only in case"), "{message}");
    }
    let reply = create_token(&api, "Pennon").await;
    refused("the server's name in another case", &reply, "name", "`pennon` is the server's own name");
    assert_eq!(api.get("/api/v1/tokens").await.body, tokens, "a refused token was created");
    assert_eq!(api.audit_count().await, audited, "a refused token was audited");

    // Among live tokens only: once `ed` is revoked, `ED` may be created.
    let ed = tokens["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "ed").unwrap()["id"].clone();
    assert_eq!(api.raw(reqwest::Method::DELETE, &format!("/api/v1/tokens/{ed}"), None, &[]).await.status, 204);
    assert_eq!(create_token(&api, "ED").await.status, 201);
    // Letters of any script, accented letters written precomposed, inner spaces.
    for name in ["Ed Smith", "José", "राम"] {
        assert_eq!(create_token(&api, name).await.status, 201, "{name}");
    }

    // Variant names, as a flag is created or replaced.
    let flags = api.get("/api/v1/flags").await.body;
    for (name, why) in [("on\u{200b}", "U+200B at character 3"), (" on", "starts with the white space U+0020")] {
        let variants = json!({ name: true, "off": false });
        let reply = api.post("/api/v1/flags", &json!({ "key": "k", "type": "boolean", "variants": variants })).await;
        refused(&format!("variant {name:?}"), &reply, &format!("variants[{name:?}]"), why);
    }
    let reply = api.post("/api/v1/flags", &json!({ "key": "k", "type": "boolean" })).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let flag_etag = api.get("/api/v1/flags/k").await.etag.unwrap();
    let variants = json!({ "on": true, "off": false, "of\u{2063}f": false });
    let reply = api.put("/api/v1/flags/k", &json!({ "type": "boolean", "variants": variants }), &flag_etag).await;
    refused("variant in a PUT", &reply, "variants[\"of\\u{2063}f\"]", "U+2063 at character 3");
    assert_eq!(api.get("/api/v1/flags").await.body["flags"].as_array().unwrap().len(), 1, "{flags}");
    server.stop().await;
}

async fn names_stored_before_stay(backend: Backend) {
    let server = Server::start(&backend).await;
    let api = server.admin();
    server.token("old", "viewer", None).await;
    let reply = api.post("/api/v1/flags", &json!({ "key": "k", "type": "boolean" })).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    // Written by a release that allowed them.
    let db = Db::connect(&server.database_url).await;
    db.execute("UPDATE api_tokens SET name = 'old\u{200b}' WHERE name = 'old'").await.unwrap();
    let stored = json!({ "off": false, "on": true, "on\u{200b}": true });
    db.execute(&format!("UPDATE flags SET variants = '{stored}' WHERE key = 'k'")).await.unwrap();
    db.close().await;

    let names: Vec<Json> =
        api.get("/api/v1/tokens").await.body["tokens"].as_array().unwrap().iter().map(|t| t["name"].clone()).collect();
    assert!(names.contains(&json!("old\u{200b}")), "{names:?}");
    // Its definition can change, keeping those variants, but cannot add another such.
    let etag = api.get("/api/v1/flags/k").await.etag.unwrap();
    let kept = json!({ "type": "boolean", "variants": stored, "description": "kept" });
    let reply = api.put("/api/v1/flags/k", &kept, &etag).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["variants"], stored);
    let added =
        json!({ "type": "boolean", "variants": { "off": false, "on": true, "on\u{200b}": true, "x\u{200b}": true } });
    let reply = api.put("/api/v1/flags/k", &added, reply.etag.as_deref().unwrap()).await;
    refused("a new variant", &reply, "variants[\"x\\u{200b}\"]", "U+200B at character 2");
    server.stop().await;
}

crate::on_both_backends!(names_that_read_as_others_are_refused, names_stored_before_stay);
