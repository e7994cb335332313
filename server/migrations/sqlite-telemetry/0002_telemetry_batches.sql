-- Report batches already stored, by the id SDKs give each (`batch` in the wire format):
-- an SDK whose post timed out after the server had stored it sends the same batch
-- again, and the repeat is answered 202 `"duplicate": true` and adds nothing. Inserted
-- in the transaction that stores the batch's counts, so two posts of one batch at once
-- count once. The sweep deletes ids received more than 48 hours ago: SDKs resend a
-- batch unchanged for 24 hours at most (docs/OPERATIONS.md, "Telemetry").
CREATE TABLE telemetry_batches (
    env         TEXT NOT NULL,
    batch       TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (env, batch)
);
CREATE INDEX telemetry_batches_age ON telemetry_batches (received_at);
