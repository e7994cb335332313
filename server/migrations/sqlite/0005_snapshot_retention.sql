-- Snapshot retention (`pennon serve --snapshot-keep`, `--snapshot-max-age`): published
-- snapshots may now be deleted, but only by the pruning path, and never the newest of
-- an environment and audience (which serves clients, continues the versions of an
-- environment created again, and names the keys that signed it). They still never
-- change.
--
-- The pruning transaction first writes a permit here ("versions of ENV/KIND below
-- BELOW"), deletes, and removes the permit before it commits: outside a pruning
-- transaction the table is empty, and a DELETE without a permit is refused.
CREATE TABLE snapshot_prune_permits (
    env   TEXT NOT NULL,
    kind  TEXT NOT NULL,
    below INTEGER NOT NULL
);

DROP TRIGGER snapshots_immutable_delete;
CREATE TRIGGER snapshots_pruned_only BEFORE DELETE ON snapshots
WHEN NOT EXISTS (
        SELECT 1 FROM snapshot_prune_permits p
        WHERE p.env = OLD.env AND p.kind = OLD.kind AND OLD.version < p.below)
    OR OLD.version >= (SELECT MAX(s.version) FROM snapshots s WHERE s.env = OLD.env AND s.kind = OLD.kind)
BEGIN
    SELECT RAISE(ABORT, 'published snapshots are deleted only by retention, and never the newest of an environment and audience');
END;

-- Pruning reads versions with their issue times: from this index, as `issued_at` is
-- stored after the envelope, in the row's overflow pages (a megabyte read per row).
CREATE INDEX snapshots_issued ON snapshots (env, kind, version, issued_at);
