"""Routing's PostgreSQL repositories."""
