"""Intake's use cases: one handler per command, run inside a unit of work."""
