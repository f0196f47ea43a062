-- The timers a case waits on, saved with each step (the step's process has the workflow in hand) so
-- that listing them, or firing or moving one, does not restore the workflow in the API. NULL for a
-- case saved before this column or moved to another version: its workflow is then restored.
-- depends: 0008.incidents-by-case

ALTER TABLE cases ADD COLUMN pending_timers jsonb;
