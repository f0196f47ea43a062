"""Routing's entrypoints: the HTTP API (processes, tasks, cases)."""
