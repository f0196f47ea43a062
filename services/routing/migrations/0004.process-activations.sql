-- Which version of a process is active: new complaint cases start the active version of the
-- complaint process. Deploying a new version activates it; a designer may activate an earlier one
-- again (rollback). Every activation is kept: who, when, why. With no row for a process, its
-- newest version is active (as before activations were recorded).
-- depends: 0003.form-schemas-and-instructions

CREATE TABLE process_activations (
    id            bigserial PRIMARY KEY,
    mall_id       text        NOT NULL,
    process_key   text        NOT NULL,
    version_id    uuid        NOT NULL REFERENCES process_versions (id),
    activated_by  text        NOT NULL,
    activated_at  timestamptz NOT NULL,
    reason        text        NOT NULL
);
CREATE INDEX process_activations_latest ON process_activations (mall_id, process_key, id DESC);
