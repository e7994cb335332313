-- The revision of what a flag serves: its type, variant values and client visibility.
-- Change requests are checked against it, so editing a description or tags (which
-- bumps `rev`) no longer fails the approval of requests opened before. Existing rows
-- take `rev`, which is what open change requests recorded.
ALTER TABLE flags ADD COLUMN definition_rev BIGINT NOT NULL DEFAULT 0;
UPDATE flags SET definition_rev = rev;
