"""Hyperparameter tuning: Optuna studies whose trials are tracking runs.

``gnomon.tune`` (``tune.py``) runs a study in this process, in local worker processes or on
Ray (``parallel.py``); Optuna's journal of each study lives in gnomon's database
(``journal.py`` over ``client.tuning``), so studies survive, resume and can be shared through
a server. ``analysis.py`` replays a study for ``gnomon tune show``, the HTML report and the
web UI; ``components.tune`` is the tuning step of a pipeline.
"""
