//! Verify first, parse after (`docs/SPEC.md` section 2.3).

use crate::compile::Compiler;
use crate::envelope::{decode_signed_message, parse_envelope, MAX_SIGNATURES, PAYLOAD_TYPE};
use crate::json::JsonError;
use crate::model::{parse_payload, Body, Header, Keyed, RawFlag, RawSegment, Text};
use crate::{Error, Limits, PublicKey, Snapshot};

/// The default size cap: 16 MiB.
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024 * 1024;

/// Highest version a payload may carry: 2^53 - 1, so JavaScript reads it exactly.
pub const MAX_VERSION: u64 = (1 << 53) - 1;

/// Who a payload is for (header `audience`, SPEC 3.1): the control plane publishes a
/// server payload and a browser payload (client-visible flags only) of each version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Services: every flag. What a payload without `audience` is for.
    Server,
    /// Browsers and other public clients: client-visible flags only.
    Client,
}

impl Audience {
    /// The header's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Server => "server",
            Audience::Client => "client",
        }
    }
}

/// What a client trusts: keys, a threshold, its environment, and size bounds.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    keys: Vec<PublicKey>,
    threshold: usize,
    environment: String,
    /// The audience accepted; `None` accepts either.
    audience: Option<Audience>,
    max_bytes: usize,
    grace_ms: i64,
    limits: Limits,
}

/// What a client already serves, for rollback and equivocation checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// The version held.
    pub version: u64,
    /// SHA-256 of the held payload bytes.
    pub payload_sha256: [u8; 32],
}

/// How a load relates the offered version to what the caller has.
#[derive(Clone, Copy)]
enum Baseline {
    /// A snapshot is served: lower is a rollback, equal is unchanged or a conflict.
    Held(Held),
    /// Nothing is served, but versions below this one are refused.
    Minimum(u64),
}

/// A successful load.
#[derive(Debug)]
pub enum Loaded {
    /// A newer snapshot, verified and compiled.
    Updated(Snapshot),
    /// The same version and content as held: keep serving what you have.
    Unchanged,
}

impl TrustPolicy {
    /// A policy for `environment` trusting `keys`, with threshold 1 and default limits.
    pub fn new(environment: impl Into<String>, keys: Vec<PublicKey>) -> Result<TrustPolicy, Error> {
        let environment = environment.into();
        if keys.is_empty() {
            return Err(Error::InvalidPolicy("at least one trusted key is required: there is no unsigned mode".into()));
        }
        if environment.is_empty() {
            return Err(Error::InvalidPolicy("the environment must not be empty".into()));
        }
        let mut unique: Vec<PublicKey> = Vec::with_capacity(keys.len());
        for key in keys {
            if !unique.iter().any(|k| k.key_id() == key.key_id()) {
                unique.push(key);
            }
        }
        Ok(TrustPolicy {
            keys: unique,
            threshold: 1,
            environment,
            audience: Some(Audience::Server),
            max_bytes: DEFAULT_MAX_BYTES,
            grace_ms: 0,
            limits: Limits::default(),
        })
    }

    /// Requires valid signatures by at least `threshold` distinct trusted keys.
    pub fn with_threshold(mut self, threshold: usize) -> Result<TrustPolicy, Error> {
        if threshold == 0 || threshold > self.keys.len() {
            return Err(Error::InvalidPolicy(format!(
                "the threshold must be 1 to the number of distinct trusted keys ({}), not {threshold}",
                self.keys.len()
            )));
        }
        self.threshold = threshold;
        Ok(self)
    }

    /// Accepts payloads for `audience` only (the default: [`Audience::Server`]), or for
    /// either with `None`: a browser may take the server payload, which holds more.
    #[must_use]
    pub fn with_audience(mut self, audience: Option<Audience>) -> TrustPolicy {
        self.audience = audience;
        self
    }

    /// Sets the size cap in bytes.
    #[must_use]
    pub fn with_max_bytes(mut self, max_bytes: usize) -> TrustPolicy {
        self.max_bytes = max_bytes;
        self
    }

    /// Accepts snapshots up to `grace_ms` past their `expires_at`.
    #[must_use]
    pub fn with_grace_ms(mut self, grace_ms: i64) -> TrustPolicy {
        self.grace_ms = grace_ms.max(0);
        self
    }

    /// Replaces the structural limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> TrustPolicy {
        self.limits = limits;
        self
    }

    /// The environment this policy accepts.
    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// Steps 1 to 4: the signed message, whose signatures this policy accepts.
    fn verified_message(&self, envelope: &[u8]) -> Result<Verified, Error> {
        if envelope.len() > self.max_bytes {
            return Err(Error::TooLarge { size: envelope.len(), max: self.max_bytes });
        }
        let envelope = parse_envelope(envelope)?;
        if envelope.signatures.is_empty() || envelope.signatures.len() > MAX_SIGNATURES {
            return Err(Error::MalformedEnvelope(format!(
                "an envelope carries 1 to {MAX_SIGNATURES} signatures, this one {}",
                envelope.signatures.len()
            )));
        }
        let (message, payload_at) = decode_signed_message(&envelope.payload)
            .ok_or_else(|| Error::MalformedEnvelope("`payload` is not valid base64".into()))?;
        let mut signatures = Vec::with_capacity(envelope.signatures.len());
        for (i, (keyid, sig)) in envelope.signatures.iter().enumerate() {
            let bytes = crate::base64::decode(sig)
                .ok_or_else(|| Error::MalformedEnvelope(format!("`signatures[{i}].sig` is not valid base64")))?;
            let bytes: [u8; 64] = bytes.try_into().map_err(|bytes: Vec<u8>| {
                Error::MalformedEnvelope(format!("`signatures[{i}].sig` is {} bytes, expected 64", bytes.len()))
            })?;
            if let Some(first) = signatures.iter().position(|(seen, _)| *seen == &**keyid) {
                return Err(Error::MalformedEnvelope(format!(
                    "`signatures[{i}]` repeats the keyid of `signatures[{first}]`: one signature per key"
                )));
            }
            signatures.push((&**keyid, bytes));
        }
        if envelope.payload_type != PAYLOAD_TYPE {
            let found = crate::shown::shown(&envelope.payload_type);
            return Err(Error::WrongPayloadType { expected: PAYLOAD_TYPE, found });
        }
        self.check_signatures(&signatures, &message)?;
        Ok(Verified { message, payload_at })
    }

    /// Checks signatures and returns the verified payload bytes, parsing nothing else.
    pub fn verify(&self, envelope: &[u8]) -> Result<Vec<u8>, Error> {
        let Verified { mut message, payload_at } = self.verified_message(envelope)?;
        message.drain(..payload_at);
        Ok(message)
    }

    fn check_signatures(&self, signatures: &[(&str, [u8; 64])], message: &[u8]) -> Result<(), Error> {
        let mut valid: Vec<&str> = Vec::new();
        let mut failed_trusted = None;
        for (key_id, signature) in signatures {
            let Some(key) = self.keys.iter().find(|k| k.key_id() == *key_id) else { continue };
            if valid.contains(&key.key_id()) {
                continue;
            }
            if key.verify(message, signature) {
                valid.push(key.key_id());
            } else {
                failed_trusted.get_or_insert(key.key_id());
            }
        }
        if valid.len() >= self.threshold {
            return Ok(());
        }
        match (valid.len(), failed_trusted) {
            (0, None) => {
                let key_ids = signatures.iter().map(|(id, _)| crate::shown::shown(id)).collect();
                Err(Error::UnknownKey { key_ids, trusted: self.keys.iter().map(|k| k.key_id().to_owned()).collect() })
            }
            (0, Some(key_id)) => Err(Error::BadSignature { key_id: key_id.to_owned() }),
            (count, _) => Err(Error::BelowThreshold { valid: count, required: self.threshold }),
        }
    }

    /// Verifies, checks and compiles an envelope: the whole of section 2.3.
    ///
    /// `held` is what the caller serves now (from [`Snapshot::held`]); `now` is Unix
    /// milliseconds. A refusal leaves the caller's snapshot as is.
    pub fn load(&self, envelope: &[u8], held: Option<Held>, now: i64) -> Result<Loaded, Error> {
        self.load_against(envelope, held.map_or(Baseline::Minimum(0), Baseline::Held), now)
    }

    /// Loads an envelope when nothing is served yet, refusing versions below
    /// `min_version`: for a cold start from a cache that remembers the last version
    /// seen, or for tools. An equal version loads in full.
    pub fn load_fresh(&self, envelope: &[u8], min_version: u64, now: i64) -> Result<Snapshot, Error> {
        match self.load_against(envelope, Baseline::Minimum(min_version), now)? {
            Loaded::Updated(snapshot) => Ok(snapshot),
            // A minimum baseline never yields `Unchanged`; keep the match total anyway.
            Loaded::Unchanged => Err(Error::Rollback { held: min_version, offered: min_version }),
        }
    }

    /// What `envelope` would be held as ([`Snapshot::held`]), checked as
    /// [`TrustPolicy::load`] checks it but for expiry, and compiling nothing: a client's
    /// rollback floor from a last-good copy too old to serve still stands.
    pub fn held_of(&self, envelope: &[u8]) -> Result<Held, Error> {
        let verified = self.verified_message(envelope)?;
        let payload = verified.payload();
        let parsed =
            parse_payload(payload_text(payload)?, self.limits.max_depth, &mut HeaderOnly).map_err(malformed)?;
        let payload_sha256 = crate::sha256::digest(&[payload]);
        // At the earliest time there is, nothing has expired.
        self.check_header(&parsed.header, Baseline::Minimum(0), payload_sha256, i64::MIN, true)?;
        Ok(Held { version: parsed.header.version, payload_sha256 })
    }

    fn load_against(&self, envelope: &[u8], baseline: Baseline, now: i64) -> Result<Loaded, Error> {
        let verified = self.verified_message(envelope)?;
        let payload = verified.payload();
        let sha: [u8; 32] = crate::sha256::digest(&[payload]);
        let text = payload_text(payload)?;
        if matches!(baseline, Baseline::Held(held) if held.payload_sha256 == sha) {
            // The very bytes already served (a re-fetch): read the header alone, since
            // compiling what is served already would be wasted.
            let parsed = parse_payload(text, self.limits.max_depth, &mut HeaderOnly).map_err(malformed)?;
            if let Some(outcome) = self.check_header(&parsed.header, baseline, sha, now, true)? {
                return Ok(outcome);
            }
        }
        let mut compiler = Compiler::new(&self.limits);
        // The gate may see the header before an `audience` that follows the body, so it
        // judges every check but that one; the full header is checked after reading.
        let accepts = |header: &Header<'_>| matches!(self.check_header(header, baseline, sha, now, false), Ok(None));
        let mut gated = Gated { body: &mut compiler, accepts: &accepts };
        let parsed = parse_payload(text, self.limits.max_depth, &mut gated).map_err(malformed)?;
        if let Some(outcome) = self.check_header(&parsed.header, baseline, sha, now, true)? {
            return Ok(outcome);
        }
        if let Some(error) = parsed.shape_error {
            return Err(malformed(error));
        }
        compiler.finish(&parsed.header, sha).map(Loaded::Updated)
    }

    /// The header's values (the rest of step 5), then steps 6 to 9: an error,
    /// `Unchanged`, or `None` to go on and compile. The audience is judged only when
    /// `whole` (the header was read to its end).
    fn check_header(
        &self,
        header: &Header<'_>,
        baseline: Baseline,
        sha: [u8; 32],
        now: i64,
        whole: bool,
    ) -> Result<Option<Loaded>, Error> {
        check_version(header.version)?;
        let time = |text: &str, name: &str| {
            crate::parse_rfc3339(text).map_err(|e| Error::MalformedPayload(format!("`{name}`: {e}")))
        };
        let expires_at = time(&header.expires_at, "expires_at")?;
        time(&header.issued_at, "issued_at")?;
        if header.schema != 1 {
            return Err(Error::UnsupportedSchema { found: header.schema });
        }
        if header.environment != self.environment {
            return Err(Error::WrongEnvironment {
                expected: self.environment.clone(),
                found: crate::shown::shown(&header.environment),
            });
        }
        match self.audience {
            Some(accepted) if whole && accepted != header.audience => {
                return Err(Error::WrongAudience { expected: accepted.as_str(), found: header.audience.as_str() });
            }
            _ => {}
        }
        match baseline {
            Baseline::Held(held) if header.version < held.version => {
                return Err(Error::Rollback { held: held.version, offered: header.version });
            }
            Baseline::Held(held) if header.version == held.version => {
                return if held.payload_sha256 == sha {
                    Ok(Some(Loaded::Unchanged))
                } else {
                    Err(Error::VersionConflict { version: held.version })
                };
            }
            Baseline::Minimum(min) if header.version < min => {
                return Err(Error::Rollback { held: min, offered: header.version });
            }
            _ => {}
        }
        if now > expires_at.saturating_add(self.grace_ms) {
            return Err(Error::Expired {
                expires_at: crate::format_rfc3339(expires_at),
                grace_seconds: self.grace_ms / 1_000,
                now: crate::format_rfc3339(now),
            });
        }
        Ok(None)
    }
}

/// A body read only if the header, when it comes first, passes steps 6 to 9.
struct Gated<'b, 'g, B> {
    body: &'b mut B,
    accepts: &'g dyn Fn(&Header<'_>) -> bool,
}

impl<'a, B: Body<'a>> Body<'a> for Gated<'_, '_, B> {
    fn header_read(&mut self, header: &Header<'a>) -> bool {
        (self.accepts)(header)
    }
    fn flag(&mut self, key: Text<'a>, flag: RawFlag<'a>, fingerprint: u64) {
        self.body.flag(key, flag, fingerprint);
    }
    fn segments(&mut self, segments: Vec<Keyed<'a, RawSegment<'a>>>) {
        self.body.segments(segments);
    }
}

/// A body that is skipped: only the header is wanted.
struct HeaderOnly;

impl<'a> Body<'a> for HeaderOnly {
    fn wants_body(&self) -> bool {
        false
    }
    fn flag(&mut self, _: Text<'a>, _: RawFlag<'a>, _: u64) {}
    fn segments(&mut self, _: Vec<Keyed<'a, RawSegment<'a>>>) {}
}

/// A signed message ([`crate::envelope::pae`]) whose signatures verified.
struct Verified {
    message: Vec<u8>,
    payload_at: usize,
}

impl Verified {
    fn payload(&self) -> &[u8] {
        self.message.get(self.payload_at..).unwrap_or_default()
    }
}

/// The payload as text: it must be UTF-8 before anything reads it as JSON.
pub(crate) fn payload_text(payload: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(payload).map_err(|e| {
        Error::MalformedPayload(format!("the payload is not UTF-8: invalid byte at offset {}", e.valid_up_to()))
    })
}

pub(crate) fn malformed(error: JsonError) -> Error {
    Error::MalformedPayload(error.describe())
}

pub(crate) fn check_version(version: u64) -> Result<(), Error> {
    if version == 0 || version > MAX_VERSION {
        return Err(Error::MalformedPayload(format!("`version` must be 1 to {MAX_VERSION}, not {version}")));
    }
    Ok(())
}
