"""The gnomon side of each workload; each module runs as a script and prints one JSON line."""
