//! `pennon flags create`: the off variant a new flag serves is the one written first in
//! `--variants` (an experiment's control), or `--off-variant`, and the line printed
//! names it and the fallthrough.

use std::process::Output;

use serde_json::Value as Json;

use crate::cli::{ok, pennon};
use crate::cli_configure::serve;
use crate::common::Backend;

/// `off_variant` and `fallthrough` of `key` in `env`.
fn serving(run: &impl Fn(&[&str]) -> Output, key: &str, env: &str) -> (Json, Json) {
    let got: Json = serde_json::from_str(&ok(&run(&["flags", "get", key, "--env", env]))).unwrap();
    (got["config"]["off_variant"].clone(), got["config"]["fallthrough"].clone())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn the_off_variant_is_the_first_written_or_the_one_named(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let (dir, url, admin) = (dir.path(), server.url.as_str(), server.admin());
    let run = |args: &[&str]| pennon(dir, url, &admin, args);
    let experiment = r#"{"control": "A", "b": "B", "c": "C"}"#;

    // `b` comes first by name; `control` was written first.
    let out =
        ok(&run(&["flags", "create", "checkout-exp", "--type", "string", "--variants", experiment, "--temporary"]));
    assert_eq!(
        out,
        "created `checkout-exp` (string), disabled in every environment: it serves `control` (its off variant), and \
         with no variant `on` its fallthrough serves `control` too once enabled, so enabling it changes nothing \
         until you set what it serves: pennon flags rollout checkout-exp PERCENT --env ENV --variant VARIANT \
         --otherwise VARIANT, or pennon flags configure (which also sets the off variant)\n"
    );
    for env in ["development", "staging", "production"] {
        let (off, fallthrough) = serving(&run, "checkout-exp", env);
        assert_eq!((off, &fallthrough["variant"]), ("control".into(), &Json::from("control")), "{env}");
    }
    // A variant named `off` stays the off variant wherever it is written.
    ok(&run(&["flags", "create", "banner", "--type", "string", "--variants", r#"{"new": "x", "off": "y"}"#]));
    assert_eq!(serving(&run, "banner", "development").0, "off");
    // Named: that one.
    let out =
        ok(&run(&["flags", "create", "named", "--type", "string", "--variants", experiment, "--off-variant", "c"]));
    assert!(out.contains(" it serves `c` (its off variant)"), "{out}");
    assert_eq!(serving(&run, "named", "development").0, "c");
    // A boolean flag serves `off`, and `on` once enabled, as before.
    let out = ok(&run(&["flags", "create", "toggle"]));
    assert_eq!(
        out,
        "created `toggle` (boolean), disabled in every environment: it serves `off` (its off variant) until \
         enabled, then `on` (its fallthrough): pennon flags enable toggle --env ENV; to serve `on` to a share of \
         users only: pennon flags rollout toggle PERCENT --env ENV; to change the off variant: pennon flags \
         configure\n"
    );
    assert_eq!(serving(&run, "toggle", "development"), ("off".into(), serde_json::json!({ "variant": "on" })));

    // Not a variant: refused, naming the option and the variants; nothing is created.
    let refused = run(&["flags", "create", "bad", "--type", "string", "--variants", experiment, "--off-variant", "d"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused)
            .contains("at `--off-variant`: `d` is not one of the variants; name one of `b`, `c`, `control`"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(run(&["flags", "get", "bad"]).status.code(), Some(1));
    server.stop();
}

crate::on_both_backends!(the_off_variant_is_the_first_written_or_the_one_named);
