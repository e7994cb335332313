//! Result JSON written by hand: the exact text of `Evaluation::to_json(key).to_string()`
//! without serde_json's `Value` tree and serializer in the module (a third of its size
//! once). Members come out in the order serde_json's sorted maps give them, strings are
//! escaped as serde_json escapes them, and floats are formatted by `zmij`, serde_json's
//! own formatter. The native identity test holds the two texts equal on every vector.

use pennon_core::write_json_string as string;
use pennon_core::{Bucket, Evaluation, Explanation, FlagMetadata, FlagValue, Matched, MetadataValue};

/// Appends the result of flag `key` as one JSON object.
pub(crate) fn resolution(out: &mut String, key: &str, evaluation: &Evaluation<'_>) {
    out.push('{');
    if let Some(error) = &evaluation.error {
        member(out, "errorCode", true);
        string(out, error.code.as_str());
        member(out, "errorDetails", false);
        string(out, &error.message);
        out.push(',');
    }
    member(out, "explanation", true);
    explanation(out, &evaluation.explanation);
    member(out, "key", false);
    string(out, key);
    member(out, "metadata", false);
    match evaluation.metadata {
        Some(metadata_of_flag) => metadata(out, metadata_of_flag),
        None => out.push_str("{}"),
    }
    member(out, "reason", false);
    string(out, evaluation.reason.as_str());
    if let (Some(value), Some(variant)) = (evaluation.value, evaluation.variant) {
        member(out, "value", false);
        flag_value(out, value);
        member(out, "variant", false);
        string(out, variant);
    }
    out.push('}');
}

/// `"name":`, preceded by a comma unless it is the first member.
#[inline(never)] // here and below: called from many places on the slow path, kept out of line
fn member(out: &mut String, name: &str, first: bool) {
    if !first {
        out.push(',');
    }
    string(out, name);
    out.push(':');
}

fn explanation(out: &mut String, explanation: &Explanation<'_>) {
    out.push('{');
    let mut first = true;
    if let Some(bucket_of_rollout) = explanation.bucket {
        member(out, "bucket", first);
        bucket(out, &bucket_of_rollout);
        first = false;
    }
    member(out, "matched", first);
    string(out, explanation.matched.as_str());
    match explanation.matched {
        Matched::PrerequisiteFailed { flag } => {
            member(out, "prerequisite", false);
            string(out, flag);
        }
        Matched::Rule { id, index } => {
            member(out, "ruleId", false);
            string(out, id);
            member(out, "ruleIndex", false);
            unsigned(out, index as u64);
        }
        _ => {}
    }
    if let Some(segment) = explanation.segment {
        member(out, "segment", false);
        string(out, segment);
    }
    member(out, "snapshotVersion", false);
    unsigned(out, explanation.snapshot_version);
    out.push('}');
}

fn bucket(out: &mut String, bucket: &Bucket<'_>) {
    out.push('{');
    member(out, "attribute", true);
    string(out, bucket.attribute());
    member(out, "salt", false);
    string(out, bucket.salt());
    member(out, "totalWeight", false);
    unsigned(out, bucket.total_weight);
    member(out, "value", false);
    unsigned(out, bucket.value);
    out.push('}');
}

/// One metadata member's value, as `metadata_json` in the core converts it.
enum Meta<'a> {
    Custom(&'a MetadataValue),
    Text(&'a str),
    Tags(&'a [Box<str>]),
    Flag(bool),
    Time(i64),
}

/// The metadata object: the custom map (sorted by key) merged with the named fields,
/// which replace a custom member of the same name, as the core's map inserts do.
fn metadata(out: &mut String, metadata: &FlagMetadata) {
    // In ascending key order, as the merge below needs.
    let named: [(&str, Option<Meta<'_>>); 5] = [
        ("description", metadata.description.as_deref().map(Meta::Text)),
        ("expiresAt", metadata.expires_at.map(Meta::Time)),
        ("owner", metadata.owner.as_deref().map(Meta::Text)),
        ("tags", (!metadata.tags.is_empty()).then_some(Meta::Tags(&metadata.tags))),
        ("temporary", metadata.temporary.map(Meta::Flag)),
    ];
    let mut named = named.into_iter().filter_map(|(name, value)| Some((name, value?))).peekable();
    let mut custom = metadata.custom.iter().map(|(name, value)| (&**name, Meta::Custom(value))).peekable();
    out.push('{');
    let mut first = true;
    loop {
        let next = match (named.peek(), custom.peek()) {
            (Some((n, _)), Some((c, _))) if n == c => {
                custom.next();
                named.next()
            }
            (Some((n, _)), Some((c, _))) if c < n => custom.next(),
            (Some(_), _) => named.next(),
            (None, _) => custom.next(),
        };
        let Some((name, value)) = next else { break };
        member(out, name, first);
        first = false;
        meta(out, &value);
    }
    out.push('}');
}

fn meta(out: &mut String, value: &Meta<'_>) {
    match value {
        Meta::Custom(MetadataValue::Bool(b)) | Meta::Flag(b) => boolean(out, *b),
        Meta::Custom(MetadataValue::Int(i)) => signed(out, *i),
        Meta::Custom(MetadataValue::Float(f)) => float(out, *f),
        Meta::Custom(MetadataValue::String(s)) => string(out, s),
        Meta::Text(text) => string(out, text),
        Meta::Tags(tags) => string(out, &tags.join(",")),
        Meta::Time(ms) => string(out, &pennon_core::format_rfc3339(*ms)),
    }
}

fn flag_value(out: &mut String, value: &FlagValue) {
    match value {
        FlagValue::Bool(b) => boolean(out, *b),
        FlagValue::String(s) => string(out, s),
        FlagValue::Int(i) => signed(out, *i),
        FlagValue::Float(f) => float(out, *f),
        FlagValue::Object(json) => out.push_str(json.as_str()),
    }
}

fn boolean(out: &mut String, b: bool) {
    out.push_str(if b { "true" } else { "false" });
}

fn unsigned(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

fn signed(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// A finite float as serde_json writes it (`zmij`); NaN and infinities are `null`.
fn float(out: &mut String, f: f64) {
    if f.is_finite() {
        out.push_str(zmij::Buffer::new().format_finite(f));
    } else {
        out.push_str("null");
    }
}
