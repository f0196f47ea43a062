-- When the customer was last answered (routing's complaint.replied), for the status page: after
-- the reply it names the day the answer was given, not the promised one. Null: never answered
-- (not yet, or an anonymous case that closes with no reply).
-- depends: 0011.phone-last-four

ALTER TABLE case_progress ADD COLUMN replied_at timestamptz;
