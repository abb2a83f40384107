"""The ``gnomon`` command line: the root app (``app.py``) lists the commands of the capability
manifest and imports each capability's ``cli.py`` only when one of its commands runs."""
