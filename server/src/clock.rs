//! The wall clock and random secrets: the server's only sources of time and chance
//! (the core has neither).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Unix milliseconds now.
pub(crate) fn now_ms() -> i64 {
    let millis = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(after) => millis(after),
        Err(before) => -millis(before.duration()),
    }
}

/// RFC 3339 text of Unix milliseconds.
pub(crate) fn rfc3339(ms: i64) -> String {
    pennon_core::format_rfc3339(ms)
}

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| format!("cannot get random bytes from the operating system: {e}"))?;
    Ok(bytes)
}

/// A new secret: `prefix` and 32 URL-safe characters (192 random bits).
pub(crate) fn new_secret(prefix: &str) -> Result<String, String> {
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<24>()?)))
}

/// SHA-256 of a secret as lowercase hex: what the database stores instead of it.
pub(crate) fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// The SHA-256 that [`hash_secret`] wrote as hex; `None` for any other text.
pub(crate) fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let digit = |d: u8| char::from(d).to_digit(16);
    let mut hash = [0u8; 32];
    for (byte, pair) in hash.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = u8::try_from(digit(pair[0])? << 4 | digit(pair[1])?).ok()?;
    }
    Some(hash)
}

/// Lowercase hex, as the core writes key ids and payload digests.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(2 * bytes.len());
    pennon_core::write_hex(&mut text, bytes);
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_lowercase_and_two_digits_a_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(
            super::hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "SHA-256 of `abc` (FIPS 180-2, appendix B.1)"
        );
    }

    #[test]
    fn parse_hash_reads_what_hash_secret_wrote_and_nothing_else() {
        let hash = super::hash_secret("abc");
        assert_eq!(super::parse_hash(&hash).map(|bytes| super::hex(&bytes)), Some(hash.clone()));
        for wrong in ["", "abc", &hash[..62], &format!("{hash}00"), &format!("+{}", &hash[1..])] {
            assert_eq!(super::parse_hash(wrong), None, "{wrong:?}");
        }
    }
}
