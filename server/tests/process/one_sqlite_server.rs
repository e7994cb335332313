//! One `pennon serve` per SQLite database: each instance learns of its own writes alone,
//! so a second one on the same file used to start and serve only its own changes, the
//! two drifting apart. Now it is refused at start, under any name of the file, and the
//! file is free again once the first stops.

use crate::common::{boolean_flag, Api};
use crate::proc::{serve_exits, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = spawn(dir.path(), &[], &[]);
    let admin = Api::new(&first.url, &first.admin());
    let database = std::fs::canonicalize(dir.path().join("pennon-data/pennon.db")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("pennon-data"), dir.path().join("linked")).unwrap();
    let url = format!("sqlite:{}", database.display());
    for args in [&[][..], &["--data-dir", "linked"], &["--database-url", &url]] {
        let second = serve_exits(dir.path(), args);
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert_eq!(second.status.code(), Some(2), "{args:?}: {stderr}");
        for needed in [
            format!("SQLite database `{}` is already served by another `pennon serve`", database.display()),
            format!("process {} holds its lock, `{}.lock`", first.child.id(), database.display()),
            "SQLite is for one instance".to_owned(),
            "use PostgreSQL".to_owned(),
        ] {
            assert!(stderr.contains(&needed), "{args:?}: no {needed:?} in {stderr}");
        }
    }
    // The first one serves on, and once it stops the next start has the file.
    boolean_flag(&admin, "after-refusal", false).await;
    first.stop();
    let next = spawn(dir.path(), &[], &[]);
    let flags = Api::new(&next.url, &admin.token).get("/api/v1/flags").await;
    assert_eq!(flags.body["flags"][0]["key"], "after-refusal", "{}", flags.body);
    next.stop();
}
