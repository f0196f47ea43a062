"""Routing: runs the complaint diagram with SpiffWorkflow and serves the department task queues."""
