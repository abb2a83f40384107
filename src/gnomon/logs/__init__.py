"""gnomon's log lines: what each is about and how it is written.

``context`` holds what a line is about (the request or worker step, its user, workspace and
object) in a contextvar; ``formatters`` writes a record as one JSON object (for ELK and other
collectors) or as text for people; ``setup`` configures a process from ``GNOMON_LOG_FORMAT``
and ``GNOMON_LOG_LEVEL``, uvicorn's workers included. Below every capability: the servers,
the worker, the HTTP transport and the CLI all import it, and it imports none of them.
"""
