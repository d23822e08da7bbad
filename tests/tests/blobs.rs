//! Photo blobs against a real `gridwork-server` process: a worker's photos
//! go up after the records, come down to the supervisor who may see them
//! and to nobody else; the server answers "already have it", and refuses
//! wrong hashes, non-images, decompression bombs and oversized blobs with
//! a clear code, keeping nothing of them.

use anyhow::Result;
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::Author;
use gridwork_core::media::{sha256_hex, synthetic_photo};
use gridwork_core::model::{Incident, PhotoRole, Role, User};
use gridwork_core::sync::blobs::{
    BlobTransport, PhotoProgress, UploadStep, sync_photos, sync_photos_reporting,
};
use gridwork_core::sync::client::TransportError;
use gridwork_core::workflow::{self, Action, Actor};
use gridwork_tests::{Device, NOW, Server, community, today, user_over};

const CHUNK: usize = 16 * 1024;

fn worker_elsewhere(grid: &str) -> &'static User {
    community()
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker && !grid.starts_with(&u.grid))
        .expect("a worker of another grid")
}

/// A new incident of `grid` by `worker`, without photos yet.
fn new_incident(grid: &str, worker: &str) -> Incident {
    let mut i = gridwork_tests::new_incident(grid, worker);
    i.photos.clear();
    i
}

/// A server, the grid of the demo's first incident, its worker and
/// community supervisor, and a worker of another grid.
fn cast() -> Result<(Server, String, &'static User, &'static User, &'static User)> {
    let grid = community().incidents[0].meta.grid.clone();
    let worker = user_over(Role::GridWorker, &grid);
    let supervisor = user_over(Role::CommunitySupervisor, &grid);
    let stranger = worker_elsewhere(&grid);
    Ok((Server::start()?, grid, worker, supervisor, stranger))
}

/// Reports `incident` as `who`, at [`NOW`].
fn report(incident: &mut Incident, who: &User) -> Result<()> {
    let actor = Actor {
        user: &who.id,
        role: who.role,
    };
    workflow::transition(
        incident,
        &WorkCalendar::bundled(),
        actor,
        Action::Report,
        "",
        vec![],
        NOW,
    )?;
    Ok(())
}

fn blobs_of(device: &Device, server: &Server) -> Result<BlobTransport> {
    Ok(BlobTransport::new(&server.url(), &device.login.token)?.with_chunk_bytes(CHUNK))
}

/// Moves the device's photos: uploads, then downloads.
async fn photo_sync(device: &mut Device, server: &Server) -> Result<PhotoProgress> {
    let api = blobs_of(device, server)?;
    Ok(sync_photos(&mut device.store, &api).await?)
}

/// Stores `incident` on the device as its user, syncs it (nothing may be
/// refused), then moves the device's photos.
async fn push_with_photos(
    device: &mut Device,
    server: &Server,
    incident: Incident,
) -> Result<PhotoProgress> {
    let author = Author::new(device.user(), NOW);
    device.store.insert(incident, &author, today())?;
    let pushed = device.sync().await?;
    assert!(pushed.rejected.is_empty(), "{:?}", pushed.rejected);
    photo_sync(device, server).await
}

fn code(e: TransportError) -> (u16, String) {
    match e {
        TransportError::Server { status, code, .. } => (status, code),
        other => panic!("expected a refusal, got {other}"),
    }
}

/// A worker reports an incident with a photo and resolves it on the spot
/// with an after-photo; the photos follow the records. Their supervisor
/// receives both; a worker of another grid is refused them; a second
/// tablet with the same photo sends nothing ("already have it").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_go_up_after_the_records_and_reach_who_may_see_them() -> Result<()> {
    let (server, grid, worker, supervisor, stranger) = cast()?;
    let cal = WorkCalendar::bundled();

    let mut tablet = Device::enrol(&server, &worker.id).await?;
    let before =
        tablet
            .store
            .add_photo(&synthetic_photo(1000, 750, 1), PhotoRole::Before, Some(NOW))?;
    let mut incident = new_incident(&grid, &worker.id);
    incident.photos.push(before.clone());
    report(&mut incident, worker)?;
    let id = incident.meta.id;
    let author = Author::new(&worker.id, NOW);
    tablet.store.insert(incident, &author, today())?;

    // Offline the photo waits; the records go first, then the photos.
    assert_eq!(tablet.store.pending_photos()?.len(), 2);
    tablet.sync().await?;
    let api = blobs_of(&tablet, &server)?;
    let mut steps: Vec<UploadStep> = Vec::new();
    let up = sync_photos_reporting(&mut tablet.store, &api, |s| steps.push(s.clone())).await?;
    let before_bytes = tablet.store.photo_bytes(&before.sha256)?.unwrap();
    // The sync screen's bars: from 0, one confirmed chunk at a time, to
    // the whole photo.
    let bar: Vec<u64> = steps
        .iter()
        .filter(|s| s.sha256 == before.sha256)
        .map(|s| s.sent)
        .collect();
    let total = before_bytes.len() as u64;
    assert_eq!(bar.first(), Some(&0), "{bar:?}");
    assert_eq!(bar.last(), Some(&total), "{bar:?}");
    assert!(
        bar.windows(2)
            .all(|w| w[0] < w[1] && w[1] - w[0] <= CHUNK as u64),
        "{bar:?}"
    );
    assert_eq!(bar.len() as u64, 1 + total.div_ceil(CHUNK as u64));
    assert!(steps.iter().all(|s| s.sent <= s.total));
    let before_thumb = tablet
        .store
        .photo_bytes(before.thumb_sha256.as_deref().unwrap())?
        .unwrap();
    assert_eq!((up.sent, up.already_there, up.pending), (2, 0, 0), "{up:?}");
    assert_eq!(
        up.bytes_sent,
        (before_bytes.len() + before_thumb.len()) as u64
    );
    assert!(
        before_bytes.len() > CHUNK,
        "the photo travelled in several chunks"
    );
    assert!(tablet.store.pending_photos()?.is_empty());

    // Resolved on the spot, with an after-photo.
    let after = tablet
        .store
        .add_photo(&synthetic_photo(750, 1000, 2), PhotoRole::After, None)?;
    let later = Author::new(&worker.id, NOW + 3_600_000);
    tablet.store.update::<Incident>(id, &later, today(), |i| {
        i.photos.push(after.clone());
        let actor = Actor {
            user: &worker.id,
            role: worker.role,
        };
        workflow::transition(
            i,
            &cal,
            actor,
            Action::ResolveOnSpot,
            "已清理",
            vec![after.sha256.clone()],
            NOW + 3_600_000,
        )
        .expect("resolve on the spot");
    })?;
    tablet.sync().await?;
    let api = blobs_of(&tablet, &server)?;
    let up = sync_photos(&mut tablet.store, &api).await?;
    assert_eq!((up.sent, up.pending), (2, 0), "{up:?}");

    // The supervisor gets the record, then both photos and thumbnails.
    let mut sup = Device::enrol(&server, &supervisor.id).await?;
    sup.sync().await?;
    assert_eq!(sup.store.missing_photos()?.len(), 4);
    let api = blobs_of(&sup, &server)?;
    let down = sync_photos(&mut sup.store, &api).await?;
    assert_eq!((down.received, down.unavailable), (4, 0), "{down:?}");
    assert_eq!(
        sup.store.photo_bytes(&after.sha256)?,
        tablet.store.photo_bytes(&after.sha256)?,
        "the after-photo arrived byte for byte"
    );
    assert_eq!(sup.store.photo_bytes(&before.sha256)?, Some(before_bytes));
    assert!(sup.store.missing_photos()?.is_empty());
    assert!(
        sup.store.pending_photos()?.is_empty(),
        "downloaded photos are not sent back"
    );

    // A worker of another grid cannot read them, whatever record it names.
    let other = Device::enrol(&server, &stranger.id).await?;
    let theirs = blobs_of(&other, &server)?;
    let (status, c) = code(theirs.fetch(&after.sha256, id, 0).await.unwrap_err());
    assert_eq!((status, c.as_str()), (403, "blob_forbidden"));
    let (status, _) = code(
        theirs
            .fetch(&after.sha256, uuid::Uuid::now_v7(), 0)
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 403);
    // Nor can the supervisor read a blob through a record that does not
    // reference it.
    let stray = synthetic_photo(50, 50, 3);
    let (status, _) = code(
        blobs_of(&sup, &server)?
            .fetch(&sha256_hex(&stray), id, 0)
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 403);

    // Another tablet that took the same photo sends its first chunk
    // without asking (a photo never started goes at once) and hears it
    // is already there: the rest is not sent.
    let mut second = Device::enrol(&server, &worker.id).await?;
    let same = second
        .store
        .add_photo(&synthetic_photo(1000, 750, 1), PhotoRole::Before, None)?;
    let mut copy = new_incident(&grid, &worker.id);
    copy.photos.push(same);
    second.store.insert(copy, &author, today())?;
    let api = blobs_of(&second, &server)?;
    let again = sync_photos(&mut second.store, &api).await?;
    let first_chunks = (CHUNK as u64).min(total) + CHUNK.min(before_thumb.len()) as u64;
    assert_eq!(
        (again.already_there + again.sent, again.bytes_sent),
        (2, first_chunks),
        "{again:?}"
    );
    assert!(
        again.already_there >= 1,
        "the photo's other chunks stayed: {again:?}"
    );

    // A range read returns that range.
    let piece = blobs_of(&sup, &server)?
        .with_chunk_bytes(1024)
        .fetch(&after.sha256, id, 2048)
        .await?;
    let whole = tablet.store.photo_bytes(&after.sha256)?.unwrap();
    assert_eq!(piece.start, 2048);
    assert_eq!(piece.total, whole.len() as u64);
    assert_eq!(piece.bytes, whole[2048..3072]);
    Ok(())
}

/// Wrong hashes, non-images, a PNG announcing 100,000 × 100,000 pixels,
/// oversized blobs, bad addresses and strangers are refused with a clear
/// code, and the server keeps nothing of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_blobs_are_refused_with_a_code_and_nothing_is_kept() -> Result<()> {
    let server = Server::start()?;
    let grid = community().incidents[0].meta.grid.clone();
    let worker = user_over(Role::GridWorker, &grid);
    let tablet = Device::enrol(&server, &worker.id).await?;
    let api = blobs_of(&tablet, &server)?;

    let photo = synthetic_photo(640, 480, 5);
    let sha = sha256_hex(&photo);
    let len = photo.len() as u64;

    // Bytes that are not what their address names.
    let wrong = sha256_hex(b"something else");
    let e = api.send_chunk(&wrong, 0, len, photo.clone()).await;
    assert_eq!(code(e.unwrap_err()), (422, "blob_hash_mismatch".into()));
    assert_eq!(api.remote(&wrong).await?.offset, 0);

    // Not an image, in two chunks: the partial file goes when refused.
    let text = "这不是图片 this is not an image ".repeat(100).into_bytes();
    let text_sha = sha256_hex(&text);
    let half = text.len() / 2;
    let tlen = text.len() as u64;
    let r = api
        .send_chunk(&text_sha, 0, tlen, text[..half].to_vec())
        .await?;
    assert_eq!((r.offset, r.complete), (half as u64, false));
    assert_eq!(server.blob_files().len(), 1, "the partial upload is kept");
    let e = api
        .send_chunk(&text_sha, half as u64, tlen, text[half..].to_vec())
        .await;
    assert_eq!(code(e.unwrap_err()), (415, "blob_not_an_image".into()));
    assert_eq!(api.remote(&text_sha).await?.offset, 0);

    // A decompression bomb: a valid PNG header announcing 10^10 pixels.
    let mut bomb = synthetic_png();
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let bomb_sha = sha256_hex(&bomb);
    let e = api
        .send_chunk(&bomb_sha, 0, bomb.len() as u64, bomb.clone())
        .await;
    let (status, c) = code(e.unwrap_err());
    assert_eq!(status, 422);
    assert!(
        matches!(c.as_str(), "blob_too_many_pixels" | "blob_corrupt_image"),
        "{c}"
    );

    // Oversized: refused on the declared length, before any byte is kept.
    let e = api
        .send_chunk(&sha, 0, 64 * 1024 * 1024, photo[..1000].to_vec())
        .await;
    assert_eq!(code(e.unwrap_err()), (413, "blob_too_large".into()));
    // A chunk running past the declared length.
    let e = api.send_chunk(&sha, 0, 10, photo[..1000].to_vec()).await;
    assert_eq!(code(e.unwrap_err()), (400, "upload_past_length".into()));

    // Not an address (a HEAD answer has no body to carry the code).
    let e = api.send_chunk("not-a-hash", 0, len, photo.clone()).await;
    assert_eq!(code(e.unwrap_err()), (400, "blob_bad_address".into()));

    // Without a valid token nothing is accepted.
    let anonymous = BlobTransport::new(&server.url(), "no such token")?;
    let e = anonymous.send_chunk(&sha, 0, len, photo.clone()).await;
    assert_eq!(code(e.unwrap_err()).0, 401);

    assert!(
        server.blob_files().is_empty(),
        "nothing refused was kept: {:?}",
        server.blob_files()
    );

    // A chunk at a stale offset is answered with the server's offset, and
    // the upload goes on from there.
    let r = api.send_chunk(&sha, 0, len, photo[..4096].to_vec()).await?;
    assert_eq!(r.offset, 4096);
    let r = api.send_chunk(&sha, 0, len, photo[..4096].to_vec()).await?;
    assert_eq!((r.offset, r.complete), (4096, false), "409 with the offset");
    let r = api
        .send_chunk(&sha, 4096, len, photo[4096..].to_vec())
        .await?;
    assert!(r.complete && r.offset == len);
    assert_eq!(server.blob_files().len(), 1);
    let r = api.remote(&sha).await?;
    assert!(r.complete, "already have it");
    Ok(())
}

/// A real 1×1 PNG; its IHDR's width and height are bytes 16..24.
fn synthetic_png() -> Vec<u8> {
    use image::ImageEncoder;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&[0u8; 3], 1, 1, image::ExtendedColorType::Rgb8)
        .expect("encode a PNG");
    png
}

/// Regression: a photo taken for an incident and removed from it before
/// the sync was uploaded all the same, and stayed on the tablet for good.
/// Now the server never receives it, and the tablet drops its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_removed_before_the_sync_never_reaches_the_server() -> Result<()> {
    let server = Server::start()?;
    let grid = community().incidents[0].meta.grid.clone();
    let worker = user_over(Role::GridWorker, &grid);
    let mut tablet = Device::enrol(&server, &worker.id).await?;
    let author = Author::new(&worker.id, NOW);

    let kept = tablet
        .store
        .add_photo(&synthetic_photo(800, 600, 11), PhotoRole::Before, None)?;
    let removed =
        tablet
            .store
            .add_photo(&synthetic_photo(800, 600, 13), PhotoRole::Before, None)?;
    let mut incident = new_incident(&grid, &worker.id);
    incident.photos = vec![kept.clone(), removed.clone()];
    let id = incident.meta.id;
    tablet.store.insert(incident, &author, today())?;
    // The worker takes the second photo out again, still offline.
    tablet.store.update::<Incident>(id, &author, today(), |i| {
        i.photos.retain(|p| p.sha256 != removed.sha256);
    })?;

    tablet.sync().await?;
    let api = blobs_of(&tablet, &server)?;
    let up = sync_photos(&mut tablet.store, &api).await?;
    assert_eq!(
        (up.sent, up.pending),
        (2, 0),
        "the kept photo and its thumbnail: {up:?}"
    );

    let on_server = server.blob_files().join("\n");
    assert!(on_server.contains(&kept.sha256), "{on_server}");
    for gone in [&removed.sha256, removed.thumb_sha256.as_ref().unwrap()] {
        assert!(
            !on_server.contains(gone.as_str()),
            "{gone} uploaded: {on_server}"
        );
        assert_eq!(
            tablet.store.photo_bytes(gone)?,
            None,
            "{gone} kept on the tablet"
        );
    }
    assert!(tablet.store.photo_bytes(&kept.sha256)?.is_some());
    Ok(())
}

/// A photo is opened by a record granted it, not by its hash (issue #10,
/// item 4), and honest copies keep working: a supervisor copies a
/// worker's photo into another record of the grid (a record they see is
/// granted it), and the worker reads it through the copy; the worker's
/// second tablet copies it into a record of its own (the same user
/// uploaded it). A worker of another grid who names the hash is granted
/// nothing until they send every byte of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_copied_between_records_of_a_grid_opens_through_the_copy() -> Result<()> {
    let (server, grid, worker, supervisor, stranger) = cast()?;

    let mut tablet = Device::enrol(&server, &worker.id).await?;
    let photo = tablet
        .store
        .add_photo(&synthetic_photo(900, 600, 21), PhotoRole::Before, None)?;
    let mut first = new_incident(&grid, &worker.id);
    first.photos.push(photo.clone());
    report(&mut first, worker)?;
    let up = push_with_photos(&mut tablet, &server, first).await?;
    assert_eq!((up.sent, up.pending), (2, 0), "{up:?}");

    // The supervisor receives the record and its photo, and copies the
    // photo into a record of their own in the worker's grid.
    let mut sup = Device::enrol(&server, &supervisor.id).await?;
    sup.sync().await?;
    let down = photo_sync(&mut sup, &server).await?;
    assert_eq!(down.received, 2, "{down:?}");
    let mut copy = new_incident(&grid, &supervisor.id);
    copy.photos.push(photo.clone());
    report(&mut copy, supervisor)?;
    let copy_id = copy.meta.id;
    let up = push_with_photos(&mut sup, &server, copy).await?;
    assert_eq!(
        (up.sent, up.refused.len()),
        (0, 0),
        "nothing to send: {up:?}"
    );

    // The worker's tablet reads the photo through the copy.
    let theirs = blobs_of(&tablet, &server)?;
    let piece = theirs.fetch(&photo.sha256, copy_id, 0).await?;
    assert_eq!(piece.start, 0);
    assert_eq!(
        Some(piece.total),
        tablet
            .store
            .photo_bytes(&photo.sha256)?
            .map(|b| b.len() as u64)
    );

    // The worker's second tablet takes the same photo for a new record:
    // already there (said by the answer to its first chunk), and readable
    // through the new record.
    let mut second = Device::enrol(&server, &worker.id).await?;
    let same = second
        .store
        .add_photo(&synthetic_photo(900, 600, 21), PhotoRole::Before, None)?;
    assert_eq!(same.sha256, photo.sha256);
    let mut again = new_incident(&grid, &worker.id);
    again.photos.push(same);
    report(&mut again, worker)?;
    let again_id = again.meta.id;
    let up = push_with_photos(&mut second, &server, again).await?;
    assert_eq!(
        (up.already_there + up.sent, up.refused.len()),
        (2, 0),
        "{up:?}"
    );
    assert!(up.already_there >= 1, "{up:?}");
    blobs_of(&sup, &server)?
        .fetch(&photo.sha256, again_id, 0)
        .await?;

    // A stranger who names the hash in a record of their grid reads
    // nothing, until they upload the very bytes themselves.
    let mut other = Device::enrol(&server, &stranger.id).await?;
    let stranger_grid = stranger.grid.clone();
    let mut named = new_incident(
        &community()
            .incidents
            .iter()
            .find(|i| i.meta.grid.starts_with(&stranger_grid))
            .expect("an incident of the stranger's grid")
            .meta
            .grid,
        &stranger.id,
    );
    named.photos.push(photo.clone());
    report(&mut named, stranger)?;
    let named_id = named.meta.id;
    other
        .store
        .insert(named, &Author::new(&stranger.id, NOW), today())?;
    other.sync().await?;
    let theirs = blobs_of(&other, &server)?;
    let (status, c) = code(theirs.fetch(&photo.sha256, named_id, 0).await.unwrap_err());
    assert_eq!((status, c.as_str()), (403, "blob_forbidden"));
    let remote = theirs.remote(&photo.sha256).await?;
    assert_eq!((remote.offset, remote.complete), (0, false));
    let bytes = tablet.store.photo_bytes(&photo.sha256)?.unwrap();
    let r = theirs
        .send_chunk(&photo.sha256, 0, bytes.len() as u64, bytes.clone())
        .await?;
    assert!(r.complete);
    let piece = theirs.fetch(&photo.sha256, named_id, 0).await?;
    assert_eq!(piece.total, bytes.len() as u64);
    assert_eq!(
        server
            .blob_files()
            .iter()
            .filter(|f| f.ends_with(&photo.sha256))
            .count(),
        1,
        "one copy on the server"
    );
    Ok(())
}
