"""The ``gnomon`` command line: the root app (``app.py``) mounts each capability's ``cli.py``."""
