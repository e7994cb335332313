//! `pennon flags configure` and `pennon flags update`: a flag's targeting and definition
//! set from a file, the get → edit → configure round trip guarded by the ETag the `get`
//! printed, and files refused before anything is sent.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value as Json};

use crate::cli::{ok, pennon};
use crate::common::{Api, Backend};
use crate::proc::{spawn, Proc};

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `pennon serve` on a fresh database of `backend`.
pub(crate) async fn serve(backend: &Backend, dir: &Path) -> Proc {
    let database_url = backend.fresh_url(dir).await;
    spawn(dir, &["--database-url", &database_url], &[])
}

/// A CLI bound to one server, with files written in its directory.
pub(crate) struct Cli<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) url: String,
    pub(crate) token: String,
}

impl Cli<'_> {
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        pennon(self.dir, &self.url, &self.token, args)
    }

    /// `pennon ARGS` with `input` on its standard input.
    fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pennon"))
            .current_dir(self.dir)
            .env("PENNON_URL", &self.url)
            .env("PENNON_TOKEN", &self.token)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run pennon");
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    /// What `pennon flags get KEY --env ENV` prints, parsed.
    fn get(&self, key: &str, env: &str) -> Json {
        serde_json::from_str(&ok(&self.run(&["flags", "get", key, "--env", env]))).unwrap()
    }

    /// Writes `value` to `name` in the directory and returns the path.
    pub(crate) fn write(&self, name: &str, value: &Json) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// `pennon eval` of `new-checkout` in the development snapshot served to `sdk`.
    async fn eval(&self, sdk: &str, context: &Json) -> Json {
        let envelope = Api::new(&self.url, sdk).get("/v1/snapshots/development").await;
        assert_eq!(envelope.status, 200);
        let file = self.write("envelope.json", &envelope.body);
        let public = self.dir.join("pennon-data/signing.pub");
        let args = ["eval", "--envelope", &file, "--trusted-key", public.to_str().unwrap(), "--env", "development"];
        let context = context.to_string();
        let output = self.run(&[&args[..], &["--flag", "new-checkout", "--context", &context]].concat());
        serde_json::from_str(&ok(&output)).unwrap()
    }
}

/// A target and two rules, one on a segment, as in docs/OPERATIONS.md ("Targeting a flag").
fn targeting() -> Json {
    json!({
        "enabled": true,
        "off_variant": "off",
        "targets": [{ "variant": "on", "keys": ["user-42"] }],
        "rules": [
            { "id": "staff", "conditions": [{ "attribute": "email", "op": "ends_with", "value": "@acme.com" }],
              "serve": { "variant": "on" } },
            { "id": "beta", "conditions": [{ "op": "in_segment", "value": "beta-testers" }],
              "serve": { "variant": "on" } }
        ],
        "fallthrough": { "variant": "off" }
    })
}

/// get → edit → configure sets targets and rules, which the published snapshot
/// evaluates; the same file again, or the same configuration from standard input,
/// changes nothing; a protected environment opens a change request.
async fn configure_sets_targeting(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let cli = Cli { dir: dir.path(), url: server.url.clone(), token: server.admin() };
    let api = Api::new(&server.url, &server.admin());
    ok(&cli.run(&["flags", "create", "new-checkout"]));
    ok(&cli.run(&["segments", "create", "beta-testers", "--env", "development", "--include", "ann"]));

    let mut document = cli.get("new-checkout", "development");
    assert_eq!(document["config"]["enabled"], false);
    document["config"] = targeting();
    let file = cli.write("new-checkout.json", &document);
    let configured = cli.run(&["flags", "configure", "new-checkout", "--env", "development", "--file", &file]);
    let out = ok(&configured);
    assert_eq!(stderr(&configured), "", "nothing to note");
    let version = api.version("development").await;
    assert_eq!(out, format!("configured `new-checkout` in `development`: published snapshot version {version}\n"));
    let stored = api.get("/api/v1/environments/development/flags/new-checkout").await.body;
    assert_eq!(stored, targeting());

    let sdk = server.sdk();
    let staff = cli.eval(&sdk, &json!({ "targetingKey": "u1", "email": "eve@acme.com" })).await;
    assert_eq!((&staff["value"], &staff["reason"]), (&json!(true), &json!("TARGETING_MATCH")), "{staff}");
    assert_eq!(staff["explanation"]["ruleId"], "staff");
    let target = cli.eval(&sdk, &json!({ "targetingKey": "user-42" })).await;
    assert_eq!((&target["value"], &target["explanation"]["matched"]), (&json!(true), &json!("target")), "{target}");
    let beta = cli.eval(&sdk, &json!({ "targetingKey": "ann" })).await;
    assert_eq!((&beta["value"], &beta["explanation"]["ruleId"]), (&json!(true), &json!("beta")), "{beta}");
    let other = cli.eval(&sdk, &json!({ "targetingKey": "u2", "email": "eve@example.com" })).await;
    assert_eq!((&other["value"], &other["reason"]), (&json!(false), &json!("DEFAULT")), "{other}");

    // The same file again: its ETag is now stale, but it asks for what is there.
    let again = cli.run(&["flags", "configure", "new-checkout", "--env", "development", "--file", &file, "--json"]);
    let again: Json = serde_json::from_str(&ok(&again)).unwrap();
    assert_eq!((&again["outcome"], &again["snapshot_version"]), (&json!("unchanged"), &Json::Null));
    let piped = cli.run_with_input(
        &["flags", "configure", "new-checkout", "--env", "development", "--file", "-"],
        &targeting().to_string(),
    );
    assert_eq!(ok(&piped), "configured `new-checkout` in `development`: no change, nothing published\n");
    assert_eq!(api.version("development").await, version, "nothing published");

    // Protected production: a change request (exit 3), the same one when repeated.
    let config = cli.write(
        "config.json",
        &json!({ "enabled": true, "off_variant": "off",
        "rules": [{ "id": "staff", "conditions": [{ "attribute": "email", "op": "ends_with", "value": "@acme.com" }],
                    "serve": { "variant": "on" } }],
        "fallthrough": { "variant": "off" } }),
    );
    let production = ["flags", "configure", "new-checkout", "--env", "production", "--file", &config];
    let proposed = cli.run(&production);
    assert_eq!(proposed.status.code(), Some(3), "{}", stderr(&proposed));
    assert!(stdout(&proposed).starts_with("production is protected: opened change request "), "{proposed:?}");
    let repeated = cli.run(&production);
    assert_eq!(repeated.status.code(), Some(3), "{}", stderr(&repeated));
    assert!(stdout(&repeated).contains("is already open for this change"), "{repeated:?}");
    let stored = api.get("/api/v1/environments/production/flags/new-checkout").await.body;
    assert_eq!((&stored["enabled"], &stored["rules"]), (&json!(false), &Json::Null), "nothing applied");
    server.stop();
}

/// A change made between `get` and `configure` is kept and the edit refused, with
/// what to do; a rule the server refuses names its field and changes nothing.
async fn a_change_since_get_is_refused_not_overwritten(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let cli = Cli { dir: dir.path(), url: server.url.clone(), token: server.admin() };
    let api = Api::new(&server.url, &server.admin());
    let path = "/api/v1/environments/development/flags/new-checkout";
    ok(&cli.run(&["flags", "create", "new-checkout"]));
    ok(&cli.run(&["flags", "enable", "new-checkout", "--env", "development"]));

    let mut document = cli.get("new-checkout", "development");
    // Someone else turns it off meanwhile.
    ok(&cli.run(&["flags", "disable", "new-checkout", "--env", "development"]));
    document["config"]["targets"] = json!([{ "variant": "on", "keys": ["user-42"] }]);
    let file = cli.write("edited.json", &document);
    let refused = cli.run(&["flags", "configure", "new-checkout", "--env", "development", "--file", &file]);
    assert_eq!((refused.status.code(), stdout(&refused).as_str()), (Some(1), ""), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(message.starts_with("error: the server refused (412 precondition_failed)"), "{message}");
    assert!(
        message.contains(&format!(
            "`new-checkout` in `development` changed after the `pennon flags get` that `{file}` holds, and that \
             change is kept: run `pennon flags get new-checkout --env development` again, redo your edit"
        )),
        "{message}"
    );
    let stored = api.get(path).await.body;
    assert_eq!((&stored["enabled"], &stored["targets"]), (&json!(false), &Json::Null), "the other change is kept");
    // An ETag held by a script is refused alike.
    let held = document["etag"].as_str().unwrap().trim_matches('"').to_owned();
    let config = cli.write("config.json", &document["config"]);
    let args = ["flags", "configure", "new-checkout", "--env", "development", "--file", &config, "--if-match", &held];
    let refused = cli.run(&args);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains(&format!("changed since you read ETag \"{held}\"")), "{}", stderr(&refused));

    // Redone on a fresh `get`, it applies, on top of the other change; an edit of the
    // definition in the document is not sent, and the note says so.
    let mut document = cli.get("new-checkout", "development");
    document["config"]["targets"] = json!([{ "variant": "on", "keys": ["user-42"] }]);
    document["flag"]["description"] = json!("edited in the wrong place");
    let file = cli.write("redone.json", &document);
    let redone = cli.run(&["flags", "configure", "new-checkout", "--env", "development", "--file", &file]);
    ok(&redone);
    let noted = format!(
        "note: the `flag` in `{file}` differs from the definition of `new-checkout` now; `configure` sends only \
         `config`: `pennon flags update new-checkout --file {file}` sends the `flag`"
    );
    assert!(stderr(&redone).starts_with(&noted), "{}", stderr(&redone));
    assert_eq!(api.get("/api/v1/flags/new-checkout").await.body.get("description"), None);
    // As the note says, `update` sends it from the same file, guarded by its `flag_etag`.
    ok(&cli.run(&["flags", "update", "new-checkout", "--file", &file]));
    assert_eq!(api.get("/api/v1/flags/new-checkout").await.body["description"], "edited in the wrong place");
    let stored = api.get(path).await;
    assert_eq!((&stored.body["enabled"], &stored.body["targets"][0]["keys"]), (&json!(false), &json!(["user-42"])));

    // An unknown operator: refused with the field named, nothing changed.
    let mut document = cli.get("new-checkout", "development");
    document["config"]["rules"] = json!([{ "id": "staff", "serve": { "variant": "on" },
        "conditions": [{ "attribute": "plan", "op": "equals", "value": "pro" },
                       { "attribute": "email", "op": "finishes_with", "value": "@acme.com" }] }]);
    let file = cli.write("bad-rule.json", &document);
    let audited = api.audit_count().await;
    let refused = cli.run(&["flags", "configure", "new-checkout", "--env", "development", "--file", &file]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).starts_with("error: the server refused (422 invalid_field) at `rules[0].conditions[1].op`: "),
        "{}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("`finishes_with`"), "{}", stderr(&refused));
    let after = api.get(path).await;
    assert_eq!((after.etag, after.body), (stored.etag, stored.body), "nothing changed");
    assert_eq!(api.audit_count().await, audited);
    server.stop();
}

/// `update` replaces the definition: applied, then unchanged; a stale `--if-match` is
/// refused.
async fn update_replaces_the_definition(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let cli = Cli { dir: dir.path(), url: server.url.clone(), token: server.admin() };
    let api = Api::new(&server.url, &server.admin());
    ok(&cli.run(&["flags", "create", "new-checkout", "--owner", "payments"]));
    let before = api.get("/api/v1/flags/new-checkout").await;

    let mut definition: Json = serde_json::from_str(&ok(&cli.run(&["flags", "get", "new-checkout"]))).unwrap();
    definition["description"] = json!("The one-page checkout");
    definition["client_visible"] = json!(true);
    let file = cli.write("definition.json", &definition);
    let out = ok(&cli.run(&["flags", "update", "new-checkout", "--file", &file]));
    let after = api.get("/api/v1/flags/new-checkout").await;
    let etag = after.etag.clone().unwrap();
    assert_eq!(
        out,
        format!("updated the definition of `new-checkout`, published to every environment (ETag now {etag})\n")
    );
    assert_eq!(after.body, definition, "{}", after.body);
    assert_eq!(after.body["owner"], "payments", "kept");
    let again: Json =
        serde_json::from_str(&ok(&cli.run(&["flags", "update", "new-checkout", "--file", &file, "--json"]))).unwrap();
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(api.get("/api/v1/flags/new-checkout").await.etag.unwrap(), etag);
    // A browser (client key) snapshot now holds it.
    let client = api.post("/api/v1/environments/development/sdk-keys", &json!({ "kind": "client" })).await;
    let browser = Api::new(&server.url, client.body["key"].as_str().unwrap()).get("/v1/snapshots/development").await;
    assert!(crate::common::payload_of(browser.body.to_string().as_bytes())["flags"]["new-checkout"].is_object());

    // An ETag read before that update: refused, the update kept.
    definition["description"] = json!("Something else");
    let file = cli.write("stale.json", &definition);
    let stale = before.etag.unwrap();
    let refused = cli.run(&["flags", "update", "new-checkout", "--file", &file, "--if-match", &stale]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("(412 precondition_failed)"), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("read it again (`pennon flags get new-checkout`)"), "{}", stderr(&refused));
    assert_eq!(api.get("/api/v1/flags/new-checkout").await.body["description"], "The one-page checkout");
    server.stop();
}

/// `update` from the document `get --env` printed sends its `flag` under its
/// `flag_etag`: a definition changed since that `get` is refused and kept, and an edit
/// of the document's `config`, which `update` does not send, is noted.
async fn update_from_a_get_document_is_guarded_by_its_flag_etag(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let cli = Cli { dir: dir.path(), url: server.url.clone(), token: server.admin() };
    let api = Api::new(&server.url, &server.admin());
    ok(&cli.run(&["flags", "create", "new-checkout", "--owner", "payments"]));
    let mut document = cli.get("new-checkout", "development");
    assert_eq!(document["flag_etag"], json!(api.get("/api/v1/flags/new-checkout").await.etag.unwrap()));

    // Someone else changes the definition after the `get`: refused, theirs kept.
    let mut theirs = api.get("/api/v1/flags/new-checkout").await;
    theirs.body["owner"] = json!("checkout-team");
    assert_eq!(api.put("/api/v1/flags/new-checkout", &theirs.body, &theirs.etag.unwrap()).await.status, 200);
    document["flag"]["description"] = json!("The one-page checkout");
    let file = cli.write("doc.json", &document);
    let refused = cli.run(&["flags", "update", "new-checkout", "--file", &file]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).starts_with("error: the server refused (412 precondition_failed)"),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused).contains(&format!(
            "the definition of `new-checkout` changed after the `pennon flags get` that `{file}` holds, and that \
             change is kept: run `pennon flags get new-checkout --env development` again"
        )),
        "{}",
        stderr(&refused)
    );
    let stored = api.get("/api/v1/flags/new-checkout").await.body;
    assert_eq!((&stored["owner"], stored.get("description")), (&json!("checkout-team"), None));

    // Redone on a fresh `get`: applied; the `config` edited too is noted, not sent.
    let mut document = cli.get("new-checkout", "development");
    document["flag"]["description"] = json!("The one-page checkout");
    document["config"]["enabled"] = json!(true);
    let file = cli.write("redone.json", &document);
    let updated = cli.run(&["flags", "update", "new-checkout", "--file", &file]);
    assert!(stdout(&updated).starts_with("updated the definition of `new-checkout`"), "{updated:?}");
    assert!(
        stderr(&updated).contains(&format!(
            "note: the `config` in `{file}` differs from `new-checkout` in `development` now; `update` sends only \
             `flag`: `pennon flags configure new-checkout --env development --file {file}` sends the `config`"
        )),
        "{}",
        stderr(&updated)
    );
    let stored = api.get("/api/v1/flags/new-checkout").await.body;
    assert_eq!((&stored["owner"], &stored["description"]), (&json!("checkout-team"), &json!("The one-page checkout")));
    let config = api.get("/api/v1/environments/development/flags/new-checkout").await.body;
    assert_eq!(config["enabled"], json!(false), "the config is not sent by update");

    // A `--if-match` other than the document's `flag_etag` is refused before sending.
    let conflicting = cli.run(&["flags", "update", "new-checkout", "--file", &file, "--if-match", "r1"]);
    assert_eq!(conflicting.status.code(), Some(2), "{}", stderr(&conflicting));
    assert!(
        stderr(&conflicting).contains("--if-match \"r1\" differs from the `flag_etag`"),
        "{}",
        stderr(&conflicting)
    );
    // A document printed before `flag_etag` existed is refused, with what to do.
    document.as_object_mut().unwrap().remove("flag_etag");
    let older = cli.write("older.json", &document);
    let refused = cli.run(&["flags", "update", "new-checkout", "--file", &older]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("has no `flag_etag`"), "{}", stderr(&refused));
    server.stop();
}

crate::on_both_backends!(
    configure_sets_targeting,
    a_change_since_get_is_refused_not_overwritten,
    update_replaces_the_definition,
    update_from_a_get_document_is_guarded_by_its_flag_etag
);

/// What is wrong with a file or the arguments is said before anything is sent, exit 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_refused_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &[], &[]);
    let cli = Cli { dir: dir.path(), url: server.url.clone(), token: server.admin() };
    let api = Api::new(&server.url, &server.admin());
    ok(&cli.run(&["flags", "create", "new-checkout"]));
    ok(&cli.run(&["flags", "create", "old-checkout"]));
    let staging = cli.write("staging.json", &cli.get("new-checkout", "staging"));
    let development = cli.write("development.json", &cli.get("new-checkout", "development"));
    let other_flag = cli.write("other.json", &cli.get("old-checkout", "development"));
    let definition: Json = serde_json::from_str(&ok(&cli.run(&["flags", "get", "new-checkout"]))).unwrap();
    let definition = cli.write("definition.json", &definition);
    std::fs::write(dir.path().join("array.json"), "[{\"enabled\": true}]").unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\"enabled\": tru").unwrap();
    // A member named twice: the server would apply the last, a reader may take the first.
    let document = serde_json::to_string(&cli.get("new-checkout", "development")).unwrap();
    let twice = document.replacen("\"config\":{", "\"config\":{\"enabled\":true,", 1);
    std::fs::write(dir.path().join("twice.json"), twice).unwrap();
    let twice_def = r#"{"key": "new-checkout", "type": "boolean", "variants": {"on": true, "on": false}}"#;
    std::fs::write(dir.path().join("twice-def.json"), twice_def).unwrap();
    std::fs::write(dir.path().join("twice-seg.json"), r#"{"segment": {"included": ["a"], "included": []}}"#).unwrap();
    let audited = api.audit_count().await;

    fn configure(file: &str) -> [&str; 7] {
        ["flags", "configure", "new-checkout", "--env", "development", "--file", file]
    }
    let cases: [(Vec<&str>, String); 13] = [
        (
            configure(&staging).to_vec(),
            format!(
                "configuration file `{staging}` holds `new-checkout` in `staging`, not `new-checkout` in \
                 `development`: nothing was sent"
            ),
        ),
        (configure(&other_flag).to_vec(), "holds `old-checkout` in `development`, not `new-checkout`".into()),
        (
            [&configure(&development)[..], &["--if-match", "r1"]].concat(),
            "--if-match \"r1\" differs from the `etag` \"r".into(),
        ),
        (configure(&definition).to_vec(), "holds a flag definition (it has `type` or `variants`)".into()),
        (
            configure("array.json").to_vec(),
            "configuration file `array.json` must hold a JSON object, not an array".into(),
        ),
        (configure("broken.json").to_vec(), "configuration file `broken.json` is not JSON: ".into()),
        (
            configure("twice.json").to_vec(),
            "configuration file `twice.json` names member `enabled` twice in one object (at `config.enabled`, line 1"
                .into(),
        ),
        (
            ["flags", "update", "new-checkout", "--file", "twice-def.json"].to_vec(),
            "definition file `twice-def.json` names member `on` twice in one object (at `variants.on`".into(),
        ),
        (
            ["segments", "update", "beta", "--env", "development", "--file", "twice-seg.json"].to_vec(),
            "segment file `twice-seg.json` names member `included` twice in one object (at `segment.included`".into(),
        ),
        (
            ["flags", "create", "twice", "--variants", r#"{"on": true, "off": false, "on": false}"#].to_vec(),
            "--variants names member `on` twice in one object (at `on`".into(),
        ),
        (configure("missing.json").to_vec(), "cannot read configuration file `missing.json`: ".into()),
        (
            ["flags", "update", "old-checkout", "--file", &definition].to_vec(),
            format!("definition file `{definition}` is the definition of `new-checkout`, not `old-checkout`"),
        ),
        (
            ["flags", "update", "new-checkout", "--file", &definition, "--if-match", "\"r1\", \"r2\""].to_vec(),
            "--if-match: `\"r1\", \"r2\"` is not an ETag".into(),
        ),
    ];
    for (args, says) in cases {
        let refused = cli.run(&args);
        assert_eq!(refused.status.code(), Some(2), "{args:?}: {}", stderr(&refused));
        assert!(stderr(&refused).contains(&says), "{args:?}: {}", stderr(&refused));
        assert_eq!(stdout(&refused), "");
    }
    let from_stdin = cli.run_with_input(&configure("-"), "[]");
    assert_eq!(from_stdin.status.code(), Some(2));
    assert!(
        stderr(&from_stdin).contains("configuration file `-` (standard input) must hold a JSON object"),
        "{from_stdin:?}"
    );
    assert_eq!(api.audit_count().await, audited, "nothing was sent");
    server.stop();
}
