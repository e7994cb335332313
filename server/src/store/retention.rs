//! The queries of snapshot retention: where an environment and audience's history
//! starts and ends, and the one way to delete from it.
//!
//! Deleting is guarded in the database (migration 0005): a trigger refuses to delete a
//! snapshot unless a permit of the same transaction covers its version, and never the
//! newest of its environment and audience. [`Tx::prune_snapshots`] is the only code
//! that writes a permit.

use super::tx::on_conn;
use super::Tx;

/// One environment and audience's history, for the sweep: how many versions, and when
/// the oldest was issued.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct HistoryRow {
    pub(crate) env: String,
    pub(crate) kind: String,
    pub(crate) versions: i64,
    pub(crate) oldest_issued_at: i64,
}

impl Tx {
    /// Every environment and audience with published snapshots, deleted environments
    /// included.
    pub(crate) async fn snapshot_histories(&mut self) -> Result<Vec<HistoryRow>, sqlx::Error> {
        let sql = "SELECT env, kind, COUNT(*) AS versions, MIN(issued_at) AS oldest_issued_at \
                   FROM snapshots GROUP BY env, kind ORDER BY env, kind";
        on_conn!(self, |c| sqlx::query_as(sql).fetch_all(c).await)
    }

    /// The version `skip` places below the newest of `env`/`kind` (0: the newest), if
    /// there are that many.
    pub(crate) async fn version_from_newest(
        &mut self,
        env: &str,
        kind: &str,
        skip: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let sql = "SELECT version FROM snapshots WHERE env = $1 AND kind = $2 ORDER BY version DESC LIMIT 1 OFFSET $3";
        on_conn!(self, |c| sqlx::query_scalar(sql).bind(env).bind(kind).bind(skip).fetch_optional(c).await)
    }

    /// The version `skip` places above the oldest of `env`/`kind` below `below`, if there
    /// are that many.
    pub(crate) async fn version_from_oldest(
        &mut self,
        env: &str,
        kind: &str,
        below: i64,
        skip: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let sql = "SELECT version FROM snapshots WHERE env = $1 AND kind = $2 AND version < $3 \
                   ORDER BY version LIMIT 1 OFFSET $4";
        on_conn!(self, |c| sqlx::query_scalar(sql).bind(env).bind(kind).bind(below).bind(skip).fetch_optional(c).await)
    }

    /// The oldest version of `env`/`kind` issued at `since` or later.
    pub(crate) async fn oldest_issued_since(
        &mut self,
        env: &str,
        kind: &str,
        since: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let sql = "SELECT version FROM snapshots WHERE env = $1 AND kind = $2 AND issued_at >= $3 \
                   ORDER BY version LIMIT 1";
        on_conn!(self, |c| sqlx::query_scalar(sql).bind(env).bind(kind).bind(since).fetch_optional(c).await)
    }

    /// The oldest version of `env`/`kind` still stored above `floor` (the versions of
    /// an earlier environment of the same name end at `floor`).
    pub(crate) async fn oldest_kept(&mut self, env: &str, kind: &str, floor: i64) -> Result<Option<i64>, sqlx::Error> {
        let sql = "SELECT MIN(version) FROM snapshots WHERE env = $1 AND kind = $2 AND version > $3";
        on_conn!(self, |c| sqlx::query_scalar(sql).bind(env).bind(kind).bind(floor).fetch_one(c).await)
    }

    /// Deletes the snapshots of `env`/`kind` below version `below`, under a permit that
    /// lives only inside this call; returns how many. The trigger still refuses the
    /// newest, so a wrong `below` fails the statement rather than emptying the history.
    pub(crate) async fn prune_snapshots(&mut self, env: &str, kind: &str, below: i64) -> Result<u64, sqlx::Error> {
        let permit = "INSERT INTO snapshot_prune_permits (env, kind, below) VALUES ($1, $2, $3)";
        on_conn!(self, |c| sqlx::query(permit).bind(env).bind(kind).bind(below).execute(c).await.map(drop))?;
        let delete = "DELETE FROM snapshots WHERE env = $1 AND kind = $2 AND version < $3";
        let deleted =
            on_conn!(self, |c| sqlx::query(delete).bind(env).bind(kind).bind(below).execute(c).await?.rows_affected());
        let done = "DELETE FROM snapshot_prune_permits WHERE env = $1 AND kind = $2";
        on_conn!(self, |c| sqlx::query(done).bind(env).bind(kind).execute(c).await.map(drop))?;
        Ok(deleted)
    }

    /// Starts, keeps or undoes (`step`) the part of a write named `name` that may fail
    /// without failing the write.
    pub(crate) async fn savepoint(&mut self, step: Savepoint, name: &str) -> Result<(), sqlx::Error> {
        let sql = match step {
            Savepoint::Begin => format!("SAVEPOINT {name}"),
            Savepoint::Release => format!("RELEASE SAVEPOINT {name}"),
            Savepoint::Undo => format!("ROLLBACK TO SAVEPOINT {name}"),
        };
        on_conn!(self, |c| sqlx::query(&sql).execute(c).await.map(drop))
    }
}

/// A step of [`Tx::savepoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Savepoint {
    /// `SAVEPOINT`.
    Begin,
    /// `RELEASE SAVEPOINT`: keep what was done since.
    Release,
    /// `ROLLBACK TO SAVEPOINT`: undo what was done since (the savepoint stays).
    Undo,
}
