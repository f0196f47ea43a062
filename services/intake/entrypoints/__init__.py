"""Intake's entrypoints: the HTTP API (staff and public) and the command line."""
