"""Intake's adapters: PostgreSQL repositories and the unit of work."""
