-- Pennon control plane, SQLite schema. Times are Unix milliseconds; JSON is stored as
-- TEXT exactly as the server wrote it. PostgreSQL has its own copy of this schema.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE environments (
    name       TEXT PRIMARY KEY,
    protected  INTEGER NOT NULL DEFAULT 0,
    -- The latest published snapshot version; publishing bumps it under the write lock.
    version    INTEGER NOT NULL DEFAULT 0,
    rev        INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE flags (
    key            TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    variants       TEXT NOT NULL,
    description    TEXT,
    owner          TEXT,
    tags           TEXT NOT NULL DEFAULT '[]',
    temporary      INTEGER NOT NULL DEFAULT 0,
    expires_at     TEXT,
    client_visible INTEGER NOT NULL DEFAULT 0,
    rev            INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE flag_configs (
    env        TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    flag       TEXT NOT NULL REFERENCES flags (key) ON DELETE CASCADE,
    config     TEXT NOT NULL,
    rev        INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (env, flag)
);

CREATE TABLE segments (
    env        TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    body       TEXT NOT NULL,
    rev        INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (env, key)
);

-- Published snapshots are kept forever and never change (see the triggers below). They
-- outlive their environment, so that a re-created environment continues the versions.
CREATE TABLE snapshots (
    env        TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('server', 'client')),
    version    INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    envelope   TEXT NOT NULL,
    key_ids    TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (env, kind, version)
);

CREATE TABLE audit_log (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               INTEGER NOT NULL,
    actor            TEXT NOT NULL,
    approved_by      TEXT,
    action           TEXT NOT NULL,
    resource_type    TEXT NOT NULL,
    resource         TEXT NOT NULL,
    env              TEXT,
    before_json      TEXT,
    after_json       TEXT,
    request_id       TEXT NOT NULL,
    snapshot_version INTEGER,
    change_request   INTEGER
);
CREATE INDEX audit_log_env ON audit_log (env, id);
CREATE INDEX audit_log_resource ON audit_log (resource, id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    environments TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    revoked_at   INTEGER
);

CREATE TABLE sdk_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    env        TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('server', 'client')),
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE change_requests (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    env              TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'applied', 'rejected')),
    operation        TEXT NOT NULL,
    if_match         TEXT,
    proposed_by      TEXT NOT NULL,
    proposed_at      INTEGER NOT NULL,
    decided_by       TEXT,
    decided_at       INTEGER,
    snapshot_version INTEGER
);

CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER snapshots_immutable_update BEFORE UPDATE ON snapshots
BEGIN SELECT RAISE(ABORT, 'published snapshots are immutable'); END;
CREATE TRIGGER snapshots_immutable_delete BEFORE DELETE ON snapshots
BEGIN SELECT RAISE(ABORT, 'published snapshots are immutable'); END;

-- The row that catalog-wide writes (flags, environments) lock first.
INSERT INTO meta (key, value) VALUES ('catalog', 'lock');
