//! What a worker sees of a sync on a slow link (#14): records and bytes
//! done and left, and the time left at the rate the link has shown.
//!
//! The app's sync loop feeds a [`SyncMeter`]: [`SyncMeter::new`] with what
//! waits when the sync starts (the outbox's changes and their bytes, the
//! photos' bytes the server lacks), [`SyncMeter::records`] after every
//! round with the client's running [`Progress`], [`SyncMeter::photos`]
//! when the photo pass starts and [`SyncMeter::upload`] after every chunk
//! the server confirmed. [`SyncMeter::view`] is what the sync screen shows
//! ([`SyncProgress`]).
//!
//! What is known and what is not:
//! - The changes to push are the outbox's; their bytes are estimated from
//!   the outbox's average change as stored (the wire form is close to it).
//! - The pull is known one batch at a time: an answer says whether more
//!   follows, not how much. While more follows, the time left counts only
//!   what is known, and the screen says "at least".
//! - Photo bytes left are the unconfirmed bytes of the photos waiting
//!   (thumbnails included), as the store has them.
//!
//! The rate is the bytes moved over the last [`RATE_WINDOW_MS`] of the
//! sync (at least [`MIN_RATE_SPAN_MS`] of it), so the estimate follows the
//! link as it changes (the records' round trips, then the photos' long
//! chunks) rather than the whole sync's average.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use super::blobs::UploadStep;
use super::client::Progress;
use crate::store::PendingPhoto;

/// How far back the rate looks.
pub const RATE_WINDOW_MS: u64 = 60_000;
/// The least span the rate is measured over: before that, no estimate.
pub const MIN_RATE_SPAN_MS: u64 = 2_000;

/// One sync's progress, for the sync screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncProgress {
    /// Changes this sync pushed.
    pub records_sent: u64,
    /// Changes still waiting in the outbox.
    pub records_to_send: u64,
    /// Changes this sync pulled.
    pub records_received: u64,
    /// The server's last answer said more changes follow (not how many).
    pub more_to_receive: bool,
    /// Bytes this sync moved both ways: record requests and answers, and
    /// the photo bytes the server confirmed.
    pub bytes_done: u64,
    /// Bytes known to be left: the outbox's changes (estimated) and the
    /// photos' unconfirmed bytes. Changes still to pull are not in it.
    pub bytes_left: u64,
    /// Photo bytes (thumbnails included) the server confirmed in this sync.
    pub photo_bytes_sent: u64,
    /// Photo bytes the server has not confirmed yet.
    pub photo_bytes_left: u64,
    /// Milliseconds left at the rate observed, once there is one and
    /// something is known to be left; a lower bound while
    /// `more_to_receive`.
    pub eta_ms: Option<u64>,
}

/// Keeps one sync's accounting (see the module doc). Times are
/// milliseconds on any clock that only goes forward, such as the time
/// since the sync started.
#[derive(Debug, Clone)]
pub struct SyncMeter {
    records_sent: u64,
    records_to_send: u64,
    records_received: u64,
    more_to_receive: bool,
    record_bytes: u64,
    /// Average stored bytes of one outbox change when the sync started.
    change_bytes: u64,
    /// Photo → (bytes confirmed, whole length).
    photos: HashMap<String, (u64, u64)>,
    photo_bytes_sent: u64,
    /// (time, bytes done) of recent updates, oldest first.
    samples: VecDeque<(u64, u64)>,
}

impl SyncMeter {
    /// A sync starting at `at_ms` with `outbox` changes of `outbox_bytes`
    /// bytes waiting, and `photos` the server lacks.
    pub fn new(at_ms: u64, outbox: u64, outbox_bytes: u64, photos: &[PendingPhoto]) -> SyncMeter {
        let mut meter = SyncMeter {
            records_sent: 0,
            records_to_send: outbox,
            records_received: 0,
            more_to_receive: false,
            record_bytes: 0,
            change_bytes: outbox_bytes.checked_div(outbox).unwrap_or(0),
            photos: HashMap::new(),
            photo_bytes_sent: 0,
            samples: VecDeque::new(),
        };
        meter.set_photos(photos);
        meter.samples.push_back((at_ms, 0));
        meter
    }

    fn set_photos(&mut self, photos: &[PendingPhoto]) {
        self.photos = photos
            .iter()
            .map(|p| (p.sha256.clone(), (p.offset.min(p.size), p.size)))
            .collect();
    }

    /// The record sync's running total after a round (or a failed try).
    pub fn records(&mut self, at_ms: u64, total: &Progress) {
        self.records_sent = total.changes_sent;
        self.records_to_send = total.pending;
        self.records_received = total.changes_received;
        self.more_to_receive = total.more;
        self.record_bytes = total.bytes_sent + total.bytes_received;
        self.sample(at_ms);
    }

    /// The photo pass starts with `photos` waiting: the records are done.
    pub fn photos(&mut self, at_ms: u64, photos: &[PendingPhoto]) {
        self.more_to_receive = false;
        self.set_photos(photos);
        self.sample(at_ms);
    }

    /// The server confirmed `step.sent` bytes of a photo.
    pub fn upload(&mut self, at_ms: u64, step: &UploadStep) {
        let entry = self
            .photos
            .entry(step.sha256.clone())
            .or_insert((step.sent, step.total));
        let sent = step.sent.min(step.total);
        self.photo_bytes_sent += sent.saturating_sub(entry.0);
        *entry = (sent.max(entry.0), step.total);
        self.sample(at_ms);
    }

    fn bytes_done(&self) -> u64 {
        self.record_bytes + self.photo_bytes_sent
    }

    fn sample(&mut self, at_ms: u64) {
        let done = self.bytes_done();
        self.samples.push_back((at_ms, done));
        // Keep the newest sample at or before the window's start, so the
        // rate always spans the whole window once the sync is that long.
        while self.samples.len() > 2 && self.samples[1].0 + RATE_WINDOW_MS <= at_ms {
            self.samples.pop_front();
        }
    }

    /// Bytes a second over the recent window, once it is long enough.
    fn rate(&self) -> Option<f64> {
        let (first, last) = (self.samples.front()?, self.samples.back()?);
        let span = last.0.saturating_sub(first.0);
        let moved = last.1.saturating_sub(first.1);
        (span >= MIN_RATE_SPAN_MS && moved > 0).then(|| moved as f64 * 1000.0 / span as f64)
    }

    /// What the sync screen shows now.
    pub fn view(&self) -> SyncProgress {
        let photo_bytes_left: u64 = self
            .photos
            .values()
            .map(|(sent, total)| total.saturating_sub(*sent))
            .sum();
        let bytes_left = self.records_to_send * self.change_bytes + photo_bytes_left;
        let eta_ms = match self.rate() {
            Some(rate) if bytes_left > 0 => Some((bytes_left as f64 / rate * 1000.0).ceil() as u64),
            _ => None,
        };
        SyncProgress {
            records_sent: self.records_sent,
            records_to_send: self.records_to_send,
            records_received: self.records_received,
            more_to_receive: self.more_to_receive,
            bytes_done: self.bytes_done(),
            bytes_left,
            photo_bytes_sent: self.photo_bytes_sent,
            photo_bytes_left,
            eta_ms,
        }
    }
}
