-- The newest stored event, found without reading every event: the projection lag that Prometheus
-- reads at each scrape (services/reporting/metrics.py) takes this index's last entry.
-- depends: 0001.read-model

CREATE INDEX events_stored ON events (stored_at);
