//! Bounds on the work whose memory a request chooses (issue #10, items 12
//! and 13): a small request can ask for a lot of memory (a 143 KB PNG
//! announcing 7,000 × 7,000 pixels, a 1 KB sync body that decompresses to
//! 16 MiB), so each such piece of work waits for a share of a fixed budget
//! before it starts.
//!
//! - **Image work** (the console's photo preparation, the check of a
//!   finished blob upload) takes a share of `image_memory_bytes` as large
//!   as the memory it will hold at its peak, read from the file's header
//!   ([`gridwork_core::media::prepare_cost`], [`crate::blobs::check_cost`]).
//!   Small photos run side by side; a large one waits until it fits. One
//!   larger than the whole budget runs alone, so the peak is the budget or
//!   the largest single image the pixel limit lets through, whichever is
//!   more.
//! - **Sync and repair requests** decode their body (at most
//!   `max_body_bytes` once decompressed, see `gridwork_core::sync::wire`)
//!   and check it, at most `max_concurrent_syncs` at once.
//!
//! Waiting happens before the work is handed to the blocking pool, so a
//! queue of heavy requests holds no thread and the light ones (logins,
//! downloads) go on. The budgets are settings (`sync-server/README.md`).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Budgets are counted in KiB so a `u32` of permits covers terabytes.
const UNIT: u64 = 1024;

/// The server's work budgets.
#[derive(Debug)]
pub struct WorkLimits {
    images: Arc<Semaphore>,
    image_units: u32,
    syncs: Arc<Semaphore>,
}

/// A share of a budget, given back when dropped.
#[derive(Debug)]
pub struct Share {
    _permit: OwnedSemaphorePermit,
}

impl WorkLimits {
    /// Budgets of `image_memory_bytes` for image work and
    /// `concurrent_syncs` sync or repair requests at once (each at least
    /// one).
    pub fn new(image_memory_bytes: u64, concurrent_syncs: usize) -> WorkLimits {
        let image_units = (image_memory_bytes / UNIT).clamp(1, u64::from(u32::MAX >> 4)) as u32;
        WorkLimits {
            images: Arc::new(Semaphore::new(image_units as usize)),
            image_units,
            syncs: Arc::new(Semaphore::new(concurrent_syncs.max(1))),
        }
    }

    /// Waits until image work holding `bytes` at its peak fits the budget.
    pub async fn image(&self, bytes: u64) -> Share {
        let units = bytes.div_ceil(UNIT).clamp(1, u64::from(self.image_units)) as u32;
        Share {
            _permit: self
                .images
                .clone()
                .acquire_many_owned(units)
                .await
                .expect("the image budget is never closed"),
        }
    }

    /// Waits for one of the sync and repair slots.
    pub async fn sync(&self) -> Share {
        Share {
            _permit: self
                .syncs
                .clone()
                .acquire_owned()
                .await
                .expect("the sync slots are never closed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn image_work_waits_for_its_share_and_a_huge_one_runs_alone() {
        let limits = WorkLimits::new(100 * UNIT, 2);
        let a = limits.image(60 * UNIT).await;
        // 60 + 60 > 100: the second waits until the first is done.
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            limits.image(60 * UNIT),
        )
        .await;
        assert!(waiting.is_err(), "it does not fit beside the first");
        drop(a);
        let b = limits.image(60 * UNIT).await;
        drop(b);
        // Larger than the whole budget: runs, alone.
        let huge = limits.image(1000 * UNIT).await;
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), limits.image(1))
                .await
                .is_err()
        );
        drop(huge);
        let s1 = limits.sync().await;
        let _s2 = limits.sync().await;
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), limits.sync())
                .await
                .is_err()
        );
        drop(s1);
        let _s3 = limits.sync().await;
    }
}
