//! A small tokio HTTP service that decides with Pennon flags through OpenFeature.
//!
//! ```text
//! cargo run -p pennon-provider --example service                 # serve on 127.0.0.1:3000
//! cargo run -p pennon-provider --example service -- --self-test  # answer 3 requests, exit
//! curl '127.0.0.1:3000/?user=u1&email=ann@acme.com'
//! ```
//!
//! The snapshot is a file produced by `pennon sign`. On first run the example makes a
//! key in `pennon-example/` of the target directory and signs `examples/data/payload.json` with it,
//! exactly as `pennon sign` does; it prints the command to re-sign after you edit the
//! payload (bump `version`), and the running service picks the change up within a
//! second. Point it at your own file with
//! `-- --snapshot FILE --trusted-key ed25519:... --environment ENV`. Add
//! `--telemetry http://127.0.0.1:8080` (with `PENNON_SDK_KEY` set) to report evaluation
//! counts to a control plane (`pennon serve`) every minute.

use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use open_feature::{Client, EvaluationContext, OpenFeature};
use pennon_core::{PublicKey, SigningKey};
use pennon_provider::PennonProvider;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt().with_target(false).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let (snapshot, key, environment) = match flag("--snapshot") {
        Some(path) => {
            let key = flag("--trusted-key").ok_or("--snapshot needs --trusted-key ed25519:...")?;
            let environment = flag("--environment").ok_or("--snapshot needs --environment")?;
            (PathBuf::from(path), PublicKey::parse(&key)?, environment)
        }
        None => {
            let (path, key) = example_snapshot()?;
            (path, key, "example".to_owned())
        }
    };

    let mut builder = PennonProvider::builder()
        .trusted_key(key)
        .environment(environment)
        .file(&snapshot)
        .cache_dir(snapshot.with_file_name("cache"));
    if let Some(base) = flag("--telemetry") {
        let sdk_key = std::env::var("PENNON_SDK_KEY").map_err(|_| "--telemetry needs PENNON_SDK_KEY set")?;
        builder = builder.telemetry(base, sdk_key);
    }
    let provider = builder.build()?;
    let handle = provider.handle();
    let mut events = handle.subscribe();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            println!("provider event: {event:?}");
        }
    });
    let mut api = OpenFeature::singleton_mut().await;
    api.set_provider(provider).await; // waits for the first snapshot
    let client = api.create_client();
    drop(api);
    println!("provider {:?}, serving version {:?}", handle.status(), handle.version());

    let listener = TcpListener::bind(flag("--listen").as_deref().unwrap_or("127.0.0.1:3000")).await?;
    let addr = listener.local_addr()?;
    if args.iter().any(|a| a == "--self-test") {
        tokio::spawn(serve(listener, client));
        for query in ["user=u1&email=ann@acme.com", "user=u2&email=bob@example.com", "user=u3"] {
            println!("GET /?{query} -> {}", get(&format!("{addr}"), query).await?);
        }
        println!("evaluation counts: {:?}", handle.evaluation_counts());
        handle.shutdown().await;
        return Ok(());
    }
    println!("listening on http://{addr}/?user=u1&email=ann@acme.com (Ctrl-C to stop)");
    tokio::select! {
        result = serve(listener, client) => result?,
        _ = tokio::signal::ctrl_c() => handle.shutdown().await,
    }
    Ok(())
}

/// Signs the committed payload with a key made on first run, as `pennon sign` would.
fn example_snapshot() -> Result<(PathBuf, PublicKey), Error> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Beside the build (`target/debug/examples/service`, wherever `CARGO_TARGET_DIR`
    // put it), so a read-only checkout runs the example too.
    let exe = std::env::current_exe()?;
    let target = exe.ancestors().nth(3).ok_or("the example runs from outside a cargo target directory")?;
    let dir = target.join("pennon-example");
    std::fs::create_dir_all(&dir)?;
    let key_path = dir.join("example.key");
    let key = match std::fs::read_to_string(&key_path) {
        Ok(text) => SigningKey::parse(&text)?,
        Err(_) => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| format!("no randomness for a key: {e}"))?;
            let key = SigningKey::from_seed(seed);
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&key_path)?;
            std::io::Write::write_all(&mut file, format!("{}\n", key.to_text()).as_bytes())?;
            key
        }
    };
    let payload_path = manifest.join("examples/data/payload.json");
    let snapshot = dir.join("snapshot.json");
    if !snapshot.exists() {
        let envelope = pennon_core::sign_envelope(&std::fs::read(&payload_path)?, &[&key])?;
        std::fs::write(&snapshot, envelope)?;
    }
    println!(
        "snapshot {} (trusted key {})\nto change it: edit {}, bump `version`, then\n  \
         cargo run -p pennon-server -- sign --key {} --payload {} --out {}",
        snapshot.display(),
        key.public_key().to_text(),
        payload_path.display(),
        key_path.display(),
        payload_path.display(),
        snapshot.display()
    );
    Ok((snapshot, key.public_key().clone()))
}

/// Answers every request with the flags for `user` and `email` from the query string.
async fn serve(listener: TcpListener, client: Client) -> Result<(), Error> {
    let client = std::sync::Arc::new(client);
    loop {
        let (socket, _) = listener.accept().await?;
        let client = client.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(socket, &client).await {
                eprintln!("request failed: {e}");
            }
        });
    }
}

async fn answer(mut socket: TcpStream, client: &Client) -> Result<(), Error> {
    let mut buffer = vec![0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buffer)).await??;
    let request = String::from_utf8_lossy(&buffer[..read]);
    let target = request.split_whitespace().nth(1).unwrap_or("/");
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let mut context = EvaluationContext::default();
    for (name, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        match name {
            "user" => context.targeting_key = Some(value.to_owned()),
            other => context.add_custom_field(other, value),
        }
    }
    let checkout = client.get_bool_details("new-checkout", Some(&context), None).await;
    let banner = client.get_string_value("banner-text", Some(&context), None).await.unwrap_or_default();
    let body = match checkout {
        Ok(details) => serde_json::json!({
            "new_checkout": details.value,
            "why": details.reason.map(|r| r.to_string()),
            "banner": banner,
        }),
        Err(error) => serde_json::json!({"new_checkout": false, "error": error.code.to_string(), "banner": banner}),
    };
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body.as_bytes()).await?;
    Ok(())
}

/// A minimal HTTP GET, for `--self-test`.
async fn get(addr: &str, query: &str) -> Result<String, Error> {
    let mut socket = TcpStream::connect(addr).await?;
    socket.write_all(format!("GET /?{query} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).await?;
    let mut response = String::new();
    socket.read_to_string(&mut response).await?;
    Ok(response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
}
