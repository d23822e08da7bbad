//! Moving a server from SQLite to PostgreSQL (`copy-to-postgres`, the
//! README's "Moving a server to PostgreSQL"), against real processes: a
//! tablet syncs with the server on SQLite and keeps one record unsent;
//! the server is stopped, copied into a new PostgreSQL database and
//! started on it; the same tablet syncs on. Nothing is downloaded again,
//! the unsent record arrives, a new tablet pulls exactly what the first
//! one holds, the console's rows still match the documents, the
//! passwords and tokens still work, and a second copy into the filled
//! database is refused without touching it.
//!
//! Needs a PostgreSQL server (`scripts/test-postgres` runs it); skipped,
//! saying so, on the SQLite pass.

mod console_support;

use std::collections::BTreeSet;

use anyhow::{Context, Result, ensure};
use console_support::Console;
use gridwork_core::calendar::shanghai_date;
use gridwork_core::doc::Author;
use gridwork_core::model::{Household, Meta, Role};
use gridwork_core::store::{ListQuery, Store};
use gridwork_demo::{DemoConfig, generate};
use gridwork_tests::{Device, Server, on_postgres};
use uuid::Uuid;

const SEED: u64 = 41;
const RECORDS: usize = 600;

/// Every record id a tablet holds.
fn held(store: &Store) -> Result<BTreeSet<Uuid>> {
    Ok(store
        .list(&ListQuery {
            include_deleted: true,
            limit: Some(u32::MAX),
            ..ListQuery::default()
        })?
        .into_iter()
        .map(|p| p.id)
        .collect())
}

#[tokio::test]
#[allow(clippy::print_stderr)] // a skipped test says so
async fn a_tablet_syncs_on_after_its_server_moves_to_postgres() -> Result<()> {
    let Some(admin_url) = on_postgres() else {
        assert!(
            std::env::var_os("GRIDWORK_REQUIRE_POSTGRES").is_none(),
            "GRIDWORK_REQUIRE_POSTGRES is set but no PostgreSQL server is named"
        );
        eprintln!("skipped: no PostgreSQL server (scripts/test-postgres runs this)");
        return Ok(());
    };
    let mut server = Server::start_with_demo_on_sqlite(SEED, RECORDS)?;
    ensure!(!server.is_on_postgres());
    let demo = generate(&DemoConfig::with_total_records(SEED, RECORDS));
    let worker = demo.first_user(Role::GridWorker).context("a worker")?;
    let supervisor = demo
        .supervisor_of(&worker.grid)
        .context("the worker's supervisor")?;
    let today = shanghai_date(jiff::Timestamp::now());
    let new_household = |name: &str| -> Result<Household> {
        let now = jiff::Timestamp::now().as_millisecond();
        let mut household = demo
            .households
            .iter()
            .find(|h| h.meta.grid == worker.grid)
            .context("a household in the worker's grid")?
            .clone();
        household.meta = Meta::new(&worker.grid, &worker.id, now);
        household.review.clear();
        household.address.room = name.to_string();
        Ok(household)
    };

    // On SQLite: the grid pulled, one record sent, one kept unsent.
    let mut tablet = Device::enrol(&server, &worker.id).await?;
    let first = tablet.sync().await?;
    ensure!(first.changes_received > 0, "the tablet pulled its grid");
    let author = Author::new(&worker.id, jiff::Timestamp::now().as_millisecond());
    let sent = new_household("送出的户")?;
    let sent_id = sent.meta.id;
    tablet.store.insert(sent, &author, today)?;
    tablet.sync().await?;
    ensure!(tablet.store.pending_count()? == 0, "sent on SQLite");
    let kept = new_household("迁移时未发送的户")?;
    let kept_id = kept.meta.id;
    tablet.store.insert(kept, &author, today)?;
    ensure!(tablet.store.pending_count()? > 0, "one record waits");

    // The move.
    let printed = server.move_to_postgres(&admin_url)?;
    ensure!(server.is_on_postgres());
    for table in ["docs", "log", "device_cursors", "devices", "projections"] {
        ensure!(printed.contains(table), "the copy names {table}: {printed}");
    }

    // The same tablet, same token, same cursor: only its unsent record
    // travels; nothing comes down again.
    tablet.reconnect(&server)?;
    let after = tablet.sync().await?;
    ensure!(after.rejected.is_empty(), "{:?}", after.rejected);
    ensure!(
        after.changes_received == 0,
        "{} changes downloaded again after the move",
        after.changes_received
    );
    ensure!(after.changes_sent > 0, "the unsent record went");
    ensure!(tablet.store.pending_count()? == 0, "nothing left unsent");

    // A new tablet of the same worker pulls what the first one holds,
    // the record kept over the move included.
    let mut second = Device::enrol(&server, &worker.id).await?;
    loop {
        if !second.sync().await?.more {
            break;
        }
    }
    let (a, b) = (held(&tablet.store)?, held(&second.store)?);
    ensure!(
        a == b,
        "the tablets differ: {} only on the first, {} only on the second",
        a.difference(&b).count(),
        b.difference(&a).count()
    );
    ensure!(b.contains(&sent_id) && b.contains(&kept_id));

    // The console reads the copied rows and the new ones, and they still
    // match the documents.
    let console = Console::open(&server, &supervisor.id).await?;
    for id in [sent_id, kept_id] {
        let page = console.get(&format!("/records/{id}")).await?.ok()?;
        ensure!(
            page.to_string().contains(&id.to_string()),
            "the supervisor opens {id}: {page}"
        );
    }
    let check = server.admin(&["rebuild-projections", "--check"])?;
    ensure!(check.contains("0 projection rows differ"), "{check}");

    // A second copy into the filled database is refused and leaves it be.
    let again = server.admin(&["copy-to-postgres"]);
    let message = format!("{:#}", again.err().context("a second copy is refused")?);
    ensure!(message.contains("already holds"), "{message}");
    ensure!(tablet.sync().await?.rejected.is_empty());
    Ok(())
}
