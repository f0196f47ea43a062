-- A customer may ask for several things at once ("compensation and an apology"): customer_request
-- becomes a list of codes, each complaint's single code its one item; NULL stays "not given".
-- depends: 0003.outbox-by-complaint

ALTER TABLE complaints
    ALTER COLUMN customer_request TYPE text[]
        USING CASE WHEN customer_request <> '' THEN ARRAY[customer_request] END,
    ADD CONSTRAINT customer_request_given CHECK (cardinality(customer_request) >= 1);
