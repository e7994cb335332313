//! SHA-256 (FIPS 180-4) for the payload digest, key ids and bucketing.
//!
//! Natively this is `sha2`, which uses the CPU's SHA instructions. WebAssembly has
//! none, and there every rollout evaluation hashes a block (SPEC 5.6), so it runs the
//! rounds of [`soft`]: sixteen written out per loop, the schedule in locals. In V8 a
//! block takes ~185 ns there against ~255 ns with `sha2`'s compact rounds, which keep
//! all 64 schedule words in memory. Tests hold the two to the same digests.

#[cfg(not(target_arch = "wasm32"))]
use sha2::Digest;

// Natively the soft rounds only run in tests, against `sha2`.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod soft;

/// SHA-256 of the concatenation of `parts`.
pub(crate) fn digest(parts: &[&[u8]]) -> [u8; 32] {
    #[cfg(target_arch = "wasm32")]
    {
        let mut hasher = soft::Hasher::new();
        parts.iter().for_each(|part| hasher.update(part));
        hasher.finish()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let mut hasher = sha2::Sha256::new();
        parts.iter().for_each(|part| hasher.update(part));
        hasher.finalize().into()
    }
}

/// The first 8 bytes, big-endian, of the digest of a message that fits one block,
/// given as that block already padded: the bucketing hash `h` without any buffering.
#[inline]
pub(crate) fn first_u64_of_block(block: &[u8; 64]) -> u64 {
    let mut state = soft::H0;
    #[cfg(target_arch = "wasm32")]
    soft::compress(&mut state, block);
    #[cfg(not(target_arch = "wasm32"))]
    sha2::compress256(&mut state, &[(*block).into()]);
    u64::from(state[0]) << 32 | u64::from(state[1])
}

#[cfg(test)]
mod tests;
