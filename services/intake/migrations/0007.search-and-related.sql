-- Search over complaints (docs/decisions/0006-chinese-search.md), the resolutions routing's handlers
-- recorded, overdue cases, and related complaints linked or merged by the desk.
-- depends: 0006.privacy-requests

-- Chinese has no spaces: every two adjacent Han characters of a text are one lexeme (酸奶过期 → 酸奶,
-- 奶过, 过期), at their character position so a longer word is found as a phrase of its bigrams;
-- runs of Latin letters and digits are one lexeme each. Only such characters reach the tsvector's
-- text, so its syntax needs no quoting.
CREATE FUNCTION search_lexemes(body text, weight text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(string_agg(term || ':' || least(pos, 16383) || weight, ' ')::tsvector, ''::tsvector)
    FROM (
        SELECT substr(t, i, 2) AS term, i AS pos
        FROM (SELECT lower(coalesce(body, '')) AS t) s, generate_series(1, char_length(t) - 1) AS i
        WHERE substr(t, i, 2) ~ '^[\u3400-\u9fff]{2}$'
        UNION ALL
        SELECT m[1], 1 FROM regexp_matches(lower(coalesce(body, '')), '[0-9a-z]+', 'g') AS m
    ) terms
    $$;

-- What the customer asked for, in the words a clerk searches with (the vocabulary's zh-CN names;
-- tests/unit/test_vocabulary.py holds them equal).
CREATE FUNCTION request_words(codes text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT string_agg(CASE code WHEN 'refund' THEN '退货退款' WHEN 'exchange' THEN '换货' WHEN 'repair' THEN '维修'
        WHEN 'compensation' THEN '赔偿' WHEN 'apology' THEN '道歉' ELSE '其他' END, ' ')
    FROM unnest(coalesce(codes, '{}')) AS code
    $$;

-- What each resolution of the case said (task.completed's `resolution`), newest last.
ALTER TABLE complaints ADD COLUMN resolutions text NOT NULL DEFAULT '';
-- The collective complaint a merged one was folded into.
ALTER TABLE complaints ADD COLUMN merged_into uuid REFERENCES complaints (id);

-- (|| rather than concat_ws, which is only stable.) Weights: A the customer's name and the shop, B the description, C the request and resolutions.
ALTER TABLE complaints ADD COLUMN search tsvector GENERATED ALWAYS AS (
    search_lexemes(coalesce(customer ->> 'name', '') || ' ' || coalesce(merchant ->> 'shop_name', '') || ' '
                   || coalesce(merchant ->> 'code', ''), 'A')
    || search_lexemes(description, 'B')
    || search_lexemes(coalesce(request_words(customer_request), '') || ' ' || resolutions, 'C')
) STORED;
-- With the receipt time in the same GIN index (btree_gin, a trusted contrib extension), "these words in
-- the last 30 days" is one index scan: a phrase of common bigrams is estimated as rare, and without it
-- PostgreSQL fetched every match of all time before keeping the month's (270 ms for 酸奶过期 in a million).
-- The embedded PostgreSQL of the one-command run ships no contrib: there, the words alone are indexed.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gin') THEN
        CREATE EXTENSION IF NOT EXISTS btree_gin;
        CREATE INDEX complaints_search ON complaints USING gin (search, received_at);
    ELSE
        CREATE INDEX complaints_search ON complaints USING gin (search);
    END IF;
END
$$;
-- The customer's history and the search by phone, however the number was typed.
CREATE INDEX complaints_by_phone ON complaints (mall_id, phone_key(customer ->> 'phone'), received_at DESC)
    WHERE customer ->> 'phone' IS NOT NULL;

-- Overdue: an open task of the case past its due time.
ALTER TABLE case_holders ADD COLUMN due_at timestamptz;
CREATE INDEX case_holders_due ON case_holders (due_at) WHERE open;

-- The desk's links between complaints about one incident; one row per direction.
CREATE TABLE complaint_links (
    complaint_id uuid        NOT NULL REFERENCES complaints (id),
    related_id   uuid        NOT NULL REFERENCES complaints (id),
    kind         text        NOT NULL CHECK (kind IN ('related', 'merged')),
    linked_by    text        NOT NULL,
    linked_at    timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, related_id),
    CHECK (complaint_id <> related_id)
);
