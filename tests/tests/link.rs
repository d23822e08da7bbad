//! The proxy's link shaping, measured with a stopwatch: a 100 kbit/s link
//! takes the time its bandwidth says, every round trip pays the delay
//! (while bytes in flight are pipelined), lost segments arrive late but
//! whole and in order, cuts at downstream byte counts land exactly there,
//! and a cut frees the link of the bytes it dropped. The bench's
//! `--link 2g` figures stand on these.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Result;
use gridwork_tests::proxy::{Faults, Link, Proxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A loopback server that runs `serve` on every connection.
async fn upstream<F, Fut>(serve: F) -> Result<SocketAddr>
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket));
        }
    });
    Ok(addr)
}

/// Bytes that tell their own position, so a reordered or changed byte shows.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

/// A server that sends `n` pattern bytes and closes.
async fn sender(n: usize) -> Result<SocketAddr> {
    upstream(move |mut socket| async move {
        let _ = socket.write_all(&pattern(n)).await;
    })
    .await
}

/// A server that echoes what it reads.
async fn echo() -> Result<SocketAddr> {
    upstream(|mut socket| async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = socket.read(&mut buf).await {
            if n == 0 || socket.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    })
    .await
}

fn link(faults: Link) -> Faults {
    Faults {
        link: faults,
        ..Faults::default()
    }
}

fn addr(proxy: &Proxy) -> Result<SocketAddr> {
    Ok(proxy.url().trim_start_matches("http://").parse()?)
}

async fn read_all(proxy: &Proxy) -> Result<Vec<u8>> {
    let mut socket = TcpStream::connect(addr(proxy)?).await?;
    let mut got = Vec::new();
    // A cut may end in a reset rather than a close: what arrived counts.
    let _ = socket.read_to_end(&mut got).await;
    Ok(got)
}

#[test]
fn the_profiles_are_the_issues() {
    let two_g = Link::profile("2g").unwrap();
    assert_eq!(two_g.bits_per_s, Some(100_000));
    assert_eq!(two_g.round_trip(), Duration::from_secs(1));
    assert_eq!(two_g.loss_per_mille, 20);
    let three_g = Link::profile("3g").unwrap();
    assert_eq!(three_g.bits_per_s, Some(1_000_000));
    assert_eq!(three_g.round_trip(), Duration::from_millis(300));
    assert_eq!(Link::profile("lan"), Some(Link::default()));
    assert_eq!(Link::profile("5g"), None);
    // 1,250 bytes are 10,000 bits: a tenth of a second at 100 kbit/s.
    assert_eq!(two_g.transmit_time(1_250), Duration::from_millis(100));
}

/// 25,000 bytes down a 100 kbit/s link take about 2 s, not a moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_kbit_link_takes_as_long_as_its_bandwidth_says() -> Result<()> {
    const N: usize = 25_000;
    let proxy = Proxy::start(
        sender(N).await?,
        link(Link {
            bits_per_s: Some(100_000),
            ..Link::default()
        }),
        1,
    )
    .await?;
    let started = Instant::now();
    let got = read_all(&proxy).await?;
    let took = started.elapsed();
    assert!(got == pattern(N), "every byte arrives, in order");
    assert!(
        took >= Duration::from_millis(1_900) && took <= Duration::from_millis(3_000),
        "25,000 bytes at 100 kbit/s took {took:?}, expected about 2 s"
    );
    assert_eq!(proxy.bytes_down(), N as u64);
    Ok(())
}

/// Five small request-answer round trips over a 200 ms round trip take a
/// second; 200 KB sent at once pay the delay once, not once a piece.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_round_trip_pays_the_delay_and_bulk_bytes_are_pipelined() -> Result<()> {
    let proxy = Proxy::start(
        echo().await?,
        link(Link {
            one_way: Duration::from_millis(100),
            ..Link::default()
        }),
        2,
    )
    .await?;
    let mut socket = TcpStream::connect(addr(&proxy)?).await?;
    socket.set_nodelay(true)?;
    let started = Instant::now();
    for i in 0..5u8 {
        socket.write_all(&[i; 10]).await?;
        let mut answer = [0u8; 10];
        socket.read_exact(&mut answer).await?;
        assert_eq!(answer, [i; 10]);
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1_000) && took <= Duration::from_millis(1_600),
        "5 round trips of 200 ms took {took:?}"
    );

    let bulk = pattern(200_000);
    let started = Instant::now();
    let (mut read, mut write) = socket.into_split();
    let sending = tokio::spawn(async move { write.write_all(&pattern(200_000)).await });
    let mut back = vec![0u8; bulk.len()];
    read.read_exact(&mut back).await?;
    sending.await??;
    let took = started.elapsed();
    assert!(back == bulk, "the bulk bytes came back whole");
    assert!(
        took >= Duration::from_millis(200) && took <= Duration::from_millis(900),
        "200 KB echoed over a 200 ms round trip took {took:?}: the delay is paid per piece"
    );
    Ok(())
}

/// Every segment lost once: the bytes still arrive whole and in order,
/// each segment having taken the link's time twice and a round trip more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_segments_arrive_late_but_whole_and_in_order() -> Result<()> {
    const N: usize = 50 * 1460;
    let shape = Link {
        bits_per_s: Some(2_000_000),
        one_way: Duration::from_millis(50),
        loss_per_mille: 1000,
    };
    let proxy = Proxy::start(sender(N).await?, link(shape), 3).await?;
    let started = Instant::now();
    let got = read_all(&proxy).await?;
    let took = started.elapsed();
    assert!(got == pattern(N), "every byte arrives, in order");
    // Clean, this is 292 ms on the link and 50 ms of delay.
    let clean = shape.transmit_time(N) + shape.one_way;
    let lossy = shape.transmit_time(N) * 2 + shape.one_way + shape.round_trip();
    assert!(
        took >= lossy && took <= lossy + Duration::from_millis(500),
        "took {took:?}: expected {lossy:?} (clean: {clean:?})"
    );
    Ok(())
}

/// Cuts at downstream byte counts, over all connections: each cuts its
/// connection exactly there, once, and reports what the exchange carried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cuts_at_downstream_byte_counts_land_exactly_there() -> Result<()> {
    const N: usize = 10_000;
    let proxy = Proxy::start(
        sender(N).await?,
        Faults {
            cut_down_at: vec![4_000, 7_000],
            link: Link::profile("3g").unwrap(),
            ..Faults::default()
        },
        4,
    )
    .await?;
    let first = read_all(&proxy).await?;
    assert!(first == pattern(4_000), "cut at byte 4,000");
    let second = read_all(&proxy).await?;
    assert!(second == pattern(3_000), "cut at byte 7,000 overall");
    let third = read_all(&proxy).await?;
    assert!(third == pattern(N), "no cut left");
    assert_eq!(proxy.cuts(), 2);
    assert_eq!(proxy.cut_exchange_bytes(), [4_000, 3_000]);
    Ok(())
}

/// A connection cut with bytes still queued for the link gives the link
/// back: the next connection's bytes do not wait behind bytes nobody will
/// receive (a streamed answer fills the queue far ahead of the cut).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_frees_the_link_of_the_bytes_it_dropped() -> Result<()> {
    const N: usize = 200_000;
    const CUT: usize = 20_000;
    let slow = Link {
        bits_per_s: Some(100_000),
        one_way: Duration::from_millis(50),
        loss_per_mille: 0,
    };
    let proxy = Proxy::start(
        sender(N).await?,
        Faults {
            cut_down_at: vec![CUT as u64],
            link: slow,
            ..Faults::default()
        },
        5,
    )
    .await?;
    let started = Instant::now();
    let first = read_all(&proxy).await?;
    assert!(first == pattern(CUT), "cut at byte {CUT}");
    let cut_after = started.elapsed();

    // The next connection's first bytes take about what the first's did,
    // not the 14 s the cut one's queued 180,000 bytes would hold the link.
    let started = Instant::now();
    let mut socket = TcpStream::connect(addr(&proxy)?).await?;
    let mut got = vec![0u8; CUT];
    socket.read_exact(&mut got).await?;
    let took = started.elapsed();
    assert!(got == pattern(CUT));
    assert!(
        took < cut_after * 2 + Duration::from_secs(1),
        "{took:?} for {CUT} bytes after a cut, against {cut_after:?} before it"
    );
    Ok(())
}
