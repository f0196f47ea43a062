-- An e-mailed complaint's first message (its Message-ID and subject): what is sent to the customer by
-- e-mail answers in that thread (In-Reply-To, References). NULL: the complaint came by another channel.
-- depends: 0003.one-outcome-per-attempt

ALTER TABLE complaints ADD COLUMN email_thread jsonb;
