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
//! **A slow link.** [`Faults::link`] makes it play a village's radio link
//! ([`Link::profile`]: `2g`, `3g`, `lan`): a bandwidth each way shared by
//! every connection (one radio), a one-way delay (half the round trip,
//! paid by every byte, pipelined as on a real link), and lost segments,
//! which cost what TCP pays for them (see [`Link::loss_per_mille`]). A
//! cut connection's bytes still waiting for the link leave it with the
//! connection. The
//! bench's sync suite and the tests use this one proxy. What it does not
//! play: TCP's slow start and its shrinking window after a loss, so a
//! real link is a little slower still.
//!
//! Faults are drawn from a seeded generator, so a failing run can be
//! replayed with its seed.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

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
    /// Cut, once each, the connection carrying the proxy's byte towards
    /// the clients that reaches each of these counts over all connections
    /// (since the proxy started), exactly there. Kept in ascending order.
    pub cut_down_at: Vec<u64>,
    /// Cut, once, the connection carrying the first request whose path
    /// starts with this, when the server's answer to it arrives: the server
    /// did the work, the client never hears of it (then forward faithfully
    /// again).
    pub lose_answer_to: Option<String>,
    /// Close this share of new connections (per mille) at once.
    pub drop_per_mille: u32,
    /// Wait this long before forwarding each piece, one piece after the
    /// other (on top of the link's own delay).
    pub delay: Duration,
    /// The link's shape: bandwidth, delay, lost segments.
    pub link: Link,
}

/// The size of a segment on a shaped link: a TCP segment's payload on a
/// link with a 1,500-byte MTU.
pub const SEGMENT: usize = 1460;

/// How a link treats the bytes on it, each way. The default passes them
/// as fast as loopback does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Link {
    /// Bits a second each way, shared by every connection through the
    /// proxy (one radio); `None`: no limit.
    pub bits_per_s: Option<u64>,
    /// The one-way delay every byte pays; a round trip takes twice this.
    pub one_way: Duration,
    /// Segments ([`SEGMENT`] bytes) lost, per mille. A lost segment costs
    /// what TCP pays for it: it takes the link's time twice (sent, then
    /// sent again) and arrives a round trip late, holding up the segments
    /// behind it on its connection.
    pub loss_per_mille: u32,
}

impl Link {
    /// The profiles [`Link::profile`] knows.
    pub const PROFILES: [&str; 3] = ["2g", "3g", "lan"];

    /// A named link: `2g` (100 kbit/s, 1 s round trip, 2% of segments
    /// lost), `3g` (1 Mbit/s, 300 ms round trip) or `lan` (unshaped).
    pub fn profile(name: &str) -> Option<Link> {
        match name {
            "2g" => Some(Link {
                bits_per_s: Some(100_000),
                one_way: Duration::from_millis(500),
                loss_per_mille: 20,
            }),
            "3g" => Some(Link {
                bits_per_s: Some(1_000_000),
                one_way: Duration::from_millis(150),
                loss_per_mille: 0,
            }),
            "lan" => Some(Link::default()),
            _ => None,
        }
    }

    /// The round trip the delay alone makes.
    pub fn round_trip(&self) -> Duration {
        self.one_way * 2
    }

    /// How long `bytes` take to go onto the link (none when unlimited).
    pub fn transmit_time(&self, bytes: usize) -> Duration {
        match self.bits_per_s {
            Some(bps) if bps > 0 => {
                Duration::from_nanos((bytes as u64 * 8).saturating_mul(1_000_000_000) / bps)
            }
            _ => Duration::ZERO,
        }
    }
}

/// The most bytes a direction of a connection holds on the link before
/// the proxy stops reading from the sender (the sender's socket buffers
/// then fill, as behind a slow radio).
const QUEUE_BYTES: usize = 256 * 1024;

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
    /// When each direction of the link is free to carry the next segment.
    link_free: [Mutex<Instant>; 2],
    /// For every cut, the bytes of the exchange it cut (see
    /// [`Proxy::cut_exchange_bytes`]).
    cut_exchanges: Mutex<Vec<u64>>,
    /// The request line of every request forwarded, in order.
    requests: Mutex<Vec<String>>,
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
        let now = Instant::now();
        let shared = Arc::new(Shared {
            upstream,
            faults: Mutex::new(faults),
            rng: Mutex::new(seed | 1),
            up: AtomicU64::new(0),
            body_up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            cuts: AtomicU64::new(0),
            drops: AtomicU64::new(0),
            link_free: [Mutex::new(now), Mutex::new(now)],
            cut_exchanges: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
        });
        let task = tokio::spawn(accept(listener, shared.clone()));
        Ok(Proxy { addr, shared, task })
    }

    /// The proxy's base URL, to give clients instead of the server's.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the faults for connections opened from now on (the cuts at
    /// byte counts apply to every connection at once).
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

    /// The request lines (`PATCH /v1/blobs/… HTTP/1.1`) of every request
    /// whose head went through so far, in order: the round trips a client
    /// made.
    pub fn requests(&self) -> Vec<String> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// For every cut so far, in order: the bytes, both ways and heads
    /// included, that the cut connection had carried of the exchange it
    /// cut (the request being sent, or the request whose answer was
    /// coming, and that answer so far). A client that sends the request
    /// again and takes the whole answer again wasted these.
    pub fn cut_exchange_bytes(&self) -> Vec<u64> {
        self.shared
            .cut_exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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
        let conn = Conn {
            shared: shared.clone(),
            cut,
            delay: faults.delay,
            link: faults.link,
            total: AtomicU64::new(0),
            exchange: AtomicU64::new(0),
            doomed: AtomicBool::new(false),
        };
        tokio::spawn(forward(client, conn));
    }
}

/// A direction on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// From the client towards the server.
    Up = 0,
    /// From the server towards the client.
    Down = 1,
}

/// How one direction of a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The sender closed its side, and everything it sent was delivered.
    Closed,
    /// Cut, or the socket failed: the whole connection goes.
    Broken,
}

/// One connection's state, shared by its two directions.
#[derive(Debug)]
struct Conn {
    shared: Arc<Shared>,
    cut: Cut,
    delay: Duration,
    link: Link,
    /// Bytes forwarded both ways (for [`Cut::Total`]).
    total: AtomicU64,
    /// Bytes of the current exchange: the last request begun and its
    /// answer so far.
    exchange: AtomicU64,
    /// A request on this connection is the one whose answer is to be lost.
    doomed: AtomicBool,
}

/// Forwards one connection both ways. A side that closes is closed
/// towards the other once its bytes are delivered; a cut drops both
/// sockets at once.
async fn forward(client: TcpStream, conn: Conn) {
    let Ok(server) = TcpStream::connect(conn.shared.upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = pump(&conn, Dir::Up, client_read, server_write);
    let down = pump(&conn, Dir::Down, server_read, client_write);
    tokio::pin!(up, down);
    tokio::select! {
        ended = &mut up => if ended == Ended::Closed {
            down.await;
        },
        ended = &mut down => if ended == Ended::Closed {
            up.await;
        },
    }
}

/// Carries one direction: reads what the sender sends, puts it on the
/// link (each piece gets the time it arrives), and delivers it then.
async fn pump(conn: &Conn, dir: Dir, mut from: OwnedReadHalf, mut to: OwnedWriteHalf) -> Ended {
    let mut buf = vec![0u8; 16 * 1024];
    let mut queue = OnLink {
        conn,
        dir,
        pieces: VecDeque::new(),
    };
    let mut queued = 0;
    // Pieces arrive in order: none before the one ahead of it.
    let mut last_arrival = Instant::now();
    let mut meter = RequestMeter::default();
    let mut open = true;
    loop {
        // Deliver what is due.
        while let Some(piece) = queue.pieces.front() {
            if piece.arrives > Instant::now() {
                break;
            }
            let Some(piece) = queue.pieces.pop_front() else {
                break;
            };
            queued -= piece.bytes.len();
            if !conn.deliver(dir, &piece.bytes, &mut to, &mut meter).await {
                return Ended::Broken;
            }
        }
        if !open && queue.pieces.is_empty() {
            let _ = to.shutdown().await;
            return Ended::Closed;
        }
        let next = queue.pieces.front().map(|piece| piece.arrives);
        tokio::select! {
            read = from.read(&mut buf), if open && queued < QUEUE_BYTES => match read {
                Ok(0) => open = false,
                Err(_) => return Ended::Broken,
                Ok(n) => {
                    for piece in conn.schedule(dir, &buf[..n], &mut last_arrival) {
                        queued += piece.bytes.len();
                        queue.pieces.push_back(piece);
                    }
                }
            },
            () = tokio::time::sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {}
        }
    }
}

/// A piece of bytes on the link: when it arrives, and the link's time it
/// holds.
struct Piece {
    arrives: Instant,
    on_link: Duration,
    bytes: Vec<u8>,
}

/// One direction's pieces on the link, not delivered yet. Dropped with
/// pieces in it (the connection was cut), it gives their link time back:
/// the radio does not go on carrying what nobody will receive, so the
/// next connection does not wait behind a dead one's bytes.
struct OnLink<'a> {
    conn: &'a Conn,
    dir: Dir,
    pieces: VecDeque<Piece>,
}

impl Drop for OnLink<'_> {
    fn drop(&mut self) {
        let held: Duration = self.pieces.iter().map(|p| p.on_link).sum();
        if held.is_zero() {
            return;
        }
        let mut free = self.conn.shared.link_free[self.dir as usize]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        *free = free.checked_sub(held).unwrap_or(now).max(now);
    }
}

impl Conn {
    /// Puts `bytes` on the link: the pieces they travel in and when each
    /// arrives at the other end.
    fn schedule(&self, dir: Dir, bytes: &[u8], last_arrival: &mut Instant) -> Vec<Piece> {
        let link = self.link;
        let now = Instant::now();
        let ready = if self.delay.is_zero() {
            now
        } else {
            now.max(*last_arrival) + self.delay
        };
        let size = if link.bits_per_s.is_some() {
            SEGMENT
        } else {
            bytes.len().max(1)
        };
        let mut pieces = Vec::with_capacity(bytes.len().div_ceil(size));
        for segment in bytes.chunks(size) {
            let lost = link.loss_per_mille > 0
                && self.shared.next() % 1000 < u64::from(link.loss_per_mille);
            let mut on_link = link.transmit_time(segment.len());
            if lost {
                on_link *= 2;
            }
            let sent = if link.bits_per_s.is_some() {
                let mut free = self.shared.link_free[dir as usize]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                *free = ready.max(*free) + on_link;
                *free
            } else {
                ready
            };
            let mut arrives = sent + link.one_way;
            if lost {
                arrives += link.round_trip();
            }
            *last_arrival = arrives.max(*last_arrival);
            pieces.push(Piece {
                arrives: *last_arrival,
                on_link: if link.bits_per_s.is_some() {
                    on_link
                } else {
                    Duration::ZERO
                },
                bytes: segment.to_vec(),
            });
        }
        pieces
    }

    /// Writes one piece to its receiver, unless a fault cuts it (then as
    /// much as may pass before the cut, and `false`).
    async fn deliver(
        &self,
        dir: Dir,
        piece: &[u8],
        to: &mut OwnedWriteHalf,
        meter: &mut RequestMeter,
    ) -> bool {
        let shared = &*self.shared;
        let n = piece.len() as u64;
        if dir == Dir::Down && self.doomed.load(Ordering::SeqCst) {
            let mut f = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
            if f.lose_answer_to.take().is_some() {
                drop(f);
                self.record_cut();
                return false;
            }
            self.doomed.store(false, Ordering::SeqCst);
        }
        // How much of this piece may pass before a cut.
        let mut allowed = match (self.cut, dir) {
            (Cut::Never, _) | (Cut::UpOnce, Dir::Down) => n,
            (Cut::Total(limit), _) => {
                n.min(limit.saturating_sub(self.total.load(Ordering::SeqCst)))
            }
            (Cut::UpOnce, Dir::Up) => {
                let faults = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
                match faults.cut_once_after_up {
                    Some(limit) => n.min(limit.saturating_sub(shared.up.load(Ordering::SeqCst))),
                    None => n,
                }
            }
        };
        let mut cut_down_at = false;
        if dir == Dir::Down {
            let faults = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(&at) = faults.cut_down_at.first() {
                let until = at.saturating_sub(shared.down.load(Ordering::SeqCst));
                if until < allowed {
                    allowed = until;
                    cut_down_at = true;
                }
            }
        }
        let passed = &piece[..allowed as usize];
        if to.write_all(passed).await.is_err() {
            return false;
        }
        let counter = match dir {
            Dir::Up => &shared.up,
            Dir::Down => &shared.down,
        };
        counter.fetch_add(allowed, Ordering::SeqCst);
        self.total.fetch_add(allowed, Ordering::SeqCst);
        if dir == Dir::Up {
            let body = meter.feed(passed);
            shared.body_up.fetch_add(body, Ordering::SeqCst);
            match meter.started {
                // A new request began in this piece: a new exchange.
                Some(at) => self.exchange.store(allowed - at as u64, Ordering::SeqCst),
                None => {
                    self.exchange.fetch_add(allowed, Ordering::SeqCst);
                }
            }
            let lines = std::mem::take(&mut meter.request_lines);
            shared
                .requests
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(lines.iter().cloned());
            if let Some(prefix) = shared.faults().lose_answer_to
                && lines.iter().any(|line| {
                    line.split(' ')
                        .nth(1)
                        .is_some_and(|path| path.starts_with(&prefix))
                })
            {
                self.doomed.store(true, Ordering::SeqCst);
            }
        } else {
            self.exchange.fetch_add(allowed, Ordering::SeqCst);
        }
        if allowed < n {
            let mut f = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
            if cut_down_at {
                f.cut_down_at.remove(0);
            } else if matches!(self.cut, Cut::UpOnce) {
                f.cut_once_after_up = None;
            }
            drop(f);
            self.record_cut();
            return false;
        }
        true
    }

    fn record_cut(&self) {
        self.shared.cuts.fetch_add(1, Ordering::SeqCst);
        self.shared
            .cut_exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.exchange.load(Ordering::SeqCst));
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
    /// Where in the bytes last fed the last request that began there
    /// began.
    started: Option<usize>,
}

impl RequestMeter {
    /// Takes bytes sent towards the server; returns how many were body.
    fn feed(&mut self, mut bytes: &[u8]) -> u64 {
        let fed = bytes.len();
        let mut body = 0;
        self.started = None;
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(bytes.len() as u64);
                body += n;
                self.body_left -= n;
                bytes = &bytes[n as usize..];
                continue;
            }
            if self.head.is_empty() {
                self.started = Some(fed - bytes.len());
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
        assert_eq!(m.started, Some(0));
        assert_eq!(m.feed(&req[30..]), 5);
        assert_eq!(
            m.started,
            Some(req.len() - 30 - 20),
            "the second request's head"
        );
        assert!(m.head.is_empty() && m.body_left == 0);
        assert_eq!(m.request_lines, ["PATCH /x HTTP/1.1", "HEAD /y HTTP/1.1"]);
    }
}
