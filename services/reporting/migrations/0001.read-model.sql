-- Reporting's read model: every event it consumed, the facts derived per case, CAPA records and
-- retention bookkeeping. Applied with search_path set to the `reporting` schema.
-- depends:

-- Every consumed event, kept: the facts below are derived from these and can be rebuilt from them.
CREATE TABLE events (
    id           uuid PRIMARY KEY,
    mall_id      text        NOT NULL,
    complaint_id text,
    type         text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    envelope     jsonb       NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_by_complaint ON events (complaint_id, occurred_at) WHERE complaint_id IS NOT NULL;

-- One row per complaint: what the reports count, derived from all of the complaint's events.
CREATE TABLE cases (
    complaint_id            text PRIMARY KEY,
    mall_id                 text        NOT NULL,
    number                  text,
    received_at             timestamptz,
    channel                 text,
    category                text,
    severity                text,
    floor                   text,
    merchant_code           text,
    merchant_name           text,
    department              text,
    first_queue             text,
    problem_key             text,
    customer_name           text,
    customer_phone          text,
    customer_email          text,
    preferred_reply_channel text,
    anonymous               boolean     NOT NULL DEFAULT false,
    contact_opt_out         boolean     NOT NULL DEFAULT false,
    promised_reply_date     date,
    reply_due_at            timestamptz,
    first_replied_at        timestamptz,
    resolved_at             timestamptz,
    resolution_count        integer     NOT NULL DEFAULT 0,
    reopen_count            integer     NOT NULL DEFAULT 0,
    escalation_count        integer     NOT NULL DEFAULT 0,
    closed_at               timestamptz,
    closed_as               text,
    outcome                 text,
    cost                    numeric(14, 2),
    responsible_party       text,
    root_cause              text,
    outside_route           text,
    callback_count          integer     NOT NULL DEFAULT 0,
    callback_reached        boolean,
    callback_satisfied      boolean,
    open_queues             text[]      NOT NULL DEFAULT '{}',
    next_task_due_at        timestamptz,
    erased_at               timestamptz,
    updated_at              timestamptz NOT NULL DEFAULT now()
);
-- Each report reads one period through one of these, never every case ever.
CREATE INDEX cases_received ON cases (mall_id, received_at);
CREATE INDEX cases_resolved ON cases (mall_id, resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX cases_closed ON cases (mall_id, closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX cases_reply_due ON cases (mall_id, reply_due_at) WHERE reply_due_at IS NOT NULL;
-- The daily review's overdue list: open cases only, a small part of all.
CREATE INDEX cases_open_unreplied ON cases (mall_id, reply_due_at)
    WHERE closed_at IS NULL AND first_replied_at IS NULL;
CREATE INDEX cases_open_task_due ON cases (mall_id, next_task_due_at)
    WHERE closed_at IS NULL AND next_task_due_at IS NOT NULL;
-- Recurrence of one problem within the CAPA window.
CREATE INDEX cases_problem ON cases (mall_id, problem_key, received_at) WHERE problem_key IS NOT NULL;
-- Retention: closed cases whose personal data is still here.
CREATE INDEX cases_to_erase ON cases (mall_id, closed_at) WHERE erased_at IS NULL AND closed_at IS NOT NULL;

-- Each escalation and callback attempt of a case, with the case's floor and department for scoping.
CREATE TABLE escalations (
    event_id     uuid PRIMARY KEY,
    complaint_id text        NOT NULL,
    mall_id      text        NOT NULL,
    at           timestamptz NOT NULL,
    level        text,
    element_id   text        NOT NULL,
    floor        text,
    department   text
);
CREATE INDEX escalations_at ON escalations (mall_id, at);
CREATE INDEX escalations_by_complaint ON escalations (complaint_id);

CREATE TABLE callbacks (
    event_id     uuid PRIMARY KEY,
    complaint_id text        NOT NULL,
    mall_id      text        NOT NULL,
    at           timestamptz NOT NULL,
    reached      boolean     NOT NULL,
    satisfied    boolean     NOT NULL,
    floor        text,
    department   text
);
CREATE INDEX callbacks_at ON callbacks (mall_id, at);
CREATE INDEX callbacks_by_complaint ON callbacks (complaint_id);

-- Corrective and preventive action records (客诉纠正与预防措施记录): the operations manager's, not derived,
-- so a rebuild of the facts leaves them as they are.
CREATE TABLE capa (
    id                uuid PRIMARY KEY,
    mall_id           text        NOT NULL,
    problem_key       text        NOT NULL,
    category          text        NOT NULL,
    merchant_code     text,
    merchant_name     text,
    floor             text,
    department        text,
    complaint_ids     text[]      NOT NULL,
    numbers           text[]      NOT NULL,
    first_received_at timestamptz NOT NULL,
    last_received_at  timestamptz NOT NULL,
    status            text        NOT NULL CHECK (status IN ('open', 'in_progress', 'verified')),
    cause             text,
    action            text,
    owner             text,
    due_date          date,
    verification      text,
    verified_at       timestamptz,
    verified_by       text,
    opened_at         timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by        text,
    version           integer     NOT NULL DEFAULT 1
);
-- At most one record per problem is open at a time: concurrent recurrences open exactly one.
CREATE UNIQUE INDEX capa_one_open_per_problem ON capa (mall_id, problem_key) WHERE status <> 'verified';
CREATE INDEX capa_recent ON capa (mall_id, opened_at DESC, id DESC);

-- Retention: each batch reporting asked every service to erase, and each service's answer.
CREATE TABLE retention_requests (
    id            uuid PRIMARY KEY,            -- the retention.erasure_requested event's id
    mall_id       text        NOT NULL,
    closed_before date        NOT NULL,
    complaint_ids text[]      NOT NULL,
    requested_at  timestamptz NOT NULL
);

CREATE TABLE retention_answers (
    service      text        NOT NULL,
    complaint_id text        NOT NULL,
    erased_at    timestamptz NOT NULL,
    PRIMARY KEY (service, complaint_id)
);
