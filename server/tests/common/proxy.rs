//! A TCP proxy in front of a database, which a test can cut (every connection closed,
//! new ones refused, as by a stopped server) and restore: an outage without stopping
//! the database.

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    /// `host:port` to connect to instead of the upstream.
    pub address: String,
    open: watch::Sender<bool>,
}

impl Proxy {
    /// Forwards a new port on 127.0.0.1 to `upstream` (`host:port`).
    pub async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (open, _) = watch::channel(true);
        let (mut state, at) = (open.subscribe(), address.clone());
        tokio::spawn(async move {
            let mut listener = Some(listener);
            loop {
                let mut closing = state.clone();
                match &listener {
                    Some(bound) => tokio::select! {
                        accepted = bound.accept() => {
                            let Ok((mut client, _)) = accepted else { continue };
                            let (upstream, mut cut) = (upstream.clone(), state.clone());
                            tokio::spawn(async move {
                                let Ok(mut server) = TcpStream::connect(upstream).await else { return };
                                tokio::select! {
                                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                                    _ = cut.wait_for(|open| !open) => {}
                                }
                            });
                        }
                        _ = closing.wait_for(|open| !open) => listener = None, // refused from now on
                    },
                    None => {
                        if state.wait_for(|open| *open).await.is_err() {
                            return;
                        }
                        listener = Some(TcpListener::bind(&at).await.unwrap());
                    }
                }
            }
        });
        Proxy { address, open }
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.open.send_replace(false);
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.open.send_replace(true);
    }
}

/// `url` (`postgres://user:pass@host:port/db?...`) with its `host:port` replaced, and
/// the `host:port` it had.
pub fn through(url: &str, address: &str) -> (String, String) {
    let start = url.find('@').map_or_else(|| url.find("://").unwrap() + 3, |at| at + 1);
    let end = start + url[start..].find('/').unwrap();
    (format!("{}{address}{}", &url[..start], &url[end..]), url[start..end].to_owned())
}
