-- The diagram elements a case is at, saved with each step so that reading a case (the console's case
-- page, a department's system polling it) does not restore its workflow. NULL for a case saved
-- before this column or moved to another version: readers then restore the workflow once.
-- depends: 0006.called-processes

ALTER TABLE cases ADD COLUMN current_elements text[];
