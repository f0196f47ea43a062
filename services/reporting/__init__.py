"""Reporting: the read model built from every event, the managers' reports, CAPA records and retention."""
