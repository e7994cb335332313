//! Deterministic bucketing (`docs/SPEC.md` sections 5.6 and 5.7): SHA-256 over a
//! length-delimited encoding, mapped onto integer weights with exact arithmetic.

use sha2::{Digest, Sha256};

use crate::snapshot::{Rollout, Schedule};

/// The bucketing hash `h` of a salt and a value: the first 8 bytes, big-endian, of
/// `SHA-256(u64be(len(salt)) || salt || u64be(len(value)) || value)`.
///
/// ```
/// assert_eq!(pennon_core::bucket_hash("new-checkout", b"user-42"), 5501935371803761109);
/// // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
/// assert_ne!(pennon_core::bucket_hash("ab", b"c"), pennon_core::bucket_hash("a", b"bc"));
/// ```
pub fn bucket_hash(salt: &str, value: &[u8]) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update((salt.len() as u64).to_be_bytes());
    hasher.update(salt.as_bytes());
    hasher.update((value.len() as u64).to_be_bytes());
    hasher.update(value);
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The position `x = (h × total) >> 64`, always below `total`.
///
/// ```
/// assert_eq!(pennon_core::bucket_position(5501935371803761109, 100_000), 29826);
/// ```
pub fn bucket_position(hash: u64, total: u64) -> u64 {
    let wide = (u128::from(hash) * u128::from(total)) >> 64;
    // `hash < 2^64`, so the product shifted down is below `total`, which fits.
    u64::try_from(wide).unwrap_or(u64::MAX)
}

/// The weights in force at `now`, without allocating.
pub(crate) enum Weights<'a> {
    Fixed(&'a [u32]),
    Ramp { base: &'a [u32], target: &'a [u32], elapsed: i64, span: i64 },
}

impl<'a> Weights<'a> {
    pub(crate) fn at(rollout: &'a Rollout, now: i64) -> Weights<'a> {
        match &rollout.schedule {
            None => Weights::Fixed(&rollout.weights),
            Some(Schedule::Steps(steps)) => {
                let current = steps.iter().take_while(|(at, _)| *at <= now).last();
                Weights::Fixed(current.map_or(&rollout.weights, |(_, weights)| weights))
            }
            Some(Schedule::Ramp { start, end, weights }) => {
                if now <= *start {
                    Weights::Fixed(&rollout.weights)
                } else if now >= *end {
                    Weights::Fixed(weights)
                } else {
                    Weights::Ramp { base: &rollout.weights, target: weights, elapsed: now - start, span: end - start }
                }
            }
        }
    }

    /// Calls `visit` with each effective weight in order; stops when it returns true.
    /// Returns the index it stopped at.
    pub(crate) fn find(&self, mut visit: impl FnMut(u64) -> bool) -> Option<usize> {
        match *self {
            Weights::Fixed(weights) => weights.iter().position(|&w| visit(u64::from(w))),
            Weights::Ramp { base, target, elapsed, span } => {
                let total: u64 = base.iter().map(|&w| u64::from(w)).sum();
                let last = base.len().saturating_sub(1);
                let mut so_far = 0u64;
                for (i, (&a, &b)) in base.iter().zip(target).enumerate() {
                    let weight = if i == last {
                        total.saturating_sub(so_far)
                    } else {
                        let delta = (i128::from(b) - i128::from(a)) * i128::from(elapsed);
                        let step = delta.div_euclid(i128::from(span));
                        u64::try_from(i128::from(a) + step).unwrap_or(0)
                    };
                    so_far += weight;
                    if visit(weight) {
                        return Some(i);
                    }
                }
                None
            }
        }
    }

    pub(crate) fn total(&self) -> u64 {
        let mut total = 0;
        self.find(|w| {
            total += w;
            false
        });
        total
    }

    /// The only variant with weight, if exactly one has any.
    pub(crate) fn sole_variant(&self) -> Option<usize> {
        let mut nonzero = 0;
        let mut found = None;
        let mut index = 0;
        self.find(|w| {
            if w > 0 {
                nonzero += 1;
                found = Some(index);
            }
            index += 1;
            nonzero > 1
        });
        if nonzero == 1 {
            found
        } else {
            None
        }
    }

    /// The index whose cumulative range holds `position`.
    pub(crate) fn pick(&self, position: u64) -> Option<usize> {
        let mut cumulative = 0;
        self.find(|w| {
            cumulative += w;
            position < cumulative
        })
    }
}

/// Writes an integer's decimal form into `buffer` and returns it: no allocation.
pub(crate) fn decimal(value: i64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut magnitude = value.unsigned_abs();
    let mut at = buffer.len();
    loop {
        at -= 1;
        buffer[at] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if value < 0 {
        at -= 1;
        buffer[at] = b'-';
    }
    &buffer[at..]
}
