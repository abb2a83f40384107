"""Deployments: which model versions answer an endpoint's traffic, and how it is split."""
