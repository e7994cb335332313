-- Evaluation telemetry from the SDKs (POST /v1/telemetry/{env}; docs/OPERATIONS.md,
-- "Telemetry"), SQLite schema. These tables live in a database file of their own
-- (`pennon-telemetry.db` beside `pennon.db`), with their own migrations: SQLite has one
-- write lock per file, and in the main file every report would queue with the flag
-- writes that publish snapshots. Telemetry is not audit: rows are added to as reports
-- arrive and pruned by age and count, so there are no immutability triggers, and no
-- foreign keys (environments and flags live in the other file). Rows of deleted flags
-- and environments are left out of reports and age out. PostgreSQL has these tables
-- in its main schema (migrations/postgres/0005_telemetry.sql).

-- Evaluations per environment, flag, hour and outcome, added to by every report.
CREATE TABLE telemetry_usage (
    env         TEXT NOT NULL,
    flag        TEXT NOT NULL,
    -- The start of the hour (Unix milliseconds, UTC) the reports' windows ended in.
    hour        INTEGER NOT NULL,
    -- `variant`: served `variant`; `error`: ended in an error; `unknown`: served a
    -- variant the flag does not define (an SDK on a snapshot from before it changed).
    outcome     TEXT NOT NULL CHECK (outcome IN ('variant', 'error', 'unknown')),
    -- '' unless `outcome` is `variant` (variant names are never empty).
    variant     TEXT NOT NULL,
    evaluations INTEGER NOT NULL,
    PRIMARY KEY (env, flag, hour, outcome, variant)
);
CREATE INDEX telemetry_usage_hour ON telemetry_usage (env, hour);

-- When each SDK (by its reported name) last evaluated a flag in an environment.
CREATE TABLE telemetry_seen (
    env       TEXT NOT NULL,
    flag      TEXT NOT NULL,
    sdk       TEXT NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (env, flag, sdk)
);

-- Since when SDKs of each key kind have reported in an environment, and when they last
-- did: the stale-flag report's `unused` rests on it (silence is not evidence).
CREATE TABLE telemetry_reporting (
    env          TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('server', 'client')),
    first_report INTEGER NOT NULL,
    last_report  INTEGER NOT NULL,
    PRIMARY KEY (env, kind)
);

-- The SDKs that report, by name ('' for names past the bound of names kept).
CREATE TABLE telemetry_sources (
    env               TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('server', 'client')),
    sdk               TEXT NOT NULL,
    first_report      INTEGER NOT NULL,
    last_report       INTEGER NOT NULL,
    reports           INTEGER NOT NULL,
    exposures_dropped INTEGER NOT NULL,
    PRIMARY KEY (env, kind, sdk)
);

-- The SDK instances that report (by their random `instance` id), newest kept.
CREATE TABLE telemetry_instances (
    env              TEXT NOT NULL,
    instance         TEXT NOT NULL,
    kind             TEXT NOT NULL,
    sdk              TEXT NOT NULL,
    last_report      INTEGER NOT NULL,
    snapshot_version INTEGER,
    PRIMARY KEY (env, instance)
);
CREATE INDEX telemetry_instances_age ON telemetry_instances (env, last_report);

-- Evaluations of keys the served snapshot lacked, per key ('' gathers the keys past the
-- bound of distinct keys kept, and what the SDKs summed themselves).
CREATE TABLE telemetry_not_found (
    env         TEXT NOT NULL,
    flag        TEXT NOT NULL,
    evaluations INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (env, flag)
);

-- Exposures for spot checks of experiments, the newest kept per environment.
CREATE TABLE telemetry_exposures (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    env              TEXT NOT NULL,
    flag             TEXT NOT NULL,
    variant          TEXT NOT NULL,
    reason           TEXT NOT NULL,
    rule_id          TEXT,
    targeting_key    TEXT,
    bucket_attribute TEXT,
    bucket_value     TEXT,
    snapshot_version INTEGER NOT NULL,
    timestamp_ms     INTEGER NOT NULL,
    received_at      INTEGER NOT NULL,
    sdk              TEXT NOT NULL,
    instance         TEXT
);
CREATE INDEX telemetry_exposures_env ON telemetry_exposures (env, id);
CREATE INDEX telemetry_exposures_flag ON telemetry_exposures (env, flag, id);
CREATE INDEX telemetry_exposures_age ON telemetry_exposures (env, received_at);
