-- Canned replies the mall edits (by category), and what the customers' status page needs: how far
-- each case has come (from routing's complaint.replied|closed|reopened|postponed events) and the
-- misses of each client address, so repeated wrong guesses slow it down.
-- depends: 0006.privacy-requests

CREATE TABLE reply_templates (
    id         bigserial   PRIMARY KEY,
    mall_id    text        NOT NULL,
    category   text        NOT NULL CHECK (category IN ('quality', 'price', 'merchant_service',
                               'staff_service', 'environment', 'facility', 'fee', 'emergency')),
    title      text        NOT NULL,
    body       text        NOT NULL,
    retired    boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    created_by text        NOT NULL,
    updated_at timestamptz,
    updated_by text,
    version    integer     NOT NULL DEFAULT 1
);
-- A title names one template of its category among those in use (the reply task records it).
CREATE UNIQUE INDEX reply_templates_title ON reply_templates (mall_id, category, title) WHERE NOT retired;

CREATE TABLE case_progress (
    complaint_id uuid        PRIMARY KEY,
    mall_id      text        NOT NULL,
    stage        text        NOT NULL CHECK (stage IN ('handling', 'replied', 'closed')),
    postponed_to date,
    event_at     timestamptz NOT NULL  -- the newest stage event applied; an older one arriving late is ignored
);

CREATE TABLE status_misses (
    mall_id       text        NOT NULL,
    client        text        NOT NULL,
    misses        integer     NOT NULL,
    last_miss_at  timestamptz NOT NULL,
    blocked_until timestamptz,
    PRIMARY KEY (mall_id, client)
);
