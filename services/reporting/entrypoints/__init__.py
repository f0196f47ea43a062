"""Reporting's HTTP API and its event consumer."""
