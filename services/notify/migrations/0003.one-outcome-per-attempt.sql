-- Each claim of a delivery (its `attempts` count) ends in at most one outcome row. A worker whose
-- commit reached the server but whose answer was lost writes the outcome again when the database is
-- back; that second write must be a no-op, not a second "sent" in the log.
-- depends: 0002.insertion-order

ALTER TABLE attempts ADD COLUMN attempt integer;
CREATE UNIQUE INDEX attempts_one_outcome ON attempts (delivery_id, attempt)
    WHERE outcome IN ('sent', 'transient', 'permanent');
