"""Notify's HTTP API (staff inbox, delivery log) and its event consumer."""
