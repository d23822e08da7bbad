//! The trust suite (issue #10): every way a hostile device or a curious
//! user was found to get more from the server than their role allows, or
//! to store what the server must refuse, pinned against a real
//! `gridwork-server` process.
//!
//! Each case sends its bad request while a well-behaved tablet syncs in the
//! background ([`harness::Trial`]), checks the answer's status and code,
//! checks that nothing the server stores changed ([`harness::Digest`]), and
//! ends with [`harness::Trial::finish`], which fails unless every sync of
//! the well-behaved tablet succeeded. Tests are named after the issue's
//! items: `item01_…` to `item20_…`.

mod access;
mod blobs;
mod compact;
mod edges;
mod harness;
mod history;
mod malformed;
mod masking;

use anyhow::Result;
use gridwork_core::doc::Author;
use gridwork_core::model::Meta;
use gridwork_core::sync::wire::SyncRequest;
use gridwork_tests::Device;
use harness::{Trial, demo, workers};

/// The harness itself: the digest sees a change another device stores and
/// stays equal when nothing is stored, and the well-behaved tablet's syncs
/// are counted. Without this, a digest that saw nothing would pass every
/// case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_digest_sees_what_is_stored_and_nothing_else() -> Result<()> {
    let trial = Trial::start().await?;
    let other = workers()[1];
    let raw = trial.login(&other.id).await?;

    let before = trial.digest()?;
    // A sync that pushes nothing stores nothing (its cursor is bookkeeping).
    raw.sync(&SyncRequest::default()).await?.ok()?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    trial.unchanged(&before)?;

    // Another worker's household does change it.
    let mut device = Device::enrol(&trial.server, &other.id).await?;
    let after_login = trial.digest()?;
    let mut h = demo()
        .households
        .iter()
        .find(|h| h.meta.grid == other.grid)
        .expect("a household in the second grid")
        .clone();
    let now = jiff::Timestamp::now();
    h.meta = Meta::new(&other.grid, &other.id, now.as_millisecond());
    h.review.clear();
    device.store.insert(
        h,
        &Author::new(&other.id, now.as_millisecond()),
        gridwork_core::calendar::shanghai_date(now),
    )?;
    let progress = device.sync().await?;
    anyhow::ensure!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    let changed = trial.unchanged(&after_login);
    anyhow::ensure!(
        changed
            .as_ref()
            .is_err_and(|e| e.to_string().contains("table docs")),
        "the digest missed a stored household: {changed:?}"
    );
    trial.finish().await
}
