//! A department handler reports back from the console against a real
//! `gridwork-server`: a short report and after-photos on an incident
//! dispatched to them. The photo is prepared and kept as blobs, the
//! resolve is written by the handler's console actor and reaches the grid
//! worker's tablet, which downloads the photo. Only the handler it is
//! dispatched to may report back; a non-image is refused and nothing kept.

mod console_support;

use anyhow::{Context, Result};
use console_support::{
    Console, add_handler, jpeg, two_communities, upload, user_over, worker_reports,
};
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::media::sha256_hex;
use gridwork_core::model::{Incident, PhotoRole, Role};
use gridwork_core::workflow::{self, Status};
use gridwork_tests::{PASSWORD, Server};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_dispatched_handler_reports_back_with_photos_that_reach_the_tablet() -> Result<()> {
    let server = Server::start()?;
    let (a, _) = two_communities();
    let (mut tablet, _house, incident) = worker_reports(&server, a).await?;
    let handler = add_handler(&server, &a.grid)?;
    let street = user_over(Role::StreetSupervisor, &a.grid);
    server.admin(&[
        "add-user",
        "--id",
        "dh-env",
        "--name",
        "环保王芳",
        "--role",
        "department_handler",
        "--grid",
        &street.grid,
        "--department",
        "环保",
        "--password",
        PASSWORD,
    ])?;
    let cs = Console::open(&server, &user_over(Role::CommunitySupervisor, &a.grid).id).await?;
    let dh = Console::open(&server, &handler).await?;
    let other = Console::open(&server, "dh-env").await?;

    // Before dispatch the handler cannot even upload to it.
    let r = upload(&dh, &server, incident, jpeg(64, 48)).await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(server.blob_files().is_empty(), "nothing kept");

    cs.accept_and_dispatch_to_chengguan(incident, "请三日内处理")
        .await?;

    // A non-image is refused with a clear zh-CN message; nothing is kept.
    let r = upload(&dh, &server, incident, b"%PDF-1.4 not a photo".to_vec()).await?;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "photo_not_an_image"),
        "{}",
        r.body
    );
    assert!(r.body.get("message").is_none(), "no sentence: {}", r.body);
    assert!(
        server.blob_files().is_empty(),
        "a refused file keeps nothing"
    );

    // The handler of another department sees nothing and may do nothing.
    let r = upload(&other, &server, incident, jpeg(64, 48)).await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(server.blob_files().is_empty(), "nothing kept for them");

    // The dispatched handler uploads a camera JPEG: prepared (scaled, a thumbnail).
    let original = jpeg(2400, 1800);
    let r = upload(&dh, &server, incident, original.clone()).await?;
    let photo = r.ok()?;
    let sha = photo["sha256"].as_str().context("sha256")?.to_string();
    let thumb = photo["thumb_sha256"].as_str().context("thumb")?.to_string();
    assert_eq!(photo["width"], 1600, "scaled to the long side: {photo}");
    assert_ne!(sha, sha256_hex(&original), "re-encoded, not kept as sent");
    assert_eq!(server.blob_files().len(), 2, "photo and thumbnail");

    // The other department cannot resolve with it; a supervisor is not offered
    // report-back; without a report or a photo the handler is told why.
    let r = other
        .post(
            &format!("/incidents/{incident}/transition"),
            json!({"action": {"type": "resolve"}, "opinion": "已处理", "photos": [photo]}),
        )
        .await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = cs
        .post(
            &format!("/incidents/{incident}/transition"),
            json!({"action": {"type": "resolve"}, "opinion": "已处理", "photos": [photo]}),
        )
        .await?;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "action_not_offered"),
        "{}",
        r.body
    );
    let r = dh
        .post(
            &format!("/incidents/{incident}/transition"),
            json!({"action": {"type": "resolve"}, "opinion": "已处理", "photos": []}),
        )
        .await?;
    assert_eq!(r.code(), "photos_required", "{}", r.body);
    let r = dh
        .post(
            &format!("/incidents/{incident}/transition"),
            json!({"action": {"type": "resolve"}, "opinion": " ", "photos": [photo]}),
        )
        .await?;
    assert_eq!(r.code(), "report_required", "{}", r.body);
    let mut unknown = photo.clone();
    unknown["sha256"] = json!("0".repeat(64));
    let r = dh
        .post(
            &format!("/incidents/{incident}/transition"),
            json!({"action": {"type": "resolve"}, "opinion": "已处理", "photos": [unknown]}),
        )
        .await?;
    assert_eq!(r.code(), "photo_missing", "{}", r.body);

    // The report-back.
    let done = dh
        .post(
            &format!("/incidents/{incident}/transition"),
            json!({"action": {"type": "resolve"}, "opinion": "占道摊位已清理", "photos": [photo]}),
        )
        .await?
        .ok()?;
    assert_eq!(done["summary"]["status"], "resolved", "{done}");

    // The worker's tablet syncs: resolved, by the handler, with the photo.
    tablet.sync().await?;
    let i: Incident = tablet
        .store
        .get(incident)?
        .context("incident on the tablet")?;
    let state = workflow::derive(&i, &WorkCalendar::bundled());
    assert_eq!(state.status, Status::Resolved);
    assert_eq!(state.resolved_by.as_deref(), Some(handler.as_str()));
    let last = i.log.last().context("a log")?;
    assert_eq!(last.opinion, "占道摊位已清理");
    assert_eq!(last.photos, vec![sha.clone()]);
    let after = i
        .photos
        .iter()
        .find(|p| p.sha256 == sha)
        .context("the photo ref")?;
    assert_eq!(after.role, PhotoRole::After);
    assert_eq!(after.thumb_sha256.as_deref(), Some(thumb.as_str()));

    // …and downloads it through the blob API.
    for want in [&sha, &thumb] {
        let response = reqwest::Client::new()
            .get(format!("{}/v1/blobs/{want}?doc={incident}", server.url()))
            .bearer_auth(&tablet.login.token)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = response.bytes().await?;
        assert_eq!(&sha256_hex(&bytes), want, "the bytes are the photo");
    }

    // The supervisor sees the after-photo on the record page; the handler
    // of another department, a hash the record does not name and another
    // community's supervisor get nothing.
    for want in [&sha, &thumb] {
        let (status, kind, bytes) = cs
            .download(&format!("/records/{incident}/photos/{want}"))
            .await?;
        assert_eq!((status, kind.as_str()), (StatusCode::OK, "image/jpeg"));
        assert_eq!(&sha256_hex(&bytes), want, "the console shows the photo");
    }
    let (_, b) = two_communities();
    let elsewhere =
        Console::open(&server, &user_over(Role::CommunitySupervisor, &b.grid).id).await?;
    for (who, path) in [
        (&other, format!("/records/{incident}/photos/{sha}")),
        (&elsewhere, format!("/records/{incident}/photos/{sha}")),
        (
            &cs,
            format!("/records/{incident}/photos/{}", "0".repeat(64)),
        ),
    ] {
        let (status, _, _) = who.download(&path).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    Ok(())
}

#[tokio::test]
async fn a_handler_reports_back_in_the_browser() -> Result<()> {
    let server = Server::start()?;
    let (a, _) = two_communities();
    let (mut tablet, _house, incident) = worker_reports(&server, a).await?;
    let handler = add_handler(&server, &a.grid)?;
    let cs = Console::open(&server, &user_over(Role::CommunitySupervisor, &a.grid).id).await?;
    cs.accept_and_dispatch_to_chengguan(incident, "").await?;
    let files = tempfile::tempdir()?;
    let photo = files.path().join("after.jpg");
    std::fs::write(&photo, jpeg(1200, 900))?;
    let not_photo = files.path().join("report.pdf");
    std::fs::write(&not_photo, b"%PDF-1.4 not a photo")?;

    let seen = gridwork_tests::run_browser_script(
        "reportback",
        &[
            ("GW_URL", server.url()),
            ("GW_USER", handler.clone()),
            ("GW_PASSWORD", PASSWORD.to_string()),
            ("GW_INCIDENT", incident.to_string()),
            ("GW_PHOTO", photo.display().to_string()),
            ("GW_NOT_PHOTO", not_photo.display().to_string()),
        ],
    )?;
    assert_eq!(seen["heading"], "办结反馈", "{seen}");
    assert_eq!(
        seen["supervisorForms"], 0,
        "a handler is not offered dispatch or escalation: {seen}"
    );
    assert!(
        seen["notPhotoError"]
            .as_str()
            .unwrap_or_default()
            .starts_with("文件不是 JPEG、PNG 或 WebP 图片"),
        "{seen}"
    );
    assert_eq!(seen["photosAfterRefusal"], 0, "{seen}");
    assert_eq!(seen["photos"], 1, "{seen}");
    assert_eq!(seen["status"], "已办结", "{seen}");
    assert_eq!(seen["panelGone"], true, "{seen}");

    tablet.sync().await?;
    let i: Incident = tablet
        .store
        .get(incident)?
        .context("incident on the tablet")?;
    let state = workflow::derive(&i, &WorkCalendar::bundled());
    assert_eq!(state.status, Status::Resolved);
    assert_eq!(state.resolved_by.as_deref(), Some(handler.as_str()));
    let last = i.log.last().context("a log")?;
    assert_eq!(last.opinion, "占道摊位已清理，现场恢复通行");
    let after: Vec<_> = i
        .photos
        .iter()
        .filter(|p| p.role == PhotoRole::After)
        .collect();
    assert_eq!(after.len(), 1, "{:?}", i.photos);
    assert_eq!(last.photos, vec![after[0].sha256.clone()]);
    assert!(
        gridwork_tests::screenshots_dir()
            .join("report-back-resolved.png")
            .exists(),
        "a screenshot for a person to look at"
    );
    Ok(())
}
