-- A shop is named in the reports by its name and unit (型男工坊（3F-005）), as intake's complaint events
-- carry them. Empty for cases derived before this column: `python -m services rebuild` derives them again.
-- depends: 0004.erasure-on-request

ALTER TABLE cases ADD COLUMN merchant_unit text;

-- The mall's floors and departments by name come from intake's reference.changed events (the whole
-- list each time); the report reads the latest through this index.
CREATE INDEX events_reference ON events (mall_id, occurred_at DESC) WHERE type = 'reference.changed';
