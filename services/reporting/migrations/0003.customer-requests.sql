-- What each customer asks for (refund, exchange, repair, compensation, apology, other: any of them),
-- as intake's complaint events carry it; the reports count complaints by each. Empty when nothing was
-- asked or the case was derived before this column: `python -m services rebuild` derives those again.
-- depends: 0002.events-by-stored-at

ALTER TABLE cases ADD COLUMN customer_request text[] NOT NULL DEFAULT '{}';
