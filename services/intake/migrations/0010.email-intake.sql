-- E-mailed complaints: every message read from the mall's complaint mailbox, kept once.
-- A message is stored here (and committed) before it is marked in the mailbox, so a worker stopped
-- between the two reads it again and the unique key below keeps it once. The key is the message's
-- Message-ID, or a digest of the whole message when it has none.
--   draft      a complaint to confirm at the desk (problem: why it could not be read in full)
--   set_aside  an auto-reply or a bounce (reason), kept for a look, never a complaint
--   answer     a customer's answer in the thread of a recorded complaint, shown on its case
-- depends: 0008.attachments

CREATE TABLE email_messages (
    id             uuid        PRIMARY KEY,
    mall_id        text        NOT NULL,
    mailbox        text        NOT NULL,
    message_key    text        NOT NULL,
    uid            bigint,
    kind           text        NOT NULL CHECK (kind IN ('draft', 'set_aside', 'answer')),
    state          text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'confirmed', 'dismissed')),
    reason         text,
    problem        text,
    sender_name    text,
    sender_address text,
    subject        text        NOT NULL DEFAULT '',
    body           text        NOT NULL DEFAULT '',
    message_id     text,
    references_ids text[]      NOT NULL DEFAULT '{}',
    sent_at        timestamptz,
    received_at    timestamptz NOT NULL,
    raw            bytea       NOT NULL,
    complaint_id   uuid,
    decided_by     text,
    decided_at     timestamptz,
    UNIQUE (mall_id, mailbox, message_key)
);
CREATE INDEX email_messages_queue ON email_messages (mall_id, kind, state, received_at DESC, id DESC);
CREATE INDEX email_messages_by_complaint ON email_messages (complaint_id) WHERE complaint_id IS NOT NULL;
CREATE INDEX email_messages_by_message_id ON email_messages (mall_id, message_id) WHERE message_id IS NOT NULL;

-- Attachments stay with their message until the desk's attachment store takes them over.
CREATE TABLE email_attachments (
    id           uuid    PRIMARY KEY,
    message_id   uuid    NOT NULL REFERENCES email_messages (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    filename     text    NOT NULL,
    content_type text    NOT NULL,
    size         integer NOT NULL,
    content      bytea   NOT NULL,
    UNIQUE (message_id, position)
);

-- The mailbox worker's last word, so every intake process (and /readyz, /metrics) can tell.
CREATE TABLE mailbox_status (
    mall_id       text        NOT NULL,
    mailbox       text        NOT NULL,
    connected     boolean     NOT NULL,
    failures      integer     NOT NULL DEFAULT 0,
    last_error    text,
    last_ok_at    timestamptz,
    next_retry_at timestamptz,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (mall_id, mailbox)
);
