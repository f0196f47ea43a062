-- The order rows were written in, so the delivery log reads in that order even when two rows
-- share a timestamp (a test's clock, or one transaction writing a request and its desk alert).
-- depends: 0001.contacts-requests-deliveries

ALTER TABLE requests ADD COLUMN seq bigserial;
ALTER TABLE deliveries ADD COLUMN seq bigserial;
