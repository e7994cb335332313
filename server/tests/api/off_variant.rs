//! `off_variant` in `POST /api/v1/flags`: the variant every environment starts on, so an
//! experiment's control (not the first variant by name) is what it serves disabled.
//! Without it the documented default stays: `off`, else the first variant by name.

use serde_json::json;

use crate::common::{Backend, Server};

async fn a_new_flag_starts_on_the_off_variant_given(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let variants = json!({ "control": "A", "b": "B", "c": "C" });
    let config = |key: &'static str| {
        let admin = admin.clone();
        async move {
            let mut configs = Vec::new();
            for env in ["development", "staging", "production"] {
                let reply = admin.get(&format!("/api/v1/environments/{env}/flags/{key}")).await;
                assert_eq!(reply.status, 200, "{}", reply.body);
                configs.push((reply.body["off_variant"].clone(), reply.body["fallthrough"].clone()));
            }
            configs
        }
    };

    let created = admin
        .post(
            "/api/v1/flags",
            &json!({ "key": "exp", "type": "string", "variants": variants, "off_variant": "control" }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body.get("off_variant"), None, "the definition holds no off variant");
    for (off, fallthrough) in config("exp").await {
        assert_eq!((off, fallthrough), (json!("control"), json!({ "variant": "control" })));
    }

    // Without it: the first variant by name, as documented.
    let created = admin.post("/api/v1/flags", &json!({ "key": "plain", "type": "string", "variants": variants })).await;
    assert_eq!(created.status, 201, "{}", created.body);
    for (off, fallthrough) in config("plain").await {
        assert_eq!((off, fallthrough), (json!("b"), json!({ "variant": "b" })));
    }
    // With an `on` variant, that stays the fallthrough.
    let body = json!({ "key": "toggle", "type": "boolean", "off_variant": "on" });
    assert_eq!(admin.post("/api/v1/flags", &body).await.status, 201);
    for (off, fallthrough) in config("toggle").await {
        assert_eq!((off, fallthrough), (json!("on"), json!({ "variant": "on" })));
    }

    // One that is not a variant, or not a string, is refused naming it; nothing is created.
    let bad = json!({ "key": "bad", "type": "string", "variants": variants, "off_variant": "d" });
    let refused = admin.post("/api/v1/flags", &bad).await;
    assert_eq!((refused.status, refused.field()), (422, "off_variant"), "{}", refused.body);
    assert_eq!(refused.body["error"]["message"], "`d` is not one of the variants; name one of `b`, `c`, `control`");
    let bad = json!({ "key": "bad", "type": "string", "variants": variants, "off_variant": 1 });
    let refused = admin.post("/api/v1/flags", &bad).await;
    assert_eq!((refused.status, refused.field()), (422, "off_variant"), "{}", refused.body);
    assert_eq!(admin.get("/api/v1/flags/bad").await.status, 404);
    // Other members are still read strictly; a definition's PUT takes no off variant.
    let unknown = json!({ "key": "bad", "type": "boolean", "off_variant": "off", "colour": "red" });
    let refused = admin.post("/api/v1/flags", &unknown).await;
    assert_eq!((refused.status, refused.code(), refused.field()), (422, "unknown_field", "colour"), "{}", refused.body);
    let etag = admin.get("/api/v1/flags/exp").await.etag.unwrap();
    let put = json!({ "type": "string", "variants": variants, "off_variant": "control" });
    let refused = admin.put("/api/v1/flags/exp", &put, &etag).await;
    assert_eq!((refused.status, refused.code()), (422, "unknown_field"), "{}", refused.body);
    server.stop().await;
}

crate::on_both_backends!(a_new_flag_starts_on_the_off_variant_given);
