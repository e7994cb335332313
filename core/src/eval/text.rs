//! String comparisons for the hot path.
//!
//! The names, suffixes and list entries that evaluation compares are mostly a few bytes
//! long, where a call to `memcmp` (what `==` on `str` becomes when the length is not
//! known at compile time) costs more than the comparison. [`same`] compares up to 16
//! bytes with at most two overlapping word loads per side, inline.

/// Whether `a` and `b` are the same bytes.
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    match a.len() {
        0 => true,
        // First, middle and last byte cover every byte of a string this short.
        1..=3 => a[0] == b[0] && a[a.len() / 2] == b[b.len() / 2] && a[a.len() - 1] == b[b.len() - 1],
        4..=7 => words::<4>(a) == words::<4>(b),
        8..=16 => words::<8>(a) == words::<8>(b),
        _ => a == b,
    }
}

/// Whether `text` ends with `suffix`.
#[inline(always)]
pub(crate) fn ends_with(text: &[u8], suffix: &[u8]) -> bool {
    text.len() >= suffix.len() && same(&text[text.len() - suffix.len()..], suffix)
}

/// The first and the last `N` bytes (overlapping when shorter than `2N`), or `None`
/// for fewer than `N` bytes.
#[inline(always)]
fn words<const N: usize>(bytes: &[u8]) -> Option<(&[u8; N], &[u8; N])> {
    Some((bytes.first_chunk::<N>()?, bytes.last_chunk::<N>()?))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn same_is_equality(a in proptest::collection::vec(0u8..4, 0..40), b in proptest::collection::vec(0u8..4, 0..40)) {
            prop_assert_eq!(super::same(&a, &b), a == b);
            prop_assert_eq!(super::same(&a, &a), true);
        }

        #[test]
        fn ends_with_is_the_std_one(text in "[ab]{0,24}", suffix in "[ab]{0,20}") {
            prop_assert_eq!(super::ends_with(text.as_bytes(), suffix.as_bytes()), text.ends_with(&suffix));
        }
    }
}
