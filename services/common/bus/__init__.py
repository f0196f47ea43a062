"""The message bus: event envelopes, AMQP topology, the transactional outbox and idempotent consumers."""
