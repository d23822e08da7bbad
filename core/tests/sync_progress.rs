//! The sync screen's accounting ([`gridwork_core::sync::progress`]):
//! records and bytes done and left, and the time left at the rate the
//! link has shown, fed as the app's sync loop feeds it.

use gridwork_core::store::{PendingPhoto, PhotoKind};
use gridwork_core::sync::blobs::UploadStep;
use gridwork_core::sync::client::Progress;
use gridwork_core::sync::progress::SyncMeter;

fn pending(sha: &str, size: u64, offset: u64) -> PendingPhoto {
    PendingPhoto {
        sha256: sha.into(),
        kind: PhotoKind::Photo,
        size,
        offset,
        started: offset > 0,
    }
}

fn step(sha: &str, sent: u64, total: u64) -> UploadStep {
    UploadStep {
        sha256: sha.into(),
        sent,
        total,
    }
}

fn round(sent: u64, pending: u64, received: u64, more: bool, bytes: u64) -> Progress {
    Progress {
        changes_sent: sent,
        pending,
        changes_received: received,
        more,
        bytes_sent: bytes / 2,
        bytes_received: bytes - bytes / 2,
        ..Progress::default()
    }
}

#[test]
fn records_and_bytes_done_and_left_follow_the_rounds() {
    // 20 edits of 100 bytes waiting, one photo of 150,000 bytes of
    // which 50,000 went in an earlier sync.
    let photos = [pending("a", 150_000, 50_000)];
    let mut m = SyncMeter::new(0, 20, 2_000, &photos);
    let v = m.view();
    assert_eq!(
        (v.records_to_send, v.records_sent, v.bytes_done),
        (20, 0, 0)
    );
    assert_eq!((v.photo_bytes_left, v.bytes_left), (100_000, 102_000));
    assert_eq!(v.eta_ms, None, "no rate yet");

    // A round pushed 10 and pulled a batch; more follows.
    m.records(1_000, &round(10, 10, 300, true, 30_000));
    let v = m.view();
    assert_eq!(
        (v.records_sent, v.records_to_send, v.records_received),
        (10, 10, 300)
    );
    assert!(v.more_to_receive);
    assert_eq!((v.bytes_done, v.bytes_left), (30_000, 101_000));
    assert_eq!(v.eta_ms, None, "a second is too short to tell a rate");

    // 10 kB/s over the first 4 s: the 100,000 bytes known to be left
    // take 10 s (at least: more follows).
    m.records(4_000, &round(20, 0, 300, true, 40_000));
    let v = m.view();
    assert_eq!((v.records_to_send, v.bytes_left), (0, 100_000));
    assert_eq!(v.eta_ms, Some(10_000));

    // The photo pass: the records are done; the photo resumes.
    m.photos(5_000, &photos);
    let v = m.view();
    assert!(!v.more_to_receive);
    assert_eq!((v.photo_bytes_sent, v.photo_bytes_left), (0, 100_000));
    // Its resumed offset is reported first: nothing sent yet.
    m.upload(5_000, &step("a", 50_000, 150_000));
    assert_eq!(m.view().photo_bytes_sent, 0);
    m.upload(10_000, &step("a", 100_000, 150_000));
    let v = m.view();
    assert_eq!((v.photo_bytes_sent, v.photo_bytes_left), (50_000, 50_000));
    assert_eq!(v.bytes_done, 90_000);
    // 90,000 bytes in 10 s: 50,000 more take 5.6 s.
    assert_eq!(v.eta_ms, Some(5_556));
    m.upload(15_000, &step("a", 150_000, 150_000));
    let v = m.view();
    assert_eq!((v.photo_bytes_left, v.bytes_left, v.eta_ms), (0, 0, None));
}

#[test]
fn the_rate_follows_the_last_minute_of_the_link() {
    let photos = [pending("a", 2_000_000, 0)];
    let mut m = SyncMeter::new(0, 0, 0, &photos);
    // A slow first minute: 1 kB/s.
    m.records(60_000, &round(0, 0, 10, false, 60_000));
    assert_eq!(m.view().eta_ms, Some(2_000_000));
    m.photos(60_000, &photos);
    // Then 10 kB/s for two minutes: the estimate forgets the slow start.
    for s in 1..=120u64 {
        m.upload(60_000 + s * 1_000, &step("a", s * 10_000, 2_000_000));
    }
    let v = m.view();
    assert_eq!(v.photo_bytes_left, 800_000);
    assert_eq!(v.eta_ms, Some(80_000));
}

#[test]
fn a_photo_already_there_or_unknown_counts_once() {
    let mut m = SyncMeter::new(0, 0, 0, &[]);
    m.photos(0, &[pending("a", 1_000, 0), pending("b", 500, 0)]);
    assert_eq!(m.view().photo_bytes_left, 1_500);
    m.upload(3_000, &step("a", 1_000, 1_000));
    m.upload(3_000, &step("a", 1_000, 1_000));
    // A photo the pass did not list is counted from its first report.
    m.upload(4_000, &step("c", 200, 400));
    m.upload(5_000, &step("c", 400, 400));
    let v = m.view();
    assert_eq!((v.photo_bytes_sent, v.photo_bytes_left), (1_200, 500));
}
