-- The relay sends the outbox oldest first. `now()` is the same for every row a transaction writes,
-- and a consumer applies a batch of deliveries in one transaction, so the events of a whole batch
-- would tie; the time each row is written keeps them in the order they were published.
-- depends: bus-0001.outbox-inbox

ALTER TABLE outbox ALTER COLUMN created_at SET DEFAULT clock_timestamp();
