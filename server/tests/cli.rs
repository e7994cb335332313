//! Runs the real `pennon` binary in temporary directories: output, files and exit codes.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value as Json;

const PAYLOAD: &str = r#"{
  "schema": 1,
  "environment": "production",
  "version": 7,
  "issued_at": "2026-01-01T00:00:00Z",
  "expires_at": "2099-01-01T00:00:00Z",
  "flags": {
    "new-checkout": {
      "type": "boolean",
      "enabled": true,
      "variants": {"on": true, "off": false},
      "off_variant": "off",
      "fallthrough": {"variant": "off"},
      "rules": [
        {"id": "staff", "conditions": [{"attribute": "email", "op": "ends_with", "value": "@acme.com"}],
         "serve": {"variant": "on"}}
      ]
    },
    "banner": {
      "type": "string",
      "enabled": true,
      "variants": {"blue": "blue", "red": "red"},
      "off_variant": "blue",
      "fallthrough": {"variant": "red"}
    }
  }
}"#;

const STAFF: &str = r#"{"targetingKey": "u1", "email": "ann@acme.com"}"#;

fn pennon(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pennon")).current_dir(dir).args(args).output().expect("run pennon")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 stderr")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exit code")
}

/// A key pair made by `pennon keygen`.
struct Key {
    id: String,
    public: String,
    private_path: PathBuf,
    public_path: PathBuf,
}

fn keygen(dir: &Path, sub: &str) -> Key {
    let output = pennon(dir, &["keygen", "--out", sub]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let id = lines[0].strip_prefix("key id: ").expect("key id line").to_owned();
    let public = lines[1].strip_prefix("public key: ").expect("public key line").to_owned();
    let private_path = dir.join(sub).join(format!("pennon-{id}.key"));
    let public_path = dir.join(sub).join(format!("pennon-{id}.pub"));
    Key { id, public, private_path, public_path }
}

/// A temp dir holding a key pair, `payload.json` and `envelope.json` signed by that key.
fn signed() -> (tempfile::TempDir, Key) {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = keygen(dir.path(), "keys");
    std::fs::write(dir.path().join("payload.json"), PAYLOAD).expect("write payload");
    let key_path = key.private_path.to_str().expect("utf-8 path");
    let output =
        pennon(dir.path(), &["sign", "--key", key_path, "--payload", "payload.json", "--out", "envelope.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    (dir, key)
}

fn verify(dir: &Path, key: &str, extra: &[&str]) -> Output {
    let mut args = vec!["verify", "--envelope", "envelope.json", "--trusted-key", key, "--env", "production"];
    args.extend_from_slice(extra);
    pennon(dir, &args)
}

fn eval(dir: &Path, key: &str, extra: &[&str]) -> Output {
    let mut args = vec!["eval", "--envelope", "envelope.json", "--trusted-key", key, "--env", "production"];
    args.extend_from_slice(extra);
    pennon(dir, &args)
}

fn assert_refused(output: &Output, kind: &str) {
    assert_eq!(code(output), 1, "stdout: {} stderr: {}", stdout(output), stderr(output));
    let text = stdout(output);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with(&format!("refused: {kind}: ")), "{text}");
}

#[test]
fn keygen_writes_a_private_key_with_mode_0600_matching_what_it_prints() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = keygen(dir.path(), "new/keys");
    assert_eq!(key.id.len(), 16);
    assert!(key.public.starts_with("ed25519:"));
    let mode = std::fs::metadata(&key.private_path).expect("key file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let private = std::fs::read_to_string(&key.private_path).expect("read key");
    assert!(private.starts_with("ed25519-private:") && private.ends_with('\n'));
    let signing = pennon_core::SigningKey::parse(&private).expect("parse key");
    assert_eq!(signing.public_key().key_id(), key.id);
    assert_eq!(signing.public_key().to_text(), key.public);
    let public = std::fs::read_to_string(&key.public_path).expect("read pub");
    assert_eq!(public, format!("{}\n", key.public));
}

#[test]
fn sign_then_verify_round_trips() {
    let (dir, key) = signed();
    let output = verify(dir.path(), key.public_path.to_str().expect("path"), &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "ok: version 7 of environment production, 2 flags, expires 2099-01-01T00:00:00Z\n");
    // The key text works as well as the file, and the minimum version may equal it.
    let output = verify(dir.path(), &key.public, &["--min-version", "7"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "ok: version 7 of environment production, 2 flags, expires 2099-01-01T00:00:00Z\n");
}

/// Signing onto the file a provider polls replaces it by rename: a reader sees the old
/// file or the new one, never a half-written one (a new inode, no temp file left).
#[test]
fn sign_out_replaces_the_file_whole() {
    use std::os::unix::fs::MetadataExt as _;
    let (dir, key) = signed();
    let envelope = dir.path().join("envelope.json");
    let (before, inode) =
        (std::fs::read(&envelope).expect("envelope"), std::fs::metadata(&envelope).expect("meta").ino());
    let key_path = key.private_path.to_str().expect("utf-8 path");
    let output =
        pennon(dir.path(), &["sign", "--key", key_path, "--payload", "payload.json", "--out", "envelope.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_ne!(std::fs::metadata(&envelope).expect("meta").ino(), inode, "renamed over, not written in place");
    assert_eq!(std::fs::read(&envelope).expect("envelope"), before, "Ed25519 signs deterministically");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into())
        .collect();
    assert!(!names.iter().any(|name| name.contains(".tmp")), "{names:?}");
}

#[test]
fn sign_without_out_prints_the_envelope() {
    let (dir, key) = signed();
    let key_path = key.private_path.to_str().expect("path");
    let output = pennon(dir.path(), &["sign", "--key", key_path, "--payload", "payload.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let envelope: Json = serde_json::from_str(&stdout(&output)).expect("envelope JSON");
    assert_eq!(envelope["signatures"][0]["keyid"], key.id.as_str());
    let payload = STANDARD.decode(envelope["payload"].as_str().expect("payload")).expect("base64");
    assert_eq!(payload, PAYLOAD.as_bytes(), "the exact bytes are signed");
}

#[test]
fn verify_refuses_a_tampered_payload() {
    let (dir, key) = signed();
    let path = dir.path().join("envelope.json");
    let mut envelope: Json = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
    let forged = PAYLOAD.replace("\"version\": 7", "\"version\": 8");
    envelope["payload"] = STANDARD.encode(forged).into();
    std::fs::write(&path, envelope.to_string()).expect("write");
    assert_refused(&verify(dir.path(), &key.public, &[]), "bad_signature");
}

#[test]
fn verify_refuses_an_untrusted_key() {
    let (dir, _) = signed();
    let other = keygen(dir.path(), "other");
    assert_refused(&verify(dir.path(), &other.public, &[]), "unknown_key");
}

#[test]
fn verify_refuses_a_rollback() {
    let (dir, key) = signed();
    let output = verify(dir.path(), &key.public, &["--min-version", "8"]);
    assert_refused(&output, "rollback");
    assert!(stdout(&output).contains("offered version 7 is older than held version 8"));
}

#[test]
fn verify_refuses_another_environment() {
    let (dir, key) = signed();
    let output = pennon(
        dir.path(),
        &["verify", "--envelope", "envelope.json", "--trusted-key", &key.public, "--env", "staging"],
    );
    assert_refused(&output, "wrong_environment");
}

#[test]
fn verify_refuses_an_expired_snapshot() {
    let (dir, key) = signed();
    assert_refused(&verify(dir.path(), &key.public, &["--now", "2099-01-01T00:00:01Z"]), "expired");
    let output = verify(dir.path(), &key.public, &["--now", "2099-01-01T00:00:00Z"]);
    assert_eq!(code(&output), 0, "expires_at itself is still fresh: {}", stdout(&output));
}

#[test]
fn verify_refuses_one_signature_below_a_threshold_of_two() {
    let (dir, key) = signed();
    let second = keygen(dir.path(), "second");
    let output = verify(dir.path(), &key.public, &["--trusted-key", &second.public, "--threshold", "2"]);
    assert_refused(&output, "below_threshold");
}

#[test]
fn two_keys_meet_a_threshold_of_two() {
    let (dir, first) = signed();
    let second = keygen(dir.path(), "second");
    let (k1, k2) = (first.private_path.to_str().expect("path"), second.private_path.to_str().expect("path"));
    let output =
        pennon(dir.path(), &["sign", "--key", k1, "--key", k2, "--payload", "payload.json", "--out", "envelope.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let output = verify(dir.path(), &first.public, &["--trusted-key", &second.public, "--threshold", "2"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    assert!(stdout(&output).starts_with("ok: version 7 "));
}

#[test]
fn sign_refuses_a_payload_clients_would_refuse() {
    let (dir, key) = signed();
    let bad = PAYLOAD.replace(r#""fallthrough": {"variant": "red"}"#, r#""fallthrough": {"variant": "purple"}"#);
    std::fs::write(dir.path().join("bad.json"), bad).expect("write");
    let key_path = key.private_path.to_str().expect("path");
    let output =
        pennon(dir.path(), &["sign", "--key", key_path, "--payload", "bad.json", "--out", "bad-envelope.json"]);
    assert_eq!(code(&output), 1);
    let message = stderr(&output);
    assert!(message.contains("bad.json"), "{message}");
    assert!(message.contains("invalid_snapshot"), "{message}");
    assert!(message.contains(r#"flags["banner"].fallthrough"#), "{message}");
    assert!(!dir.path().join("bad-envelope.json").exists());
}

#[test]
fn sign_refuses_version_0_which_compile_payload_alone_accepts() {
    let (dir, key) = signed();
    std::fs::write(dir.path().join("v0.json"), PAYLOAD.replace("\"version\": 7", "\"version\": 0")).expect("write");
    let key_path = key.private_path.to_str().expect("path");
    let output = pennon(dir.path(), &["sign", "--key", key_path, "--payload", "v0.json"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    assert!(stderr(&output).contains("v0.json: refused: malformed_payload: "), "{}", stderr(&output));
}

#[test]
fn eval_serves_a_rule_match_with_its_explanation() {
    let (dir, key) = signed();
    let output = eval(dir.path(), &key.public, &["--flag", "new-checkout", "--context", STAFF]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let result: Json = serde_json::from_str(&stdout(&output)).expect("result JSON");
    assert_eq!(result["key"], "new-checkout");
    assert_eq!(result["value"], true);
    assert_eq!(result["variant"], "on");
    assert_eq!(result["reason"], "TARGETING_MATCH");
    assert_eq!(result["explanation"]["ruleId"], "staff");
    assert_eq!(result["explanation"]["snapshotVersion"], 7);
}

#[test]
fn eval_of_a_missing_flag_is_a_result_not_a_failure() {
    let (dir, key) = signed();
    let output = eval(dir.path(), &key.public, &["--flag", "nope", "--context", "{}"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let result: Json = serde_json::from_str(&stdout(&output)).expect("result JSON");
    assert_eq!(result["reason"], "ERROR");
    assert_eq!(result["errorCode"], "FLAG_NOT_FOUND");
}

#[test]
fn eval_all_lists_every_flag_with_a_context_file() {
    let (dir, key) = signed();
    std::fs::write(dir.path().join("ctx.json"), STAFF).expect("write context");
    let output = eval(dir.path(), &key.public, &["--all", "--context", "@ctx.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let result: Json = serde_json::from_str(&stdout(&output)).expect("result JSON");
    let flags = result["flags"].as_array().expect("flags array");
    let keys: Vec<&str> = flags.iter().map(|f| f["key"].as_str().expect("key")).collect();
    assert_eq!(keys, ["banner", "new-checkout"]);
    assert_eq!(flags[0]["value"], "red");
    assert_eq!(flags[0]["reason"], "STATIC");
    assert_eq!(flags[1]["variant"], "on", "the context file's email matched the rule");
}

#[test]
fn eval_of_a_refused_envelope_exits_1_with_the_refusal_on_stderr() {
    let (dir, key) = signed();
    let output =
        eval(dir.path(), &key.public, &["--flag", "banner", "--context", "{}", "--now", "2100-01-01T00:00:00Z"]);
    assert_eq!(code(&output), 1);
    assert!(stdout(&output).is_empty());
    assert!(stderr(&output).contains("refused: expired: "), "{}", stderr(&output));
}

#[test]
fn usage_errors_exit_2() {
    let (dir, key) = signed();
    let no_env = pennon(dir.path(), &["verify", "--envelope", "envelope.json", "--trusted-key", &key.public]);
    assert_eq!(code(&no_env), 2, "missing --env");

    let missing = pennon(
        dir.path(),
        &["verify", "--envelope", "missing.json", "--trusted-key", &key.public, "--env", "production"],
    );
    assert_eq!(code(&missing), 2, "unreadable envelope");
    assert!(stdout(&missing).is_empty());
    let message = stderr(&missing);
    assert!(message.contains("missing.json") && message.contains("No such file"), "{message}");

    let context = eval(dir.path(), &key.public, &["--flag", "banner", "--context", "{not json"]);
    assert_eq!(code(&context), 2, "malformed --context: {}", stderr(&context));
    assert!(stderr(&context).contains("--context"));

    let now = verify(dir.path(), &key.public, &["--now", "next tuesday"]);
    assert_eq!(code(&now), 2, "bad --now: {}", stderr(&now));
    assert!(stderr(&now).contains("--now"));

    let private = verify(dir.path(), key.private_path.to_str().expect("path"), &[]);
    assert_eq!(code(&private), 2, "a private key is not a trusted key");
}

#[test]
fn serve_refuses_intervals_that_would_spin_or_starve_before_touching_the_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (args, message) in [
        (["--heartbeat", "0s"], "--heartbeat must be 1s to 60s, not 0s"),
        (["--heartbeat", "2m"], "--heartbeat must be 1s to 60s, not 2m"),
        (["--poll-interval", "0s"], "--poll-interval must be at least 1s, not 0s"),
        (["--resign-interval", "500ms"], "--resign-interval must be at least 1s, not 500ms"),
        (["--body-timeout", "0s"], "--body-timeout must be 1s to 1h, not 0s"),
        (["--body-timeout", "2h"], "--body-timeout must be 1s to 1h, not 2h"),
        (["--max-streams", "0"], "--max-streams must be at least 1"),
        (["--max-body", "0"], "invalid value '0' for '--max-body <BYTES>': 0 is not in 4096..="),
        (["--max-body", "4095"], "invalid value '4095' for '--max-body <BYTES>': 4095 is not in 4096..="),
        (["--max-streams-per-key", "0"], "--max-streams-per-key must be at least 1"),
        (["--snapshot-keep", "0"], "the newest version is always kept; use 1 to keep only it, or `all`"),
        (["--snapshot-keep", "many"], "expected a number of versions (at least 1) or `all`"),
        (["--snapshot-max-age", "0d"], "--snapshot-max-age must be longer than 0"),
    ] {
        let data = dir.path().join("data");
        let output = pennon(
            dir.path(),
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", data.to_str().expect("path"), args[0], args[1]],
        );
        assert_eq!(code(&output), 2, "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
        assert!(!data.exists(), "nothing was created for {args:?}");
    }
}
