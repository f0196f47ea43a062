"""Routing's domain: cases, tasks and their forms, free of Flask, psycopg and SpiffWorkflow."""
