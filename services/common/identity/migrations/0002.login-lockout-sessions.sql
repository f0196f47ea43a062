-- Login for the staff console: failed attempts counted for lockout, and server-side sessions
-- that a logout, a deactivation or an admin can revoke at once.
-- depends: 0001.users

ALTER TABLE users
    ADD COLUMN failed_logins integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until  timestamptz,
    ADD COLUMN last_login_at timestamptz;

CREATE TABLE sessions (
    id_hash      text PRIMARY KEY,          -- sha256 of the cookie's random id, never the id itself
    mall_id      text        NOT NULL,
    user_id      uuid        REFERENCES users (id) ON DELETE CASCADE,  -- NULL before login
    data         jsonb       NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
