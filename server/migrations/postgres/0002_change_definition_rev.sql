-- The revision of the flag definition a change request was proposed against: approval
-- refuses it once the definition (its variant values) has changed since.
ALTER TABLE change_requests ADD COLUMN definition_rev BIGINT;
