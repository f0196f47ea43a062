"""Reporting's tables: stored events, case facts, CAPA records, retention bookkeeping, report queries."""
