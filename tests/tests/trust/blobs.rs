//! Items 4, 12, 13 and 14: a photo's hash is not a key, image decoding
//! and sync bodies stay within a memory bound, unfinished uploads have a
//! quota and expire.
//!
//! The memory cases read the server process's peak resident memory
//! (`VmHWM`) and hold it under the bounds `sync-server/README.md` states
//! ("Memory bounds").

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::Author;
use gridwork_core::media::{sha256_hex, synthetic_photo};
use gridwork_core::model::{Incident, Meta, PhotoRef, PhotoRole, Role, User};
use gridwork_core::sync::blobs::{BlobTransport, sync_photos};
use gridwork_core::sync::wire::{self, DocChanges, PROTOCOL_VERSION, SyncRequest};
use gridwork_tests::Device;
use uuid::Uuid;

use crate::harness::{Answer, Raw, Trial, demo, user, workers};

/// `sync-server/README.md`, "Memory bounds": the server's peak resident
/// memory while 16 console uploads of a 7,000 × 7,000 PNG run at once.
const IMAGE_PEAK_BOUND_MIB: u64 = 384;
/// The same while 16 zstd bombs (and bodies just under the limit) arrive
/// at once.
const SYNC_PEAK_BOUND_MIB: u64 = 192;

/// A new incident of `who`'s grid, reported by them, with `photos`.
fn reported_incident(who: &User, photos: Vec<PhotoRef>) -> Result<Incident> {
    let now = jiff::Timestamp::now().as_millisecond();
    let mut incident = demo()
        .incidents
        .iter()
        .find(|i| i.meta.grid == who.grid)
        .context("an incident of the grid")?
        .clone();
    incident.meta = Meta::new(&who.grid, &who.id, now);
    incident.number = format!("SJ-{}", incident.meta.id.simple());
    incident.log.clear();
    incident.photos = photos;
    let actor = gridwork_core::workflow::Actor {
        user: &who.id,
        role: who.role,
    };
    gridwork_core::workflow::transition(
        &mut incident,
        &WorkCalendar::bundled(),
        actor,
        gridwork_core::workflow::Action::Report,
        "",
        vec![],
        now,
    )?;
    Ok(incident)
}

/// Stores `incident` on `tablet` and syncs it; fails if it is refused.
async fn push(tablet: &mut Device, incident: Incident) -> Result<Uuid> {
    let now = jiff::Timestamp::now();
    let id = incident.meta.id;
    let author = Author::new(tablet.user(), now.as_millisecond());
    tablet.store.insert(
        incident,
        &author,
        gridwork_core::calendar::shanghai_date(now),
    )?;
    let progress = tablet.sync().await?;
    ensure!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    Ok(id)
}

/// The community supervisor over `who`'s grid.
fn supervisor_of(who: &User) -> Result<&'static User> {
    demo()
        .supervisor_of(&who.grid)
        .context("a supervisor over the grid")
}

/// A grid worker of the other community than `who`'s.
fn worker_far_from(who: &User) -> Result<&'static User> {
    let community = &who.grid[..who.grid.len() - 3];
    workers()
        .into_iter()
        .find(|w| !w.grid.starts_with(community))
        .context("a worker of another community")
}

/// Fails unless the answer's message begins with `zh`: zh-CN first.
fn says_first(answer: &Answer, zh: &str) -> Result<()> {
    ensure!(
        answer.json()["message"]
            .as_str()
            .is_some_and(|m| m.starts_with(zh)),
        "the message should begin with {zh:?}: {}",
        answer.text()
    );
    Ok(())
}

/// A hash-named blob path of the device API.
fn blob(sha: &str) -> String {
    format!("/v1/blobs/{sha}")
}

/// The answer says "nothing of yours here": offset 0, not complete.
fn tells_nothing(answer: &Answer) -> Result<()> {
    ensure!(answer.status == 200, "HEAD answered {}", answer.status);
    ensure!(
        answer.header("upload-offset").as_deref() == Some("0")
            && answer.header("upload-complete").is_none(),
        "HEAD told something: {:?}",
        answer.headers
    );
    Ok(())
}

/// Item 4: a worker who learned another grid's photo's hash names it in
/// an incident of their own. The incident is stored (a CRDT change cannot
/// be taken back), but neither it nor any other record opens the photo to
/// them, on the device API or in the console; the supervisor of the grid
/// the photo belongs to still reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item04_a_hash_named_in_ones_own_record_gives_no_other_grids_photo() -> Result<()> {
    let trial = Trial::start().await?;
    let owner = workers()[1];
    let thief = worker_far_from(owner)?;

    // The owner reports an incident with a photo; the record goes up
    // first, then the photo.
    let mut tablet = Device::enrol(&trial.server, &owner.id).await?;
    let photo = tablet
        .store
        .add_photo(&synthetic_photo(800, 600, 41), PhotoRole::Before, None)?;
    let bytes = tablet
        .store
        .photo_bytes(&photo.sha256)?
        .context("the photo's bytes")?;
    let theirs = push(&mut tablet, reported_incident(owner, vec![photo.clone()])?).await?;
    let api = BlobTransport::new(&trial.url(), &tablet.login.token)?;
    let up = sync_photos(&mut tablet.store, &api).await?;
    ensure!((up.sent, up.pending) == (2, 0), "{up:?}");
    let thumb = photo.thumb_sha256.clone().context("a thumbnail")?;

    // The thief names both hashes in an incident of their own grid: the
    // record is stored, with nothing to show for the photo.
    let mut stolen = Device::enrol(&trial.server, &thief.id).await?;
    let forged = PhotoRef {
        taken_at: None,
        ..photo.clone()
    };
    let mine = push(&mut stolen, reported_incident(thief, vec![forged.clone()])?).await?;
    // A second record naming it again launders nothing: the first holds
    // only a claim, not a grant.
    let again = push(&mut stolen, reported_incident(thief, vec![forged])?).await?;

    let raw = trial.login(&thief.id).await?;
    let thief_boss = trial.console(&supervisor_of(thief)?.id).await?;
    let owner_boss = trial.login(&supervisor_of(owner)?.id).await?;

    let before = trial.digest()?;
    for sha in [&photo.sha256, &thumb] {
        for doc in [mine, again, theirs] {
            raw.get(&format!("{}?doc={doc}", blob(sha)))
                .await?
                .refused(403, "blob_forbidden")?;
        }
        // The thief's supervisor sees the thief's record, not the photo.
        thief_boss
            .get(&format!("/console/api/records/{mine}/photos/{sha}"))
            .await?
            .refused(404, "not_found")?;
        // And HEAD tells the thief nothing: as for a hash never uploaded.
        tells_nothing(&raw.head(&blob(sha)).await?)?;
    }
    tells_nothing(&raw.head(&blob(&sha256_hex(b"never uploaded"))).await?)?;
    trial.unchanged(&before)?;

    // The owner's supervisor reads it through the owner's record.
    let answer = owner_boss
        .get(&format!("{}?doc={theirs}", blob(&photo.sha256)))
        .await?;
    ensure!(answer.ok()?.body == bytes, "the supervisor got other bytes");
    trial.finish().await
}

/// Item 4: `HEAD` answers for the caller's own uploads only. Another
/// user's whole or unfinished upload reads as offset 0, and so does this
/// user's unfinished upload on another device; this user's whole upload
/// reads as complete on any of their devices. Sending bytes that are not
/// the photo proves nothing and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item04_head_tells_nothing_of_others_uploads() -> Result<()> {
    let trial = Trial::start().await?;
    let owner = workers()[1];
    let stranger = worker_far_from(owner)?;
    let first = trial.login(&owner.id).await?;
    let second = trial.login(&owner.id).await?;
    let other = trial.login(&stranger.id).await?;

    let whole = synthetic_photo(640, 480, 42);
    let cut = synthetic_photo(640, 480, 46);
    let (whole_sha, cut_sha) = (sha256_hex(&whole), sha256_hex(&cut));
    let send = |raw: &Raw, sha: &str, offset: usize, total: usize, bytes: Vec<u8>| {
        let raw = raw.clone();
        let path = blob(sha);
        async move {
            raw.patch(
                &path,
                &[
                    ("upload-offset", &offset.to_string()),
                    ("upload-length", &total.to_string()),
                ],
                bytes,
            )
            .await
        }
    };
    send(&first, &whole_sha, 0, whole.len(), whole.clone())
        .await?
        .ok()?;
    let half = cut.len() / 2;
    send(&first, &cut_sha, 0, cut.len(), cut[..half].to_vec())
        .await?
        .ok()?;

    let before = trial.digest()?;
    // The uploader's own device knows both.
    let mine = first.head(&blob(&whole_sha)).await?;
    ensure!(
        mine.header("upload-complete").as_deref() == Some("?1")
            && mine.header("upload-offset") == Some(whole.len().to_string()),
        "{:?}",
        mine.headers
    );
    let mine = first.head(&blob(&cut_sha)).await?;
    ensure!(
        mine.header("upload-offset") == Some(half.to_string()),
        "{:?}",
        mine.headers
    );
    // The same user on another device: the whole one is theirs, the
    // unfinished one is the first device's.
    let theirs = second.head(&blob(&whole_sha)).await?;
    ensure!(
        theirs.header("upload-complete").as_deref() == Some("?1"),
        "{:?}",
        theirs.headers
    );
    tells_nothing(&second.head(&blob(&cut_sha)).await?)?;
    // Anyone else: nothing, exactly as for a hash nobody uploaded.
    for sha in [&whole_sha, &cut_sha, &sha256_hex(b"nothing")] {
        tells_nothing(&other.head(&blob(sha)).await?)?;
    }
    // Bytes that are not the photo, sent under its address, are refused
    // and deleted.
    let mut wrong = whole.clone();
    wrong[1000] ^= 0xff;
    send(&other, &whole_sha, 0, wrong.len(), wrong)
        .await?
        .refused(422, "blob_hash_mismatch")?;
    tells_nothing(&other.head(&blob(&whole_sha)).await?)?;
    trial.unchanged(&before)?;
    trial.finish().await
}

/// A PNG of `side` × `side` flat grey pixels: small on disk, `side²·3`
/// bytes decoded.
fn flat_png(side: u32) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    let pixels = vec![128u8; (side as usize) * (side as usize) * 3];
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::NoFilter,
    )
    .write_image(&pixels, side, side, image::ExtendedColorType::Rgb8)?;
    Ok(png)
}

/// The CRC-32 of PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for b in bytes {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// An incident the demo's department handler may act on in the console.
async fn handlers_incident(console: &Raw) -> Result<Uuid> {
    let page = console
        .get("/console/api/queue?kind=incident&status=all&limit=50")
        .await?;
    let page = page.ok()?.json();
    let id = page["items"][0]["id"]
        .as_str()
        .context("the handler sees an incident")?;
    Ok(id.parse()?)
}

/// Runs `n` copies of `request` at once; their answers.
async fn at_once<F, Fut>(n: usize, request: F) -> Result<Vec<Answer>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Answer>> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(request())).collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await??);
    }
    Ok(answers)
}

/// The server's peak resident memory in MiB, with what it was at the
/// case's start, for the message.
fn peak_mib(trial: &Trial) -> Result<u64> {
    Ok(trial
        .server
        .peak_memory_kib()
        .context("the server's VmHWM")?
        / 1024)
}

/// Item 12: the console's after-photo upload of a 157 KB PNG announcing
/// 7,000 × 7,000 pixels took about 650 MiB; 8 at once took the server to
/// 2.5 GiB. 16 at once now wait for their share of the image budget, each
/// holds one full-size copy, and the server's peak stays under the bound.
/// Each is prepared and kept once (photo and thumbnail), as the handler's
/// own upload; nothing else is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)] // the memory figures, for whoever reads the log
async fn item12_sixteen_large_pngs_at_once_stay_within_the_memory_bound() -> Result<()> {
    let trial = Trial::start().await?;
    let handler = trial.console(&user(Role::DepartmentHandler).id).await?;
    let incident = handlers_incident(&handler).await?;
    let png = flat_png(7000)?;
    ensure!(png.len() < 400_000, "{} bytes", png.len());
    let path = format!("/console/api/incidents/{incident}/photos");

    let start_mib = peak_mib(&trial)?;
    let before = trial.digest()?;
    let started = Instant::now();
    let answers = at_once(16, || {
        let (handler, path, png) = (handler.clone(), path.clone(), png.clone());
        async move { handler.post(&path, "image/png", png).await }
    })
    .await?;
    let peak = peak_mib(&trial)?;
    eprintln!(
        "item 12: 16 uploads of a 7000x7000 PNG in {:.1} s; server peak RSS {start_mib} MiB before, {peak} MiB after (bound {IMAGE_PEAK_BOUND_MIB} MiB)",
        started.elapsed().as_secs_f64()
    );
    let mut refs = std::collections::BTreeSet::new();
    for a in &answers {
        let r = a.ok()?.json();
        refs.insert((
            r["sha256"].as_str().unwrap_or_default().to_string(),
            r["thumb_sha256"].as_str().unwrap_or_default().to_string(),
            r["width"].as_u64(),
        ));
    }
    ensure!(refs.len() == 1, "16 uploads, one photo: {refs:?}");
    let (photo, thumb, width) = refs.pop_first().context("a reference")?;
    ensure!(width == Some(1600), "scaled to 1600 px: {width:?}");
    ensure!(
        peak <= IMAGE_PEAK_BOUND_MIB,
        "the server peaked at {peak} MiB, over the {IMAGE_PEAK_BOUND_MIB} MiB bound"
    );
    // What was stored: the photo and its thumbnail, uploaded by the
    // handler's console session; nothing else.
    let kept: Vec<String> = [&photo, &thumb]
        .iter()
        .map(|s| format!("{}/{s}", &s[..2]))
        .collect();
    trial
        .digest()?
        .without(&["blob_uploads"])
        .without_files(&kept)
        .same_as(&before.without(&["blob_uploads"]))?;
    ensure!(
        trial
            .server
            .blob_files()
            .iter()
            .filter(|f| f.ends_with(&photo) || f.ends_with(&thumb))
            .count()
            == 2,
        "{:?}",
        trial.server.blob_files()
    );
    trial.finish().await
}

/// Item 12: a PNG whose header announces 100,000 × 100,000 pixels is
/// refused from the header, before any decoding, 16 at once, and stores
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item12_a_png_announcing_too_many_pixels_is_refused_before_decoding() -> Result<()> {
    let trial = Trial::start().await?;
    let handler = trial.console(&user(Role::DepartmentHandler).id).await?;
    let incident = handlers_incident(&handler).await?;
    let mut bomb = flat_png(8)?;
    // IHDR's width and height are bytes 16..24, its CRC (of its type and
    // data, bytes 12..29) bytes 29..33: a header that reads as valid.
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let path = format!("/console/api/incidents/{incident}/photos");

    let before = trial.digest()?;
    let answers = at_once(16, || {
        let (handler, path, bomb) = (handler.clone(), path.clone(), bomb.clone());
        async move { handler.post(&path, "image/png", bomb).await }
    })
    .await?;
    for a in &answers {
        a.refused(422, "photo_too_many_pixels")?;
        // The console says it in the user's language from the code and
        // these params (ui/src/console/i18n).
        ensure!(
            a.json()["params"]["width"] == 100_000.0,
            "the refusal names the image's size: {}",
            a.text()
        );
    }
    ensure!(
        peak_mib(&trial)? <= IMAGE_PEAK_BOUND_MIB,
        "{} MiB",
        peak_mib(&trial)?
    );
    trial.unchanged(&before)?;
    trial.finish().await
}

/// A sync body whose zstd payload decompresses to `bytes` zero bytes
/// (about 1 KB on the wire for 31 MiB).
fn zstd_bomb(bytes: usize) -> Result<Vec<u8>> {
    let zeros = vec![0u8; bytes];
    let mut body = vec![b'G', b'W', PROTOCOL_VERSION, 1];
    body.extend_from_slice(&zstd::bulk::compress(&zeros, 3)?);
    Ok(body)
}

/// Item 13: a 1 KB body that decompressed to 31 MiB was accepted, and 16
/// at once took the server to 941 MiB. Now such a body is refused from
/// its frame header (413 `expands_too_large`), one that decompresses to
/// just under the limit is refused as malformed after at most
/// `max_concurrent_syncs` of them decoded at once, CBOR whose decoded
/// changes would take more memory than the limit is refused, on the
/// repair path too; memory stays under the bound and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)] // the memory figures, for whoever reads the log
async fn item13_sixteen_zstd_bombs_at_once_are_refused_within_the_memory_bound() -> Result<()> {
    let trial = Trial::start().await?;
    let raw = trial.login(&workers()[1].id).await?;
    let big = zstd_bomb(31 * 1024 * 1024)?;
    ensure!(big.len() < 2048, "{} bytes", big.len());
    // The default max_body_bytes (16 MiB) less a little: decompressed,
    // then refused as not a sync message.
    let under = zstd_bomb(16 * 1024 * 1024 - 4096)?;
    // Two million empty changes: 2 MB of CBOR, over 100 MiB decoded.
    let empty = wire::encode(&SyncRequest {
        cursor: 0,
        push: vec![DocChanges {
            doc: Uuid::now_v7(),
            changes: vec![Vec::new(); 2_000_000],
        }],
        budget: None,
        ..SyncRequest::default()
    });

    let start_mib = peak_mib(&trial)?;
    let before = trial.digest()?;
    let started = Instant::now();
    for (body, status, code) in [
        (&big, 413, "expands_too_large"),
        (&under, 400, "malformed"),
        (&empty, 413, "expands_too_large"),
    ] {
        let answers = at_once(16, || {
            let (raw, body) = (raw.clone(), body.clone());
            async move { raw.sync_bytes(body).await }
        })
        .await?;
        for a in &answers {
            a.refused(status, code)?;
        }
    }
    let doc = Uuid::now_v7();
    raw.post(
        &format!("/v1/repair/{doc}"),
        gridwork_core::sync::http::CONTENT_TYPE,
        big.clone(),
    )
    .await?
    .refused(413, "expands_too_large")?;
    let refused = raw.sync_bytes(big.clone()).await?;
    says_first(&refused, "消息")?;
    let peak = peak_mib(&trial)?;
    eprintln!(
        "item 13: 48 bombs in {:.1} s; server peak RSS {start_mib} MiB before, {peak} MiB after (bound {SYNC_PEAK_BOUND_MIB} MiB)",
        started.elapsed().as_secs_f64()
    );
    ensure!(
        peak <= SYNC_PEAK_BOUND_MIB,
        "the server peaked at {peak} MiB, over the {SYNC_PEAK_BOUND_MIB} MiB bound"
    );
    trial.unchanged(&before)?;
    trial.finish().await
}

/// Item 14: one device's unfinished uploads are held to
/// `blob_partial_quota_bytes` (32 MiB by default): five uploads of
/// 8 MiB started and never finished left 40 MiB before; the fifth is now
/// refused and stores nothing. Another device's quota is its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item14_a_devices_unfinished_uploads_are_held_to_its_quota() -> Result<()> {
    let trial = Trial::start().await?;
    let raw = trial.login(&workers()[1].id).await?;
    let other = trial.login(&workers()[2].id).await?;
    let length = 8 * 1024 * 1024;
    let chunk = vec![7u8; length - 1];
    let start = |raw: &Raw, i: u32| {
        let (raw, chunk) = (raw.clone(), chunk.clone());
        async move {
            raw.patch(
                &blob(&sha256_hex(&i.to_be_bytes())),
                &[
                    ("upload-offset", "0"),
                    ("upload-length", &length.to_string()),
                ],
                chunk,
            )
            .await
        }
    };
    for i in 0..4 {
        let answer = start(&raw, i).await?;
        ensure!(answer.status == 204, "{}", answer.text());
    }
    let before = trial.digest()?;
    let fifth = start(&raw, 4).await?;
    fifth.refused(413, "upload_quota_exceeded")?;
    says_first(&fifth, "本设备")?;
    trial.unchanged(&before)?;
    let held: u64 = std::fs::read_dir(
        trial
            .server
            .data_dir()
            .join("blobs/partial")
            .join(&raw.device_id),
    )?
    .map(|e| Ok(e?.metadata()?.len()))
    .sum::<Result<u64>>()?;
    ensure!(held <= 32 * 1024 * 1024, "{held} bytes held");
    // Another device uploads as before.
    let answer = start(&other, 4).await?;
    ensure!(answer.status == 204, "{}", answer.text());
    trial.finish().await
}

/// Item 14: an unfinished upload not written to for
/// `blob_partial_expiry_secs` is deleted by the server's sweep; what the
/// server stores is then as before the upload started, and the device
/// starts the photo again from 0 and finishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item14_stale_unfinished_uploads_expire() -> Result<()> {
    let trial = Trial::start_with_config("blob_partial_expiry_secs = 2\n").await?;
    let raw = trial.login(&workers()[1].id).await?;
    let photo = synthetic_photo(640, 480, 48);
    let sha = sha256_hex(&photo);
    let total = photo.len().to_string();
    let half = photo.len() / 2;

    let before = trial.digest()?;
    let answer = raw
        .patch(
            &blob(&sha),
            &[("upload-offset", "0"), ("upload-length", &total)],
            photo[..half].to_vec(),
        )
        .await?;
    ensure!(answer.status == 204, "{}", answer.text());
    ensure!(
        trial.server.blob_files().len() == 1,
        "{:?}",
        trial.server.blob_files()
    );
    let started = Instant::now();
    while !trial.server.blob_files().is_empty() {
        ensure!(
            started.elapsed() < Duration::from_secs(15),
            "the stale upload is still there: {:?}",
            trial.server.blob_files()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    trial.unchanged(&before)?;
    tells_nothing(&raw.head(&blob(&sha)).await?)?;
    // The rest alone no longer fits: the server holds nothing.
    let late = raw
        .patch(
            &blob(&sha),
            &[
                ("upload-offset", &half.to_string()),
                ("upload-length", &total),
            ],
            photo[half..].to_vec(),
        )
        .await?;
    late.refused(409, "upload_offset_mismatch")?;
    ensure!(late.header("upload-offset").as_deref() == Some("0"));
    let again = raw
        .patch(
            &blob(&sha),
            &[("upload-offset", "0"), ("upload-length", &total)],
            photo.clone(),
        )
        .await?;
    ensure!(
        again.status == 204 && again.header("upload-complete").as_deref() == Some("?1"),
        "{}",
        again.text()
    );
    trial.finish().await
}
