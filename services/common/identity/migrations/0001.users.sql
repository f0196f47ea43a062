-- Staff users: roles and scopes; a password only once the console's login uses it.
-- depends:

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    mall_id       text        NOT NULL,
    username      text        NOT NULL,
    display_name  text,
    roles         text[]      NOT NULL,
    floors        text[]      NOT NULL DEFAULT '{}',
    departments   text[]      NOT NULL DEFAULT '{}',
    password_hash text,
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (mall_id, username)
);
