"""What operators watch: Prometheus metrics, the probe listener of worker processes, and scraping.

``metrics`` declares the counters and histograms every service shares; ``collectors`` measures at
scrape time what lives in PostgreSQL and RabbitMQ (outbox backlog, queue depth); ``exposition``
renders one scrape (prometheus_client's multiprocess mode under gunicorn); ``listener`` answers
``/metrics``, ``/healthz`` and ``/readyz`` on METRICS_PORT for processes without an HTTP API.
"""
