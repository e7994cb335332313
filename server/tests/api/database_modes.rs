//! A SQLite database named outside the data directory (`--database-url sqlite:PATH`) is
//! kept from other users as the data directory is: it holds token and key hashes.
//! Before, SQLite created it, and its `-wal` and `-shm` files, 0644.

use std::os::unix::fs::PermissionsExt as _;

use crate::common::{boolean_flag, test_config, Api};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_sqlite_database_is_for_its_owner_alone() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let url = format!("sqlite:{}", elsewhere.join("flags.db").display());
    let running = pennon_server::start(test_config(&dir.path().join("data"), &url)).await.unwrap();
    let admin = Api::new(&running.base_url, &running.first_run.clone().unwrap().admin_token);
    boolean_flag(&admin, "written", false).await;

    let mut names: Vec<String> =
        std::fs::read_dir(&elsewhere).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    for expected in ["flags.db", "flags.db-wal", "flags.db-shm", "flags-telemetry.db"] {
        assert!(names.iter().any(|n| n == expected), "no {expected} in {names:?}");
    }
    for name in &names {
        let mode = std::fs::metadata(elsewhere.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
    }
    running.shutdown().await.unwrap();
}

/// The data directory is made only to hold something: with the database elsewhere
/// (PostgreSQL, or SQLite named by URL as here) and the signing key given, no empty
/// `pennon-data` is left behind; without a key, it is made to hold the generated one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_is_made_only_to_hold_something() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("flags.db").display());
    let data = dir.path().join("data");
    let mut config = test_config(&data, &url);
    config.signing_key_text = Some(pennon_core::SigningKey::from_seed([5; 32]).to_text());
    let running = pennon_server::start(config).await.unwrap();
    running.shutdown().await.unwrap();
    assert!(!data.exists(), "an empty data directory was made");

    let url = format!("sqlite:{}", dir.path().join("other.db").display());
    let running = pennon_server::start(test_config(&data, &url)).await.unwrap();
    running.shutdown().await.unwrap();
    assert!(data.join(pennon_server::GENERATED_KEY_FILE).exists(), "the generated key has a home");
}

/// A PostgreSQL that cannot be reached (here a port that hangs up on every connection)
/// is reported with where and what to check, and leaves no empty data directory behind.
/// Before, the data directory was made first, and a refused connection was reported as
/// "pool timed out" after 30 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_leaves_no_data_directory() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((hung_up, _)) = listener.accept().await {
            drop(hung_up);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pennon-data");
    let url = format!("postgres://pennon:secret@{address}/pennon");
    let Err(message) = pennon_server::start(test_config(&data, &url)).await else { panic!("started") };
    for needed in [
        format!("PostgreSQL at postgres://pennon:***@{address}/pennon: cannot connect to {address}"),
        "check that PostgreSQL runs there".to_owned(),
        "--database-url".to_owned(),
    ] {
        assert!(message.contains(&needed), "no {needed:?} in {message}");
    }
    assert!(!data.exists(), "an empty data directory was left behind");
}
