//! Forgetting what telemetry kept of a deleted flag or environment: one created again
//! under the same name starts afresh. Reports add counts to the hour they arrive in,
//! so rows the report could leave out by the new one's creation time would still mix
//! the predecessor's counts of that hour (or day) into the new one's.

use super::super::tx::on_conn;
use super::super::Tx;

/// Tables with rows per environment and flag.
const PER_FLAG: [&str; 3] = ["telemetry_usage", "telemetry_seen", "telemetry_exposures"];

/// Tables with rows per environment.
const PER_ENV: [&str; 8] = [
    "telemetry_usage",
    "telemetry_seen",
    "telemetry_reporting",
    "telemetry_sources",
    "telemetry_instances",
    "telemetry_not_found",
    "telemetry_exposures",
    "telemetry_batches",
];

impl Tx {
    /// Deletes the counts, last-seen times and exposures of flag `key` in `envs` (the
    /// not-found tally keeps its key: code still asking for a deleted flag is news).
    /// Returns the rows deleted.
    pub(crate) async fn forget_flag(&mut self, envs: &[String], key: &str) -> Result<u64, sqlx::Error> {
        let mut deleted = 0;
        for env in envs {
            for table in PER_FLAG {
                let sql = format!("DELETE FROM {table} WHERE env = $1 AND flag = $2");
                deleted += on_conn!(self, |c| sqlx::query(&sql).bind(env).bind(key).execute(c).await?.rows_affected());
            }
        }
        Ok(deleted)
    }

    /// Deletes everything kept of environment `env`. Returns the rows deleted.
    pub(crate) async fn forget_env(&mut self, env: &str) -> Result<u64, sqlx::Error> {
        let mut deleted = 0;
        for table in PER_ENV {
            let sql = format!("DELETE FROM {table} WHERE env = $1");
            deleted += on_conn!(self, |c| sqlx::query(&sql).bind(env).execute(c).await?.rows_affected());
        }
        Ok(deleted)
    }
}
