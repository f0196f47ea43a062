-- spiff-arena diagrams keep their forms in JSON-schema files deployed with the diagram, and tell
-- a person what to do in each task (instructionsForEndUser).
-- depends: 0002.visited-elements

ALTER TABLE process_versions ADD COLUMN form_schemas jsonb NOT NULL DEFAULT '{}';
ALTER TABLE tasks ADD COLUMN instructions text;
