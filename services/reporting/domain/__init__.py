"""Reporting's domain: what a case's events mean, periods, recurring problems. No Flask, psycopg or kombu."""
