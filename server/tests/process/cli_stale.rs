//! `pennon flags stale`: the days in words (none for 0, "1 day"), and an action over one
//! environment (`--env`) that says to check the others.

use crate::cli::{ok, pennon};
use crate::cli_configure::serve;
use crate::common::Backend;

async fn the_words_fit_the_days_and_the_environments(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&backend, dir.path()).await;
    let (dir, url, admin) = (dir.path(), server.url.as_str(), server.admin());
    let run = |args: &[&str]| pennon(dir, url, &admin, args);
    let none = run(&["flags", "stale", "--settled-days", "0", "--lifetime-days", "1", "--unused-days", "1"]);
    assert_eq!(ok(&none), "");
    assert_eq!(
        String::from_utf8_lossy(&none.stderr),
        "no stale flags: no temporary flag is expired, older than 1 day without an expiry, serving one value \
         everywhere, or unevaluated for 1 day where SDKs report telemetry\n"
    );

    // Expired, and split in development.
    ok(&run(&["flags", "create", "banner", "--temporary", "--expires-at", "2020-01-02T00:00:00Z"]));
    ok(&run(&["flags", "enable", "banner", "--env", "development"]));
    ok(&run(&["flags", "rollout", "banner", "50", "--env", "development"]));
    let action = |args: &[&str]| {
        let out = ok(&run(&[&["flags", "stale"][..], args].concat()));
        out.lines().find_map(|line| line.strip_prefix("  -> ")).unwrap_or_default().to_owned()
    };
    let at_once = action(&["--settled-days", "0"]);
    assert!(
        at_once.starts_with(
            "settle it: have every environment serve the same value to everyone (`development` does not), then \
             replace every evaluation of `banner`"
        ),
        "{at_once}"
    );
    let one_day = action(&["--settled-days", "1"]);
    assert!(one_day.contains(" to everyone for 1 day (`development` does not)"), "{one_day}");
    // `--env`: the action is about that environment, and says to check the others.
    assert_eq!(
        action(&["--env", "development"]),
        "settle it: have `development` serve one value to everyone for 7 days (`development` does not) and check \
         that the other environments serve that value too, then replace every evaluation of `banner` in code with \
         that value and delete the flag; to keep it longer, set a later expires_at"
    );
    assert!(action(&[]).starts_with("settle it: have every environment serve the same value to everyone for 7 days"));
    server.stop();
}

crate::on_both_backends!(the_words_fit_the_days_and_the_environments);
