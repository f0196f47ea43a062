-- Revoking bearer tokens before they expire. A token names its holder's token version; one naming
-- an older version than the holder's current one is refused (services/common/identity/revocation.py).
-- A user's version moves whenever what its tokens vouch for changes: active, roles, floors,
-- departments. A trigger does it, so an UPDATE typed by hand revokes as surely as the console's
-- PATCH does. UserStore moves it too when an admin revokes the user's tokens or sets a new password.
-- depends: 0002.login-lockout-sessions

ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 1;

CREATE FUNCTION revoke_tokens_on_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.token_version := greatest(NEW.token_version, OLD.token_version + 1);
    RETURN NEW;
END
$$;

CREATE TRIGGER users_token_version
    BEFORE UPDATE OF active, roles, floors, departments ON users
    FOR EACH ROW
    WHEN (OLD.active IS DISTINCT FROM NEW.active
          OR OLD.roles IS DISTINCT FROM NEW.roles
          OR OLD.floors IS DISTINCT FROM NEW.floors
          OR OLD.departments IS DISTINCT FROM NEW.departments)
    EXECUTE FUNCTION revoke_tokens_on_change();

-- Service tokens (subject `service:<name>`) have no user: a service's version is kept here once an
-- admin revokes its tokens for the first time; a service with no row is at version 1.
CREATE TABLE service_tokens (
    mall_id       text        NOT NULL,
    name          text        NOT NULL,
    token_version integer     NOT NULL,
    revoked_at    timestamptz NOT NULL,
    revoked_by    text        NOT NULL,
    PRIMARY KEY (mall_id, name)
);
