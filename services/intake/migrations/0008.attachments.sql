-- Files attached to a complaint: photos, receipts, scanned letters, recordings. The bytes live in the
-- object store (services/common/objects.py) under `object_key` (an image's thumbnail under
-- `thumbnail_key`); a row says what the file is, who attached it, from where, and which task.
-- Personal-data erasure (retention or the customer's request) deletes rows and objects alike.
-- depends: 0006.privacy-requests

CREATE TABLE attachments (
    id            uuid PRIMARY KEY,
    seq           bigint      GENERATED ALWAYS AS IDENTITY,  -- the order files came in, within one instant
    complaint_id  uuid        NOT NULL REFERENCES complaints (id),
    mall_id       text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('image', 'pdf', 'audio')),
    media_type    text        NOT NULL,
    size_bytes    integer     NOT NULL CHECK (size_bytes > 0),
    file_name     text        NOT NULL,
    object_key    text        NOT NULL,
    thumbnail_key text,
    source        text        NOT NULL CHECK (source IN ('staff', 'web', 'task')),
    task_id       uuid,
    uploaded_by   text        NOT NULL,
    uploaded_at   timestamptz NOT NULL
);
CREATE INDEX attachments_of_complaint ON attachments (complaint_id, uploaded_at, seq);
