//! Reading telemetry back for the reports: usage summed per time bucket in the
//! database, last-seen times, who reports, the not-found tally and exposures.

use super::super::tx::on_conn;
use super::super::Tx;

/// Evaluations of one flag with one outcome in one time bucket.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct UsageRow {
    pub(crate) flag: String,
    /// The bucket's start (Unix milliseconds).
    pub(crate) start: i64,
    /// `variant`, `error` or `unknown`.
    pub(crate) outcome: String,
    /// The variant, for `variant`; empty otherwise.
    pub(crate) variant: String,
    pub(crate) evaluations: i64,
}

/// An SDK that reports, by name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SourceRow {
    pub(crate) kind: String,
    /// Empty for the names past the bound.
    pub(crate) sdk: String,
    pub(crate) first_report: i64,
    pub(crate) last_report: i64,
    pub(crate) reports: i64,
    pub(crate) exposures_dropped: i64,
}

/// A key in the not-found tally.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct NotFoundRow {
    /// Empty for the keys past the bound and what SDKs summed themselves.
    pub(crate) flag: String,
    pub(crate) evaluations: i64,
    /// Of them, those reported with a client key.
    pub(crate) client_evaluations: i64,
    pub(crate) first_seen: i64,
    pub(crate) last_seen: i64,
}

/// A stored exposure.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ExposureRow {
    pub(crate) id: i64,
    pub(crate) env: String,
    pub(crate) flag: String,
    pub(crate) variant: String,
    pub(crate) reason: String,
    pub(crate) rule_id: Option<String>,
    pub(crate) targeting_key: Option<String>,
    pub(crate) bucket_attribute: Option<String>,
    pub(crate) bucket_value: Option<String>,
    pub(crate) snapshot_version: i64,
    pub(crate) timestamp_ms: i64,
    pub(crate) received_at: i64,
    pub(crate) sdk: String,
    pub(crate) instance: Option<String>,
}

/// Which exposures to read: newest first.
#[derive(Debug, Clone)]
pub(crate) struct ExposureFilter {
    pub(crate) env: String,
    pub(crate) flag: Option<String>,
    /// Received at or after (Unix milliseconds).
    pub(crate) since: i64,
    /// Ids below this only (paging).
    pub(crate) before_id: Option<i64>,
    pub(crate) limit: i64,
}

impl Tx {
    /// Evaluations in `env` from `from` (inclusive) to `until` (exclusive), summed per
    /// flag, outcome and bucket of `bucket` milliseconds (buckets start at multiples of
    /// it), for one flag or all.
    pub(crate) async fn usage(
        &mut self,
        env: &str,
        flag: Option<&str>,
        from: i64,
        until: i64,
        bucket: i64,
    ) -> Result<Vec<UsageRow>, sqlx::Error> {
        let one = if flag.is_some() { " AND flag = $5" } else { "" };
        let sql = format!(
            "SELECT flag, (hour / $4) * $4 AS start, outcome, variant, CAST(SUM(evaluations) AS BIGINT) AS evaluations \
             FROM telemetry_usage WHERE env = $1 AND hour >= $2 AND hour < $3{one} \
             GROUP BY flag, start, outcome, variant ORDER BY flag, start, outcome, variant"
        );
        on_conn!(self, |c| {
            let query = sqlx::query_as(&sql).bind(env).bind(from).bind(until).bind(bucket);
            match flag {
                Some(flag) => query.bind(flag).fetch_all(c).await,
                None => query.fetch_all(c).await,
            }
        })
    }

    /// When each SDK last evaluated each flag in `env` (or one flag): flag, SDK, time.
    pub(crate) async fn last_seen(
        &mut self,
        env: &str,
        flag: Option<&str>,
    ) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
        let one = if flag.is_some() { " AND flag = $2" } else { "" };
        let sql = format!("SELECT flag, sdk, last_seen FROM telemetry_seen WHERE env = $1{one} ORDER BY flag, sdk");
        on_conn!(self, |c| {
            let query = sqlx::query_as(&sql).bind(env);
            match flag {
                Some(flag) => query.bind(flag).fetch_all(c).await,
                None => query.fetch_all(c).await,
            }
        })
    }

    /// Since when and until when SDKs of each key kind reported in `env`: kind, first,
    /// last.
    pub(crate) async fn reporting(&mut self, env: &str) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
        let sql = "SELECT kind, first_report, last_report FROM telemetry_reporting WHERE env = $1 ORDER BY kind";
        on_conn!(self, |c| sqlx::query_as(sql).bind(env).fetch_all(c).await)
    }

    /// The SDKs that report in `env`, most recent first.
    pub(crate) async fn sources(&mut self, env: &str) -> Result<Vec<SourceRow>, sqlx::Error> {
        let sql = "SELECT kind, sdk, first_report, last_report, reports, exposures_dropped FROM telemetry_sources \
                   WHERE env = $1 ORDER BY last_report DESC, kind, sdk";
        on_conn!(self, |c| sqlx::query_as(sql).bind(env).fetch_all(c).await)
    }

    /// How many instances of each kind and SDK reported in `env` at or after `since`:
    /// kind, SDK, count.
    pub(crate) async fn instances(&mut self, env: &str, since: i64) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
        let sql = "SELECT kind, sdk, COUNT(*) FROM telemetry_instances WHERE env = $1 AND last_report >= $2 \
                   GROUP BY kind, sdk ORDER BY kind, sdk";
        on_conn!(self, |c| sqlx::query_as(sql).bind(env).bind(since).fetch_all(c).await)
    }

    /// The not-found tally of `env`, most recently seen first.
    pub(crate) async fn not_found(&mut self, env: &str) -> Result<Vec<NotFoundRow>, sqlx::Error> {
        let sql = "SELECT flag, evaluations, client_evaluations, first_seen, last_seen FROM telemetry_not_found \
                   WHERE env = $1 \
                   ORDER BY last_seen DESC, flag";
        on_conn!(self, |c| sqlx::query_as(sql).bind(env).fetch_all(c).await)
    }

    /// Exposures as `filter` says, newest first.
    pub(crate) async fn exposures(&mut self, filter: &ExposureFilter) -> Result<Vec<ExposureRow>, sqlx::Error> {
        let mut sql = String::from(
            "SELECT id, env, flag, variant, reason, rule_id, targeting_key, bucket_attribute, bucket_value, \
             snapshot_version, timestamp_ms, received_at, sdk, instance FROM telemetry_exposures \
             WHERE env = $1 AND received_at >= $2 AND id < $3",
        );
        if filter.flag.is_some() {
            sql.push_str(" AND flag = $5");
        }
        sql.push_str(" ORDER BY id DESC LIMIT $4");
        let before = filter.before_id.unwrap_or(i64::MAX);
        on_conn!(self, |c| {
            let query = sqlx::query_as(&sql).bind(&filter.env).bind(filter.since).bind(before).bind(filter.limit);
            match &filter.flag {
                Some(flag) => query.bind(flag).fetch_all(c).await,
                None => query.fetch_all(c).await,
            }
        })
    }
}
