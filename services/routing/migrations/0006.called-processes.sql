-- A version whose call activities call processes deployed on their own keeps the BPMN of the
-- versions it called when it was deployed ({process key: XML}), so its cases run what was proved.
-- depends: 0005.task-titles

ALTER TABLE process_versions ADD COLUMN called_bpmn jsonb NOT NULL DEFAULT '{}';
