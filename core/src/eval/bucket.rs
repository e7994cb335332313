//! Deterministic bucketing (`docs/SPEC.md` sections 5.6 and 5.7): SHA-256 over a
//! length-delimited encoding, mapped onto integer weights with exact arithmetic.

use crate::sha256;
use crate::snapshot::{Rollout, Schedule, WeightSet};

/// The bucketing hash `h` of a salt and a value: the first 8 bytes, big-endian, of
/// `SHA-256(u64be(len(salt)) || salt || u64be(len(value)) || value)`.
///
/// ```
/// assert_eq!(pennon_core::bucket_hash("new-checkout", b"user-42"), 5501935371803761109);
/// // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
/// assert_ne!(pennon_core::bucket_hash("ab", b"c"), pennon_core::bucket_hash("a", b"bc"));
/// ```
pub fn bucket_hash(salt: &str, value: &[u8]) -> u64 {
    SaltBlock::new(salt).and_then(|block| block.hash(value)).unwrap_or_else(|| incremental(salt, value))
}

/// Inputs up to this many bytes fit one padded block: the `0x80` byte and the 8-byte
/// bit length must follow them within 64 bytes.
const SINGLE_BLOCK_MAX: usize = 64 - 1 - 8;

/// A SHA-256 block that already holds a rollout's `u64be(len(salt)) || salt`, made at
/// compile time when the salt leaves room for a value in the same block.
///
/// Hashing a value then costs one 64-byte copy, a few stores and one compression: no
/// buffering or finalisation of an incremental hasher (natively about 15 ns of a 50 ns
/// hash) and no `memcpy` calls.
#[derive(Debug)]
pub(crate) struct SaltBlock {
    block: [u8; 64],
    /// Where the value's length goes; the value follows it.
    length_at: usize,
}

impl SaltBlock {
    /// `None` when the salt is too long to share a block with any value.
    pub(crate) fn new(salt: &str) -> Option<SaltBlock> {
        let length_at = 8 + salt.len();
        if length_at + 8 > SINGLE_BLOCK_MAX {
            return None;
        }
        let mut block = [0u8; 64];
        block[..8].copy_from_slice(&(salt.len() as u64).to_be_bytes());
        block[8..length_at].copy_from_slice(salt.as_bytes());
        Some(SaltBlock { block, length_at })
    }

    /// The bucketing hash of `value` with this salt; `None` when the input is longer
    /// than one block.
    #[inline]
    pub(crate) fn hash(&self, value: &[u8]) -> Option<u64> {
        let value_at = self.length_at + 8;
        let end = value_at + value.len();
        if end > SINGLE_BLOCK_MAX {
            return None;
        }
        let mut block = self.block;
        *block.get_mut(self.length_at..)?.first_chunk_mut::<8>()? = (value.len() as u64).to_be_bytes();
        put(block.get_mut(value_at..end)?, value)?;
        *block.get_mut(end)? = 0x80;
        *block.last_chunk_mut::<8>()? = (end as u64 * 8).to_be_bytes();
        Some(sha256::first_u64_of_block(&block))
    }
}

/// Copies `bytes` into `target`, which has the same length, with at most two
/// fixed-size (overlapping) moves instead of a `memcpy` call for a length unknown at
/// compile time. `None` if the lengths differ.
#[inline(always)]
fn put(target: &mut [u8], bytes: &[u8]) -> Option<()> {
    match bytes.len() {
        _ if target.len() != bytes.len() => return None,
        0 => {}
        1..=3 => {
            let (middle, last) = (bytes.len() / 2, bytes.len() - 1);
            (target[0], target[middle], target[last]) = (bytes[0], bytes[middle], bytes[last]);
        }
        4..=7 => copy_ends::<4>(target, bytes)?,
        8..=16 => copy_ends::<8>(target, bytes)?,
        17..=32 => copy_ends::<16>(target, bytes)?,
        _ => target.copy_from_slice(bytes),
    }
    Some(())
}

/// Copies the first and the last `N` bytes, which cover all of them for up to `2N`.
#[inline(always)]
fn copy_ends<const N: usize>(target: &mut [u8], bytes: &[u8]) -> Option<()> {
    *target.first_chunk_mut::<N>()? = *bytes.first_chunk::<N>()?;
    *target.last_chunk_mut::<N>()? = *bytes.last_chunk::<N>()?;
    Some(())
}

/// The general case, for inputs longer than one block.
fn incremental(salt: &str, value: &[u8]) -> u64 {
    let (salt_length, value_length) = ((salt.len() as u64).to_be_bytes(), (value.len() as u64).to_be_bytes());
    let digest = sha256::digest(&[&salt_length, salt.as_bytes(), &value_length, value]);
    digest.first_chunk().map_or(0, |first| u64::from_be_bytes(*first))
}

/// The position `x = (h × total) >> 64`, always below `total`.
///
/// ```
/// assert_eq!(pennon_core::bucket_position(5501935371803761109, 100_000), 29826);
/// ```
#[inline]
pub fn bucket_position(hash: u64, total: u64) -> u64 {
    let wide = (u128::from(hash) * u128::from(total)) >> 64;
    // `hash < 2^64`, so the product shifted down is below `total`, which fits.
    u64::try_from(wide).unwrap_or(u64::MAX)
}

/// The weights in force at `now`, without allocating.
pub(crate) enum Weights<'a> {
    /// Fixed weights, with their total and sole variant computed at compile time.
    Fixed(&'a WeightSet),
    /// A ramp in progress: each weight depends on `now`.
    Ramp { base: &'a WeightSet, target: &'a [u32], elapsed: i64, span: i64 },
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
                    Weights::Ramp {
                        base: &rollout.weights,
                        target: &weights.weights,
                        elapsed: now - start,
                        span: end - start,
                    }
                }
            }
        }
    }

    /// Calls `visit` with each effective weight of a ramp in progress, in order; stops
    /// when it returns true. Returns the index it stopped at. Out of line: fixed weights
    /// are the common case, and their answers were computed at compile time.
    #[inline(never)]
    fn find_ramped(&self, visit: &mut dyn FnMut(u64) -> bool) -> Option<usize> {
        let Weights::Ramp { base, target, elapsed, span } = *self else {
            return None;
        };
        let total = base.total;
        let last = base.weights.len().saturating_sub(1);
        let mut so_far = 0u64;
        for (i, (&a, &b)) in base.weights.iter().zip(target).enumerate() {
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

    pub(crate) fn total(&self) -> u64 {
        match self {
            Weights::Fixed(set) => set.total,
            Weights::Ramp { .. } => {
                let mut total = 0;
                self.find_ramped(&mut |w| {
                    total += w;
                    false
                });
                total
            }
        }
    }

    /// The only variant with weight, if exactly one has any.
    pub(crate) fn sole_variant(&self) -> Option<usize> {
        if let Weights::Fixed(set) = self {
            return set.sole;
        }
        let mut nonzero = 0;
        let mut found = None;
        let mut index = 0;
        self.find_ramped(&mut |w| {
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
        let mut holds = |w: u64| {
            cumulative += w;
            position < cumulative
        };
        match self {
            Weights::Fixed(set) => set.weights.iter().position(|&w| holds(u64::from(w))),
            Weights::Ramp { .. } => self.find_ramped(&mut holds),
        }
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
