"""Monitoring: drift, data quality, outliers and live performance of deployments, from their
prediction records and outcomes; alerts on any figure."""
