-- The last version published before this environment was created: versions up to it
-- belong to an earlier environment of the same name, which rollback must not restore.
-- Existing rows take it from the snapshots issued before they were created.
ALTER TABLE environments ADD COLUMN base_version BIGINT NOT NULL DEFAULT 0;
UPDATE environments SET base_version = COALESCE(
    (SELECT MAX(s.version) FROM snapshots s WHERE s.env = environments.name AND s.issued_at < environments.created_at),
    0);
