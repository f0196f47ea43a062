-- Routing's tables: deployed diagram versions, running cases, their human tasks, timeline,
-- incidents and messages waiting for their catch event.
-- Applied with search_path set to the `routing` schema.
-- depends:

-- Every deployed version of a process, kept for ever: a running case stays on its own.
CREATE TABLE process_versions (
    id           uuid PRIMARY KEY,
    mall_id      text        NOT NULL,
    process_key  text        NOT NULL,
    version      integer     NOT NULL,
    bpmn_xml     text        NOT NULL,
    dmn_xml      jsonb       NOT NULL DEFAULT '{}',   -- file name -> XML
    source_hash  text        NOT NULL,
    deployed_by  text        NOT NULL,
    deployed_at  timestamptz NOT NULL,
    note         text,
    UNIQUE (mall_id, process_key, version)
);

-- One row per complaint: the serialized workflow state (without the spec) and a revision
-- number every step checks and increments, so two workers never advance a case twice.
CREATE TABLE cases (
    id                 uuid PRIMARY KEY,            -- the complaint's id
    mall_id            text        NOT NULL,
    number             text        NOT NULL,
    process_version_id uuid        NOT NULL REFERENCES process_versions (id),
    status             text        NOT NULL CHECK (status IN ('running', 'completed', 'incident')),
    -- json, not jsonb: SpiffWorkflow stores task data as deltas against the parent task and
    -- restores tasks in the order stored; jsonb would reorder the keys and lose data.
    state              json        NOT NULL,
    revision           integer     NOT NULL DEFAULT 1,
    next_due_at        timestamptz,
    floor              text,
    department         text,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
-- The scheduler takes due cases oldest first; only cases with a timer are in this index.
CREATE INDEX cases_due ON cases (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX cases_by_number ON cases (mall_id, number);

-- Ready user tasks mirrored from the workflow, so a queue is listed without loading workflows.
CREATE TABLE tasks (
    id            uuid PRIMARY KEY,                 -- the engine's task id
    case_id       uuid        NOT NULL REFERENCES cases (id),
    mall_id       text        NOT NULL,
    queue         text        NOT NULL,             -- the lane's role
    element_id    text        NOT NULL,             -- the BPMN element
    title         text        NOT NULL,
    number        text        NOT NULL,
    floor         text,
    department    text,
    form          jsonb       NOT NULL DEFAULT '[]',
    state         text        NOT NULL CHECK (state IN ('open', 'claimed', 'completed', 'cancelled')),
    assignee      text,
    due_at        timestamptz,
    created_at    timestamptz NOT NULL,
    closed_at     timestamptz,
    closed_by     text
);
CREATE INDEX tasks_queue ON tasks (mall_id, queue, state, created_at, id);
CREATE INDEX tasks_by_case ON tasks (case_id, state);
CREATE INDEX tasks_by_assignee ON tasks (mall_id, assignee, state) WHERE assignee IS NOT NULL;

-- Every step of a case: who, in which role, when, what, at which element, with which data.
CREATE TABLE timeline (
    id          bigserial PRIMARY KEY,
    case_id     uuid        NOT NULL REFERENCES cases (id),
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    role        text,
    kind        text        NOT NULL,
    element_id  text,
    task_id     uuid,
    detail      jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX timeline_by_case ON timeline (case_id, id);

-- A step that raised: the case stays where it was until the incident is retried.
CREATE TABLE incidents (
    id          uuid PRIMARY KEY,
    case_id     uuid        NOT NULL REFERENCES cases (id),
    at          timestamptz NOT NULL,
    step        text        NOT NULL,
    error       text        NOT NULL,
    detail      jsonb       NOT NULL DEFAULT '{}',
    resolved_at timestamptz,
    resolved_by text
);
CREATE INDEX incidents_open ON incidents (case_id) WHERE resolved_at IS NULL;

-- Messages from outside that arrived before the case waits for them.
CREATE TABLE pending_messages (
    id              uuid PRIMARY KEY,
    case_id         uuid        NOT NULL,
    name            text        NOT NULL,
    payload         jsonb       NOT NULL,
    idempotency_key text        NOT NULL UNIQUE,
    received_at     timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    delivered_at    timestamptz
);
CREATE INDEX pending_messages_waiting ON pending_messages (case_id) WHERE delivered_at IS NULL;
