//! What a report carries: the deltas not yet accepted, and the batches cut from them
//! within the wire format's bounds (docs/OPERATIONS.md, "Telemetry").
//!
//! A batch, once cut, is sent unchanged until the server accepts or refuses it: its
//! body, `batch` id included, is made once. A post that timed out may have been stored,
//! and the server knows a repeat by its id; merged into newer counts under a new id,
//! it would be counted twice.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::telemetry::{EvaluationCounts, Exposure, MAX_NOT_FOUND_KEYS};

/// Counts in one report (the wire format's bound).
const MAX_COUNTS: usize = 10_000;
/// Exposures in one report (the wire format's bound).
const MAX_EXPOSURES: usize = 1_000;
/// Bytes of counts, and of exposures, in one report: with 1,001 not-found keys of at
/// most 128 characters, a body stays under the server's 1 MiB.
const COUNT_BYTES: usize = 512 * 1024;
const EXPOSURE_BYTES: usize = 320 * 1024;
/// The longest texts, in bytes, the control plane takes in an exposure: flag keys and
/// variant names; rule ids and rollouts' `bucket_by` (as its API takes them); texts
/// from the context (a targeting key, a value hashed). An exposure with a longer one,
/// or with control characters, is not sent (the control plane would drop it) and counts
/// as dropped.
const MAX_NAME: usize = 256;
const MAX_RULE_TEXT: usize = 1_024;
const MAX_EXPOSURE_TEXT: usize = 1_024;

/// The oldest exposure sent, before the window's end: the control plane drops one from
/// more than 7 days before its clock; a batch may be sent again for a day after it was
/// cut, and a day is left for clocks that differ. Older ones (held through a long
/// outage) count as dropped.
const MAX_EXPOSURE_AGE_MS: i64 = 5 * 86_400_000;

/// How long a batch is sent again unchanged (by the provider's clock, from its cut):
/// the control plane remembers the ids it stored for 48 hours. A batch still not
/// accepted after this goes back to the deltas, to be sent with newer ones under a new
/// id (only a batch stored whose every answer was lost for a day is counted twice).
pub(crate) const RESEND_MS: i64 = 86_400_000;

/// Evaluations of one flag's variant (`None`: errors), as a map key.
type CountKey = (Arc<str>, Option<Arc<str>>);

/// Deltas taken from the counters and not yet accepted by the server.
#[derive(Default)]
pub(crate) struct Pending {
    /// When the oldest delta held began (Unix ms); `None` before the first report.
    pub(crate) start_ms: Option<i64>,
    counts: BTreeMap<CountKey, u64>,
    not_found: BTreeMap<Arc<str>, u64>,
    /// Not-found evaluations past the bound of distinct keys.
    not_found_other: u64,
    exposures: VecDeque<Exposure>,
    dropped: u64,
}

/// One report's share of the deltas, cut from [`Pending`]: sent until it is accepted
/// or refused, or given back after [`RESEND_MS`].
pub(crate) struct Batch {
    /// The body as posted, every time.
    body: Vec<u8>,
    start_ms: i64,
    end_ms: i64,
    counts: Vec<(CountKey, u64)>,
    not_found: Vec<(Arc<str>, u64)>,
    not_found_other: u64,
    exposures: Vec<Exposure>,
    dropped: u64,
}

/// Who reports, for the body.
pub(crate) struct Reporting<'a> {
    pub(crate) sdk: &'a str,
    pub(crate) instance: &'a str,
    pub(crate) snapshot_version: Option<u64>,
}

impl Pending {
    /// Adds counters just taken.
    pub(crate) fn add_counts(&mut self, taken: EvaluationCounts) {
        for count in taken.counts {
            let held = self.counts.entry((count.flag, count.variant)).or_default();
            *held = held.saturating_add(count.count);
        }
        for count in taken.not_found {
            self.add_not_found(count.flag, count.count);
        }
    }

    fn add_not_found(&mut self, flag: Option<Arc<str>>, count: u64) {
        let room = self.not_found.len() < MAX_NOT_FOUND_KEYS;
        match flag {
            Some(flag) if room || self.not_found.contains_key(&flag) => {
                let held = self.not_found.entry(flag).or_default();
                *held = held.saturating_add(count);
            }
            _ => self.not_found_other = self.not_found_other.saturating_add(count),
        }
    }

    /// Adds exposures dropped by the queue since the last call.
    pub(crate) fn add_dropped(&mut self, dropped: u64) {
        self.dropped = self.dropped.saturating_add(dropped);
    }

    /// How many more exposures one report can take.
    pub(crate) fn exposure_room(&self) -> usize {
        MAX_EXPOSURES.saturating_sub(self.exposures.len())
    }

    /// Adds exposures drained from the queue; those that cannot be sent count as dropped.
    pub(crate) fn add_exposures(&mut self, exposures: Vec<Exposure>) {
        for exposure in exposures {
            if sendable(&exposure) {
                self.exposures.push_back(exposure);
            } else {
                self.dropped = self.dropped.saturating_add(1);
            }
        }
    }

    /// Whether nothing is held: no report is due.
    pub(crate) fn is_empty(&self) -> bool {
        self.counts.is_empty()
            && self.not_found.is_empty()
            && self.not_found_other == 0
            && self.exposures.is_empty()
            && self.dropped == 0
    }

    /// Cuts batch `id` for the window ending at `end_ms`: every not-found count and
    /// drop, and as many counts and exposures as one report holds; the rest stay for
    /// the next, in the same window.
    pub(crate) fn batch(&mut self, end_ms: i64, id: &str, who: &Reporting<'_>) -> Batch {
        let start_ms = self.start_ms.unwrap_or(end_ms).min(end_ms);
        let mut counts = Vec::new();
        let mut bytes = 0;
        while counts.len() < MAX_COUNTS {
            let Some(entry) = self.counts.first_entry() else { break };
            let (flag, variant) = entry.key();
            // `{"flag":F,"variant":V,"count":N},`
            bytes += 30 + json_len(flag) + variant.as_deref().map_or(4, json_len) + entry.get().to_string().len();
            if bytes > COUNT_BYTES && !counts.is_empty() {
                break;
            }
            let (key, count) = entry.remove_entry();
            counts.push((key, count));
        }
        let mut exposures = Vec::new();
        let mut bytes = 0;
        while let Some(exposure) = self.exposures.front() {
            if exposure.timestamp_ms < end_ms.saturating_sub(MAX_EXPOSURE_AGE_MS) {
                self.exposures.pop_front();
                self.dropped = self.dropped.saturating_add(1);
                continue;
            }
            bytes += exposure_len(exposure);
            if bytes > EXPOSURE_BYTES && !exposures.is_empty() {
                break;
            }
            exposures.extend(self.exposures.pop_front());
        }
        let mut batch = Batch {
            body: Vec::new(),
            start_ms,
            end_ms,
            counts,
            not_found: std::mem::take(&mut self.not_found).into_iter().collect(),
            not_found_other: std::mem::take(&mut self.not_found_other),
            exposures,
            dropped: std::mem::take(&mut self.dropped),
        };
        batch.body = batch.encode(id, who);
        if self.is_empty() {
            // What comes next is counted from here.
            self.start_ms = Some(end_ms);
        }
        batch
    }

    /// Takes back a batch not accepted within [`RESEND_MS`], to go with the next report.
    pub(crate) fn restore(&mut self, batch: Batch) {
        self.start_ms = Some(self.start_ms.map_or(batch.start_ms, |start| start.min(batch.start_ms)));
        for ((flag, variant), count) in batch.counts {
            let held = self.counts.entry((flag, variant)).or_default();
            *held = held.saturating_add(count);
        }
        for (flag, count) in batch.not_found {
            self.add_not_found(Some(flag), count);
        }
        self.not_found_other = self.not_found_other.saturating_add(batch.not_found_other);
        for exposure in batch.exposures.into_iter().rev() {
            self.exposures.push_front(exposure);
        }
        self.dropped = self.dropped.saturating_add(batch.dropped);
    }
}

impl Batch {
    /// The window's end, Unix ms.
    pub(crate) fn end_ms(&self) -> i64 {
        self.end_ms
    }

    /// The body to post, the same every time.
    pub(crate) fn body(&self) -> Vec<u8> {
        self.body.clone()
    }

    /// Whether it is too old to send again as it is at `now_ms` (see [`RESEND_MS`]).
    pub(crate) fn expired(&self, now_ms: i64) -> bool {
        now_ms.saturating_sub(self.end_ms) > RESEND_MS
    }

    /// The JSON body (`POST /v1/telemetry/{env}`).
    fn encode(&self, id: &str, who: &Reporting<'_>) -> Vec<u8> {
        let counts: Vec<Value> = self
            .counts
            .iter()
            .map(|((flag, variant), count)| json!({"flag": &**flag, "variant": variant.as_deref(), "count": count}))
            .collect();
        let mut not_found: Vec<Value> =
            self.not_found.iter().map(|(flag, count)| json!({"flag": &**flag, "count": count})).collect();
        if self.not_found_other > 0 {
            not_found.push(json!({"flag": null, "count": self.not_found_other}));
        }
        let mut body = json!({
            "sdk": who.sdk,
            "instance": who.instance,
            "batch": id,
            "window": {"start_ms": self.start_ms, "end_ms": self.end_ms},
            "counts": counts,
            "flag_not_found": not_found,
            "exposures": self.exposures.iter().map(exposure_json).collect::<Vec<_>>(),
            "exposures_dropped": self.dropped,
        });
        if let (Some(version), Value::Object(members)) = (who.snapshot_version, &mut body) {
            members.insert("snapshot_version".into(), version.into());
        }
        body.to_string().into_bytes()
    }
}

/// An exposure as the wire format has it: snake_case, absent fields left out.
fn exposure_json(exposure: &Exposure) -> Value {
    let mut members = Map::new();
    members.insert("flag".into(), (*exposure.flag).into());
    members.insert("variant".into(), (*exposure.variant).into());
    members.insert("reason".into(), exposure.reason.as_str().into());
    let optional = [
        ("rule_id", exposure.rule_id.as_deref()),
        ("targeting_key", exposure.targeting_key.as_deref()),
        ("bucket_attribute", exposure.bucket_attribute.as_deref()),
        ("bucket_value", exposure.bucket_value.as_deref()),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            members.insert(name.into(), value.into());
        }
    }
    members.insert("snapshot_version".into(), exposure.snapshot_version.into());
    members.insert("timestamp_ms".into(), exposure.timestamp_ms.into());
    Value::Object(members)
}

/// Whether the control plane takes `exposure`, checked as it checks one: the context's
/// texts may hold anything a caller put there, and rule ids and `bucket_by` come from
/// flags the API may have taken before it bounded them.
fn sendable(exposure: &Exposure) -> bool {
    let text = |text: &str, min: usize, max: usize| (min..=max).contains(&text.len()) && !text.chars().any(unsafe_char);
    text(&exposure.flag, 1, MAX_NAME)
        && text(&exposure.variant, 1, MAX_NAME)
        && exposure.rule_id.as_deref().is_none_or(|id| text(id, 0, MAX_RULE_TEXT))
        && exposure.bucket_attribute.as_deref().is_none_or(|name| text(name, 1, MAX_RULE_TEXT))
        && [exposure.targeting_key.as_deref(), exposure.bucket_value.as_deref()]
            .into_iter()
            .flatten()
            .all(|value| text(value, 0, MAX_EXPOSURE_TEXT))
}

/// A control character, or a bidirectional control the control plane refuses in text.
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text`'s length as a JSON string.
fn json_len(text: &str) -> usize {
    serde_json::to_string(text).map_or(text.len(), |json| json.len())
}

fn exposure_len(exposure: &Exposure) -> usize {
    let texts = [
        Some(&*exposure.flag),
        Some(&*exposure.variant),
        exposure.rule_id.as_deref(),
        exposure.targeting_key.as_deref(),
        exposure.bucket_attribute.as_deref(),
        exposure.bucket_value.as_deref(),
    ];
    200 + texts.into_iter().flatten().map(json_len).sum::<usize>()
}
