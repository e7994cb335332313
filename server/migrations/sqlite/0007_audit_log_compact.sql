-- Compact audit entries (docs/OPERATIONS.md, "Audit log and backups"): an entry whose
-- before and after would pass 16 KiB of JSON keeps its large lists out of them, and
-- records here, per list, the members added and removed. NULL in a whole entry: every
-- small one, and every entry written before this migration, which read as they did.
--
-- There is no 0006 here: PostgreSQL's 0006 holds telemetry, which SQLite keeps in a file
-- of its own (migrations/sqlite-telemetry). A number names the same change on both
-- backends. (SQLite has no TRUNCATE; its DELETE triggers of 0001 cover `DELETE FROM`.)
ALTER TABLE audit_log ADD COLUMN changes_json TEXT;
