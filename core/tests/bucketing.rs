//! Statistical and algebraic properties of bucketing (`docs/SPEC.md` section 5.6).

#![allow(clippy::cast_possible_truncation)]

use pennon_core::{bucket_hash, bucket_position};
use proptest::prelude::*;

const KEYS: u64 = 1_000_000;

/// Pearson's chi-square statistic of observed counts against a uniform expectation.
fn chi_square(counts: &[u64], expected: f64) -> f64 {
    counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum()
}

#[test]
fn positions_are_uniform_over_a_million_keys() {
    const BINS: u64 = 100;
    let mut counts = vec![0u64; BINS as usize];
    for i in 0..KEYS {
        let h = bucket_hash("checkout-redesign", format!("user-{i}").as_bytes());
        counts[bucket_position(h, BINS) as usize] += 1;
    }
    let statistic = chi_square(&counts, (KEYS / BINS) as f64);
    // 99 degrees of freedom: the 0.1% critical value is 148.2.
    assert!(statistic < 148.2, "chi-square {statistic:.1} over 100 bins says the buckets are not uniform");
}

#[test]
fn different_salts_are_independent() {
    const BINS: u64 = 10;
    let mut table = vec![0u64; (BINS * BINS) as usize];
    for i in 0..KEYS {
        let value = format!("user-{i}");
        let a = bucket_position(bucket_hash("flag-a", value.as_bytes()), BINS);
        let b = bucket_position(bucket_hash("flag-b", value.as_bytes()), BINS);
        table[(a * BINS + b) as usize] += 1;
    }
    let statistic = chi_square(&table, (KEYS / (BINS * BINS)) as f64);
    // Independence of two uniform deciles: 81 degrees of freedom, 0.1% critical value 126.8.
    assert!(statistic < 126.8, "chi-square {statistic:.1}: salts flag-a and flag-b are correlated");
}

#[test]
fn length_prefixes_keep_concatenations_apart() {
    assert_ne!(bucket_hash("ab", b"c"), bucket_hash("a", b"bc"));
    assert_ne!(bucket_hash("", b"abc"), bucket_hash("abc", b""));
}

#[test]
fn worked_example_of_the_spec() {
    let h = bucket_hash("new-checkout", b"user-42");
    assert_eq!(h, 0x4c5a_cd11_f585_19d5);
    assert_eq!(bucket_position(h, 100_000), 29_826);
    assert_eq!(bucket_position(h, 100), 29);
}

proptest! {
    #[test]
    fn position_is_below_total(hash in any::<u64>(), total in 1u64..=u64::from(u32::MAX)) {
        prop_assert!(bucket_position(hash, total) < total);
    }

    /// Raising a variant's share never moves anyone out of it, whatever the totals.
    #[test]
    fn raising_a_rollout_only_adds_users(
        hash in any::<u64>(),
        (share_low, share_high, total_low, total_high) in (1u64..=100_000, 1u64..=100_000)
            .prop_flat_map(|(a, b)| (Just(a.min(b)), Just(a.max(b))))
            .prop_flat_map(|(low, high)| (Just(low), Just(high), low..=200_000u64, high..=200_000u64))
    ) {
        // Shares are fractions share/total; keep low/total_low <= high/total_high.
        prop_assume!(u128::from(share_low) * u128::from(total_high) <= u128::from(share_high) * u128::from(total_low));
        let in_low = bucket_position(hash, total_low) < share_low;
        let in_high = bucket_position(hash, total_high) < share_high;
        prop_assert!(!in_low || in_high, "a user in the {share_low}/{total_low} rollout left it at {share_high}/{total_high}");
    }

    /// Moving bytes between salt and value changes the input, so it changes the hash.
    #[test]
    fn boundary_shifts_change_the_hash(text in "[a-z]{2,24}", split in 1usize..24) {
        let split = split.min(text.len() - 1);
        let (salt, value) = text.split_at(split);
        let (shifted_salt, shifted_value) = text.split_at(split + 1);
        prop_assert_ne!(bucket_hash(salt, value.as_bytes()), bucket_hash(shifted_salt, shifted_value.as_bytes()));
    }
}

/// SHA-256 of the whole input in one call, as SPEC section 5.6 states it.
fn reference_hash(salt: &str, value: &[u8]) -> u64 {
    use sha2::{Digest, Sha256};
    let mut input = Vec::new();
    input.extend_from_slice(&(salt.len() as u64).to_be_bytes());
    input.extend_from_slice(salt.as_bytes());
    input.extend_from_slice(&(value.len() as u64).to_be_bytes());
    input.extend_from_slice(value);
    let digest = Sha256::digest(&input);
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

#[test]
fn every_input_length_around_one_block_hashes_as_the_spec_says() {
    // One block holds up to 55 input bytes; 16 of them are the length prefixes.
    let text = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.@!";
    for salt_len in 0..60 {
        for value_len in 0..60 {
            let (salt, value) = (&text[..salt_len], &text.as_bytes()[..value_len]);
            assert_eq!(
                bucket_hash(salt, value),
                reference_hash(salt, value),
                "salt {salt:?}, value length {value_len}"
            );
        }
    }
}
