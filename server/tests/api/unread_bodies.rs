//! A body sent to a route that takes none (`curl -d '{}'` on a read or an approval):
//! the whole answer still arrives. Before, the server closed the connection with the
//! body unread, the kernel reset it, and a large answer arrived cut short: 20 resets in
//! 20 reads of a 45,000-key segment.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::common::{Backend, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_large_answer_arrives_whole_after_an_unread_body() {
    let server = Server::start_with(&Backend::Sqlite, |c| c.max_body_bytes = 4 * 1024 * 1024).await;
    let admin = server.admin();
    let keys: Vec<String> = (0..45_000).map(|i| format!("user-{i:06}")).collect();
    let created =
        admin.post("/api/v1/environments/development/segments", &json!({ "key": "big", "included": keys })).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let expected = admin.get("/api/v1/environments/development/segments/big").await.body;

    let address = server.url.trim_start_matches("http://").to_owned();
    for attempt in 0..5 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        let body = r#"{"x":1}"#;
        let head = format!(
            "GET /api/v1/environments/development/segments/big HTTP/1.1\r\nHost: {address}\r\n\
             Authorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            server.admin,
            body.len()
        );
        // The body after the headers, as a client writing them separately sends it: the
        // server has begun the route by then, and the body lands in the socket unread.
        stream.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        stream.write_all(body.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        if let Err(error) = stream.read_to_end(&mut answer).await {
            panic!("attempt {attempt}: {error} after {} bytes of the answer", answer.len());
        }
        let text = String::from_utf8(answer).unwrap();
        let (head, json) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "attempt {attempt}: {head}");
        let json: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(json, expected, "attempt {attempt}");
    }
}
