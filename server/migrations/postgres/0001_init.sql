-- Pennon control plane, PostgreSQL schema. Times are Unix milliseconds; JSON is stored
-- as TEXT exactly as the server wrote it (jsonb would reorder keys). SQLite has its own
-- copy of this schema.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE environments (
    name       TEXT PRIMARY KEY,
    protected  BOOLEAN NOT NULL DEFAULT FALSE,
    -- The latest published snapshot version; publishing bumps it while holding
    -- SELECT ... FOR UPDATE on this row, so versions never collide across instances.
    version    BIGINT NOT NULL DEFAULT 0,
    rev        BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

CREATE TABLE flags (
    key            TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    variants       TEXT NOT NULL,
    description    TEXT,
    owner          TEXT,
    tags           TEXT NOT NULL DEFAULT '[]',
    temporary      BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at     TEXT,
    client_visible BOOLEAN NOT NULL DEFAULT FALSE,
    rev            BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE flag_configs (
    env        TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    flag       TEXT NOT NULL REFERENCES flags (key) ON DELETE CASCADE,
    config     TEXT NOT NULL,
    rev        BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (env, flag)
);

CREATE TABLE segments (
    env        TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    body       TEXT NOT NULL,
    rev        BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (env, key)
);

-- Published snapshots are kept forever and never change (see the trigger below). They
-- outlive their environment, so that a re-created environment continues the versions.
CREATE TABLE snapshots (
    env        TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('server', 'client')),
    version    BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    envelope   TEXT NOT NULL,
    key_ids    TEXT NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (env, kind, version)
);

CREATE TABLE audit_log (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               BIGINT NOT NULL,
    actor            TEXT NOT NULL,
    approved_by      TEXT,
    action           TEXT NOT NULL,
    resource_type    TEXT NOT NULL,
    resource         TEXT NOT NULL,
    env              TEXT,
    before_json      TEXT,
    after_json       TEXT,
    request_id       TEXT NOT NULL,
    snapshot_version BIGINT,
    change_request   BIGINT
);
CREATE INDEX audit_log_env ON audit_log (env, id);
CREATE INDEX audit_log_resource ON audit_log (resource, id);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    environments TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    revoked_at   BIGINT
);

CREATE TABLE sdk_keys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    env        TEXT NOT NULL REFERENCES environments (name) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('server', 'client')),
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE change_requests (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    env              TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'applied', 'rejected')),
    operation        TEXT NOT NULL,
    if_match         TEXT,
    proposed_by      TEXT NOT NULL,
    proposed_at      BIGINT NOT NULL,
    decided_by       TEXT,
    decided_at       BIGINT,
    snapshot_version BIGINT
);

CREATE FUNCTION pennon_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION pennon_refuse_change();
CREATE TRIGGER snapshots_immutable BEFORE UPDATE OR DELETE ON snapshots
    FOR EACH ROW EXECUTE FUNCTION pennon_refuse_change();

-- The row that catalog-wide writes (flags, environments) lock first.
INSERT INTO meta (key, value) VALUES ('catalog', 'lock');
