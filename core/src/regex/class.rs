//! Character sets as sorted, disjoint, non-touching code point ranges.

/// Code point ranges, inclusive at both ends.
pub(super) type Ranges = Vec<(u32, u32)>;

const MAX: u32 = char::MAX as u32;

/// Adds `lo..=hi` to a canonical set, merging what it overlaps or touches. Insertion
/// keeps the set canonical without a sort: classes are short, and a sort would add its
/// own copy of the standard sorting code to the WebAssembly module.
pub(super) fn insert(set: &mut Ranges, mut lo: u32, mut hi: u32) {
    let mut start = 0;
    while start < set.len() && set[start].1 + 1 < lo {
        start += 1;
    }
    let mut end = start;
    while end < set.len() && set[end].0 <= hi.saturating_add(1) {
        lo = lo.min(set[end].0);
        hi = hi.max(set[end].1);
        end += 1;
    }
    set.drain(start..end);
    set.insert(start, (lo, hi));
}

/// Adds every range of `items` (ASCII bounds) to the set.
pub(super) fn insert_all(set: &mut Ranges, items: &[(u8, u8)]) {
    for &(lo, hi) in items {
        insert(set, u32::from(lo), u32::from(hi));
    }
}

/// Everything the set does not hold.
pub(super) fn negate(set: &Ranges) -> Ranges {
    let mut out = Ranges::new();
    let mut next = 0;
    for &(lo, hi) in set {
        if lo > next {
            out.push((next, lo - 1));
        }
        next = hi + 1;
    }
    if next <= MAX {
        out.push((next, MAX));
    }
    out
}

/// Adds the ASCII case counterparts. Each range gains one counterpart: that of its
/// lower-case part when it has one, else that of its upper-case part. This is the
/// `regex-lite` rule, kept so that patterns match as they always did (`(?i)[Z-a]`
/// matches `A` but not `z`).
pub(super) fn fold_ascii(set: &mut Ranges) {
    let original = set.clone();
    for (lo, hi) in original {
        if let Some((lo, hi)) = counterpart(lo, hi) {
            insert(set, lo, hi);
        }
    }
}

fn counterpart(lo: u32, hi: u32) -> Option<(u32, u32)> {
    let overlap = |from: char, to: char| {
        let (from, to) = (u32::from(from), u32::from(to));
        (lo.max(from) <= hi.min(to)).then(|| (lo.max(from), hi.min(to)))
    };
    if let Some((a, b)) = overlap('a', 'z') {
        return Some((a - 32, b - 32));
    }
    overlap('A', 'Z').map(|(a, b)| (a + 32, b + 32))
}

/// `\d`, `\s`, `\w` and their negations `\D`, `\S`, `\W`: ASCII only.
pub(super) fn perl(letter: char) -> Ranges {
    let name = match letter.to_ascii_lowercase() {
        'd' => "digit",
        's' => "space",
        _ => "word",
    };
    let mut set = Ranges::new();
    insert_all(&mut set, posix(name).unwrap_or_default());
    if letter.is_ascii_uppercase() {
        set = negate(&set);
    }
    set
}

/// The ranges of a POSIX class named in `[[:name:]]`.
pub(super) fn posix(name: &str) -> Option<&'static [(u8, u8)]> {
    Some(match name {
        "alnum" => &[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')],
        "alpha" => &[(b'A', b'Z'), (b'a', b'z')],
        "ascii" => &[(0, 0x7F)],
        "blank" => &[(b'\t', b'\t'), (b' ', b' ')],
        "cntrl" => &[(0, 0x1F), (0x7F, 0x7F)],
        "digit" => &[(b'0', b'9')],
        "graph" => &[(b'!', b'~')],
        "lower" => &[(b'a', b'z')],
        "print" => &[(b' ', b'~')],
        "punct" => &[(b'!', b'/'), (b':', b'@'), (b'[', b'`'), (b'{', b'~')],
        "space" => &[(b'\t', b'\r'), (b' ', b' ')],
        "upper" => &[(b'A', b'Z')],
        "word" => &[(b'0', b'9'), (b'A', b'Z'), (b'_', b'_'), (b'a', b'z')],
        "xdigit" => &[(b'0', b'9'), (b'A', b'F'), (b'a', b'f')],
        _ => return None,
    })
}

/// Whether `c` is in the set.
pub(super) fn holds(set: &[(u32, u32)], c: u32) -> bool {
    for &(lo, hi) in set {
        if c < lo {
            return false;
        }
        if c <= hi {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[(u32, u32)]) -> Ranges {
        let mut out = Ranges::new();
        for &(lo, hi) in items {
            insert(&mut out, lo, hi);
        }
        out
    }

    #[test]
    fn insertion_merges_overlapping_and_touching_ranges() {
        assert_eq!(set(&[(10, 20), (0, 3), (21, 22), (5, 9), (30, 40)]), vec![(0, 3), (5, 22), (30, 40)]);
        assert_eq!(set(&[(30, 40), (0, 100)]), vec![(0, 100)]);
        assert_eq!(set(&[(1, 1), (3, 3), (2, 2)]), vec![(1, 3)]);
    }

    #[test]
    fn negation_covers_every_other_code_point() {
        assert_eq!(negate(&vec![]), vec![(0, MAX)]);
        assert_eq!(negate(&vec![(0, 9), (20, MAX)]), vec![(10, 19)]);
        assert_eq!(negate(&vec![(5, 5)]), vec![(0, 4), (6, MAX)]);
    }

    #[test]
    fn ascii_folding_adds_one_counterpart_per_range() {
        let mut letters = set(&[(u32::from('a'), u32::from('c'))]);
        fold_ascii(&mut letters);
        assert_eq!(letters, vec![(65, 67), (97, 99)]);
        let mut straddling = set(&[(u32::from('Z'), u32::from('a'))]);
        fold_ascii(&mut straddling);
        assert_eq!(straddling, vec![(65, 65), (90, 97)]);
    }
}
