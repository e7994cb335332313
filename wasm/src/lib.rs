//! `pennon-wasm`: the thin wasm-bindgen shim between JavaScript and `pennon-core`.
//!
//! Every export converts its input, calls the core and converts the output; nothing
//! here decides a flag. Why it is shaped this way:
//!
//! - **The host owns I/O and time.** An [`Engine`] holds a trust policy and at most one
//!   compiled snapshot. The host fetches envelope bytes, passes them in as a
//!   `Uint8Array` with its clock's `now`, and evaluates. Polling, caching and events
//!   live in the TypeScript providers of the `pennon` npm package.
//! - **A refusal never replaces what is served.** [`Engine::load`] verifies before it
//!   compiles; on any refusal it throws and keeps the previous snapshot. The served
//!   version is held inside the engine, so an older envelope is a `rollback`.
//! - **Contexts cross once.** A [`PreparedContext`] is converted when it is built and
//!   evaluated any number of times; a plain object is converted on each call.
//! - **Numbers first, JSON otherwise.** Contexts go in as JSON text, written by the
//!   package's `contextJson` (`JSON.stringify`, BigInts exact). Common
//!   results (no error; a boolean, string or number) leave as numbers in a scratch
//!   buffer that the package's `Engine` wrapper reads (`packed.rs`): a JSON round trip
//!   costs several times the evaluation. Every other result is the JSON text of
//!   `Evaluation::to_json`, the text the native identity test writes
//!   (`tests/identity.rs`), turned into a plain object by one `JSON.parse`.
//! - **No trap on any input.** The crate denies `unwrap`, `expect` and `panic`; every
//!   failure is a thrown `Error` whose message starts with its kind (`bad_signature:
//!   …`) and which carries a `kind` property, and the instance keeps working.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

/// Talc instead of dlmalloc: smaller, as fast (`Cargo.toml`).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

mod any;
mod convert;
mod flat;
mod output;
mod packed;
mod types;
mod write;

use pennon_core::{Audience, Context, Held, Loaded, PublicKey, Snapshot, TrustPolicy};
use wasm_bindgen::prelude::*;

pub use output::{resolution_text, resolutions_text};

use any::AnyContext;
use convert::{context_of, refusal, to_millis, JsResult};
use types::{EvaluationContext, FlagType, Resolution};

/// A trust policy plus the snapshot it last accepted.
#[wasm_bindgen]
pub struct Engine {
    policy: TrustPolicy,
    snapshot: Option<Snapshot>,
    /// What is served (or declared served by the host), for the rollback check.
    held: Option<Held>,
    /// Versions below this are refused while nothing is held.
    min_version: u64,
    /// Where `evaluatePacked` writes (see `packed.rs`); its address never moves.
    scratch: Box<[f64; packed::SLOTS]>,
    /// The flags the last update changed.
    changed: Vec<String>,
    /// Where the wrapper writes flat context objects (`flat.rs`).
    flat: flat::FlatBuffers,
    /// The names each flag's flat records stand for.
    reads: flat::FlagReads,
}

/// What the `evaluatePacked*` exports return: one number rather than a `Result`, which
/// crosses as three values in a new array (in V8 ~15 ns more a call). On anything but
/// [`PACKED`] the wrapper evaluates through the general export, which answers or
/// throws the refusal with its message; so these paths build no error of their own.
const UNPACKED: u32 = 0;
/// The result is in the scratch buffer.
const PACKED: u32 = 1;
/// The call was refused (a bad `nowMs` or expected type, no snapshot, a context that
/// does not read, flat records that do not match what the flag reads).
const REFUSED: u32 = 2;

#[wasm_bindgen]
impl Engine {
    /// Builds an engine: the package's `Engine` takes `EngineOptions`, checks them
    /// (`bindings/src/options.ts`, `invalid_options` for a malformed object) and passes
    /// them here in order. Throws `invalid_key` or `invalid_policy`. Numbers arrive
    /// checked; here they only convert, saturating. `keys` is each key followed by a
    /// line break (one string crosses more cheaply than an array of them).
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn new(
        keys: String,
        environment: String,
        threshold: Option<f64>,
        #[wasm_bindgen(js_name = graceMs)] grace_ms: Option<f64>,
        #[wasm_bindgen(js_name = maxBytes)] max_bytes: Option<f64>,
        #[wasm_bindgen(js_name = minVersion)] min_version: Option<f64>,
        #[wasm_bindgen(js_name = heldVersion)] held_version: Option<f64>,
        #[wasm_bindgen(js_name = heldPayloadSha256)] held_payload_sha256: Option<Vec<u8>>,
        audience: Option<u8>,
    ) -> JsResult<Engine> {
        let keys = keys.split_terminator('\n').map(PublicKey::parse).collect::<Result<Vec<_>, _>>();
        let mut policy =
            TrustPolicy::new(environment, keys.map_err(convert::core_error)?).map_err(convert::core_error)?;
        if let Some(threshold) = threshold {
            policy = policy.with_threshold(threshold as usize).map_err(convert::core_error)?;
        }
        if let Some(grace_ms) = grace_ms {
            policy = policy.with_grace_ms(grace_ms as i64);
        }
        if let Some(max_bytes) = max_bytes {
            policy = policy.with_max_bytes(max_bytes as usize);
        }
        // `src/options.ts` numbers the audiences: absent or 0 server, 1 client, 2 either.
        match audience {
            Some(1) => policy = policy.with_audience(Some(Audience::Client)),
            Some(2) => policy = policy.with_audience(None),
            _ => {}
        }
        let held = match (held_version, held_payload_sha256.map(<[u8; 32]>::try_from)) {
            (Some(version), Some(Ok(payload_sha256))) => Some(Held { version: version as u64, payload_sha256 }),
            (None, None) => None,
            _ => return Err(convert::refusal("invalid_options", "held: a version and 32 bytes of SHA-256")),
        };
        let min_version = min_version.map_or(0, |v| v as u64);
        let scratch = Box::new([0.0; packed::SLOTS]);
        Ok(Engine {
            policy,
            snapshot: None,
            held,
            min_version,
            scratch,
            changed: Vec::new(),
            flat: Default::default(),
            reads: Default::default(),
        })
    }

    /// Verifies, checks and compiles envelope `bytes` at `nowMs` (Unix milliseconds).
    ///
    /// Returns `true` when a newer snapshot is now served and `false` when the bytes
    /// are the version already held. Throws a refusal (`bad_signature: …`, with a
    /// `kind` property) and keeps serving the previous snapshot otherwise.
    pub fn load(&mut self, bytes: &[u8], #[wasm_bindgen(js_name = nowMs)] now_ms: f64) -> JsResult<bool> {
        let now = to_millis(now_ms)?;
        let loaded = match self.held {
            Some(held) => self.policy.load(bytes, Some(held), now),
            None => self.policy.load_fresh(bytes, self.min_version, now).map(Loaded::Updated),
        };
        match loaded.map_err(convert::core_error)? {
            Loaded::Updated(snapshot) => {
                self.changed = match &self.snapshot {
                    Some(previous) => snapshot.changed_flags(previous),
                    None => snapshot.flag_keys().map(str::to_owned).collect(),
                };
                self.held = Some(snapshot.held());
                self.snapshot = Some(snapshot);
                self.reads.clear();
                Ok(true)
            }
            Loaded::Unchanged => Ok(false),
        }
    }

    /// The served snapshot's version, or `undefined` before the first load.
    pub fn version(&self) -> Option<f64> {
        self.snapshot.as_ref().map(|s| s.version() as f64)
    }

    /// Whom the served snapshot is for, `"server"` or `"client"`, or `undefined`.
    pub fn audience(&self) -> Option<String> {
        self.snapshot.as_ref().map(|s| s.audience().as_str().to_owned())
    }

    /// The served snapshot's `expires_at`, Unix milliseconds, or `undefined`.
    #[wasm_bindgen(js_name = expiresAt)]
    pub fn expires_at(&self) -> Option<f64> {
        self.snapshot.as_ref().map(|s| s.expires_at() as f64)
    }

    /// Lowercase hex SHA-256 of the served payload: its identity, or `undefined`.
    #[wasm_bindgen(js_name = payloadSha256)]
    pub fn payload_sha256(&self) -> Option<String> {
        let snapshot = self.snapshot.as_ref()?;
        let mut hex = String::with_capacity(64);
        pennon_core::write_hex(&mut hex, &snapshot.payload_sha256());
        Some(hex)
    }

    /// The served flag keys, ascending (empty before the first load).
    #[wasm_bindgen(js_name = flagKeys)]
    pub fn flag_keys(&self) -> Vec<String> {
        self.snapshot.iter().flat_map(|s| s.flag_keys().map(str::to_owned)).collect()
    }

    /// The flags whose results depend on the time (a scheduled rollout, or a
    /// prerequisite with one), ascending: the web provider evaluates them again as time
    /// passes, with no new snapshot, and only them.
    #[wasm_bindgen(js_name = timeFlags)]
    pub fn time_flags(&self) -> Vec<String> {
        let Some(s) = self.snapshot.as_ref() else { return Vec::new() };
        s.flag_keys().filter(|key| s.uses_time(key)).map(str::to_owned).collect()
    }

    /// The flags the last update changed, ascending: added, removed or edited, or
    /// reaching a changed segment or prerequisite (every flag after the first load).
    /// What providers report as OpenFeature's `flagsChanged`.
    #[wasm_bindgen(js_name = changedFlags)]
    pub fn changed_flags(&self) -> Vec<String> {
        self.changed.clone()
    }

    /// The type of flag `flagKey`, or `undefined` when the served snapshot lacks it.
    #[wasm_bindgen(js_name = flagType)]
    pub fn flag_type(&self, #[wasm_bindgen(js_name = flagKey)] flag_key: &str) -> Option<FlagType> {
        self.snapshot.as_ref()?.flag_type(flag_key).map(FlagType::from_core)
    }

    /// Evaluates `flagKey` for a plain context object at `nowMs`, optionally asking for
    /// a type (a flag of another type is a `TYPE_MISMATCH` result, not a throw).
    pub fn evaluate(
        &self,
        #[wasm_bindgen(js_name = flagKey)] flag_key: &str,
        context: &EvaluationContext,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
        #[wasm_bindgen(js_name = expectedType)] expected_type: Option<FlagType>,
    ) -> JsResult<Resolution> {
        let context = context_of(context)?;
        output::one(self.served()?, flag_key, &context, to_millis(now_ms)?, expected_type)
    }

    /// Like `evaluate`, with a context converted once by `new PreparedContext(...)`.
    #[wasm_bindgen(js_name = evaluatePrepared)]
    pub fn evaluate_prepared(
        &self,
        #[wasm_bindgen(js_name = flagKey)] flag_key: &str,
        context: &PreparedContext,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
        #[wasm_bindgen(js_name = expectedType)] expected_type: Option<FlagType>,
    ) -> JsResult<Resolution> {
        output::one(self.served()?, flag_key, &context.inner, to_millis(now_ms)?, expected_type)
    }

    /// Every flag's result as OFREP-style JSON text (`[{key, value, …}, …]`): for hosts
    /// that forward JSON, and the exact text the native identity test compares.
    #[wasm_bindgen(js_name = evaluateAllJson)]
    pub fn evaluate_all_json(
        &self,
        context: &PreparedContext,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
    ) -> JsResult<String> {
        Ok(resolutions_text(self.served()?, &context.inner, to_millis(now_ms)?))
    }

    /// One flag's result as JSON text (see `evaluateAllJson`).
    #[wasm_bindgen(js_name = evaluateJson)]
    pub fn evaluate_json(
        &self,
        #[wasm_bindgen(js_name = flagKey)] flag_key: &str,
        context: &PreparedContext,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
        #[wasm_bindgen(js_name = expectedType)] expected_type: Option<FlagType>,
    ) -> JsResult<String> {
        let evaluation = output::evaluate(self.served()?, flag_key, &context.inner, to_millis(now_ms)?, expected_type)?;
        Ok(resolution_text(flag_key, &evaluation))
    }

    /// Internal, for the package's `Engine` wrapper: evaluates the flag at `position`
    /// in `flagKeys()` order into the scratch buffer. Returns 1 when the result fits
    /// it, 0 when it does not (also past the last flag) and 2 when the call is refused;
    /// on 0 and 2, `evaluatePrepared` gives the result or throws the refusal. The
    /// wrapper maps keys to positions once per snapshot, so an evaluation passes no
    /// string and hashes no key.
    #[wasm_bindgen(js_name = evaluatePacked)]
    pub fn evaluate_packed(
        &mut self,
        position: u32,
        context: &PreparedContext,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
        #[wasm_bindgen(js_name = expectedType)] expected_type: Option<FlagType>,
    ) -> u32 {
        let packed = to_millis(now_ms).ok().and_then(|now| self.pack(position, &context.inner, now, expected_type));
        Self::status(packed)
    }

    /// Internal: like `evaluatePacked`, for a context the package has already written
    /// as JSON text (`contextJson`): passing the text in one step skips a call back out
    /// to JavaScript for it, which took most of an evaluation with a fresh context.
    #[wasm_bindgen(js_name = evaluatePackedText)]
    pub fn evaluate_packed_text(
        &mut self,
        position: u32,
        #[wasm_bindgen(js_name = contextJson)] context_json: &str,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
        #[wasm_bindgen(js_name = expectedType)] expected_type: Option<FlagType>,
    ) -> u32 {
        let context = Context::from_json(context_json).ok();
        let packed = context.and_then(|context| self.pack(position, &context, to_millis(now_ms).ok()?, expected_type));
        Self::status(packed)
    }

    /// Internal: like `evaluatePacked`, for a flat context object the wrapper has
    /// written (`flat.rs`): record 0 for the targeting key (read only if `hasKey`), then
    /// one record per name of `attributesRead(position)` other than `targetingKey`,
    /// which must have been asked for since the last load.
    #[wasm_bindgen(js_name = evaluatePackedFlat)]
    pub fn evaluate_packed_flat(
        &mut self,
        position: u32,
        #[wasm_bindgen(js_name = hasKey)] has_key: bool,
        #[wasm_bindgen(js_name = nowMs)] now_ms: f64,
        #[wasm_bindgen(js_name = expectedType)] expected_type: Option<FlagType>,
    ) -> u32 {
        let packed = self.pack_flat(position, has_key, now_ms, expected_type);
        Self::status(packed)
    }

    /// Internal: the top-level context names the flag at `position` can read
    /// (`Snapshot::attributes_read`; `targetingKey` for the targeting key), so the
    /// wrapper writes only those of a flat context, in this order. Empty past the end.
    #[wasm_bindgen(js_name = attributesRead)]
    pub fn attributes_read(&mut self, position: u32) -> Vec<String> {
        match &self.snapshot {
            Some(snapshot) => self.reads.learn(snapshot, position as usize),
            None => Vec::new(),
        }
    }

    /// Internal: the address of the flat context bytes, grown to at least `capacity`;
    /// 0 when the memory cannot grow that far.
    #[wasm_bindgen(js_name = flatBytes)]
    pub fn flat_bytes(&mut self, capacity: u32) -> f64 {
        grown(&mut self.flat.bytes, capacity as usize, 0)
    }

    /// Internal: the address of the flat context records, room for at least `count`;
    /// 0 when the memory cannot grow that far.
    #[wasm_bindgen(js_name = flatRecords)]
    pub fn flat_records(&mut self, count: u32) -> f64 {
        match (count as usize).checked_mul(flat::RECORD) {
            Some(len) => grown(&mut self.flat.records, len, 0.0),
            None => 0.0,
        }
    }

    /// Internal: the byte address of the scratch buffer in the module's memory.
    #[wasm_bindgen(js_name = scratchAddress)]
    pub fn scratch_address(&self) -> f64 {
        self.scratch.as_ptr() as usize as f64
    }

    /// `evaluatePackedFlat`, `None` when refused: records 0 and `1 + i` of `self.flat`
    /// as the context, the names those stand for taken from what the flag reads (which
    /// the wrapper must have asked for), none of them malformed.
    fn pack_flat(&mut self, position: u32, has_key: bool, now_ms: f64, expected: Option<FlagType>) -> Option<bool> {
        let now = to_millis(now_ms).ok()?;
        let names = self.reads.of(position as usize)?;
        let context = flat::FlatContext::new(&self.flat, names, has_key)?;
        let packed =
            pack_at(self.snapshot.as_ref(), &mut self.scratch, position, &AnyContext::Flat(&context), now, expected);
        if context.malformed() {
            return None;
        }
        packed
    }

    /// The number an `evaluatePacked*` export returns for `packed` (`None`: refused).
    fn status(packed: Option<bool>) -> u32 {
        match packed {
            Some(true) => PACKED,
            Some(false) => UNPACKED,
            None => REFUSED,
        }
    }

    /// [`pack_at`] for the exports holding a [`Context`].
    fn pack(&mut self, position: u32, context: &Context, now: i64, expected: Option<FlagType>) -> Option<bool> {
        pack_at(self.snapshot.as_ref(), &mut self.scratch, position, &AnyContext::Full(context), now, expected)
    }

    fn served(&self) -> JsResult<&Snapshot> {
        self.snapshot.as_ref().ok_or_else(not_ready)
    }
}

/// What the three `evaluatePacked*` exports share once they have a context: the result
/// in the scratch buffer, and whether it fit; `None` without a snapshot or for an
/// expected type of no known name. Takes the engine's fields rather than the engine, so
/// a context borrowed from the engine (the flat buffers) can be passed.
fn pack_at(
    snapshot: Option<&Snapshot>,
    scratch: &mut [f64; packed::SLOTS],
    position: u32,
    context: &AnyContext<'_>,
    now: i64,
    expected: Option<FlagType>,
) -> Option<bool> {
    let expected = expected.map(FlagType::to_core).transpose().ok()?;
    let evaluation = snapshot?.evaluate_at(position as usize, expected, context, now);
    Some(evaluation.is_some_and(|evaluation| packed::pack(scratch, &evaluation)))
}

fn not_ready() -> JsValue {
    refusal("not_ready", "no snapshot is loaded yet; call load() first")
}

/// An evaluation context converted once, for many evaluations. Built from JSON text
/// only: the package's `PreparedContext` (`bindings/src/prepared.ts`) writes objects as
/// that text itself, and keeps it to convert again after a trap.
#[wasm_bindgen]
pub struct PreparedContext {
    inner: pennon_core::Context,
}

#[wasm_bindgen]
impl PreparedContext {
    /// Reads a context from JSON text with the core's own reader, exactly as Rust
    /// hosts do: for request bodies passed through, and numbers JavaScript cannot
    /// express (a float `42.0` stays a float). Throws `invalid_context`.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(text: &str) -> JsResult<PreparedContext> {
        pennon_core::Context::from_json(text).map(|inner| PreparedContext { inner }).map_err(convert::core_error)
    }

    /// The targeting key, if the context has one.
    #[wasm_bindgen(getter, js_name = targetingKey)]
    pub fn targeting_key(&self) -> Option<String> {
        self.inner.targeting_key().map(str::to_owned)
    }
}

/// SPEC 5.6: the 64-bit hash `h` of a bucketing `value` under `salt`.
#[wasm_bindgen(js_name = bucketHash)]
pub fn bucket_hash(salt: &str, value: &str) -> u64 {
    pennon_core::bucket_hash(salt, value.as_bytes())
}

/// SPEC 5.6: the position `x = (h × W) >> 64` of hash `h` among `totalWeight` units.
#[wasm_bindgen(js_name = bucketPosition)]
pub fn bucket_position(hash: u64, #[wasm_bindgen(js_name = totalWeight)] total_weight: u32) -> u32 {
    // x < W <= u32::MAX, so the conversion cannot fail.
    u32::try_from(pennon_core::bucket_position(hash, u64::from(total_weight))).unwrap_or(u32::MAX)
}

/// The address of `buffer` grown to at least `len` (never shrunk), or 0 when the memory
/// cannot grow: an allocation that fails here must decline, not abort the instance.
fn grown<T: Copy>(buffer: &mut Vec<T>, len: usize, fill: T) -> f64 {
    if buffer.len() < len {
        if buffer.try_reserve_exact(len - buffer.len()).is_err() {
            return 0.0;
        }
        buffer.resize(len, fill);
    }
    buffer.as_ptr() as usize as f64
}
