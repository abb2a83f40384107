"""Serving: deployments answering predictions over HTTP, and the records they leave."""
