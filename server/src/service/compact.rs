//! Audit entries of large list changes, stored compact.
//!
//! An entry records the resource before and after. For a segment of 45,000 targeting
//! keys that is 2.2 MB per edit, whatever the edit: 190 edits, one key in and one out
//! each, added 392 MiB to the audit log. So an entry whose before and after together
//! pass [`WHOLE_MAX`] bytes of JSON keeps its large lists of plain values (targeting
//! keys, a condition's values) out of both, and records per list the members added and
//! removed instead: what an auditor reads anyway, at the size of the change.
//!
//! Only lists are compacted: a large flag variant value or description is kept whole.
//! Nothing under a flag's `variants` is touched either, as the stale report compares
//! them across `flag.update` entries. An entry that creates or deletes a resource (no
//! before, or no after) is kept whole: it is written once, and is the record of what
//! was there. The one exception is the opening of a change request that replaces a
//! resource ([`stored_against`]): the request itself keeps the whole proposal, so its
//! entry records the large lists as changes against what the environment has.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value as Json};

use crate::model::ListChange;

/// The most bytes of JSON an entry's before and after may hold together and still be
/// stored whole. 16 KiB keeps every flag configuration and definition, and segments up
/// to about 300 keys, whole (a full before and after is the easiest to read and to
/// compare with tools); above it, 100 edits of a list would cost more than 1.6 MB, and
/// compacting pays.
pub(crate) const WHOLE_MAX: usize = 16 * 1024;

/// In a compact entry, a list of at least this many bytes of JSON (before or after)
/// is replaced by what it gained and lost; a shorter one (a rule's three countries) is
/// left in place, readable as it is.
pub(crate) const LIST_MIN: usize = 1024;

/// An entry's JSON texts as stored: `changes` is `None` for a whole entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stored {
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
    pub(crate) changes: Option<String>,
}

/// What to store of an entry with `before` and `after`: the two whole, or compact.
pub(crate) fn stored(before: Option<Json>, after: Option<Json>) -> Stored {
    let text = |value: &Option<Json>| value.as_ref().and_then(|v| serde_json::to_string(v).ok());
    let whole = Stored { before: text(&before), after: text(&after), changes: None };
    let size = whole.before.as_ref().map_or(0, String::len) + whole.after.as_ref().map_or(0, String::len);
    let (Some(mut before), Some(mut after)) = (before, after) else { return whole };
    if size <= WHOLE_MAX {
        return whole;
    }
    let mut changes = Vec::new();
    walk("", Some(&mut before), Some(&mut after), &mut changes);
    if changes.is_empty() {
        return whole;
    }
    Stored {
        before: serde_json::to_string(&before).ok(),
        after: serde_json::to_string(&after).ok(),
        changes: serde_json::to_string(&changes).ok(),
    }
}

/// What to store of an entry that creates `after` (no before) where `after` restates
/// `base` with changes, as a change request restates the resource it would replace:
/// `after` whole, or, where an edit from `base` to `after` would be stored compact,
/// `after` without its large lists and, in `changes`, what each gains and loses against
/// `base` (`before_count` counting `base`'s members).
pub(crate) fn stored_against(base: Json, after: Json) -> Stored {
    // Stored as the edit would be, less its before: `base` is what the resource is.
    Stored { before: None, ..stored(Some(base), Some(after)) }
}

/// Takes the large lists below `path` out of `before` and `after` (either may be
/// absent there), recording each in `changes`. Lists are found through objects and
/// arrays alike; a list is only ever a member of an object, which can lose it.
fn walk(path: &str, before: Option<&mut Json>, after: Option<&mut Json>, changes: &mut Vec<ListChange>) {
    match (before, after) {
        (Some(Json::Object(b)), Some(Json::Object(a))) => members(path, Some(b), Some(a), changes),
        (Some(Json::Object(b)), None) => members(path, Some(b), None, changes),
        (None, Some(Json::Object(a))) => members(path, None, Some(a), changes),
        (Some(Json::Array(b)), Some(Json::Array(a))) => {
            for i in 0..b.len().max(a.len()) {
                walk(&format!("{path}/{i}"), b.get_mut(i), a.get_mut(i), changes);
            }
        }
        (Some(Json::Array(b)), None) => b.iter_mut().enumerate().for_each(|(i, v)| {
            walk(&format!("{path}/{i}"), Some(v), None, changes);
        }),
        (None, Some(Json::Array(a))) => a.iter_mut().enumerate().for_each(|(i, v)| {
            walk(&format!("{path}/{i}"), None, Some(v), changes);
        }),
        _ => {}
    }
}

fn members(
    path: &str,
    mut before: Option<&mut Map<String, Json>>,
    mut after: Option<&mut Map<String, Json>>,
    changes: &mut Vec<ListChange>,
) {
    let keys: BTreeSet<String> = before.iter().chain(after.iter()).flat_map(|m| m.keys().cloned()).collect();
    for key in keys.into_iter().filter(|key| key != "variants") {
        let child = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
        let (b, a) = (before.as_ref().and_then(|m| m.get(&key)), after.as_ref().and_then(|m| m.get(&key)));
        match list_change(child.clone(), b, a) {
            Some(change) => {
                if let Some(side) = before.as_mut() {
                    side.remove(&key);
                }
                if let Some(side) = after.as_mut() {
                    side.remove(&key);
                }
                changes.push(change);
            }
            None => walk(
                &child,
                before.as_mut().and_then(|m| m.get_mut(&key)),
                after.as_mut().and_then(|m| m.get_mut(&key)),
                changes,
            ),
        }
    }
}

/// How the list at `path` changed, if each side is a list of plain values (or absent)
/// and one of them is at least [`LIST_MIN`] bytes of JSON.
fn list_change(path: String, before: Option<&Json>, after: Option<&Json>) -> Option<ListChange> {
    fn plain_list(value: Option<&Json>) -> Option<&[Json]> {
        match value {
            None => Some(&[]),
            Some(Json::Array(items)) if items.iter().all(|v| !(v.is_array() || v.is_object())) => Some(items),
            Some(_) => None,
        }
    }
    let (b, a) = (plain_list(before)?, plain_list(after)?);
    // The JSON of a list: its members, a comma between each two, and the brackets.
    let size = |items: &[Json]| items.iter().map(|v| member(v).size()).sum::<usize>() + 1;
    if size(b).max(size(a)) < LIST_MIN {
        return None;
    }
    let mut left: HashMap<Member<'_>, usize> = HashMap::new();
    for value in b {
        *left.entry(member(value)).or_default() += 1;
    }
    let mut added = Vec::new();
    for value in a {
        match left.get_mut(&member(value)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => added.push(value.clone()),
        }
    }
    let mut removed = Vec::new();
    for value in b {
        if let Some(n) = left.get_mut(&member(value)).filter(|n| **n > 0) {
            *n -= 1;
            removed.push(value.clone());
        }
    }
    Some(ListChange { path, added, removed, before_count: b.len(), after_count: a.len() })
}

/// A plain value as a key that tells members apart, without copying the strings (the
/// lists are mostly targeting keys); `true` and `"true"` differ.
#[derive(PartialEq, Eq, Hash)]
enum Member<'a> {
    Text(&'a str),
    Other(String),
}

fn member(value: &Json) -> Member<'_> {
    match value {
        Json::String(text) => Member::Text(text),
        other => Member::Other(other.to_string()),
    }
}

impl Member<'_> {
    /// About the bytes it takes in a list's JSON, with its comma (escapes not counted).
    fn size(&self) -> usize {
        match self {
            Member::Text(text) => text.len() + 3,
            Member::Other(json) => json.len() + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value as Json};

    use super::{stored, stored_against, WHOLE_MAX};

    fn keys(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("user-{i:08}")).collect()
    }

    fn parsed(text: &Option<String>) -> Json {
        serde_json::from_str(text.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn small_entries_are_whole() {
        let before = json!({ "key": "beta", "included": ["a"], "excluded": [] });
        let after = json!({ "key": "beta", "included": ["a", "b"], "excluded": [] });
        let entry = stored(Some(before.clone()), Some(after.clone()));
        assert_eq!((parsed(&entry.before), parsed(&entry.after), entry.changes), (before, after, None));
    }

    #[test]
    fn large_lists_become_what_was_added_and_removed() {
        let mut after_keys = keys(0..2000);
        after_keys.retain(|k| k != "user-00000007");
        after_keys.push("new".into());
        let before = json!({ "key": "beta", "description": "d", "included": keys(0..2000), "excluded": ["x"],
            "rules": [{ "id": "r", "conditions": [{ "attribute": "country", "op": "in", "value": ["FR", "DE"] }] }] });
        let after = json!({ "key": "beta", "description": "d", "included": after_keys, "excluded": ["x"],
            "rules": [{ "id": "r", "conditions": [{ "attribute": "country", "op": "in", "value": ["FR"] }] }] });
        let entry = stored(Some(before), Some(after));
        assert_eq!(
            parsed(&entry.changes),
            json!([{ "path": "/included", "added": ["new"], "removed": ["user-00000007"],
                     "before_count": 2000, "after_count": 2000 }])
        );
        // Everything else stays, small lists included.
        let after = parsed(&entry.after);
        assert_eq!(after["rules"][0]["conditions"][0]["value"], json!(["FR"]));
        assert_eq!((&after["excluded"], after.get("included")), (&json!(["x"]), None));
        assert!(entry.after.unwrap().len() < 200);
    }

    #[test]
    fn nested_lists_duplicates_and_one_sided_lists() {
        let big = |n: usize| keys(0..n);
        let before = json!({ "targets": [{ "variant": "on", "values": big(1500) }],
            "operation": { "segment": { "included": ["a", "a", "b"] } } });
        let mut values = big(1500);
        values.push("user-00000001".into()); // a second copy is a member added
        let after = json!({ "targets": [{ "variant": "on", "values": values }, { "variant": "off", "values": big(100) }],
            "operation": { "segment": { "included": ["a", "b"] } } });
        let entry = stored(Some(before), Some(after));
        let changes = parsed(&entry.changes);
        assert_eq!(changes[0]["path"], "/targets/0/values");
        assert_eq!((&changes[0]["added"], &changes[0]["removed"]), (&json!(["user-00000001"]), &json!([])));
        assert_eq!(changes[1]["path"], "/targets/1/values");
        assert_eq!((changes[1]["before_count"].as_u64(), changes[1]["after_count"].as_u64()), (Some(0), Some(100)));
        assert_eq!(changes.as_array().unwrap().len(), 2, "the small list stays: {changes}");
        assert_eq!(parsed(&entry.after)["targets"], json!([{ "variant": "on" }, { "variant": "off" }]));
    }

    #[test]
    fn creations_variants_and_other_large_values_stay_whole() {
        let segment = json!({ "key": "beta", "included": keys(0..2000) });
        assert_eq!(stored(None, Some(segment.clone())).changes, None, "a creation");
        assert_eq!(stored(Some(segment), None).changes, None, "a deletion");
        let flag = |n: usize| json!({ "key": "f", "type": "object", "variants": { "on": keys(0..n), "off": [] } });
        let entry = stored(Some(flag(2000)), Some(flag(2001)));
        assert_eq!(entry.changes, None, "variant values are kept whole");
        let prose = |c: &str| json!({ "key": "beta", "description": c.repeat(WHOLE_MAX) });
        assert_eq!(stored(Some(prose("a")), Some(prose("b"))).changes, None, "no list to compact");
    }

    #[test]
    fn a_proposal_is_compacted_against_what_is_there() {
        let request = |included: Vec<String>| {
            json!({ "id": 3, "status": "open", "operation": { "action": "segment.update",
                    "segment": { "key": "beta", "included": included } } })
        };
        let mut proposed = keys(1..2000);
        proposed.push("new".into());
        let entry = stored_against(request(keys(0..2000)), request(proposed));
        assert_eq!(entry.before, None);
        assert_eq!(
            parsed(&entry.changes),
            json!([{ "path": "/operation/segment/included", "added": ["new"], "removed": ["user-00000000"],
                     "before_count": 2000, "after_count": 2000 }])
        );
        assert_eq!(parsed(&entry.after)["operation"]["segment"], json!({ "key": "beta" }));
        // Small, it stays whole, as an edit would.
        let small = stored_against(request(keys(0..3)), request(keys(0..4)));
        assert_eq!((small.changes, parsed(&small.after)), (None, request(keys(0..4))));
    }

    #[test]
    fn pointers_escape_member_names() {
        let before = json!({ "metadata": { "a/b~c": keys(0..2000) } });
        let after = json!({ "metadata": { "a/b~c": keys(1..2000) } });
        assert_eq!(parsed(&stored(Some(before), Some(after)).changes)[0]["path"], "/metadata/a~1b~0c");
    }
}
