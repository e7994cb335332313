-- The not-found tally keeps how many of a key's evaluations came from client keys:
-- a browser asking for a flag that exists but is not client-visible gets FLAG_NOT_FOUND,
-- and the report can then say so, and how to fix it, instead of "created since".
ALTER TABLE telemetry_not_found ADD COLUMN client_evaluations INTEGER NOT NULL DEFAULT 0;
