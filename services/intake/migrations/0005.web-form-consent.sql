-- A customer who sends a complaint from the web form agrees to the notice of what is collected, why
-- and for how long (PIPL); the record keeps when. NULL: recorded by the desk, or before the form asked.
-- depends: 0004.customer-requests

ALTER TABLE complaints ADD COLUMN consented_at timestamptz;
