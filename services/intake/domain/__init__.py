"""Intake's domain: the complaint record and its rules, free of Flask, psycopg and kombu."""
