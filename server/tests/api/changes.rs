//! Change requests: in a protected environment a change is proposed by one user and
//! applied only when another approves it; the audit log names both.

use serde_json::{json, Value as Json};

use crate::common::{boolean_flag, Api, Backend, Server};

async fn four_eyes(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "payments", false).await;
    let alice = server.api(&server.token("alice", "editor", None).await);
    let bob = server.api(&server.token("bob", "editor", None).await);
    let viewer = server.api(&server.token("vic", "viewer", None).await);
    let before = admin.version("production").await;

    // Alice's toggle in production becomes a change request; nothing is published.
    let proposed = alice.toggle("production", "payments", true).await;
    assert_eq!(proposed.status, 202, "{}", proposed.body);
    assert_eq!(proposed.body["status"], "open");
    assert_eq!(proposed.body["operation"], json!({ "action": "config.toggle", "flag": "payments", "enabled": true }));
    let id = proposed.body["id"].as_i64().unwrap();
    assert_eq!(admin.version("production").await, before);
    assert_eq!(admin.get("/api/v1/environments/production/flags/payments").await.body["enabled"], false);
    // A proposal that would not publish is refused up front.
    let path = "/api/v1/environments/production/flags/payments";
    let etag = admin.get(path).await.etag.unwrap();
    let broken = json!({ "enabled": true, "off_variant": "nope", "fallthrough": { "variant": "on" } });
    assert_eq!(alice.put(path, &broken, &etag).await.status, 422);

    // Alice cannot approve her own change; a viewer cannot approve; Bob can.
    let approve = format!("/api/v1/change-requests/{id}/approve");
    let own = alice.post(&approve, &json!({})).await;
    assert_eq!((own.status, own.code()), (403, "forbidden"), "{}", own.body);
    assert_eq!(viewer.post(&approve, &json!({})).await.status, 403);
    let approved = bob.post(&approve, &json!({})).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.body["status"], "applied");
    let version = approved.version.unwrap();
    assert_eq!(version, before + 1);
    assert_eq!(approved.body["snapshot_version"], version);
    assert_eq!(admin.get(path).await.body["enabled"], true);
    assert_eq!(bob.post(&approve, &json!({})).await.status, 409, "applied twice");

    // The audit log records both users.
    let audit = admin.get("/api/v1/audit?environment=production&limit=10").await.body;
    let entries = audit["entries"].as_array().unwrap();
    let change = entries.iter().find(|e| e["action"] == "config.toggle").unwrap();
    assert_eq!((change["actor"].as_str(), change["approved_by"].as_str()), (Some("alice"), Some("bob")));
    assert_eq!(change["change_request"], id);
    assert_eq!(change["snapshot_version"], version);
    let approval = entries.iter().find(|e| e["action"] == "change_request.approve").unwrap();
    assert_eq!(approval["actor"], "bob");
    assert!(entries.iter().any(|e| e["action"] == "change_request.open" && e["actor"] == "alice"));

    // A rejected request changes nothing.
    let carol = server.api(&server.token("carol", "editor", None).await);
    let first = alice.toggle("production", "payments", false).await;
    let second = carol.toggle("production", "payments", false).await;
    let (first, second) = (first.body["id"].as_i64().unwrap(), second.body["id"].as_i64().unwrap());
    let rejected = bob.post(&format!("/api/v1/change-requests/{first}/reject"), &json!({})).await;
    assert_eq!((rejected.status, rejected.body["status"].as_str()), (200, Some("rejected")));
    assert_eq!(admin.get(path).await.body["enabled"], true);
    // A request made stale by another change is refused, with the approver's advice; one
    // whose change that other change made already is closed as applied, changing nothing.
    let proposed_at = admin.get(path).await.etag.unwrap();
    let third = alice.toggle("production", "payments", false).await.body["id"].as_i64().unwrap();
    let rollout = alice.post_if(&format!("{path}/rollout"), &json!({ "percent": 50 }), &proposed_at).await;
    let rollout = rollout.body["id"].as_i64().unwrap();
    assert_eq!(bob.post(&format!("/api/v1/change-requests/{second}/approve"), &json!({})).await.status, 200);
    let version = admin.version("production").await;
    let stale = bob.post(&format!("/api/v1/change-requests/{rollout}/approve"), &json!({})).await;
    assert_eq!((stale.status, stale.code()), (412, "precondition_failed"), "{}", stale.body);
    let now = admin.get(path).await.etag.unwrap();
    assert_eq!(stale.etag.as_deref(), Some(now.as_str()));
    assert_eq!(
        stale.body["error"]["message"],
        format!(
            "change request {rollout} no longer applies: `payments` in `production` changed after `alice` proposed \
             it (ETag {proposed_at} then, {now} now), and approving it would overwrite that change unseen. Reject it \
             (`pennon change-requests reject {rollout}`) and, if its change is still wanted, ask `alice` to make it \
             again from what is there now"
        )
    );
    let audited = admin.audit_count().await;
    let moot = bob.post(&format!("/api/v1/change-requests/{third}/approve"), &json!({})).await;
    assert_eq!((moot.status, moot.version), (200, None), "{}", moot.body);
    assert_eq!((&moot.body["status"], &moot.body["snapshot_version"]), (&json!("applied"), &Json::Null));
    assert_eq!(admin.version("production").await, version, "nothing published");
    assert_eq!(admin.audit_count().await, audited + 1, "the approval alone");
    let open = admin.get("/api/v1/change-requests?environment=production&status=open").await.body;
    let open: Vec<_> = open["change_requests"].as_array().unwrap().iter().map(|r| r["id"].as_i64()).collect();
    assert_eq!(open, vec![Some(rollout)], "the stale one stays open to be rejected");
    server.stop().await;
}

/// A definition change may not alter what a protected environment serves without its
/// approval: not the value of the off variant a disabled flag serves there, and not the
/// type, variants or client visibility of a flag enabled there.
async fn definitions_cannot_bypass_protection(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    let banner = json!({ "key": "banner", "type": "string", "variants": { "off": "none", "on": "sale" } });
    assert_eq!(admin.post("/api/v1/flags", &banner).await.status, 201);
    let put = |body: serde_json::Value| {
        let admin = admin.clone();
        async move {
            let etag = admin.get("/api/v1/flags/banner").await.etag.unwrap();
            admin.put("/api/v1/flags/banner", &body, &etag).await
        }
    };
    let before = admin.version("production").await;
    // Disabled in production, which serves `off`: its value is production's output.
    let off_changed =
        put(json!({ "key": "banner", "type": "string", "variants": { "off": "EVERYONE", "on": "sale" } })).await;
    assert_eq!(off_changed.status, 409, "{}", off_changed.body);
    assert!(off_changed.body.to_string().contains("protected environment `production`"), "{}", off_changed.body);
    // A variant production does not serve may change.
    let on_changed =
        put(json!({ "key": "banner", "type": "string", "variants": { "off": "none", "on": "sale!" } })).await;
    assert_eq!(on_changed.status, 200, "{}", on_changed.body);

    // Enabled in production (approved by a second user), client visibility is frozen too.
    let alice = server.api(&server.token("alice", "editor", None).await);
    let proposed = alice.toggle("production", "banner", true).await;
    assert_eq!(proposed.status, 202, "{}", proposed.body);
    let id = proposed.body["id"].as_i64().unwrap();
    assert_eq!(admin.post(&format!("/api/v1/change-requests/{id}/approve"), &json!({})).await.status, 200);
    let visible = put(json!({ "key": "banner", "type": "string", "variants": { "off": "none", "on": "sale!" }, "client_visible": true })).await;
    assert_eq!(visible.status, 409, "{}", visible.body);
    let flag = admin.get("/api/v1/flags/banner").await.body;
    assert_eq!((flag["variants"]["off"].as_str(), flag["client_visible"].as_bool()), (Some("none"), Some(false)));
    assert!(admin.version("production").await > before, "the approved toggle published");
    server.stop().await;
}

/// An approval covers the variant values the change was proposed against: a definition
/// edited since (allowed unreviewed while the flag is off in production) fails it.
async fn approval_covers_the_definition_proposed_against(backend: Backend) {
    let (server, admin, alice, bob, id) = banner_proposed_on(&backend).await;
    let etag = admin.get("/api/v1/flags/banner").await.etag.unwrap();
    let edited =
        json!({ "key": "banner", "type": "string", "variants": { "off": "none", "on": "<script>evil()</script>" } });
    assert_eq!(alice.put("/api/v1/flags/banner", &edited, &etag).await.status, 200);
    let before = admin.version("production").await;

    let approve = format!("/api/v1/change-requests/{id}/approve");
    let refused = bob.post(&approve, &json!({})).await;
    assert_eq!((refused.status, refused.code()), (409, "conflict"), "{}", refused.body);
    assert!(refused.body.to_string().contains("changed after change request"), "{}", refused.body);
    assert_eq!(admin.version("production").await, before, "nothing published");
    assert_eq!(admin.get("/api/v1/environments/production/flags/banner").await.body["enabled"], false);
    let request = admin.get(&format!("/api/v1/change-requests/{id}")).await.body;
    assert_eq!(request["status"], "open", "still open, to be rejected: {request}");

    // Proposed again, against the definition as it is now, it can be approved.
    let again = alice.toggle("production", "banner", true).await.body["id"].as_i64().unwrap();
    assert_eq!(bob.post(&format!("/api/v1/change-requests/{again}/approve"), &json!({})).await.status, 200);
    assert_eq!(admin.get("/api/v1/environments/production/flags/banner").await.body["enabled"], true);
    server.stop().await;
}

/// Editing what a flag does not serve (its description, owner or tags) leaves open
/// change requests on it approvable.
async fn description_edits_keep_requests_approvable(backend: Backend) {
    let (server, admin, alice, bob, id) = banner_proposed_on(&backend).await;
    let etag = admin.get("/api/v1/flags/banner").await.etag.unwrap();
    let described = json!({ "key": "banner", "type": "string", "variants": { "off": "none", "on": "Welcome!" },
        "description": "the welcome banner", "owner": "growth", "tags": ["web"] });
    let edited = alice.put("/api/v1/flags/banner", &described, &etag).await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_ne!(edited.etag.as_deref(), Some(etag.as_str()), "the edit is a new revision of the flag");

    let approved = bob.post(&format!("/api/v1/change-requests/{id}/approve"), &json!({})).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(admin.get("/api/v1/environments/production/flags/banner").await.body["enabled"], true);
    server.stop().await;
}

/// A string flag `banner`, editors `alice` and `bob`, and alice's open request (its id)
/// to turn `banner` on in production.
async fn banner_proposed_on(backend: &Backend) -> (Server, Api, Api, Api, i64) {
    let server = Server::start(backend).await;
    let admin = server.admin();
    let banner = json!({ "key": "banner", "type": "string", "variants": { "off": "none", "on": "Welcome!" } });
    assert_eq!(admin.post("/api/v1/flags", &banner).await.status, 201);
    let alice = server.api(&server.token("alice", "editor", None).await);
    let bob = server.api(&server.token("bob", "editor", None).await);
    let proposed = alice.toggle("production", "banner", true).await;
    assert_eq!(proposed.status, 202, "{}", proposed.body);
    let id = proposed.body["id"].as_i64().unwrap();
    (server, admin, alice, bob, id)
}

/// A token scoped to one environment lists its change requests even when other
/// environments have more than the listing's limit of newer ones.
async fn scoped_listing_is_not_crowded_out(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "payments", false).await;
    assert_eq!(admin.post("/api/v1/environments", &json!({ "name": "qa", "protected": true })).await.status, 201);
    let alice = server.api(&server.token("alice", "editor", None).await);
    assert_eq!(alice.toggle("qa", "payments", true).await.status, 202);
    // 201 different changes (a repeat of one would answer with the request it opened).
    let path = "/api/v1/environments/production/flags/payments";
    let etag = admin.get(path).await.etag.unwrap();
    for i in 0..201 {
        let rollout = json!({ "percent": f64::from(i) / 10.0 });
        assert_eq!(alice.post_if(&format!("{path}/rollout"), &rollout, &etag).await.status, 202);
    }
    let qa_viewer = server.api(&server.token("qa-viewer", "viewer", Some(&["qa"])).await);
    let listed = qa_viewer.get("/api/v1/change-requests?status=open").await;
    assert_eq!(listed.status, 200);
    let envs: Vec<_> =
        listed.body["change_requests"].as_array().unwrap().iter().map(|r| r["environment"].clone()).collect();
    assert_eq!(envs, vec![json!("qa")], "{}", listed.body);
    server.stop().await;
}

/// Repeating a write that opened a change request answers with that request, marked
/// `already_open`, instead of opening a second identical one; so do identical writes
/// at once. Another proposer, another change or a decided request opens a new one.
async fn a_repeated_proposal_answers_with_the_open_request(backend: Backend) {
    let server = Server::start(&backend).await;
    let admin = server.admin();
    boolean_flag(&admin, "payments", false).await;
    let alice = server.api(&server.token("alice", "editor", None).await);
    let bob = server.api(&server.token("bob", "editor", None).await);
    let opens = || async {
        let audit = admin.get("/api/v1/audit?action=change_request.open&limit=1000").await.body;
        audit["entries"].as_array().unwrap().len()
    };

    let first = alice.toggle("production", "payments", true).await;
    assert_eq!((first.status, &first.body["already_open"]), (202, &json!(false)), "{}", first.body);
    let id = first.body["id"].as_i64().unwrap();
    let again = alice.toggle("production", "payments", true).await;
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!((again.body["id"].as_i64(), &again.body["already_open"]), (Some(id), &json!(true)));
    assert_eq!(again.body["status"], "open");
    assert_eq!(again.body["operation"], first.body["operation"]);
    assert_eq!(opens().await, 1, "a repeat is not audited");

    // Another proposer's identical change, and another change, are requests of their own.
    let bobs = bob.toggle("production", "payments", true).await;
    assert_eq!((bobs.status, &bobs.body["already_open"]), (202, &json!(false)), "{}", bobs.body);
    assert_ne!(bobs.body["id"].as_i64(), Some(id));
    let path = "/api/v1/environments/production/flags/payments";
    let etag = admin.get(path).await.etag.unwrap();
    let half = alice.post_if(&format!("{path}/rollout"), &json!({ "percent": 50 }), &etag).await;
    assert_eq!((half.status, &half.body["already_open"]), (202, &json!(false)), "{}", half.body);
    assert_ne!(half.body["id"].as_i64(), Some(id));

    // Eight identical writes at once open one request.
    let writes = (0..8).map(|_| {
        let (alice, etag) = (alice.clone(), etag.clone());
        async move { alice.post_if(&format!("{path}/rollout"), &json!({ "percent": 25 }), &etag).await }
    });
    let replies = futures_util::future::join_all(writes).await;
    let ids: std::collections::BTreeSet<_> = replies.iter().map(|r| (r.status, r.body["id"].as_i64())).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(replies.iter().filter(|r| r.body["already_open"] == json!(false)).count(), 1);
    assert_eq!(opens().await, 4);

    // Once decided, the same change opens a new request.
    assert_eq!(bob.post(&format!("/api/v1/change-requests/{id}/reject"), &json!({})).await.status, 200);
    let after = alice.toggle("production", "payments", true).await;
    assert_eq!((after.status, &after.body["already_open"]), (202, &json!(false)), "{}", after.body);
    assert_ne!(after.body["id"].as_i64(), Some(id));
    let open = admin.get("/api/v1/change-requests?environment=production&status=open").await.body;
    assert_eq!(open["change_requests"].as_array().unwrap().len(), 4, "{open}");
    server.stop().await;
}

crate::on_both_backends!(
    a_repeated_proposal_answers_with_the_open_request,
    four_eyes,
    definitions_cannot_bypass_protection,
    approval_covers_the_definition_proposed_against,
    description_edits_keep_requests_approvable,
    scoped_listing_is_not_crowded_out
);
