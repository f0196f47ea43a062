-- Intake's tables: reference data of the mall and the complaint records.
-- Applied with search_path set to the `intake` schema.
-- depends:

CREATE TABLE floors (
    mall_id    text    NOT NULL,
    code       text    NOT NULL,
    name       text    NOT NULL,
    name_en    text,
    sort_order integer NOT NULL DEFAULT 0,
    PRIMARY KEY (mall_id, code)
);

CREATE TABLE departments (
    mall_id text NOT NULL,
    code    text NOT NULL,
    name    text NOT NULL,
    name_en text,
    PRIMARY KEY (mall_id, code)
);

CREATE TABLE merchants (
    mall_id          text    NOT NULL,
    code             text    NOT NULL,
    shop_name        text    NOT NULL,
    shop_name_en     text,
    floor            text    NOT NULL,
    unit             text,
    business         text,
    person_in_charge text,
    phone            text,
    active           boolean NOT NULL DEFAULT true,
    PRIMARY KEY (mall_id, code),
    FOREIGN KEY (mall_id, floor) REFERENCES floors (mall_id, code)
);
CREATE INDEX merchants_by_floor ON merchants (mall_id, floor);

CREATE TABLE complaints (
    id                       uuid PRIMARY KEY,
    mall_id                  text        NOT NULL,
    number                   text        NOT NULL,
    channel                  text        NOT NULL CHECK (channel IN
                                 ('phone', 'suggestion_box', 'letter', 'email', 'on_site', 'web')),
    category                 text        NOT NULL CHECK (category IN ('quality', 'price',
                                 'merchant_service', 'staff_service', 'environment', 'facility',
                                 'fee', 'emergency')),
    severity                 text        NOT NULL CHECK (severity IN ('normal', 'major')),
    major_reasons            text[]      NOT NULL DEFAULT '{}',
    status                   text        NOT NULL,
    customer                 jsonb       NOT NULL,
    occurred_at              timestamptz,
    floor                    text,
    merchant_code            text,
    merchant                 jsonb,
    department               text,
    about_department_manager boolean     NOT NULL DEFAULT false,
    handle_directly          boolean     NOT NULL DEFAULT false,
    description              text        NOT NULL,
    customer_request         text,
    amount                   numeric(14, 2) CHECK (amount >= 0),
    people_count             integer     NOT NULL DEFAULT 1 CHECK (people_count >= 1),
    injury                   boolean     NOT NULL DEFAULT false,
    media_exposure           boolean     NOT NULL DEFAULT false,
    lawsuit                  boolean     NOT NULL DEFAULT false,
    promised_reply_date      date        NOT NULL,
    received_at              timestamptz NOT NULL,
    received_by              text        NOT NULL,
    version                  integer     NOT NULL DEFAULT 1,
    updated_at               timestamptz,
    UNIQUE (mall_id, number)
);

-- The list is newest first with keyset pagination; each filter has an index that keeps that order.
CREATE INDEX complaints_recent     ON complaints (mall_id, received_at DESC, id DESC);
CREATE INDEX complaints_status     ON complaints (mall_id, status, received_at DESC, id DESC);
CREATE INDEX complaints_category   ON complaints (mall_id, category, received_at DESC, id DESC);
CREATE INDEX complaints_channel    ON complaints (mall_id, channel, received_at DESC, id DESC);
CREATE INDEX complaints_floor      ON complaints (mall_id, floor, received_at DESC, id DESC);
CREATE INDEX complaints_merchant   ON complaints (mall_id, merchant_code, received_at DESC, id DESC);
CREATE INDEX complaints_department ON complaints (mall_id, department, received_at DESC, id DESC);

-- Corrections keep the old values: one row per PATCH, {field: {"old": …, "new": …}}.
CREATE TABLE complaint_history (
    id           bigserial PRIMARY KEY,
    complaint_id uuid        NOT NULL REFERENCES complaints (id),
    changed_at   timestamptz NOT NULL,
    changed_by   text        NOT NULL,
    role         text,
    reason       text        NOT NULL,
    changes      jsonb       NOT NULL
);
CREATE INDEX complaint_history_by_complaint ON complaint_history (complaint_id, id);

-- One row per mall and day: the last receipt number handed out that day (gapless).
CREATE TABLE number_counters (
    mall_id text    NOT NULL,
    day     date    NOT NULL,
    last    integer NOT NULL,
    PRIMARY KEY (mall_id, day)
);

-- Idempotency-Key of a POST and the complaint it created.
CREATE TABLE idempotency_keys (
    mall_id      text        NOT NULL,
    key          text        NOT NULL,
    fingerprint  text        NOT NULL,
    complaint_id uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mall_id, key)
);
