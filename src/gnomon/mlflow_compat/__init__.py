"""MLflow compatibility: MLflow's REST API on the gnomon server, and imports from MLflow."""
