"""Notify's edges: PostgreSQL repositories, message channels, templates, PDF letters."""
