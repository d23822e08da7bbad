//! The lost-device wipe on the real app binary, end to end (Xvfb,
//! tauri-driver, WebKitWebDriver, a real `gridwork-server` process): a
//! grid worker signs in and saves a household that is never sent; an
//! admin marks the tablet lost; at the next "sync now" the household
//! arrives on the server, the app's data folder is emptied, the app is
//! back on the setup screen, and the server lists the device as wiped.
//! See `sync-server/src/devices.rs` for the flow.
//!
//! Needs what `e2e.rs` needs: `Xvfb`, `WebKitWebDriver`, `tauri-driver`
//! and the UI built into `ui/dist`.

mod app_support;

use anyhow::{Context, Result};
use app_support::{App, uuid_in_hash};
use gridwork_core::model::{Household, Role};
use gridwork_tests::{Device, Server, community};

/// Every file under `dir`, as paths relative to it.
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(dir)
                        .unwrap_or(&path)
                        .display()
                        .to_string(),
                );
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_tablet_sends_its_outbox_then_erases_itself_and_the_server_shows_wiped() -> Result<()>
{
    let app = App::launch("wipe")?;
    let server = Server::start()?;
    let worker = community()
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker)
        .expect("a grid worker");
    let data = app.home.path().join("gridwork");

    let d = app.open().await?;
    d.sign_in(&server.url(), &worker.id).await?;

    // A household saved and never sent (only "sync now" syncs here).
    d.click("[data-test=home-new-household]").await?;
    d.find("[data-test=household-form]").await?;
    d.type_into("[data-test=estate] input", "挂失花园").await?;
    d.type_into("[data-test=building] input", "9").await?;
    d.type_into("[data-test=unit] input", "1").await?;
    d.type_into("[data-test=room] input", "909").await?;
    d.select("[data-test=use] select", "rented").await?;
    d.type_into("[data-test=owner-name] input", "李丢失")
        .await?;
    d.click("[data-test=save-household]").await?;
    let hash = d
        .wait_for(
            "household saved",
            || d.hash(),
            |h| uuid_in_hash(h, "#/households/").is_some(),
        )
        .await?;
    let household_id = uuid_in_hash(&hash, "#/households/").context("household id")?;
    assert!(
        files(&data).iter().any(|f| f.starts_with("device.sqlite")),
        "the store is in the data folder: {:?}",
        files(&data)
    );

    // The admin marks the tablet lost.
    let listed = server.admin(&["list-devices", "--user", &worker.id])?;
    let device = listed
        .lines()
        .find(|l| l.contains("active"))
        .and_then(|l| l.split_whitespace().next())
        .context("the tablet in list-devices")?
        .to_string();
    server.admin(&["mark-lost", &device])?;

    // The next sync: back on the setup screen, nothing left on disk.
    d.click("[data-test=tab-sync]").await?;
    d.find("[data-test=sync]").await?;
    d.shot("01-before-wipe").await?;
    d.click("[data-test=sync-now]").await?;
    d.find("[data-test=setup]").await?;
    d.wait_text("[data-test=wiped-notice]", "本机数据已清除")
        .await?;
    d.shot("02-wiped-setup").await?;
    assert_eq!(
        files(&data),
        Vec::<String>::new(),
        "the data folder is empty"
    );

    // The household reached the server; the server shows the wipe.
    let mut other = Device::enrol(&server, &worker.id).await?;
    other.sync().await?;
    let kept = other
        .store
        .get::<Household>(household_id)?
        .context("the lost tablet's household reached the server")?;
    assert_eq!(kept.address.room, "909");
    let after = server.admin(&["list-devices", "--user", &worker.id])?;
    let line = after
        .lines()
        .find(|l| l.starts_with(&device))
        .context("the lost tablet is still listed")?;
    assert!(line.contains("wiped"), "{line}");
    d.quit().await?;
    Ok(())
}
