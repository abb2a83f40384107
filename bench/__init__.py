"""Benchmarks of gnomon against its peers, run side by side: ``python -m bench W1``."""
