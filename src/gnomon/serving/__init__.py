"""Serving: models and deployments answering predictions over HTTP, batch prediction and
packaging; the records they leave are written through ``gnomon.predictions``."""
