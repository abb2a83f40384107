"""Params that hold secrets: logged under their key, with ``***`` as the value.

A pipeline step or a module's hyperparameters may carry an API token or a database
password; autologging records every param, and a run is readable by anyone who can read
the experiment. The last ``__`` segment of the key names the param (``fetch__api_token`` is
``api_token`` of the step ``fetch``). A name holding ``password``, ``passwd``, ``secret``,
``credential``, ``api_key``/``apikey`` or ``private_key``, or ending in ``token``, is a
secret. ``token`` counts only at the end, so that ``token_pattern`` and ``tokenizer`` (the
text vectorizers' params) stay readable.
"""

from __future__ import annotations

import re

REDACTED = "***"
_SECRET_NAME = re.compile(
    r"password|passwd|secret|credential|api[-_]?key|private[-_]?key|token$", re.IGNORECASE
)


def is_secret(key: object) -> bool:
    """Whether the param ``key`` names a secret.

    Example:
        >>> is_secret("fetch__api_token"), is_secret("vectorizer__token_pattern")
        (True, False)
    """
    name = str(key).rsplit("__", 1)[-1]
    return _SECRET_NAME.search(name) is not None


def redacted(key: object, text: str) -> str:
    """``text``, or ``***`` when ``key`` names a secret."""
    return REDACTED if is_secret(key) else text
