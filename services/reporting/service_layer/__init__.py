"""Reporting's use cases: project events, build reports and reviews, update CAPA records, retention."""
