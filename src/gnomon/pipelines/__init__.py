"""Pipelines: typed steps composed into DAGs, run locally or on Ray with caching, retries and
lineage; schedules and triggers start them. ``@gnomon.step`` and ``@gnomon.pipeline`` build
them; ``gnomon.run_pipeline`` and ``gnomon pipeline run`` run them."""
