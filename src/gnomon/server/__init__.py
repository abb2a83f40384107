"""The gnomon server: REST API, health, metrics."""
