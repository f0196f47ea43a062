-- The diagram elements each case has passed through, for the console to light them up
-- (the stored workflow state keeps only what the engine still needs).
-- depends: 0001.processes-cases-tasks

ALTER TABLE cases ADD COLUMN visited text[] NOT NULL DEFAULT '{}';
