//! The soft rounds (WebAssembly's) against `sha2` and FIPS 180-2's examples, run
//! natively; the wasm runners then check the vectors' digests and buckets in V8.

use super::{digest, first_u64_of_block, soft};
use sha2::Digest;

fn soft_digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = soft::Hasher::new();
    parts.iter().for_each(|part| hasher.update(part));
    hasher.finish()
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::new();
    crate::write_hex(&mut out, bytes);
    out
}

/// Bytes that differ at every offset, so a misplaced word changes the digest.
#[allow(clippy::cast_possible_truncation)] // `% 256`
fn message(length: usize) -> Vec<u8> {
    (0..length).map(|i| ((i * 131 + i / 251) % 256) as u8).collect()
}

#[test]
fn fips_examples() {
    let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let two_blocks = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_eq!(hex(&soft_digest(&[b"abc"])), abc);
    assert_eq!(hex(&soft_digest(&[long])), two_blocks);
    assert_eq!(hex(&digest(&[b"a", b"bc"])), abc);
    let million = vec![b'a'; 1_000_000];
    assert_eq!(hex(&soft_digest(&[&million])), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

#[test]
fn soft_equals_sha2_at_every_length_and_split() {
    for length in 0..=200 {
        let data = message(length);
        let expected: [u8; 32] = sha2::Sha256::digest(&data).into();
        assert_eq!(soft_digest(&[&data]), expected, "length {length}");
        for split in [1, 7, 55, 56, 63, 64, 65, 130] {
            let (head, tail) = data.split_at(split.min(length));
            assert_eq!(soft_digest(&[head, &[], tail]), expected, "length {length}, split at {split}");
        }
    }
}

#[test]
fn one_block_hash_is_the_digest_prefix_for_every_one_block_length() {
    for length in 0..=55 {
        let data = message(length);
        let mut block = [0u8; 64];
        block[..length].copy_from_slice(&data);
        block[length] = 0x80;
        block[56..].copy_from_slice(&(length as u64 * 8).to_be_bytes());
        let expected = u64::from_be_bytes(sha2::Sha256::digest(&data)[..8].try_into().unwrap());
        assert_eq!(first_u64_of_block(&block), expected, "length {length}");
        let mut state = soft::H0;
        soft::compress(&mut state, &block);
        assert_eq!(u64::from(state[0]) << 32 | u64::from(state[1]), expected, "soft, length {length}");
    }
}
