-- Snapshot retention (`pennon serve --snapshot-keep`, `--snapshot-max-age`): published
-- snapshots may now be deleted, but only by the pruning path, and never the newest of
-- an environment and audience (which serves clients, continues the versions of an
-- environment created again, and names the keys that signed it). They still never
-- change.
--
-- The pruning transaction first writes a permit here ("versions of ENV/KIND below
-- BELOW"), deletes, and removes the permit before it commits: outside a pruning
-- transaction no other session sees one, and a DELETE without a permit is refused.
CREATE TABLE snapshot_prune_permits (
    env   TEXT NOT NULL,
    kind  TEXT NOT NULL,
    below BIGINT NOT NULL
);

-- A row-level BEFORE trigger sees the rows its statement deleted before: the newest
-- row left is refused, so a statement can never delete the last one.
CREATE FUNCTION pennon_prune_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM snapshot_prune_permits p
        WHERE p.env = OLD.env AND p.kind = OLD.kind AND OLD.version < p.below)
       AND OLD.version < (SELECT MAX(s.version) FROM snapshots s WHERE s.env = OLD.env AND s.kind = OLD.kind)
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'published snapshots are deleted only by retention, and never the newest of an environment and audience';
END;
$$;

DROP TRIGGER snapshots_immutable ON snapshots;
CREATE TRIGGER snapshots_immutable BEFORE UPDATE ON snapshots
    FOR EACH ROW EXECUTE FUNCTION pennon_refuse_change();
CREATE TRIGGER snapshots_pruned_only BEFORE DELETE ON snapshots
    FOR EACH ROW EXECUTE FUNCTION pennon_prune_only();
-- TRUNCATE fires no row triggers: refused outright.
CREATE TRIGGER snapshots_no_truncate BEFORE TRUNCATE ON snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION pennon_refuse_change();

-- Pruning reads versions with their issue times, and the sweep the oldest time of each
-- environment and audience, without the envelopes.
CREATE INDEX snapshots_issued ON snapshots (env, kind, version, issued_at);
