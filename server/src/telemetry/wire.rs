//! The body of `POST /v1/telemetry/{env}` (docs/OPERATIONS.md, "Telemetry"), and its
//! checks: every refusal is a 422 naming the member by path (`counts[3].count`).
//!
//! Unknown members are ignored, so newer SDKs may send more; a member of the wrong type
//! is refused by the reader (`crate::routes::Body`) with its path, and what the types
//! cannot say (lengths, ranges, control characters, the window) is checked here.
//!
//! Exposures are the exception: one the server cannot take (a member of the wrong type,
//! too long, too old) is dropped on its own and counted with the SDK's dropped ones,
//! never costing the report its counts. Exposures carry texts from the evaluation
//! context and the flag's rules, which an SDK cannot always check as the server does
//! (an older SDK, a rule id the API took before it bounded them).

use serde::Deserialize;

use crate::error::ApiError;
use crate::model::check_label;

/// Most `counts` entries in one report.
pub(crate) const MAX_COUNTS: usize = 10_000;
/// Most `flag_not_found` entries: 1,000 keys and the entry of the rest.
pub(crate) const MAX_NOT_FOUND: usize = 1_001;
/// Most exposures in one report.
pub(crate) const MAX_EXPOSURES: usize = 1_000;
/// The largest count: 2^53 - 1, what a JavaScript number holds exactly.
pub(crate) const MAX_COUNT: u64 = (1 << 53) - 1;
/// How far in the past a window may end (and an exposure be stamped): 7 days.
pub(crate) const MAX_AGE_MS: i64 = 7 * 86_400_000;
/// How far ahead of the server's clock: 1 hour.
pub(crate) const MAX_AHEAD_MS: i64 = 3_600_000;

/// A report.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Report {
    pub(crate) sdk: String,
    #[serde(default)]
    pub(crate) instance: Option<String>,
    /// The batch's id, the same when an SDK sends a batch again: a repeat of one
    /// already stored is answered as accepted and adds nothing.
    #[serde(default)]
    pub(crate) batch: Option<String>,
    pub(crate) window: Window,
    #[serde(default)]
    pub(crate) snapshot_version: Option<u64>,
    #[serde(default)]
    pub(crate) counts: Vec<Count>,
    #[serde(default)]
    pub(crate) flag_not_found: Vec<NotFound>,
    /// Read one by one ([`Report::check`]): a bad one is dropped, not the report.
    #[serde(default)]
    pub(crate) exposures: Vec<serde_json::Value>,
    #[serde(default)]
    pub(crate) exposures_dropped: u64,
}

/// The time the counts cover.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct Window {
    pub(crate) start_ms: i64,
    pub(crate) end_ms: i64,
}

/// Evaluations of one flag that served one variant (`None`: ended in an error).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Count {
    pub(crate) flag: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
    pub(crate) count: u64,
}

/// Evaluations of a key the served snapshot lacked (`None`: the keys past the SDK's own
/// bound, summed).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct NotFound {
    #[serde(default)]
    pub(crate) flag: Option<String>,
    pub(crate) count: u64,
}

/// One exposure, as the SDKs' `Exposure` types hold it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Exposure {
    pub(crate) flag: String,
    pub(crate) variant: String,
    pub(crate) reason: String,
    #[serde(default)]
    pub(crate) rule_id: Option<String>,
    #[serde(default)]
    pub(crate) targeting_key: Option<String>,
    #[serde(default)]
    pub(crate) bucket_attribute: Option<String>,
    #[serde(default)]
    pub(crate) bucket_value: Option<String>,
    pub(crate) snapshot_version: u64,
    pub(crate) timestamp_ms: i64,
}

/// What a string member may hold.
#[derive(Clone, Copy)]
enum Text {
    /// 1 to `max` printable ASCII characters (the SDK's name, an instance id, a reason).
    Ascii(usize),
    /// `min` to `max` bytes with no control characters or bidirectional controls.
    Label(usize, usize),
}

fn check_text(field: &str, value: &str, rule: Text) -> Result<(), ApiError> {
    match rule {
        Text::Ascii(max) => {
            let printable = value.bytes().all(|b| (0x20..=0x7e).contains(&b));
            if value.is_empty() || value.len() > max || !printable {
                return Err(ApiError::invalid(field, format!("must be 1 to {max} printable ASCII characters")));
            }
        }
        Text::Label(min, max) => {
            if value.len() < min || value.len() > max {
                return Err(ApiError::invalid(field, format!("must be {min} to {max} bytes long")));
            }
            check_label(value).map_err(|why| ApiError::invalid(field, why))?;
        }
    }
    Ok(())
}

fn check_optional(field: &str, value: Option<&str>, rule: Text) -> Result<(), ApiError> {
    value.map_or(Ok(()), |value| check_text(field, value, rule))
}

fn check_count(field: &str, count: u64, min: u64) -> Result<(), ApiError> {
    if count < min || count > MAX_COUNT {
        return Err(ApiError::invalid(field, format!("must be a whole number from {min} to {MAX_COUNT}")));
    }
    Ok(())
}

fn check_version(field: &str, version: u64) -> Result<(), ApiError> {
    if version == 0 || version > pennon_core::MAX_VERSION {
        return Err(ApiError::invalid(field, format!("must be a snapshot version, 1 to {}", pennon_core::MAX_VERSION)));
    }
    Ok(())
}

/// A time no older than [`MAX_AGE_MS`] and no further ahead than [`MAX_AHEAD_MS`];
/// `dropped` says what is lost if it is older.
fn check_recent(field: &str, ms: i64, now: i64, dropped: &str) -> Result<(), ApiError> {
    if ms < now.saturating_sub(MAX_AGE_MS) {
        return Err(ApiError::invalid(field, format!("is more than 7 days before the server's clock: {dropped}")));
    }
    if ms > now.saturating_add(MAX_AHEAD_MS) {
        return Err(ApiError::invalid(
            field,
            "is more than 1 hour after the server's clock: is the SDK's clock right?",
        ));
    }
    Ok(())
}

/// Flag keys as code asks for them: the snapshot format allows any string, so any
/// label up to 256 bytes (the API's own keys are shorter and plainer).
const FLAG: Text = Text::Label(1, 256);
/// Variant names, as the API defines them.
const VARIANT: Text = Text::Label(1, 256);
/// Rule ids and rollouts' bucketing attributes, as the API takes them (`rules[i].id`
/// may be empty; both are at most [`crate::model::MAX_RULE_TEXT`] bytes).
const RULE_ID: Text = Text::Label(0, crate::model::MAX_RULE_TEXT);
const BUCKET_ATTRIBUTE: Text = Text::Label(1, crate::model::MAX_RULE_TEXT);
/// Texts from the evaluation context: targeting keys, values hashed.
const CONTEXT_TEXT: Text = Text::Label(0, 1024);

/// The exposures of a checked report the server can take, and what it dropped.
#[derive(Debug, Default)]
pub(crate) struct Exposures {
    pub(crate) kept: Vec<Exposure>,
    /// How many were dropped.
    pub(crate) refused: usize,
    /// Why the first was, naming it by path (`exposures[3].timestamp_ms`).
    pub(crate) first_refusal: Option<ApiError>,
}

impl Report {
    /// Checks what the types do not, at server time `now` (Unix milliseconds); returns
    /// the exposures it can take, having dropped the others.
    pub(crate) fn check(&self, now: i64) -> Result<Exposures, ApiError> {
        check_text("sdk", &self.sdk, Text::Ascii(64))?;
        check_optional("instance", self.instance.as_deref(), Text::Ascii(64))?;
        check_optional("batch", self.batch.as_deref(), Text::Ascii(64))?;
        if self.window.start_ms < 0 {
            return Err(ApiError::invalid("window.start_ms", "must not be before 1970"));
        }
        if self.window.start_ms > self.window.end_ms {
            return Err(ApiError::invalid("window.start_ms", "must not be after window.end_ms"));
        }
        check_recent("window.end_ms", self.window.end_ms, now, "the report is refused, with its counts")?;
        if let Some(version) = self.snapshot_version {
            check_version("snapshot_version", version)?;
        }
        if self.counts.len() > MAX_COUNTS {
            return Err(ApiError::invalid(
                "counts",
                format!("holds {} entries; at most {MAX_COUNTS}", self.counts.len()),
            ));
        }
        for (i, count) in self.counts.iter().enumerate() {
            check_text(&format!("counts[{i}].flag"), &count.flag, FLAG)?;
            check_optional(&format!("counts[{i}].variant"), count.variant.as_deref(), VARIANT)?;
            check_count(&format!("counts[{i}].count"), count.count, 1)?;
        }
        if self.flag_not_found.len() > MAX_NOT_FOUND {
            let message = format!("holds {} entries; at most {MAX_NOT_FOUND}", self.flag_not_found.len());
            return Err(ApiError::invalid("flag_not_found", message));
        }
        for (i, entry) in self.flag_not_found.iter().enumerate() {
            check_optional(&format!("flag_not_found[{i}].flag"), entry.flag.as_deref(), FLAG)?;
            check_count(&format!("flag_not_found[{i}].count"), entry.count, 1)?;
        }
        if self.exposures.len() > MAX_EXPOSURES {
            let message = format!("holds {} entries; at most {MAX_EXPOSURES}", self.exposures.len());
            return Err(ApiError::invalid("exposures", message));
        }
        check_count("exposures_dropped", self.exposures_dropped, 0)?;
        let mut exposures = Exposures::default();
        for (i, json) in self.exposures.iter().enumerate() {
            match Exposure::read(json, &format!("exposures[{i}]"), now) {
                Ok(exposure) => exposures.kept.push(exposure),
                Err(why) => {
                    exposures.refused += 1;
                    exposures.first_refusal.get_or_insert(why);
                }
            }
        }
        Ok(exposures)
    }
}

impl Exposure {
    /// Reads and checks the exposure at path `at`.
    fn read(json: &serde_json::Value, at: &str, now: i64) -> Result<Exposure, ApiError> {
        let exposure: Exposure = serde_path_to_error::deserialize(json).map_err(|e| {
            let inner = e.path().to_string();
            let field = if inner == "." { at.to_owned() } else { format!("{at}.{inner}") };
            ApiError::invalid(field, crate::routes::plain_words(e.into_inner().to_string()))
        })?;
        exposure.check(at, now)?;
        Ok(exposure)
    }

    fn check(&self, at: &str, now: i64) -> Result<(), ApiError> {
        check_text(&format!("{at}.flag"), &self.flag, FLAG)?;
        check_text(&format!("{at}.variant"), &self.variant, VARIANT)?;
        check_text(&format!("{at}.reason"), &self.reason, Text::Ascii(64))?;
        check_optional(&format!("{at}.rule_id"), self.rule_id.as_deref(), RULE_ID)?;
        check_optional(&format!("{at}.targeting_key"), self.targeting_key.as_deref(), CONTEXT_TEXT)?;
        check_optional(&format!("{at}.bucket_attribute"), self.bucket_attribute.as_deref(), BUCKET_ATTRIBUTE)?;
        check_optional(&format!("{at}.bucket_value"), self.bucket_value.as_deref(), CONTEXT_TEXT)?;
        check_version(&format!("{at}.snapshot_version"), self.snapshot_version)?;
        let dropped = "the exposure is dropped (the report's counts are kept)";
        check_recent(&format!("{at}.timestamp_ms"), self.timestamp_ms, now, dropped)
    }
}
