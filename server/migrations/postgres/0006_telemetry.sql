-- Evaluation telemetry from the SDKs (POST /v1/telemetry/{env}; docs/OPERATIONS.md,
-- "Telemetry"). Telemetry is not audit: rows are added to as reports arrive and pruned
-- by age and count, so there are no immutability triggers. There are no foreign keys
-- either: a key to `environments` would have every report take a share lock on the
-- environment row that flag writes lock FOR UPDATE, and reports and flag writes would
-- wait on each other. Reports of one environment are serialized by an advisory lock of
-- their own instead. Rows of deleted flags and environments are left out of reports and
-- age out. SQLite keeps these tables in a file of their own (migrations/sqlite-telemetry)
-- for the same reason: SQLite has one write lock per file.

-- Evaluations per environment, flag, hour and outcome, added to by every report.
CREATE TABLE telemetry_usage (
    env         TEXT NOT NULL,
    flag        TEXT NOT NULL,
    -- The start of the hour (Unix milliseconds, UTC) the reports' windows ended in.
    hour        BIGINT NOT NULL,
    -- `variant`: served `variant`; `error`: ended in an error; `unknown`: served a
    -- variant the flag does not define (an SDK on a snapshot from before it changed).
    outcome     TEXT NOT NULL CHECK (outcome IN ('variant', 'error', 'unknown')),
    -- '' unless `outcome` is `variant` (variant names are never empty).
    variant     TEXT NOT NULL,
    evaluations BIGINT NOT NULL,
    PRIMARY KEY (env, flag, hour, outcome, variant)
);
CREATE INDEX telemetry_usage_hour ON telemetry_usage (env, hour);

-- When each SDK (by its reported name) last evaluated a flag in an environment.
CREATE TABLE telemetry_seen (
    env       TEXT NOT NULL,
    flag      TEXT NOT NULL,
    sdk       TEXT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (env, flag, sdk)
);

-- Since when SDKs of each key kind have reported in an environment, and when they last
-- did: the stale-flag report's `unused` rests on it (silence is not evidence).
CREATE TABLE telemetry_reporting (
    env          TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('server', 'client')),
    first_report BIGINT NOT NULL,
    last_report  BIGINT NOT NULL,
    PRIMARY KEY (env, kind)
);

-- The SDKs that report, by name ('' for names past the bound of names kept).
CREATE TABLE telemetry_sources (
    env               TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('server', 'client')),
    sdk               TEXT NOT NULL,
    first_report      BIGINT NOT NULL,
    last_report       BIGINT NOT NULL,
    reports           BIGINT NOT NULL,
    exposures_dropped BIGINT NOT NULL,
    PRIMARY KEY (env, kind, sdk)
);

-- The SDK instances that report (by their random `instance` id), newest kept.
CREATE TABLE telemetry_instances (
    env              TEXT NOT NULL,
    instance         TEXT NOT NULL,
    kind             TEXT NOT NULL,
    sdk              TEXT NOT NULL,
    last_report      BIGINT NOT NULL,
    snapshot_version BIGINT,
    PRIMARY KEY (env, instance)
);
CREATE INDEX telemetry_instances_age ON telemetry_instances (env, last_report);

-- Evaluations of keys the served snapshot lacked, per key ('' gathers the keys past the
-- bound of distinct keys kept, and what the SDKs summed themselves).
CREATE TABLE telemetry_not_found (
    env         TEXT NOT NULL,
    flag        TEXT NOT NULL,
    evaluations BIGINT NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (env, flag)
);

-- Exposures for spot checks of experiments, the newest kept per environment.
CREATE TABLE telemetry_exposures (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    env              TEXT NOT NULL,
    flag             TEXT NOT NULL,
    variant          TEXT NOT NULL,
    reason           TEXT NOT NULL,
    rule_id          TEXT,
    targeting_key    TEXT,
    bucket_attribute TEXT,
    bucket_value     TEXT,
    snapshot_version BIGINT NOT NULL,
    timestamp_ms     BIGINT NOT NULL,
    received_at      BIGINT NOT NULL,
    sdk              TEXT NOT NULL,
    instance         TEXT
);
CREATE INDEX telemetry_exposures_env ON telemetry_exposures (env, id);
CREATE INDEX telemetry_exposures_flag ON telemetry_exposures (env, flag, id);
CREATE INDEX telemetry_exposures_age ON telemetry_exposures (env, received_at);
