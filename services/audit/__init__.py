"""The books audit: do intake, routing, notify and reporting agree, and is anything stuck or dead?

`python -m services audit` reads every service's schema in one snapshot and RabbitMQ's dead-letter
queues, and lists what disagrees (findings) and what deserves a look without being wrong (notices).
"""
