-- Retention erases personal data inside the events intake published, found by their complaint.
-- depends: bus-0001.outbox-inbox 0002.case-holders

CREATE INDEX outbox_by_complaint ON outbox ((envelope ->> 'complaint_id'));
