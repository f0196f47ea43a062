"""Notify's use cases: planning deliveries from events, sending them, erasing."""
