-- Retention erases personal data inside the events routing published, found by their complaint.
-- depends: bus-0001.outbox-inbox 0002.visited-elements

CREATE INDEX outbox_by_complaint ON outbox ((envelope ->> 'complaint_id'));
CREATE INDEX pending_messages_by_case ON pending_messages (case_id);
