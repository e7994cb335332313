//! One sort for every list the core sorts by name.
//!
//! The standard library's sorts are generic over the element type and the comparator,
//! so each sorted type added a copy of several kilobytes of sorting code to the
//! WebAssembly module. Here the standard sort runs on positions only, with one
//! comparator type, so it is compiled once; each element type adds only the small
//! loop that moves elements into place. None of these sorts is on a hot path:
//! payloads usually arrive sorted, and callers check that first.

use std::cmp::Ordering;

/// Lists up to this long (a flag's variants, most in-lists) are sorted in place by
/// insertion, without allocating the positions.
const SHORT: usize = 8;

/// Sorts `items` by the text `key` gives, keeping the order of equal keys.
pub(crate) fn sort_by_name<T>(items: &mut [T], key: impl Fn(&T) -> &str) {
    if items.len() <= SHORT {
        for end in 1..items.len() {
            let mut at = end;
            while at > 0 && key(&items[at - 1]) > key(&items[at]) {
                items.swap(at - 1, at);
                at -= 1;
            }
        }
        return;
    }
    let order = sorted_positions(items.len(), &|a, b| key(&items[a]).cmp(key(&items[b])));
    permute(items, order);
}

/// The positions `0..len` ordered by `compare`, equal ones in their order. The stable
/// sort: its instantiation here is smaller than the unstable one's.
fn sorted_positions(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

/// Moves what was at `order[i]` to `i`, following each cycle of the permutation once
/// (a position is marked done by pointing it at itself).
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sort_by_name;

    proptest::proptest! {
        #[test]
        fn sorts_as_the_standard_stable_sort_does(names in proptest::collection::vec("[a-c]{0,3}", 0..40)) {
            let mut ours: Vec<(String, usize)> = names.into_iter().enumerate().map(|(i, name)| (name, i)).collect();
            let mut theirs = ours.clone();
            sort_by_name(&mut ours, |(name, _)| name);
            theirs.sort_by(|a, b| a.0.cmp(&b.0));
            proptest::prop_assert_eq!(ours, theirs);
        }
    }
}
