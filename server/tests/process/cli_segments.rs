//! `pennon segments get` → edit → `segments update --file`, guarded by the ETag the
//! `get` printed, as for flags; and a rollback that keeps the segments of the flags
//! created since.

use serde_json::{json, Value as Json};

use crate::cli::ok;
use crate::cli_configure::{serve, stderr, stdout, Cli};
use crate::common::{Api, Backend};

const SEGMENT: &str = "/api/v1/environments/development/segments/beta-testers";

impl Cli<'_> {
    /// What `pennon segments get KEY --env ENV` prints, parsed.
    fn segment(&self, key: &str, env: &str) -> Json {
        serde_json::from_str(&ok(&self.run(&["segments", "get", key, "--env", env]))).unwrap()
    }
}

/// The trial's case: keys added by someone else between a `get` and an `update --file`
/// are kept, and the edit refused with what to do; redone on a fresh `get` it applies.
async fn update_from_a_get_document_is_guarded_by_its_etag(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let cli = Cli { dir: dir.path(), url: server.url.clone(), token: server.admin() };
    let api = Api::new(&server.url, &server.admin());
    ok(&cli.run(&["segments", "create", "beta-testers", "--env", "development", "--include", "ann,bob"]));

    let mut document = cli.segment("beta-testers", "development");
    let stored = api.get(SEGMENT).await;
    assert_eq!(document, json!({ "environment": "development", "etag": stored.etag, "segment": stored.body }));
    // Someone else adds keys meanwhile.
    let include = ["segments", "update", "beta-testers", "--env", "development", "--include", "ann,bob,cat,dan"];
    ok(&cli.run(&include));
    document["segment"]["included"] = json!(["ann", "bob", "eve"]);
    let file = cli.write("sg.json", &document);
    let update = ["segments", "update", "beta-testers", "--env", "development", "--file", &file];
    let refused = cli.run(&update);
    assert_eq!((refused.status.code(), stdout(&refused).as_str()), (Some(1), ""), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(message.starts_with("error: the server refused (412 precondition_failed)"), "{message}");
    assert!(
        message.contains(&format!(
            "segment `beta-testers` in `development` changed after the `pennon segments get` that `{file}` holds, \
             and that change is kept: run `pennon segments get beta-testers --env development` again, redo your \
             edit in what it prints, and update from that"
        )),
        "{message}"
    );
    assert_eq!(api.get(SEGMENT).await.body["included"], json!(["ann", "bob", "cat", "dan"]), "theirs kept");

    // Redone on a fresh `get`: applied on top of their change; the same file again
    // (its ETag stale, its segment what is there) changes nothing.
    let mut document = cli.segment("beta-testers", "development");
    document["segment"]["included"].as_array_mut().unwrap().push(json!("eve"));
    let file = cli.write("sg.json", &document);
    let version = api.version("development").await;
    let applied = ok(&cli.run(&update));
    assert_eq!(
        applied,
        format!("updated segment `beta-testers` in `development`: published snapshot version {}\n", version + 1)
    );
    assert_eq!(api.get(SEGMENT).await.body["included"], json!(["ann", "bob", "cat", "dan", "eve"]));
    let again = cli.run(&update);
    assert_eq!(ok(&again), "updated segment `beta-testers` in `development`: no change, nothing published\n");

    // The segment alone (hand-written, or printed by an older `pennon`) says what the
    // segment should be: sent under the ETag read just before, as before.
    let alone = cli.write("alone.json", &json!({ "included": ["zoe"] }));
    let replaced = cli.run(&["segments", "update", "beta-testers", "--env", "development", "--file", &alone]);
    assert!(stdout(&replaced).contains("published snapshot version"), "{replaced:?}");
    assert_eq!(api.get(SEGMENT).await.body["included"], json!(["zoe"]));

    // `create` copies a document's segment to another environment (its ETag guards
    // nothing there); `update` refuses a document of another environment or segment,
    // or one without its `etag`, before sending anything.
    ok(&cli.run(&["segments", "create", "beta-testers", "--env", "staging", "--file", &file]));
    let copied = api.get("/api/v1/environments/staging/segments/beta-testers").await.body;
    assert_eq!(copied["included"], json!(["ann", "bob", "cat", "dan", "eve"]));
    let mut unguarded = document.clone();
    unguarded.as_object_mut().unwrap().remove("etag");
    let unguarded = cli.write("unguarded.json", &unguarded);
    let audited = api.audit_count().await;
    for (args, says) in [
        (
            ["segments", "update", "beta-testers", "--env", "staging", "--file", &file],
            format!(
                "segment file `{file}` holds segment `beta-testers` in `development`, not `beta-testers` in \
                 `staging`: nothing was sent"
            ),
        ),
        (
            ["segments", "update", "alpha-testers", "--env", "development", "--file", &file],
            "holds segment `beta-testers` in `development`, not `alpha-testers` in `development`".to_owned(),
        ),
        (
            ["segments", "update", "beta-testers", "--env", "development", "--file", &unguarded],
            "has no `etag`: print it again with `pennon segments get beta-testers --env development`".to_owned(),
        ),
    ] {
        let refused = cli.run(&args);
        assert_eq!(refused.status.code(), Some(2), "{args:?}: {}", stderr(&refused));
        assert!(stderr(&refused).contains(&says), "{args:?}: {}", stderr(&refused));
    }
    assert_eq!(api.audit_count().await, audited, "nothing was sent");
    server.stop();
}

/// `segments update --if-match ETAG`, as `flags configure` takes it: keys given or a
/// segment alone go out under that ETag, so a change made since is refused and kept. A
/// segment alone of another key is refused, nothing sent.
async fn update_with_if_match_is_guarded_by_that_etag(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let cli = Cli { dir: dir.path(), url: server.url.clone(), token: server.admin() };
    let api = Api::new(&server.url, &server.admin());
    ok(&cli.run(&["segments", "create", "beta-testers", "--env", "development", "--include", "ann"]));
    let read = cli.segment("beta-testers", "development")["etag"].as_str().unwrap().to_owned();
    ok(&cli.run(&["segments", "update", "beta-testers", "--env", "development", "--include", "ann,bob"]));

    let stale = ["segments", "update", "beta-testers", "--env", "development", "--exclude", "cat", "--if-match"];
    let refused = cli.run(&[&stale[..], &[read.as_str()]].concat());
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains(&format!(
            "segment `beta-testers` in `development` changed since you read ETag {read}, and that change is kept"
        )),
        "{}",
        stderr(&refused)
    );
    let kept = api.get(SEGMENT).await.body;
    assert_eq!((&kept["included"], &kept["excluded"]), (&json!(["ann", "bob"]), &json!([])));

    // Under the current ETag, unquoted as a shell leaves it, it applies.
    let current = api.get(SEGMENT).await.etag.unwrap();
    let bare = current.trim_matches('"');
    let alone = cli.write("alone.json", &json!({ "included": ["zoe"] }));
    let update = ["segments", "update", "beta-testers", "--env", "development", "--file", &alone, "--if-match", bare];
    assert!(ok(&cli.run(&update)).contains("published snapshot version"));
    assert_eq!(api.get(SEGMENT).await.body["included"], json!(["zoe"]));

    let audited = api.audit_count().await;
    let other = cli.write("other.json", &json!({ "key": "vip", "included": ["eve"] }));
    let refused = cli.run(&["segments", "update", "beta-testers", "--env", "development", "--file", &other]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused)
            .contains(&format!("segment file `{other}` is segment `vip`, not `beta-testers`: nothing was sent")),
        "{}",
        stderr(&refused)
    );
    assert_eq!(api.audit_count().await, audited, "nothing was sent");
    assert_eq!(api.get(SEGMENT).await.body["included"], json!(["zoe"]));
    server.stop();
}

/// The trial's rollback: to a version before a flag existed, whose rules name segments
/// created since. The flag is disabled with its rules, the segments they name are kept
/// (and said so), the others created since are deleted.
async fn a_rollback_keeps_the_segments_newer_flags_name(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let cli = Cli { dir: dir.path(), url: server.url.clone(), token: server.admin() };
    let api = Api::new(&server.url, &server.admin());
    ok(&cli.run(&["environments", "create", "rb"]));
    let created = api.version("rb").await;
    ok(&cli.run(&["segments", "create", "vip", "--env", "rb", "--include", "ann"]));
    ok(&cli.run(&["segments", "create", "unused", "--env", "rb", "--include", "bob"]));
    ok(&cli.run(&["flags", "create", "fx"]));
    let rules = json!({ "enabled": true, "off_variant": "off", "fallthrough": { "variant": "off" },
        "rules": [{ "id": "vips", "conditions": [{ "op": "in_segment", "value": "vip" }],
                    "serve": { "variant": "on" } }] });
    let file = cli.write("fx.json", &rules);
    ok(&cli.run(&["flags", "configure", "fx", "--env", "rb", "--file", &file]));

    let rolled = cli.run(&["rollback", "--env", "rb", "--to", &created.to_string()]);
    let version = api.version("rb").await;
    assert_eq!(
        ok(&rolled),
        format!("rolled `rb` back to the content of version {created}: published snapshot version {version}\n")
    );
    assert_eq!(
        stderr(&rolled),
        format!(
            "note: segment `vip` is kept as it is now, not restored: flags created since version {created} (disabled \
             by the rollback) name it\n"
        )
    );
    let config = api.get("/api/v1/environments/rb/flags/fx").await.body;
    assert_eq!((&config["enabled"], &config["rules"]), (&json!(false), &rules["rules"]));
    assert_eq!(api.get("/api/v1/environments/rb/segments/vip").await.body["included"], json!(["ann"]));
    assert_eq!(api.get("/api/v1/environments/rb/segments/unused").await.status, 404);
    // Enabled again, the flag serves its rules.
    ok(&cli.run(&["flags", "enable", "fx", "--env", "rb"]));
    server.stop();
}

crate::on_both_backends!(
    update_from_a_get_document_is_guarded_by_its_etag,
    update_with_if_match_is_guarded_by_that_etag,
    a_rollback_keeps_the_segments_newer_flags_name
);
