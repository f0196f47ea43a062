-- Who holds each case: routing's task events (task.created|claimed|completed|cancelled) kept as
-- one row per task, so intake can show a customer's contact details to the case's handlers only.
-- depends: 0001.reference-and-complaints

CREATE TABLE case_holders (
    task_id      uuid PRIMARY KEY,
    complaint_id uuid        NOT NULL,
    mall_id      text        NOT NULL,
    queue        text        NOT NULL,
    floor        text,
    department   text,
    assignee     text,
    open         boolean     NOT NULL,
    event_at     timestamptz NOT NULL  -- the newest event applied; an older one arriving late is ignored
);

CREATE INDEX case_holders_open ON case_holders (complaint_id) WHERE open;
