-- Customers' personal information requests (PIPL): every copy an admin exported and every erasure
-- it asked for, who, when, why, for which customer and which complaints. The customer's phone or
-- e-mail is kept masked only: the audit must not keep what the erasure it records took away.
-- depends: 0005.web-form-consent

CREATE TABLE privacy_requests (
    id             uuid PRIMARY KEY,
    mall_id        text        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('export', 'erasure')),
    contact_kind   text        NOT NULL CHECK (contact_kind IN ('phone', 'email')),
    contact_masked text        NOT NULL,
    reason         text        NOT NULL,
    requested_by   text        NOT NULL,
    requested_role text,
    requested_at   timestamptz NOT NULL,
    complaint_ids  uuid[]      NOT NULL,
    numbers        text[]      NOT NULL
);
CREATE INDEX privacy_requests_recent ON privacy_requests (mall_id, requested_at DESC, id DESC);

-- A customer is found by the phone number its complaints hold, however it was typed: the digits
-- alone, a mainland mobile without its +86 or 0086 (`+86 139-1234-5678` is `13912345678`).
-- No index: a request is rare, and reading 500,000 complaints takes about 0.2 s, where two more
-- indexes would cost every complaint recorded.
CREATE FUNCTION phone_key(phone text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT regexp_replace(regexp_replace(phone, '\D', '', 'g'), '^(00)?86(1\d{10})$', '\2') $$;
