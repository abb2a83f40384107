"""The feature store: entities, feature views and feature services defined in code, point in
time training sets from the offline sources (DuckDB), the latest values materialised into an
online store (SQLite embedded, Redis at scale), and online lookups for serving."""
