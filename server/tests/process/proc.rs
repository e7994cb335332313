#![allow(unreachable_pub)]
//! Spawning `pennon serve` and reading its start-up banner.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::PATIENCE;

/// A running `pennon serve` process.
pub struct Proc {
    pub child: Child,
    pub url: String,
    /// The banner, line by line.
    pub banner: Vec<String>,
}

impl Proc {
    /// The value after `label` in the banner, if a line has it.
    pub fn banner_value(&self, label: &str) -> Option<String> {
        self.banner.iter().find_map(|line| line.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
    }

    /// The admin token of a first run.
    pub fn admin(&self) -> String {
        self.banner_value("admin token:").expect("a first-run banner")
    }

    /// The development SDK key of a first run.
    pub fn sdk(&self) -> String {
        self.banner_value("development server SDK key:").expect("a first-run banner")
    }

    /// `kill -9`.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "pennon serve exited with {status}");
    }
}

/// A test that fails before stopping its server leaves none running (a failed
/// assertion in `scale_out` used to leave two).
impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `pennon serve --listen 127.0.0.1:0 --log warn ARGS` in `dir` (its log in
/// `dir/server.log`) and waits for its banner.
pub fn spawn(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Proc {
    spawn_under(&[], dir, args, envs)
}

/// [`spawn`], run by `wrapper` (a command and its arguments, e.g. `prlimit ...`).
pub fn spawn_under(wrapper: &[&str], dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Proc {
    let binary = env!("CARGO_BIN_EXE_pennon");
    let mut command = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut command = Command::new(program);
            command.args(rest).arg(binary);
            command
        }
        None => Command::new(binary),
    };
    // Quiet unless the test asks for a level (`--log info`).
    let log: &[&str] = if args.contains(&"--log") { &[] } else { &["--log", "warn"] };
    command.current_dir(dir).args(["serve", "--listen", "127.0.0.1:0"]).args(log).args(args);
    for (name, value) in envs {
        command.env(name, value);
    }
    let stderr = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("server.log")).unwrap();
    let mut child = command.stdout(Stdio::piped()).stderr(stderr).spawn().expect("spawn pennon serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut banner = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                let address = line
                    .strip_prefix("listening on ")
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(str::to_owned);
                banner.push(line);
                if let Some(address) = address {
                    return Proc { child, url: format!("http://{address}"), banner };
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                panic!("pennon serve did not start; stdout: {banner:?}; log: {log}");
            }
        }
    }
}

/// Runs `pennon serve ARGS` in `dir`, expecting it to exit by itself.
pub fn serve_exits(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pennon"))
        .current_dir(dir)
        .env_remove("PENNON_DATA_DIR")
        .env_remove("PENNON_DATABASE_URL")
        .args(["serve", "--listen", "127.0.0.1:0", "--log", "warn"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pennon serve");
    let deadline = Instant::now() + PATIENCE;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!("`pennon serve {args:?}` started instead of exiting: {}", String::from_utf8_lossy(&output.stdout));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}
