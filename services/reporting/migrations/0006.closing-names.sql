-- The names the close form gives each responsible party and root cause (the options are the
-- designer's): {"zh-CN": "服务态度", "": "Service attitude"} by language, "" the name drawn. Written
-- with the cases whose close chose them, the latest naming kept, so a renamed option reads by its new
-- name in every period's report. Cases derived before this table: `python -m services rebuild`.
-- depends: 0005.shop-units-and-place-names

CREATE TABLE closing_names (
    mall_id text  NOT NULL,
    field   text  NOT NULL,  -- responsible_party | root_cause
    code    text  NOT NULL,
    names   jsonb NOT NULL,
    PRIMARY KEY (mall_id, field, code)
);
