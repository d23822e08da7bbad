//! A fault-injecting TCP proxy between devices and the server: it forwards
//! bytes both ways and, as told, cuts connections after a number of bytes,
//! delays every piece, or drops connections as they open. It counts the
//! bytes it forwards, so a test can tell how much a client resent.
//!
//! Besides raw bytes it counts request *body* bytes towards the server (it
//! reads each request's head for its `Content-Length`), so "how much
//! payload was sent twice" does not depend on header sizes.
//!
//! It can also lose one answer on purpose: the request reaches the server,
//! which does the work, and the connection is cut before the client hears
//! back ([`Faults::lose_answer_to`]), checked on every connection, pooled
//! ones included.
//!
//! Faults are drawn from a seeded generator, so a failing run can be
//! replayed with its seed.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy does to connections. The default forwards faithfully.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Cut this share of connections (per mille) after a random number of
    /// bytes, drawn from `cut_bytes`, counted over both directions.
    pub cut_per_mille: u32,
    /// The range the byte count of a cut is drawn from.
    pub cut_bytes: (u64, u64),
    /// Cut, once, the connection carrying the proxy's byte towards the
    /// server that reaches this many over all connections, exactly there
    /// (then forward faithfully again). Counted over all connections, as
    /// the client may open a second connection whenever it likes.
    pub cut_once_after_up: Option<u64>,
    /// Cut, once, the connection carrying the first request whose path
    /// starts with this, when the server's answer to it arrives: the server
    /// did the work, the client never hears of it (then forward faithfully
    /// again).
    pub lose_answer_to: Option<String>,
    /// Close this share of new connections (per mille) at once.
    pub drop_per_mille: u32,
    /// Wait this long before forwarding each piece.
    pub delay: Duration,
}

#[derive(Debug)]
struct Shared {
    upstream: SocketAddr,
    faults: Mutex<Faults>,
    rng: Mutex<u64>,
    up: AtomicU64,
    body_up: AtomicU64,
    down: AtomicU64,
    cuts: AtomicU64,
    drops: AtomicU64,
}

impl Shared {
    /// xorshift64*: enough randomness for faults, reproducible by seed.
    fn next(&self) -> u64 {
        let mut s = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        s.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn faults(&self) -> Faults {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// How one connection will be cut.
#[derive(Debug, Clone, Copy)]
enum Cut {
    Never,
    /// After this many bytes in both directions together.
    Total(u64),
    /// Where the proxy's bytes towards the server reach
    /// `Faults::cut_once_after_up`, if no connection was cut there yet.
    UpOnce,
}

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to `upstream` on a free loopback port.
    pub async fn start(upstream: SocketAddr, faults: Faults, seed: u64) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            faults: Mutex::new(faults),
            rng: Mutex::new(seed | 1),
            up: AtomicU64::new(0),
            body_up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            cuts: AtomicU64::new(0),
            drops: AtomicU64::new(0),
        });
        let task = tokio::spawn(accept(listener, shared.clone()));
        Ok(Proxy { addr, shared, task })
    }

    /// The proxy's base URL, to give clients instead of the server's.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the faults for connections opened from now on.
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Bytes forwarded towards the server.
    pub fn bytes_up(&self) -> u64 {
        self.shared.up.load(Ordering::SeqCst)
    }

    /// Request body bytes forwarded towards the server (headers left out).
    pub fn body_bytes_up(&self) -> u64 {
        self.shared.body_up.load(Ordering::SeqCst)
    }

    /// Bytes forwarded towards the clients.
    pub fn bytes_down(&self) -> u64 {
        self.shared.down.load(Ordering::SeqCst)
    }

    /// Connections cut so far.
    pub fn cuts(&self) -> u64 {
        self.shared.cuts.load(Ordering::SeqCst)
    }

    /// Connections dropped as they opened.
    pub fn drops(&self) -> u64 {
        self.shared.drops.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((client, _)) = listener.accept().await {
        let faults = shared.faults();
        if faults.drop_per_mille > 0 && shared.next() % 1000 < u64::from(faults.drop_per_mille) {
            shared.drops.fetch_add(1, Ordering::SeqCst);
            drop(client);
            continue;
        }
        let cut = if faults.cut_once_after_up.is_some() {
            Cut::UpOnce
        } else if faults.cut_per_mille > 0 && shared.next() % 1000 < u64::from(faults.cut_per_mille)
        {
            let (lo, hi) = faults.cut_bytes;
            Cut::Total(lo + shared.next() % (hi.saturating_sub(lo).max(1)))
        } else {
            Cut::Never
        };
        tokio::spawn(forward(client, shared.clone(), cut, faults.delay));
    }
}

/// Forwards one connection both ways until either side closes or the cut
/// point is reached; dropping both sockets then cuts the connection.
async fn forward(mut client: TcpStream, shared: Arc<Shared>, cut: Cut, delay: Duration) {
    let Ok(mut server) = TcpStream::connect(shared.upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let mut total = 0u64;
    let mut meter = RequestMeter::default();
    // A request on this connection is the one whose answer is to be lost.
    let mut doomed = false;
    let mut from_client = vec![0u8; 16 * 1024];
    let mut from_server = vec![0u8; 16 * 1024];
    loop {
        let (n, towards_server) = tokio::select! {
            r = client.read(&mut from_client) => (r, true),
            r = server.read(&mut from_server) => (r, false),
        };
        let n = match n {
            Ok(0) | Err(_) => return,
            Ok(n) => n as u64,
        };
        if doomed && !towards_server {
            let mut f = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
            if f.lose_answer_to.take().is_some() {
                shared.cuts.fetch_add(1, Ordering::SeqCst);
                return;
            }
            doomed = false;
        }
        // How much of this piece may pass before the cut.
        let allowed = match cut {
            Cut::Never => n,
            Cut::Total(limit) => n.min(limit.saturating_sub(total)),
            Cut::UpOnce if towards_server => {
                let faults = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
                match faults.cut_once_after_up {
                    Some(limit) => n.min(limit.saturating_sub(shared.up.load(Ordering::SeqCst))),
                    None => n,
                }
            }
            Cut::UpOnce => n,
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let (piece, to, counter) = if towards_server {
            (&from_client[..allowed as usize], &mut server, &shared.up)
        } else {
            (&from_server[..allowed as usize], &mut client, &shared.down)
        };
        if to.write_all(piece).await.is_err() {
            return;
        }
        counter.fetch_add(allowed, Ordering::SeqCst);
        total += allowed;
        if towards_server {
            let body = meter.feed(&from_client[..allowed as usize]);
            shared.body_up.fetch_add(body, Ordering::SeqCst);
            let lines = std::mem::take(&mut meter.request_lines);
            if let Some(prefix) = shared.faults().lose_answer_to {
                doomed |= lines.iter().any(|line| {
                    line.split(' ')
                        .nth(1)
                        .is_some_and(|path| path.starts_with(&prefix))
                });
            }
        }
        if allowed < n {
            if matches!(cut, Cut::UpOnce) {
                let mut f = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
                f.cut_once_after_up = None;
            }
            shared.cuts.fetch_add(1, Ordering::SeqCst);
            return;
        }
    }
}

/// Follows HTTP/1.1 requests on a connection to tell head bytes from body
/// bytes. Bodies are sized by `Content-Length` (what reqwest sends for a
/// byte body); requests without one have none.
#[derive(Debug, Default)]
struct RequestMeter {
    head: Vec<u8>,
    body_left: u64,
    /// The request lines (`POST /v1/sync HTTP/1.1`) of the heads read
    /// since the caller last took them.
    request_lines: Vec<String>,
}

impl RequestMeter {
    /// Takes bytes sent towards the server; returns how many were body.
    fn feed(&mut self, mut bytes: &[u8]) -> u64 {
        let mut body = 0;
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(bytes.len() as u64);
                body += n;
                self.body_left -= n;
                bytes = &bytes[n as usize..];
                continue;
            }
            self.head.push(bytes[0]);
            bytes = &bytes[1..];
            if self.head.ends_with(b"\r\n\r\n") {
                self.body_left = content_length(&self.head);
                let head = String::from_utf8_lossy(&self.head);
                self.request_lines
                    .push(head.lines().next().unwrap_or_default().to_string());
                self.head.clear();
            }
        }
        body
    }
}

fn content_length(head: &[u8]) -> u64 {
    String::from_utf8_lossy(head)
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bodies_are_told_from_heads() {
        let mut m = RequestMeter::default();
        let req = b"PATCH /x HTTP/1.1\r\ncontent-length: 5\r\n\r\nhelloHEAD /y HTTP/1.1\r\n\r\n";
        assert_eq!(m.feed(&req[..30]), 0);
        assert_eq!(m.feed(&req[30..]), 5);
        assert!(m.head.is_empty() && m.body_left == 0);
        assert_eq!(m.request_lines, ["PATCH /x HTTP/1.1", "HEAD /y HTTP/1.1"]);
    }
}
