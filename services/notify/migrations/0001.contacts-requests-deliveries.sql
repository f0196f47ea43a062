-- Notify's tables: the contact facts it keeps per complaint, the messages asked for, one delivery
-- row per (request, channel, recipient), the attempts made, and the staff inbox.
-- Applied with search_path set to the `notify` schema.
-- depends:

-- What notify needs to know of a complaint to reach the people concerned (from complaint.received
-- and complaint.corrected). Personal data: customer; erased by the retention policy.
CREATE TABLE complaints (
    id                  uuid PRIMARY KEY,
    mall_id             text        NOT NULL,
    number              text        NOT NULL,
    channel             text        NOT NULL,
    category            text,
    customer            jsonb       NOT NULL,
    merchant            jsonb,
    floor               text,
    department          text,
    promised_reply_date date,
    received_at         timestamptz,
    updated_at          timestamptz NOT NULL,
    erased_at           timestamptz
);

-- Every notification.requested event, kept until its deliveries are planned; `waiting` while its
-- complaint is not known yet (events of different producers may arrive out of order).
CREATE TABLE requests (
    id           uuid PRIMARY KEY,                -- the event id
    mall_id      text        NOT NULL,
    complaint_id uuid        NOT NULL,
    kind         text        NOT NULL,
    recipient    text        NOT NULL,            -- `to`: customer, merchant or a queue
    number       text        NOT NULL,
    element_id   text,
    data         jsonb       NOT NULL DEFAULT '{}',
    requested_at timestamptz NOT NULL,
    state        text        NOT NULL CHECK (state IN ('waiting', 'planned', 'expired')),
    planned_at   timestamptz
);
CREATE INDEX requests_by_complaint ON requests (complaint_id, requested_at);
CREATE INDEX requests_waiting ON requests (requested_at) WHERE state = 'waiting';

-- One message to one recipient on one channel. The unique key is what makes "nothing sent twice
-- for one request" hold whatever the broker redelivers.
CREATE TABLE deliveries (
    id              uuid PRIMARY KEY,
    request_id      uuid        NOT NULL REFERENCES requests (id),
    mall_id         text        NOT NULL,
    complaint_id    uuid        NOT NULL,
    kind            text        NOT NULL,
    audience        text        NOT NULL CHECK (audience IN ('customer', 'merchant', 'staff')),
    channel         text        NOT NULL,
    address         text        NOT NULL,
    recipient_name  text,
    language        text        NOT NULL,
    subject         text,
    body_text       text,
    body_html       text,
    sms_text        text,
    params          jsonb       NOT NULL DEFAULT '{}',  -- SMS template parameters, webhook fields
    pdf             bytea,
    message_id      text        NOT NULL,
    state           text        NOT NULL CHECK (state IN
                        ('pending', 'sending', 'sent', 'failed', 'suppressed', 'cancelled')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    claimed_at      timestamptz,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    last_error      text,
    provider_answer text,
    UNIQUE (request_id, channel, address)
);
-- The workers take what is due; `sending` rows are due again when their lease runs out.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'sending');
CREATE INDEX deliveries_by_complaint ON deliveries (complaint_id, created_at);
-- The per-recipient rate limit counts what was recently sent to one address.
CREATE INDEX deliveries_by_address ON deliveries (channel, address, claimed_at);
CREATE INDEX deliveries_failed ON deliveries (mall_id, created_at DESC, id DESC) WHERE state = 'failed';

-- Every attempt: when, how it ended, what the provider answered.
CREATE TABLE attempts (
    id           bigserial PRIMARY KEY,
    delivery_id  uuid        NOT NULL REFERENCES deliveries (id),
    attempted_at timestamptz NOT NULL,
    outcome      text        NOT NULL CHECK (outcome IN ('sent', 'transient', 'permanent', 'interrupted', 'deferred')),
    answer       text
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, id);

-- The staff inbox: in-app notifications a staff member lists and marks read.
CREATE TABLE inbox_items (
    id           uuid PRIMARY KEY,
    mall_id      text        NOT NULL,
    username     text        NOT NULL,
    delivery_id  uuid        NOT NULL REFERENCES deliveries (id),
    complaint_id uuid,
    number       text,
    kind         text        NOT NULL,
    title        text        NOT NULL,
    body         text        NOT NULL,
    link         text,
    created_at   timestamptz NOT NULL,
    read_at      timestamptz,
    UNIQUE (delivery_id, username)
);
CREATE INDEX inbox_items_mine ON inbox_items (mall_id, username, created_at DESC, id DESC);
CREATE INDEX inbox_items_unread ON inbox_items (mall_id, username, created_at DESC, id DESC)
    WHERE read_at IS NULL;
