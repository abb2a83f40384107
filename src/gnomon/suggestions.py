""" "Did you mean ...?" for a name that was not found.

Callers pass only names the caller may see (its own workspace's), so a suggestion never
reveals another workspace; and at most ``MAX_CANDIDATES`` of them, so a miss costs one
bounded listing.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from itertools import islice

MAX_CANDIDATES = 1_000
_MAX_WORD = 300  # longer than any name (256): nothing is close, and matching it costs its length


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'churn'?"`` for the candidate closest to ``word``, or ``""``."""
    if len(word) > _MAX_WORD:
        return ""
    names = [name for name in islice(candidates, MAX_CANDIDATES) if name != word]
    close = difflib.get_close_matches(word, names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
