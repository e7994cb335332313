//! Who is asking: API tokens (roles scoped to environments) for the admin API, and SDK
//! keys (one environment, server or client) for snapshots and streams.
//!
//! Both are bearer secrets looked up by their SHA-256; the database never holds them.
//! SDK keys sit on the hot path of snapshot fetches, so their lookups are cached in
//! memory; a revocation drops that key's grant from every instance's cache (through
//! `NOTIFY` on PostgreSQL), and only that key's: the others keep theirs for outages.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::app::App;
use crate::error::ApiError;
use crate::model::{Role, SdkKind};
use crate::service::Actor;

/// The bearer secret of a request, if it sent one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| secret.trim())
}

/// What SDK keys are known by: the SHA-256 of the secret.
pub(crate) fn sdk_key_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The caller of an admin API request, authenticated by an API token.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    /// The token's name: audit entries name it as the actor.
    pub(crate) name: String,
    /// Its role.
    pub(crate) role: Role,
    /// The environments it may use; `None` for all.
    pub(crate) environments: Option<Vec<String>>,
    /// The request id.
    pub(crate) request_id: String,
}

impl Principal {
    /// The actor of writes made by this principal.
    pub(crate) fn actor(&self) -> Actor {
        Actor { name: self.name.clone(), request_id: self.request_id.clone() }
    }

    /// Requires at least `role`.
    pub(crate) fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role < role {
            return Err(ApiError::forbidden(format!(
                "token `{}` has role {}; this needs {}",
                self.name,
                self.role.as_str(),
                role.as_str()
            )));
        }
        Ok(())
    }

    /// Whether the token may use `env`.
    pub(crate) fn may_use(&self, env: &str) -> bool {
        self.environments.as_ref().is_none_or(|envs| envs.iter().any(|e| e == env))
    }

    /// Requires at least `role` in `env`.
    pub(crate) fn require_env(&self, role: Role, env: &str) -> Result<(), ApiError> {
        self.require(role)?;
        if !self.may_use(env) {
            return Err(ApiError::forbidden(format!("token `{}` is not allowed in environment `{env}`", self.name)));
        }
        Ok(())
    }

    /// Requires at least `role` with access to every environment; `why` says what
    /// reaches all of them, for the refusal.
    pub(crate) fn require_all(&self, role: Role, why: &str) -> Result<(), ApiError> {
        self.require(role)?;
        if let Some(envs) = &self.environments {
            return Err(ApiError::forbidden(format!(
                "token `{}` is scoped to {}: {why}, so it needs a token for every environment",
                self.name,
                envs.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(())
    }
}

impl FromRequestParts<App> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Principal, ApiError> {
        let request_id = parts.extensions.get::<crate::routes::RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        let secret = bearer(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("send an API token as `Authorization: Bearer pnt_...`"))?;
        let row = app.store.read().await?.token_by_hash(&crate::clock::hash_secret(secret)).await?;
        let row = row.ok_or_else(|| match crate::model::SdkKind::of_secret(secret) {
            // An SDK key is never an API token, live or not: say which one the call needs.
            Some(kind) => ApiError::unauthorized(format!(
                "this is a {} SDK key (`{}…`), which reads snapshots; the admin API needs an API token \
                 (`pnt_…`, from `pennon tokens create` or `pennon admin-token`)",
                kind.as_str(),
                kind.secret_prefix()
            )),
            None => ApiError::unauthorized("unknown or revoked API token"),
        })?;
        let environments: Vec<String> = serde_json::from_str(&row.environments).unwrap_or_default();
        Ok(Principal {
            name: row.name,
            role: Role::parse(&row.role).unwrap_or(Role::Viewer),
            environments: (!environments.iter().any(|e| e == "*")).then_some(environments),
            request_id,
        })
    }
}

/// What an SDK key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SdkGrant {
    /// Its environment.
    pub(crate) env: Arc<str>,
    /// Server or client.
    pub(crate) kind: SdkKind,
}

/// SDK key lookups, cached by hash.
#[derive(Default)]
pub(crate) struct SdkKeyCache {
    /// The grants, and how many times some were dropped: a lookup that began before a
    /// revocation must not put back what it read.
    grants: RwLock<Grants>,
    /// Counts revocations, so open streams check their key again (`routes/stream.rs`).
    revocations: watch::Sender<u64>,
    /// Store lookups under way, by key hash and the drop count they began at: after a
    /// revocation every open stream checks its key at once, and the streams of one key
    /// (often thousands) share one lookup instead of queueing for the connection pool.
    flights: Mutex<HashMap<([u8; 32], u64), Flight>>,
    /// Whether the store is known to be unreachable: a check timed out or was answered
    /// 503, and none has been answered since. Meanwhile keys with a stale grant are
    /// answered at once instead of each waiting out `LOOKUP_PATIENCE` (a circuit breaker).
    unreachable: AtomicBool,
    /// Key checks under way: during an outage a known key starts one (to learn when the
    /// store is back) only when none is.
    checks: AtomicUsize,
    /// Key checks begun so far, numbering them.
    begun: AtomicU64,
    /// The number of the latest-begun check the store answered: a check begun before it
    /// that fails afterwards (a read stuck on a connection cut by the outage) tells
    /// nothing about the store now, and does not mark it unreachable again.
    last_answered: AtomicU64,
}

/// Cached grants.
#[derive(Default)]
struct Grants {
    /// Read since the last refresh.
    fresh: HashMap<[u8; 32], SdkGrant>,
    /// Read before it: used only while the store cannot answer, so that a database
    /// outage does not stop snapshots already in memory from being served.
    stale: HashMap<[u8; 32], SdkGrant>,
    /// Revocations, deletions and refreshes so far.
    clears: u64,
}

/// How long an SDK request waits for the store to look its key up, before it falls
/// back on a stale grant or answers 503.
const LOOKUP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// One store lookup of an SDK key, shared by every request that misses meanwhile.
type Flight = Arc<tokio::sync::OnceCell<Option<SdkGrant>>>;

impl SdkKeyCache {
    /// Drops the grant of the SDK key whose stored hash is `key_hash` (revoked here, or
    /// as another instance's notice says), and has every open stream check its key
    /// again. Other keys keep their grants, fresh ones and those kept for outages: a
    /// revocation says nothing about them. A text that is no hash was never a lookup's
    /// (they use the hex of a SHA-256), so nothing is dropped for it.
    pub(crate) fn revoked(&self, key_hash: &str) {
        let revoked = crate::clock::parse_hash(key_hash);
        self.forget(|hash, _| Some(*hash) == revoked);
    }

    /// Drops the grants of every key of `env`, deleted with it, as [`Self::revoked`]
    /// does for one key.
    pub(crate) fn env_deleted(&self, env: &str) {
        self.forget(|_, grant| &*grant.env == env);
    }

    /// Keeps only the grants of keys whose stored hash is in `live`, read from the
    /// store after notices may have been lost: keys revoked or deleted meanwhile are
    /// dropped, as [`Self::revoked`] does, and live ones keep their grants for outages.
    pub(crate) fn keep_only(&self, live: &[String]) {
        let live: HashSet<[u8; 32]> = live.iter().filter_map(|hash| crate::clock::parse_hash(hash)).collect();
        self.forget(|hash, _| !live.contains(hash));
    }

    /// Drops the grants `gone` picks, fresh and stale, and every lookup still under way
    /// (one may have read a dropped key before it went), and has every open stream check
    /// its key again. (The periodic refresh does not wake streams: they check at each
    /// heartbeat anyway, and all of them at once would be a burst of lookups.)
    fn forget(&self, gone: impl Fn(&[u8; 32], &SdkGrant) -> bool) {
        {
            let mut grants = self.grants.write().unwrap_or_else(PoisonError::into_inner);
            grants.fresh.retain(|hash, grant| !gone(hash, grant));
            grants.stale.retain(|hash, grant| !gone(hash, grant));
            grants.clears += 1;
        }
        self.revocations.send_modify(|n| *n += 1);
        // Learnt from the store (a write committed, its notice, or a read of the live
        // keys): it answers, and keys never seen must not be refused as if it did not.
        self.answered(true, self.begin());
    }

    /// What open streams watch for revocations.
    pub(crate) fn revocations(&self) -> watch::Receiver<u64> {
        self.revocations.subscribe()
    }

    /// Has every key looked up again on its next use (the safety net for revocations
    /// whose notice was lost), keeping what was read for while the store is down.
    pub(crate) fn refresh(&self) {
        let mut grants = self.grants.write().unwrap_or_else(PoisonError::into_inner);
        let fresh = std::mem::take(&mut grants.fresh);
        grants.stale.extend(fresh);
        grants.clears += 1;
    }

    /// The cached grant of `hash`, or the clear count to hand [`Self::remember`].
    fn lookup(&self, hash: &[u8; 32]) -> Result<SdkGrant, u64> {
        let grants = self.grants.read().unwrap_or_else(PoisonError::into_inner);
        grants.fresh.get(hash).cloned().ok_or(grants.clears)
    }

    /// Caches what a lookup begun at clear count `cleared` read, unless a clear came since.
    fn remember(&self, cleared: u64, hash: [u8; 32], grant: Option<SdkGrant>) {
        let mut grants = self.grants.write().unwrap_or_else(PoisonError::into_inner);
        if grants.clears == cleared {
            grants.stale.remove(&hash);
            if let Some(grant) = grant {
                grants.fresh.insert(hash, grant);
            }
        }
    }

    /// Numbers a key check about to begin, for [`Self::answered`].
    fn begin(&self) -> u64 {
        self.begun.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Notes whether the store answered key check number `begun`, and logs when that
    /// changes whether it is unreachable.
    fn answered(&self, answered: bool, begun: u64) {
        if answered {
            self.last_answered.fetch_max(begun, Ordering::AcqRel);
        } else if begun < self.last_answered.load(Ordering::Acquire) {
            return;
        }
        if self.unreachable.swap(!answered, Ordering::Relaxed) == answered {
            if answered {
                tracing::info!("the database answers SDK key checks again: keys are checked as usual");
            } else {
                tracing::warn!(
                    "the database does not answer SDK key checks: keys this instance accepted before are \
                     answered from memory, without waiting, until it does"
                );
            }
        }
    }

    /// The grant `hash` had before the last refresh, if any.
    fn stale(&self, hash: &[u8; 32]) -> Option<SdkGrant> {
        self.grants.read().unwrap_or_else(PoisonError::into_inner).stale.get(hash).cloned()
    }

    /// Reads key `hash` with `read` (the store), joining a read of it already under way
    /// since clear count `cleared` (one begun before a revocation is not joined); `begun`
    /// numbers the check.
    async fn look_up<R>(
        &self,
        hash: [u8; 32],
        cleared: u64,
        begun: u64,
        read: impl FnOnce() -> R,
    ) -> Result<Option<SdkGrant>, ApiError>
    where
        R: std::future::Future<Output = Result<Option<SdkGrant>, ApiError>>,
    {
        let flight =
            self.flights.lock().unwrap_or_else(PoisonError::into_inner).entry((hash, cleared)).or_default().clone();
        let read = flight
            .get_or_try_init(|| async {
                let grant = read().await;
                self.answered(!matches!(&grant, Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE), begun);
                let grant = grant?;
                self.remember(cleared, hash, grant.clone());
                Ok::<_, ApiError>(grant)
            })
            .await
            .cloned();
        // Over for everyone who joined: the next miss starts another lookup.
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        if flights.get(&(hash, cleared)).is_some_and(|current| Arc::ptr_eq(current, &flight)) {
            flights.remove(&(hash, cleared));
        }
        read
    }

    /// Checks key `hash` in the store, in its own task: one a request stops waiting for
    /// still ends (and leaves the shared lookups), and the next request may join it. The
    /// caller has counted it in `checks`; it is uncounted when it ends.
    fn check(
        app: &App,
        hash: [u8; 32],
        cleared: u64,
        begun: u64,
    ) -> tokio::task::JoinHandle<Result<Option<SdkGrant>, ApiError>> {
        let counted = Counted(App::clone(app));
        tokio::spawn(async move {
            let app = &counted.0;
            app.sdk_keys
                .look_up(hash, cleared, begun, || async {
                    let row = app.store.read().await?.sdk_key_by_hash(&crate::clock::hex(&hash)).await?;
                    Ok(row.map(|row| SdkGrant {
                        env: Arc::from(row.env),
                        kind: SdkKind::parse(&row.kind).unwrap_or(SdkKind::Client),
                    }))
                })
                .await
        })
    }

    /// Checks key `hash` in the store and waits up to `LOOKUP_PATIENCE` for the answer,
    /// falling back on a stale grant when the store cannot give one.
    async fn wait_for_check(app: &App, hash: [u8; 32], cleared: u64) -> Result<SdkGrant, ApiError> {
        app.sdk_keys.checks.fetch_add(1, Ordering::AcqRel);
        Self::wait_for_counted_check(app, hash, cleared).await
    }

    /// [`Self::wait_for_check`], for a check the caller has counted in `checks`.
    async fn wait_for_counted_check(app: &App, hash: [u8; 32], cleared: u64) -> Result<SdkGrant, ApiError> {
        let cache = &app.sdk_keys;
        let begun = cache.begin();
        match tokio::time::timeout(LOOKUP_PATIENCE, Self::check(app, hash, cleared, begun)).await {
            Ok(Ok(Ok(found))) => found.ok_or_else(|| ApiError::unauthorized("unknown or revoked SDK key")),
            Ok(Ok(Err(error))) if error.status != StatusCode::SERVICE_UNAVAILABLE => Err(error),
            Ok(Err(failed)) => Err(ApiError::internal(format!("SDK key lookup: {failed}"))),
            // The store cannot answer: a key it granted before still reads what is in memory.
            Ok(Ok(Err(unavailable))) => cache.stale(&hash).ok_or(unavailable),
            Err(_) => {
                cache.answered(false, begun);
                cache.stale(&hash).ok_or_else(|| {
                    ApiError::unavailable(format!(
                        "the database did not answer within {} s to check this SDK key",
                        LOOKUP_PATIENCE.as_secs()
                    ))
                })
            }
        }
    }

    /// Authorizes a snapshot or stream request for `env` with `app`'s cache: 401
    /// without a valid SDK key, 403 with a key of another environment, 503 when the
    /// store cannot check a key it has no stale grant of within `LOOKUP_PATIENCE`, or at
    /// once while the store is known to be down and another check is probing it.
    pub(crate) async fn authorize(app: &App, headers: &HeaderMap, env: &str) -> Result<SdkGrant, ApiError> {
        let secret = bearer(headers)
            .ok_or_else(|| ApiError::unauthorized("send an SDK key as `Authorization: Bearer pns_...` or `pnc_...`"))?;
        let hash = sdk_key_hash(secret);
        let cache = &app.sdk_keys;
        let grant = match cache.lookup(&hash) {
            Ok(grant) => grant,
            Err(cleared) if !cache.unreachable.load(Ordering::Relaxed) => {
                Self::wait_for_check(app, hash, cleared).await?
            }
            // The store is known to be down: at most one check at a time probes it, so
            // that a flood of requests (keys never seen, or made up) starts no flood of
            // reads, and no request but the probe's waits for one.
            Err(cleared) => {
                let probe = cache.checks.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire).is_ok();
                match (cache.stale(&hash), probe) {
                    // Accepted before: answered from memory, the probe in the background.
                    (Some(grant), probe) => {
                        if probe {
                            drop(Self::check(app, hash, cleared, cache.begin()));
                        }
                        grant
                    }
                    (None, true) => Self::wait_for_counted_check(app, hash, cleared).await?,
                    (None, false) => {
                        return Err(ApiError::unavailable(
                            "the database is not answering SDK key checks, and this key was not accepted by this \
                             instance before: try again shortly",
                        ))
                    }
                }
            }
        };
        if &*grant.env != env {
            return Err(ApiError::forbidden(format!("this SDK key is for environment `{}`, not `{env}`", grant.env)));
        }
        Ok(grant)
    }
}

/// A key check counted in [`SdkKeyCache::checks`] until it is dropped.
struct Counted(App);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.sdk_keys.checks.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::hex;

    /// A lookup that read a key before its revocation dropped it does not put the key
    /// back: the revocation holds at once, not at the next restart.
    #[test]
    fn a_lookup_racing_a_revocation_caches_nothing() {
        let cache = SdkKeyCache::default();
        let grant = SdkGrant { env: Arc::from("production"), kind: SdkKind::Client };
        let cleared = cache.lookup(&[7; 32]).unwrap_err(); // a miss: the lookup reads the store
        cache.revoked(&hex(&[7; 32])); // the revocation commits meanwhile
        cache.remember(cleared, [7; 32], Some(grant.clone()));
        assert!(cache.lookup(&[7; 32]).is_err(), "the revoked key was cached again");
        // A lookup with nothing in between is cached.
        let cleared = cache.lookup(&[8; 32]).unwrap_err();
        cache.remember(cleared, [8; 32], Some(grant));
        assert!(cache.lookup(&[8; 32]).is_ok());
    }

    /// Caches `hash` as granted in `env`, as a lookup the store answered does.
    fn grant(cache: &SdkKeyCache, hash: [u8; 32], env: &str) -> SdkGrant {
        let grant = SdkGrant { env: Arc::from(env), kind: SdkKind::Server };
        let cleared = cache.lookup(&hash).unwrap_err();
        cache.remember(cleared, hash, Some(grant.clone()));
        grant
    }

    /// A refresh keeps what was read for while the store cannot answer; a revocation of
    /// that key, or a lookup that finds the key gone, does not.
    #[test]
    fn refreshed_grants_stay_for_outages_and_revocations_remove_them() {
        let cache = SdkKeyCache::default();
        let grants = [[1; 32], [2; 32], [3; 32]].map(|hash| grant(&cache, hash, "production"));
        cache.refresh();
        assert!(cache.lookup(&[1; 32]).is_err(), "a refreshed key is looked up again");
        assert_eq!(cache.stale(&[1; 32]).as_ref(), Some(&grants[0]), "and kept for an outage");
        let cleared = cache.lookup(&[2; 32]).unwrap_err();
        cache.remember(cleared, [2; 32], None); // the store answers: deleted
        assert_eq!(cache.stale(&[2; 32]), None);
        cache.revoked(&hex(&[3; 32]));
        assert_eq!(cache.stale(&[3; 32]), None);
    }

    /// A revocation drops the revoked key's grant alone: every other key keeps its own,
    /// fresh or kept for an outage. Before, any revocation emptied the cache, and a
    /// database outage after it refused every key (503) on every instance.
    #[test]
    fn a_revocation_keeps_the_other_keys_grants() {
        let cache = SdkKeyCache::default();
        let kept = grant(&cache, [1; 32], "development");
        grant(&cache, [2; 32], "staging");
        cache.refresh(); // both kept for an outage
        let fresh = grant(&cache, [3; 32], "development");
        cache.revoked(&hex(&[2; 32]));
        assert_eq!(cache.stale(&[1; 32]), Some(kept), "another key's grant for outages was dropped");
        assert_eq!(cache.lookup(&[3; 32]), Ok(fresh), "another key's fresh grant was dropped");
        assert_eq!(cache.stale(&[2; 32]), None);
        assert!(cache.lookup(&[2; 32]).is_err());
        // A text that is no hash drops nothing.
        cache.revoked("not a hash");
        assert!(cache.lookup(&[3; 32]).is_ok() && cache.stale(&[1; 32]).is_some());
    }

    /// Deleting an environment drops the grants of its keys alone; a resync keeps the
    /// grants of the keys still live.
    #[test]
    fn deletions_and_resyncs_drop_only_the_keys_gone() {
        let cache = SdkKeyCache::default();
        let kept = grant(&cache, [1; 32], "development");
        grant(&cache, [2; 32], "staging");
        cache.refresh();
        grant(&cache, [3; 32], "staging");
        cache.env_deleted("staging");
        assert_eq!(cache.stale(&[1; 32]), Some(kept.clone()));
        assert_eq!((cache.stale(&[2; 32]), cache.lookup(&[3; 32]).ok()), (None, None));

        let fresh = grant(&cache, [4; 32], "development");
        grant(&cache, [5; 32], "development");
        cache.keep_only(&[hex(&[1; 32]), hex(&[4; 32]), "not a hash".to_owned()]);
        assert_eq!(cache.stale(&[1; 32]), Some(kept));
        assert_eq!(cache.lookup(&[4; 32]), Ok(fresh));
        assert!(cache.lookup(&[5; 32]).is_err(), "a key no longer live kept its grant");
    }

    /// A check stuck on a connection the outage cut, failing after a later check was
    /// answered, does not mark the store unreachable again: keys never seen would be
    /// refused at once while the database answers.
    #[test]
    fn a_failure_older_than_an_answer_says_nothing_about_the_store() {
        let cache = SdkKeyCache::default();
        let (stuck, later) = (cache.begin(), cache.begin());
        cache.answered(false, stuck);
        assert!(cache.unreachable.load(Ordering::Relaxed));
        cache.answered(true, later);
        assert!(!cache.unreachable.load(Ordering::Relaxed));
        cache.answered(false, stuck); // the stuck read gives up
        assert!(!cache.unreachable.load(Ordering::Relaxed), "an old failure reopened the breaker");
        cache.answered(false, cache.begin()); // a new one fails: down again
        assert!(cache.unreachable.load(Ordering::Relaxed));
    }

    /// Requests that miss the cache together share one store read: after a revocation,
    /// every open stream checks its key at once.
    #[tokio::test]
    async fn concurrent_misses_share_one_read() {
        let cache = Arc::new(SdkKeyCache::default());
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let grant = SdkGrant { env: Arc::from("production"), kind: SdkKind::Client };
        let check = |cache: Arc<SdkKeyCache>, reads: Arc<std::sync::atomic::AtomicUsize>, grant: SdkGrant| async move {
            let cleared = cache.lookup(&[9; 32]).unwrap_err();
            cache
                .look_up([9; 32], cleared, cache.begin(), || async {
                    reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    Ok(Some(grant))
                })
                .await
                .unwrap()
        };
        let checks: Vec<_> =
            (0..100).map(|_| tokio::spawn(check(cache.clone(), reads.clone(), grant.clone()))).collect();
        for joined in checks {
            assert_eq!(joined.await.unwrap(), Some(grant.clone()));
        }
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1, "100 misses, one read");
        assert!(cache.lookup(&[9; 32]).is_ok(), "the read was cached");
        cache.revoked(&hex(&[9; 32]));
        assert_eq!(check(cache.clone(), reads.clone(), grant.clone()).await, Some(grant));
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 2, "a revocation starts a new read");
    }
}
