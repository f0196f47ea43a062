-- A customer may ask for their personal data to be erased before the retention period ends (PIPL):
-- intake then publishes the same retention.erasure_requested, with no cut-off day. Reporting keeps
-- those requests beside its own, so a rebuild leaves their cases erased and their answers are watched.
-- depends: 0003.customer-requests

ALTER TABLE retention_requests
    ALTER COLUMN closed_before DROP NOT NULL,
    ADD COLUMN reason text NOT NULL DEFAULT 'retention' CHECK (reason IN ('retention', 'request'));
