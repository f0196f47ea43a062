-- A task's title in each language its diagram names it in ({"zh-CN": …, "en": …}): the console shows
-- the reader's, so a designer's rename shows in every queue.
-- depends: 0004.process-activations

ALTER TABLE tasks ADD COLUMN titles jsonb NOT NULL DEFAULT '{}';
