-- The departments a notice of the case told (`notify_department`: a department asked to act on
-- another's complaint), which may read the case as its own. Added to, never taken from: a
-- department that was asked keeps reading what came of it.
-- depends: 0009.case-pending-timers

ALTER TABLE cases ADD COLUMN departments_told text[] NOT NULL DEFAULT '{}';
