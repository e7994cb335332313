//! Write operations. Each one runs in a [`Writer`]: one database transaction that
//! holds the lock of the environments it will publish, changes rows, publishes a
//! snapshot of every environment it touched, appends its audit entries (with the
//! versions they produced), prunes the snapshot history of what it published
//! (`snapshot::retention`), commits, and only then tells the hub and the exporter.

pub(crate) mod access;
pub(crate) mod changes;
mod compact;
pub(crate) mod envs;
pub(crate) mod flags;
mod labels;
pub(crate) mod ops;
mod precondition;
mod rollback;
mod segments;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub(crate) use precondition::{etag_env, etag_rev, IfMatch};

use crate::app::AppInner;
use crate::error::ApiError;
use crate::snapshot::{publish, Focus, Published};
use crate::store::{to_i64, Lock, NewAudit, Repository, Tx};

/// Who is writing, and in which request.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    /// The token's name.
    pub(crate) name: String,
    /// The request id.
    pub(crate) request_id: String,
}

/// One write transaction; see the module docs.
pub(crate) struct Writer<'a> {
    /// The running server; `None` for a write made offline ([`Writer::offline`]).
    app: Option<&'a AppInner>,
    /// The transaction.
    pub(crate) tx: Tx,
    actor: String,
    approved_by: Option<String>,
    change_request: Option<i64>,
    request_id: String,
    /// The time of the write, Unix milliseconds.
    pub(crate) now: i64,
    publish: BTreeSet<String>,
    published: Vec<Published>,
    audits: Vec<NewAudit>,
    /// What the write is about, for error messages.
    pub(crate) focus: Focus,
}

impl<'a> Writer<'a> {
    /// The revision a resource gets from this write, `previous` being its current one (0
    /// for none): one more, and never less than the write's time in milliseconds. So a
    /// resource deleted and created again under the same key never repeats a revision,
    /// and an ETag read from the old one cannot match the new one.
    pub(crate) fn next_rev(&self, previous: i64) -> i64 {
        previous.saturating_add(1).max(self.now)
    }

    /// Begins a write holding `lock`.
    pub(crate) async fn begin(app: &'a AppInner, actor: &Actor, lock: Lock) -> Result<Writer<'a>, ApiError> {
        let tx = app.store.write(&lock).await?;
        Ok(Writer::with(Some(app), tx, actor))
    }

    /// Begins a write on `store` outside a running server, by a command with direct
    /// access to the database (`pennon admin-token`). It changes rows and audits like any
    /// other write, but cannot publish: it holds no signing key, so a write that would
    /// publish is refused at commit and nothing is written.
    pub(crate) async fn offline(store: &dyn Repository, actor: &Actor, lock: Lock) -> Result<Writer<'a>, ApiError> {
        let tx = store.write(&lock).await?;
        Ok(Writer::with(None, tx, actor))
    }

    fn with(app: Option<&'a AppInner>, tx: Tx, actor: &Actor) -> Writer<'a> {
        Writer {
            app,
            tx,
            actor: actor.name.clone(),
            approved_by: None,
            change_request: None,
            request_id: actor.request_id.clone(),
            now: crate::clock::now_ms(),
            publish: BTreeSet::new(),
            published: Vec::new(),
            audits: Vec::new(),
            focus: Focus::None,
        }
    }

    /// The running server, for what only it can do: sign and announce snapshots.
    fn server(&self) -> Result<&'a AppInner, ApiError> {
        self.app.ok_or_else(|| {
            ApiError::internal(format!(
                "an offline write cannot publish ({}): it has no signing key",
                self.publish.iter().cloned().collect::<Vec<_>>().join(", ")
            ))
        })
    }

    /// Marks the write as the application of change request `id`, approved by `approver`.
    pub(crate) fn approved(&mut self, id: i64, approver: &str) {
        self.change_request = Some(id);
        self.approved_by = Some(approver.to_owned());
    }

    /// Who this write is recorded as.
    pub(crate) fn actor_name(&self) -> &str {
        &self.actor
    }

    /// Makes later audit entries name `name` as the actor, with no approver: for the
    /// approval entry of a change request, written after the change it applies.
    pub(crate) fn act_as(&mut self, name: &str) {
        self.actor = name.to_owned();
        self.approved_by = None;
    }

    /// The newest version of `env` in the export directory; 0 without one.
    pub(crate) fn exported_version(&self, env: &str) -> u64 {
        self.app.and_then(|app| app.exporter.as_ref()).map_or(0, |exporter| exporter.newest(env))
    }

    /// The snapshot retention of the running server; `None` offline.
    pub(crate) fn retention(&self) -> Option<crate::Retention> {
        self.app.map(|app| app.config.retention)
    }

    /// Whether this write changed anything so far: something to publish or audit.
    pub(crate) fn changed(&self) -> bool {
        !self.publish.is_empty() || !self.audits.is_empty()
    }

    /// Publishes `env` at commit.
    pub(crate) fn publish(&mut self, env: &str) {
        self.publish.insert(env.to_owned());
    }

    /// Appends an audit entry at commit; entries about a published environment record
    /// the version it produced. A large one is stored compact (`compact.rs`).
    pub(crate) fn audit<B: Serialize, A: Serialize>(
        &mut self,
        action: &str,
        resource: (&str, &str),
        env: Option<&str>,
        before: Option<&B>,
        after: Option<&A>,
    ) {
        let value = |v: Option<serde_json::Value>| v.filter(|v| !v.is_null());
        let before = value(before.and_then(|b| serde_json::to_value(b).ok()));
        let after = value(after.and_then(|a| serde_json::to_value(a).ok()));
        self.push_audit(action, resource, env, compact::stored(before, after));
    }

    /// Appends the entry of something created, `after`, that restates `base` (what is
    /// there now) with some changes: a change request proposing a new version of a
    /// resource. It is stored compact, as an edit from `base` to `after` would be
    /// (`compact::stored_against`), so a large proposal is not stored a second time
    /// beside the change request itself.
    pub(crate) fn audit_against(
        &mut self,
        action: &str,
        resource: (&str, &str),
        env: Option<&str>,
        base: serde_json::Value,
        after: serde_json::Value,
    ) {
        self.push_audit(action, resource, env, compact::stored_against(base, after));
    }

    fn push_audit(&mut self, action: &str, resource: (&str, &str), env: Option<&str>, stored: compact::Stored) {
        // `GET /api/v1/audit` refuses a filter on anything else: a new action goes there.
        debug_assert!(crate::model::AUDIT_ACTIONS.contains(&action), "{action} is not in AUDIT_ACTIONS");
        debug_assert!(crate::model::AUDIT_RESOURCE_TYPES.contains(&resource.0), "{} is unlisted", resource.0);
        self.audits.push(NewAudit {
            at: self.now,
            actor: self.actor.clone(),
            approved_by: self.approved_by.clone(),
            action: action.to_owned(),
            resource_type: resource.0.to_owned(),
            resource: resource.1.to_owned(),
            env: env.map(str::to_owned),
            before_json: stored.before,
            after_json: stored.after,
            changes_json: stored.changes,
            request_id: self.request_id.clone(),
            snapshot_version: None,
            change_request: self.change_request,
        });
    }

    /// Builds and compiles the snapshots this write would publish, then rolls back:
    /// how a change request is checked before it is opened.
    pub(crate) async fn validate(mut self) -> Result<(), ApiError> {
        if self.publish.is_empty() {
            return Ok(());
        }
        let app = self.server()?;
        for env in &self.publish {
            publish(&mut self.tx, &app.keys, app.config.snapshot_ttl, self.now, env, &self.focus, true).await?;
        }
        Ok(())
    }

    /// Publishes every environment marked so far, now (still uncommitted), and returns
    /// the versions reached. [`Writer::commit`] does this itself when it was not done.
    pub(crate) async fn publish_now(&mut self) -> Result<BTreeMap<String, u64>, ApiError> {
        if !self.publish.is_empty() {
            let app = self.server()?;
            for env in std::mem::take(&mut self.publish) {
                let ttl = app.config.snapshot_ttl;
                if let Some(p) = publish(&mut self.tx, &app.keys, ttl, self.now, &env, &self.focus, false).await? {
                    self.published.push(p);
                }
            }
        }
        Ok(self.published.iter().map(|p| (p.env.clone(), p.version)).collect())
    }

    /// Publishes, audits and commits. Returns the version each environment reached.
    pub(crate) async fn commit(mut self) -> Result<BTreeMap<String, u64>, ApiError> {
        let versions = self.publish_now().await?;
        for mut entry in std::mem::take(&mut self.audits) {
            entry.snapshot_version = entry.env.as_ref().and_then(|env| versions.get(env)).map(|v| to_i64(*v));
            self.tx.insert_audit(&entry).await?;
        }
        // Nothing was published offline (`publish_now` refuses to), so there is nothing
        // to prune or announce.
        let Some(app) = self.app else {
            self.tx.commit().await?;
            return Ok(versions);
        };
        let published = self.published.iter().map(|p| p.env.as_str());
        crate::snapshot::prune_published(&mut self.tx, &app.config.retention, published, self.now).await?;
        self.tx.commit().await?;
        for p in self.published {
            app.announce(p).await;
        }
        Ok(versions)
    }
}

/// Serializes a value for an audit entry or a response.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(ApiError::internal)
}
