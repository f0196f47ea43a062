-- The departments a notice of a case told (routing's notification.requested.department: a
-- department asked to act on another's complaint). Such a department reads the complaint as its
-- own (masked, like any reader who holds none of its tasks) and finds it in its lists.
-- depends: 0012.reply-given-at

CREATE TABLE departments_told (
    complaint_id uuid        NOT NULL,
    department   text        NOT NULL,
    told_at      timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, department)
);

CREATE INDEX departments_told_by_department ON departments_told (department, complaint_id);
