-- The search by the last four digits of the customer's phone, the digits the receipt and the status
-- page ask the customer for: the tail of phone_key, which keeps every digit's end as typed.
-- depends: 0007.search-and-related

-- One index more for every complaint recorded to keep up; without it each such search computes the
-- key of every complaint of the mall (a million: 2.1-2.8 s on 2 cores; with it, about 1 ms), as the
-- index on the whole number serves no match on its end. bench/search.py: p95 2.9 ms in 200,000.
CREATE INDEX complaints_by_phone_tail
    ON complaints (mall_id, right(phone_key(customer ->> 'phone'), 4), received_at DESC)
    WHERE customer ->> 'phone' IS NOT NULL;
