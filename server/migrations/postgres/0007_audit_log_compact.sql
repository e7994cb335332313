-- Compact audit entries (docs/OPERATIONS.md, "Audit log and backups"): an entry whose
-- before and after would pass 16 KiB of JSON keeps its large lists out of them, and
-- records here, per list, the members added and removed. NULL in a whole entry: every
-- small one, and every entry written before this migration, which read as they did.
ALTER TABLE audit_log ADD COLUMN changes_json TEXT;

-- The row triggers of 0001 refuse UPDATE and DELETE, but TRUNCATE fires no row
-- triggers: refused outright, as 0005 does for snapshots.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION pennon_refuse_change();
