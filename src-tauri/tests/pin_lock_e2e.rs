//! The PIN lock on the real app binary, end to end (Xvfb, tauri-driver,
//! WebKitWebDriver, a real `gridwork-server` process): the PIN is chosen
//! at the first sign-in (the harness's `sign_in`); the worker changes it
//! on the change-PIN screen (from About) and sets the idle lock to its
//! shortest, half a minute, through the same screen's setting; the app
//! locks by itself; wrong PINs are refused, the third with the wait in
//! zh-CN; after the wait the right PIN brings back the screen the worker
//! was on. About 45 s of it is waiting (30 s idle, 15 s throttle).
//!
//! Needs what `e2e.rs` needs: `Xvfb`, `WebKitWebDriver`, `tauri-driver`
//! and the UI built into `ui/dist`.

mod app_support;

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use app_support::{App, PIN};
use gridwork_core::model::Role;
use gridwork_tests::{Server, community};

/// The PIN chosen on the change-PIN screen.
const NEW_PIN: &str = "246813";
const WRONG_PIN: &str = "975318";
const ERROR: &str = "[data-test=pin-input] .van-password-input__error-info";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_locks_when_idle_a_wrong_pin_waits_and_the_right_one_brings_the_screen_back()
-> Result<()> {
    let app = App::launch("pin-lock")?;
    let server = Server::start()?;
    let worker = community()
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker)
        .context("a grid worker")?;
    let d = app.open().await?;
    d.sign_in(&server.url(), &worker.id).await?;

    // About: change the PIN (the current one, then the new one twice).
    d.click(".van-nav-bar__right").await?;
    d.click("[data-test=change-pin]").await?;
    d.find("[data-test=pin-change]").await?;
    d.press_pin(PIN).await?;
    d.wait_text("[data-test=pin-change-hint]", "新的").await?;
    d.press_pin(NEW_PIN).await?;
    d.wait_text("[data-test=pin-change-hint]", "再输入一次")
        .await?;
    d.press_pin(NEW_PIN).await?;
    d.wait_text("[data-test=pin-changed]", "PIN 码已修改")
        .await?;
    d.shot("01-pin-changed").await?;
    d.click("[data-test=pin-changed-back]").await?;

    // The idle lock at its shortest: half a minute.
    let stepper = "[data-test=idle-minutes] input";
    for _ in 0..12 {
        if d.value(stepper).await? == "0.5" {
            break;
        }
        d.click("[data-test=idle-minutes] .van-stepper__minus")
            .await?;
    }
    ensure!(
        d.value(stepper).await? == "0.5",
        "the idle time goes down to half a minute"
    );
    d.click(".van-nav-bar__left").await?;
    d.click("[data-test=tab-sync]").await?;
    d.find("[data-test=sync]").await?;

    // Untouched, the app locks by itself.
    let idle = Instant::now();
    tokio::time::sleep(Duration::from_secs(25)).await;
    d.find("[data-test=pin]").await?;
    ensure!(
        idle.elapsed() >= Duration::from_secs(25),
        "locked only once idle"
    );
    d.shot("02-locked").await?;

    // The old PIN and wrong ones are refused; the third wrong one waits.
    d.press_pin(PIN).await?;
    d.wait_text(ERROR, "还可再试 9 次").await?;
    d.press_pin(WRONG_PIN).await?;
    d.wait_text(ERROR, "还可再试 8 次").await?;
    d.press_pin(WRONG_PIN).await?;
    let wait = d.wait_text(ERROR, "秒后再试").await?;
    ensure!(wait.contains("请 15 秒后再试"), "the wait is said: {wait}");
    d.shot("03-wrong-pin-waits").await?;
    // Even the right PIN waits.
    d.press_pin(NEW_PIN).await?;
    d.wait_text(ERROR, "错误次数过多").await?;
    d.find("[data-test=pin]").await?;

    // After the wait the right PIN brings the sync screen back.
    tokio::time::sleep(Duration::from_secs(15)).await;
    d.press_pin(NEW_PIN).await?;
    d.find("[data-test=sync]").await?;
    d.shot("04-unlocked").await?;
    d.quit().await?;
    Ok(())
}
