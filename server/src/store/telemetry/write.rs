//! Adding one report: usage counts added to their hour, last-seen times moved forward,
//! the reporters and the not-found tally updated, exposures appended, and the bounds on
//! counts of rows kept, all in the caller's transaction (so a failure stores nothing).
//!
//! Rows are written in batches of multi-row `INSERT ... ON CONFLICT DO UPDATE`, in key
//! order, so a report of 10,000 counts costs a few statements, not 10,000 round trips.
//! Counts saturate at [`MAX_TALLY`] rather than overflow: anyone holding a client key
//! can post, and an overflow would fail every later report of that flag.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::super::tx::on_conn;
use super::super::Tx;

/// The largest count a row holds: 2^53 - 1, the largest integer JavaScript SDKs count
/// exactly. Sums of a month of hourly rows stay within a 64-bit integer.
pub(crate) const MAX_TALLY: i64 = (1 << 53) - 1;

/// Rows per multi-row statement: 13 columns × 500 stays under SQLite's 32,766 variables.
const ROWS_PER_STATEMENT: usize = 500;

/// How one evaluation ended, as the usage table keeps it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    /// It served this variant of the flag.
    Variant(String),
    /// It ended in an error (`variant: null` on the wire).
    Error,
    /// It served a variant the flag does not define now: an SDK on an older snapshot.
    Unknown,
}

impl Outcome {
    /// The stored `outcome` and `variant` columns.
    fn columns(&self) -> (&'static str, &str) {
        match self {
            Outcome::Variant(name) => ("variant", name),
            Outcome::Error => ("error", ""),
            Outcome::Unknown => ("unknown", ""),
        }
    }
}

/// One exposure to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewExposure {
    pub(crate) flag: String,
    pub(crate) variant: String,
    pub(crate) reason: String,
    pub(crate) rule_id: Option<String>,
    pub(crate) targeting_key: Option<String>,
    pub(crate) bucket_attribute: Option<String>,
    pub(crate) bucket_value: Option<String>,
    pub(crate) snapshot_version: i64,
    pub(crate) timestamp_ms: i64,
}

/// One report, checked and resolved against the environment's flags: what to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    /// The environment.
    pub(crate) env: String,
    /// The SDK key's kind: `server` or `client`.
    pub(crate) kind: &'static str,
    /// The SDK's name and version, as reported.
    pub(crate) sdk: String,
    /// The reporting instance, if it said.
    pub(crate) instance: Option<String>,
    /// The batch's id, if the SDK gave one: stored once, whatever the repeats.
    pub(crate) id: Option<String>,
    /// The snapshot version it served at the window's end, if it said.
    pub(crate) snapshot_version: Option<i64>,
    /// When the report arrived (Unix milliseconds).
    pub(crate) now: i64,
    /// When the evaluations were made by: the window's end, never after `now`.
    pub(crate) seen_at: i64,
    /// Evaluations of flags the environment has, by flag and outcome.
    pub(crate) usage: BTreeMap<(String, Outcome), i64>,
    /// Evaluations of keys it lacks; `None` for what the SDK summed without a key.
    pub(crate) not_found: BTreeMap<Option<String>, i64>,
    /// Exposures of flags the environment has.
    pub(crate) exposures: Vec<NewExposure>,
    /// Exposures the SDK's queue dropped in the window.
    pub(crate) exposures_dropped: i64,
}

/// The bounds on rows kept per environment that writes enforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// Distinct SDK names kept; reports of others are kept under no name.
    pub(crate) sdk_names: i64,
    /// Reporting instances kept (the most recent).
    pub(crate) instances: i64,
    /// Distinct unknown keys kept in the not-found tally.
    pub(crate) not_found_keys: i64,
    /// Exposures kept (the newest); 0 keeps none.
    pub(crate) exposures: i64,
    /// Exposures received before this (Unix milliseconds) are deleted.
    pub(crate) exposures_since: i64,
}

/// A value bound into a batched statement.
enum Value<'a> {
    Text(&'a str),
    MaybeText(Option<&'a str>),
    Int(i64),
}

/// `column = column + excluded.column`, saturating at [`MAX_TALLY`].
fn add(table: &str, column: &str) -> String {
    format!(
        "{column} = CASE WHEN {table}.{column} > {MAX_TALLY} - excluded.{column} THEN {MAX_TALLY} \
         ELSE {table}.{column} + excluded.{column} END"
    )
}

/// `column` = the later of the stored and the new value.
fn later(table: &str, column: &str) -> String {
    format!(
        "{column} = CASE WHEN {table}.{column} > excluded.{column} THEN {table}.{column} ELSE excluded.{column} END"
    )
}

impl Tx {
    /// Records that the batch `id` of `env` was received at `now`; false if it had been
    /// already (a repeat: nothing of it is to be added). Run in the transaction that
    /// adds the batch, so that of two posts of one batch at once, one adds it.
    pub(crate) async fn claim_batch(&mut self, env: &str, id: &str, now: i64) -> Result<bool, sqlx::Error> {
        let sql = "INSERT INTO telemetry_batches (env, batch, received_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (env, batch) DO NOTHING";
        let done = on_conn!(self, |c| sqlx::query(sql).bind(env).bind(id).bind(now).execute(c).await?.rows_affected());
        Ok(done == 1)
    }

    /// Adds `batch` within `bounds`. Returns the SDK name it was kept under (`""` when
    /// the environment already keeps as many others).
    pub(crate) async fn add_report(&mut self, batch: &Batch, bounds: &Bounds) -> Result<String, sqlx::Error> {
        let env = batch.env.as_str();
        let sql = format!(
            "INSERT INTO telemetry_reporting (env, kind, first_report, last_report) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (env, kind) DO UPDATE SET {}",
            later("telemetry_reporting", "last_report")
        );
        on_conn!(self, |c| sqlx::query(&sql).bind(env).bind(batch.kind).bind(batch.now).execute(c).await.map(|_| ()))?;
        let sdk = self.sdk_name(batch, bounds).await?;
        let sql = format!(
            "INSERT INTO telemetry_sources (env, kind, sdk, first_report, last_report, reports, exposures_dropped) \
             VALUES ($1, $2, $3, $4, $4, 1, $5) ON CONFLICT (env, kind, sdk) DO UPDATE SET {}, {}, {}",
            later("telemetry_sources", "last_report"),
            add("telemetry_sources", "reports"),
            add("telemetry_sources", "exposures_dropped")
        );
        on_conn!(self, |c| sqlx::query(&sql)
            .bind(env)
            .bind(batch.kind)
            .bind(&sdk)
            .bind(batch.now)
            .bind(batch.exposures_dropped.min(MAX_TALLY))
            .execute(c)
            .await
            .map(|_| ()))?;
        if let Some(instance) = &batch.instance {
            self.add_instance(batch, instance, &sdk, bounds).await?;
        }
        self.add_usage(batch, &sdk).await?;
        self.add_not_found(batch, bounds).await?;
        self.add_exposures(batch, &sdk, bounds).await?;
        Ok(sdk)
    }

    /// The name `batch`'s SDK is kept under: its own, unless the environment keeps
    /// `bounds.sdk_names` others already (client keys are public: anyone could post a
    /// new name with every report).
    async fn sdk_name(&mut self, batch: &Batch, bounds: &Bounds) -> Result<String, sqlx::Error> {
        let sql = "SELECT COUNT(*) FROM telemetry_sources WHERE env = $1 AND kind = $2 AND sdk = $3";
        let known: i64 = on_conn!(self, |c| sqlx::query_scalar(sql)
            .bind(&batch.env)
            .bind(batch.kind)
            .bind(&batch.sdk)
            .fetch_one(c)
            .await)?;
        if known > 0 {
            return Ok(batch.sdk.clone());
        }
        let sql = "SELECT COUNT(*) FROM telemetry_sources WHERE env = $1 AND sdk <> ''";
        let names: i64 = on_conn!(self, |c| sqlx::query_scalar(sql).bind(&batch.env).fetch_one(c).await)?;
        Ok(if names < bounds.sdk_names { batch.sdk.clone() } else { String::new() })
    }

    /// Records the reporting instance, keeping the `bounds.instances` most recent.
    async fn add_instance(
        &mut self,
        batch: &Batch,
        instance: &str,
        sdk: &str,
        bounds: &Bounds,
    ) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO telemetry_instances (env, instance, kind, sdk, last_report, snapshot_version) \
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (env, instance) DO UPDATE SET kind = excluded.kind, \
                   sdk = excluded.sdk, last_report = excluded.last_report, snapshot_version = excluded.snapshot_version";
        on_conn!(self, |c| sqlx::query(sql)
            .bind(&batch.env)
            .bind(instance)
            .bind(batch.kind)
            .bind(sdk)
            .bind(batch.now)
            .bind(batch.snapshot_version)
            .execute(c)
            .await
            .map(|_| ()))?;
        let sql = "SELECT COUNT(*) FROM telemetry_instances WHERE env = $1";
        let kept: i64 = on_conn!(self, |c| sqlx::query_scalar(sql).bind(&batch.env).fetch_one(c).await)?;
        if kept > bounds.instances {
            let sql = "DELETE FROM telemetry_instances WHERE env = $1 AND instance IN (SELECT instance FROM \
                       telemetry_instances WHERE env = $1 ORDER BY last_report, instance LIMIT $2)";
            let excess = kept - bounds.instances;
            on_conn!(self, |c| sqlx::query(sql).bind(&batch.env).bind(excess).execute(c).await.map(|_| ()))?;
        }
        Ok(())
    }

    /// Adds the counts to their hour, and moves each flag's last-seen time forward.
    async fn add_usage(&mut self, batch: &Batch, sdk: &str) -> Result<(), sqlx::Error> {
        let hour = batch.seen_at - batch.seen_at.rem_euclid(3_600_000);
        let rows: Vec<Vec<Value<'_>>> = batch
            .usage
            .iter()
            .map(|((flag, outcome), count)| {
                let (outcome, variant) = outcome.columns();
                vec![
                    Value::Text(&batch.env),
                    Value::Text(flag),
                    Value::Int(hour),
                    Value::Text(outcome),
                    Value::Text(variant),
                    Value::Int((*count).min(MAX_TALLY)),
                ]
            })
            .collect();
        let tail = format!(
            "ON CONFLICT (env, flag, hour, outcome, variant) DO UPDATE SET {}",
            add("telemetry_usage", "evaluations")
        );
        let head = "INSERT INTO telemetry_usage (env, flag, hour, outcome, variant, evaluations) VALUES ";
        self.insert_rows(head, &tail, &rows).await?;
        let flags: BTreeSet<&str> = batch.usage.keys().map(|(flag, _)| flag.as_str()).collect();
        let rows: Vec<Vec<Value<'_>>> = flags
            .into_iter()
            .map(|flag| vec![Value::Text(&batch.env), Value::Text(flag), Value::Text(sdk), Value::Int(batch.seen_at)])
            .collect();
        let tail = format!("ON CONFLICT (env, flag, sdk) DO UPDATE SET {}", later("telemetry_seen", "last_seen"));
        self.insert_rows("INSERT INTO telemetry_seen (env, flag, sdk, last_seen) VALUES ", &tail, &rows).await
    }

    /// Adds to the not-found tally: a key already kept, or a new one while fewer than
    /// `bounds.not_found_keys` are, has its own row; the rest go to the row of `''`.
    async fn add_not_found(&mut self, batch: &Batch, bounds: &Bounds) -> Result<(), sqlx::Error> {
        if batch.not_found.is_empty() {
            return Ok(());
        }
        let sql = "SELECT flag FROM telemetry_not_found WHERE env = $1 AND flag <> ''";
        let kept: BTreeSet<String> =
            on_conn!(self, |c| sqlx::query_scalar(sql).bind(&batch.env).fetch_all(c).await)?.into_iter().collect();
        let mut room = bounds.not_found_keys.saturating_sub(kept.len() as i64);
        let mut tally: BTreeMap<&str, i64> = BTreeMap::new();
        for (key, count) in &batch.not_found {
            let key = match key {
                Some(key) if kept.contains(key) => key.as_str(),
                Some(key) if room > 0 => {
                    room -= 1;
                    key.as_str()
                }
                _ => "",
            };
            let sum = tally.entry(key).or_default();
            *sum = sum.saturating_add(*count).min(MAX_TALLY);
        }
        // A client key's evaluations are counted apart too: a flag that exists but is
        // not client-visible is not found by browsers alone.
        let client = batch.kind == "client";
        let rows: Vec<Vec<Value<'_>>> = tally
            .into_iter()
            .map(|(key, count)| {
                vec![
                    Value::Text(&batch.env),
                    Value::Text(key),
                    Value::Int(count),
                    Value::Int(if client { count } else { 0 }),
                    Value::Int(batch.seen_at),
                    Value::Int(batch.seen_at),
                ]
            })
            .collect();
        let tail = format!(
            "ON CONFLICT (env, flag) DO UPDATE SET {}, {}, {}",
            add("telemetry_not_found", "evaluations"),
            add("telemetry_not_found", "client_evaluations"),
            later("telemetry_not_found", "last_seen")
        );
        let head = "INSERT INTO telemetry_not_found (env, flag, evaluations, client_evaluations, first_seen, \
                    last_seen) VALUES ";
        self.insert_rows(head, &tail, &rows).await
    }

    /// Appends the exposures, then deletes those past the bounds: all but the newest
    /// `bounds.exposures`, and those received before `bounds.exposures_since`.
    async fn add_exposures(&mut self, batch: &Batch, sdk: &str, bounds: &Bounds) -> Result<(), sqlx::Error> {
        if bounds.exposures <= 0 {
            let sql = "DELETE FROM telemetry_exposures WHERE env = $1";
            on_conn!(self, |c| sqlx::query(sql).bind(&batch.env).execute(c).await.map(|_| ()))?;
            return Ok(());
        }
        let rows: Vec<Vec<Value<'_>>> = batch
            .exposures
            .iter()
            .map(|e| {
                vec![
                    Value::Text(&batch.env),
                    Value::Text(&e.flag),
                    Value::Text(&e.variant),
                    Value::Text(&e.reason),
                    Value::MaybeText(e.rule_id.as_deref()),
                    Value::MaybeText(e.targeting_key.as_deref()),
                    Value::MaybeText(e.bucket_attribute.as_deref()),
                    Value::MaybeText(e.bucket_value.as_deref()),
                    Value::Int(e.snapshot_version),
                    Value::Int(e.timestamp_ms),
                    Value::Int(batch.now),
                    Value::Text(sdk),
                    Value::MaybeText(batch.instance.as_deref()),
                ]
            })
            .collect();
        let head = "INSERT INTO telemetry_exposures (env, flag, variant, reason, rule_id, targeting_key, \
                    bucket_attribute, bucket_value, snapshot_version, timestamp_ms, received_at, sdk, instance) VALUES ";
        self.insert_rows(head, "", &rows).await?;
        // The row at offset N, newest first, is the newest one past the bound.
        let sql = "DELETE FROM telemetry_exposures WHERE env = $1 AND (received_at < $2 OR id <= (SELECT id FROM \
                   telemetry_exposures WHERE env = $1 ORDER BY id DESC LIMIT 1 OFFSET $3))";
        on_conn!(self, |c| sqlx::query(sql)
            .bind(&batch.env)
            .bind(bounds.exposures_since)
            .bind(bounds.exposures)
            .execute(c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Runs `head VALUES (...), (...) tail` over `rows`, in statements of at most
    /// [`ROWS_PER_STATEMENT`] rows.
    async fn insert_rows(&mut self, head: &str, tail: &str, rows: &[Vec<Value<'_>>]) -> Result<(), sqlx::Error> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(head);
            let mut n = 0;
            for (i, row) in chunk.iter().enumerate() {
                sql.push_str(if i == 0 { "(" } else { ", (" });
                for j in 0..row.len() {
                    n += 1;
                    let _ = write!(sql, "{}${n}", if j == 0 { "" } else { ", " });
                }
                sql.push(')');
            }
            sql.push(' ');
            sql.push_str(tail);
            on_conn!(self, |c| {
                let mut query = sqlx::query(&sql);
                for value in chunk.iter().flatten() {
                    query = match value {
                        Value::Text(text) => query.bind(*text),
                        Value::MaybeText(text) => query.bind(*text),
                        Value::Int(int) => query.bind(*int),
                    };
                }
                query.execute(c).await?;
            });
        }
        Ok(())
    }

    /// Deletes what has aged out in every environment, one table per call of `step`
    /// (0 to 6; `None` past the last): each runs on its own, so a sweep never holds
    /// rows of several tables that reports wait for.
    pub(crate) async fn sweep(&mut self, step: usize, cutoffs: &Cutoffs) -> Result<Option<u64>, sqlx::Error> {
        let (sql, cutoff) = match step {
            0 => ("DELETE FROM telemetry_usage WHERE hour < $1", cutoffs.usage),
            1 => ("DELETE FROM telemetry_seen WHERE last_seen < $1", cutoffs.seen),
            2 => ("DELETE FROM telemetry_not_found WHERE last_seen < $1", cutoffs.not_found),
            3 => ("DELETE FROM telemetry_sources WHERE last_report < $1", cutoffs.sources),
            4 => ("DELETE FROM telemetry_instances WHERE last_report < $1", cutoffs.instances),
            5 => ("DELETE FROM telemetry_exposures WHERE received_at < $1", cutoffs.exposures),
            6 => ("DELETE FROM telemetry_batches WHERE received_at < $1", cutoffs.batches),
            _ => return Ok(None),
        };
        let done = on_conn!(self, |c| sqlx::query(sql).bind(cutoff).execute(c).await.map(|done| done.rows_affected()))?;
        Ok(Some(done))
    }
}

/// The times before which the sweep deletes rows of each kind (Unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cutoffs {
    pub(crate) usage: i64,
    pub(crate) seen: i64,
    pub(crate) not_found: i64,
    pub(crate) sources: i64,
    pub(crate) instances: i64,
    pub(crate) exposures: i64,
    pub(crate) batches: i64,
}
