//! The seeded random source every demo generator draws from, and the few
//! draws they share (weighted picks, UUIDv7s, photo references).

use rand::distr::uniform::{SampleRange, SampleUniform};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use gridwork_core::model::{PhotoRef, PhotoRole};

/// A ChaCha8 stream. The layout draws from stream 0 and grid `i` from
/// stream `i + 1`, so a grid's data does not shift when another grid's
/// parameters change.
pub(super) struct Gen {
    rng: ChaCha8Rng,
}

/// SplitMix64's finalizer: spreads nearby seeds and stream numbers over
/// the whole seed space.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Gen {
    pub(super) fn new(seed: u64, stream: u64) -> Gen {
        Gen {
            rng: ChaCha8Rng::seed_from_u64(mix(seed ^ mix(stream))),
        }
    }

    /// A uniform draw from `range` (`a..b` or `a..=b`).
    pub(super) fn range<T: SampleUniform, R: SampleRange<T>>(&mut self, range: R) -> T {
        self.rng.random_range(range)
    }

    /// True with probability `p` (clamped to 0..=1).
    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// One item, uniformly. `items` must not be empty.
    pub(super) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        *self.pick_ref(items)
    }

    /// A reference to one item, uniformly. `items` must not be empty.
    pub(super) fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    /// One item with probability proportional to its weight. `items` must
    /// not be empty and the weights must not all be zero.
    pub(super) fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        *self.weighted_ref(items)
    }

    /// A reference to one item with probability proportional to its weight.
    pub(super) fn weighted_ref<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut ticket = self.rng.random_range(0..total);
        for (item, weight) in items {
            if ticket < *weight {
                return item;
            }
            ticket -= weight;
        }
        &items[items.len() - 1].0
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub(super) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.rng.random_range(0..=i);
            items.swap(i, j);
        }
    }

    /// A UUIDv7 for a record created at `ms`, with seeded random bits, so
    /// ids sort by creation time as real ones do yet repeat for a seed.
    pub(super) fn uuid_v7(&mut self, ms: i64) -> Uuid {
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.rng.next_u32().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(ms.max(0) as u64, &bytes).into_uuid()
    }

    /// 64 lowercase hex characters: looks like a SHA-256, is not one of
    /// any real bytes.
    pub(super) fn sha256_hex(&mut self) -> String {
        let words = [
            self.rng.next_u64(),
            self.rng.next_u64(),
            self.rng.next_u64(),
            self.rng.next_u64(),
        ];
        format!(
            "{:016x}{:016x}{:016x}{:016x}",
            words[0], words[1], words[2], words[3]
        )
    }

    /// A photo reference with plausible size and dimensions.
    pub(super) fn photo(&mut self, role: PhotoRole, taken_at: i64) -> PhotoRef {
        let portrait = self.chance(0.3);
        let (width, height) = if portrait { (1200, 1600) } else { (1600, 1200) };
        PhotoRef {
            sha256: self.sha256_hex(),
            thumb_sha256: Some(self.sha256_hex()),
            role,
            bytes: self.range(90_000..420_000),
            width,
            height,
            taken_at: Some(taken_at),
        }
    }

    /// `n` random decimal digits.
    pub(super) fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.rng.random_range(0..10u8)))
            .collect()
    }
}
