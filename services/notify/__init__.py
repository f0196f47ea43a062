"""Notify: delivers every message to customers, merchants and staff, reliably."""
