//! Bounds on the work whose memory a request chooses (issue #10, items 12
//! and 13): a small request can ask for a lot of memory (a 143 KB PNG
//! announcing 7,000 × 7,000 pixels, a 1 KB sync body that decompresses to
//! 16 MiB), so such work runs on a few threads of its own, within a
//! budget.
//!
//! - **Image work** (the console's photo preparation, the check of a
//!   finished blob upload) waits for a share of `image_memory_bytes` as
//!   large as the memory it will hold at its peak, read from the file's
//!   header ([`gridwork_core::media::prepare_cost`],
//!   [`crate::blobs::check_cost`]), then runs on one of
//!   [`IMAGE_THREADS`] threads. Small photos run side by side; a large one
//!   waits until it fits; one larger than the whole budget runs alone.
//! - **Sync and repair requests** decode their body (at most
//!   `max_body_bytes` once decompressed, see `gridwork_core::sync::wire`),
//!   check and store it on one of `max_concurrent_syncs` threads; more
//!   wait their turn.
//!
//! Why threads of their own and not tokio's blocking pool: the allocator
//! keeps memory a thread freed for that thread to reuse, so a burst of
//! large decodes spread over the blocking pool's 16 threads left 16
//! buffers' worth resident (measured: 16 zstd bombs of 16 MiB took the
//! server from 53 to 241 MiB with only 4 decoding at once). On a fixed
//! few threads what the allocator keeps is bounded by their number, and
//! the blocking pool (logins, downloads, the console) is left alone. The
//! peak is then about the budget (or the largest single image the pixel
//! limit lets through), plus `max_concurrent_syncs` decoded bodies, plus
//! what the server holds anyway. `sync-server/README.md` states the
//! bounds the trust suite measures.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// Threads that run image work.
pub const IMAGE_THREADS: usize = 2;
/// Budgets are counted in KiB so a `u32` of permits covers terabytes.
const UNIT: u64 = 1024;

/// Why a piece of work did not come back.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error("the {0} work failed (a bug: it panicked, or the server is stopping)")]
    Lost(&'static str),
}

impl From<WorkError> for crate::error::ApiError {
    fn from(e: WorkError) -> crate::error::ApiError {
        crate::error::ApiError::Internal(e.to_string())
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A few named threads taking jobs in turn.
#[derive(Debug)]
struct Pool {
    name: &'static str,
    jobs: mpsc::Sender<Job>,
}

impl Pool {
    fn new(name: &'static str, threads: usize) -> Pool {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for a job.
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            // The server is gone.
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, pool = name, "cannot start a work thread");
            }
        }
        Pool { name, jobs: tx }
    }

    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, WorkError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            // A panic is this job's failure, not the thread's end.
            if let Ok(r) = catch_unwind(AssertUnwindSafe(f)) {
                let _ = tx.send(r);
            }
        });
        self.jobs
            .send(job)
            .map_err(|_| WorkError::Lost(self.name))?;
        rx.await.map_err(|_| WorkError::Lost(self.name))
    }
}

/// How many streamed answers may continue one xz stream at once
/// (`gridwork_core::sync::wire::AnswerWriter`): each holds an encoder of
/// about 94 MiB for as long as the answer travels, a minute on 2G. The
/// answers past them go out with their pages compressed apart, about 1%
/// longer.
pub const CONTINUED_ANSWERS: usize = 2;

/// The server's work threads and budgets.
#[derive(Debug)]
pub struct WorkLimits {
    images: Arc<Semaphore>,
    image_units: u32,
    image_pool: Pool,
    sync_pool: Pool,
    continued: Arc<Semaphore>,
}

/// A share of the image budget, given back when dropped.
#[derive(Debug)]
struct Share {
    _permit: OwnedSemaphorePermit,
}

impl WorkLimits {
    /// A budget of `image_memory_bytes` for image work, and
    /// `concurrent_syncs` threads for sync and repair requests.
    pub fn new(image_memory_bytes: u64, concurrent_syncs: usize) -> WorkLimits {
        let image_units = (image_memory_bytes / UNIT).clamp(1, u64::from(u32::MAX >> 4)) as u32;
        WorkLimits {
            images: Arc::new(Semaphore::new(image_units as usize)),
            image_units,
            image_pool: Pool::new("gw-image", IMAGE_THREADS),
            sync_pool: Pool::new("gw-sync", concurrent_syncs),
            continued: Arc::new(Semaphore::new(CONTINUED_ANSWERS)),
        }
    }

    /// Leave for one streamed answer, packed in `format`, to continue one
    /// xz stream, held until dropped: `None` for a device that does not
    /// read such pages, and while [`CONTINUED_ANSWERS`] others hold one.
    pub fn continued_answer(&self, format: Option<u8>) -> Option<OwnedSemaphorePermit> {
        if format < Some(gridwork_core::sync::wire::XZ_CONTINUED_FORMAT) {
            return None;
        }
        self.continued.clone().try_acquire_owned().ok()
    }

    async fn share(&self, bytes: u64) -> Result<Share, WorkError> {
        let units = bytes.div_ceil(UNIT).clamp(1, u64::from(self.image_units)) as u32;
        let permit = self
            .images
            .clone()
            .acquire_many_owned(units)
            .await
            .map_err(|_| WorkError::Lost(self.image_pool.name))?;
        Ok(Share { _permit: permit })
    }

    /// Runs image work that holds `bytes` at its peak, once it fits the
    /// budget, on an image thread.
    pub async fn image<R: Send + 'static>(
        &self,
        bytes: u64,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, WorkError> {
        let _share = self.share(bytes).await?;
        self.image_pool.run(f).await
    }

    /// Runs a sync or repair request's decoding, checks and storage on a
    /// sync thread, in turn.
    pub async fn sync<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, WorkError> {
        self.sync_pool.run(f).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn image_work_waits_for_its_share_and_a_huge_one_runs_alone() {
        let limits = Arc::new(WorkLimits::new(100 * UNIT, 2));
        let a = limits.share(60 * UNIT).await.unwrap();
        // 60 + 60 > 100: the second waits until the first is done.
        let waiting =
            tokio::time::timeout(Duration::from_millis(50), limits.image(60 * UNIT, || 1)).await;
        assert!(waiting.is_err(), "it does not fit beside the first");
        drop(a);
        assert_eq!(limits.image(60 * UNIT, || 2).await.unwrap(), 2);
        // Larger than the whole budget: runs, alone.
        let huge = limits.share(1000 * UNIT).await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(50), limits.image(1, || 3))
                .await
                .is_err()
        );
        drop(huge);
        assert_eq!(limits.image(1, || 4).await.unwrap(), 4);
    }

    #[test]
    fn only_a_few_answers_continue_an_xz_stream_at_once() {
        let limits = WorkLimits::new(100 * UNIT, 1);
        // A device that does not read such pages takes none.
        for format in [None, Some(1), Some(3)] {
            assert!(limits.continued_answer(format).is_none());
        }
        let held: Vec<_> = (0..CONTINUED_ANSWERS)
            .map(|_| limits.continued_answer(Some(4)).expect("leave"))
            .collect();
        assert!(limits.continued_answer(Some(4)).is_none(), "all taken");
        drop(held);
        assert!(limits.continued_answer(Some(9)).is_some(), "given back");
    }

    #[tokio::test]
    async fn work_runs_on_its_own_threads_and_a_panic_fails_only_its_job() {
        let limits = WorkLimits::new(100 * UNIT, 2);
        let name = limits
            .sync(|| std::thread::current().name().map(str::to_string))
            .await
            .unwrap();
        assert!(name.is_some_and(|n| n.starts_with("gw-sync-")));
        let name = limits
            .image(1, || std::thread::current().name().map(str::to_string))
            .await
            .unwrap();
        assert!(name.is_some_and(|n| n.starts_with("gw-image-")));
        let lost = limits.sync(|| panic!("a bug")).await;
        assert!(matches!(lost, Err(WorkError::Lost("gw-sync"))));
        // Both threads still work.
        for _ in 0..4 {
            assert_eq!(limits.sync(|| 5).await.unwrap(), 5);
        }
    }
}
