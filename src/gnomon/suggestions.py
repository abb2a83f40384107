""" "Did you mean ...?" for a name that was not found.

Callers pass only names the caller may see (its own workspace's), so a suggestion never
reveals another workspace; and at most ``MAX_CANDIDATES`` of them, so a miss costs one
bounded listing.

A miss must stay cheap even when an editor fills a workspace with long names made to look
alike: only words of at most ``MAX_WORD`` characters are matched, only candidates of a length
a typo could give are looked at, and only the ``MAX_COMPARISONS`` likeliest of those are
compared in full (difflib's ``ratio``, quadratic in the length; ``quick_ratio`` bounds it
from above in linear time and picks them).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from difflib import SequenceMatcher
from itertools import islice

MAX_CANDIDATES = 1_000
MAX_WORD = 64  # a longer word is no typo of a name anyone types
MAX_COMPARISONS = 20  # full comparisons per miss
CUTOFF = 0.6  # difflib's default: below it, nothing is close


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'churn'?"`` for the candidate closest to ``word``, or ``""``."""
    close, _ = closest(word, candidates)
    return f"; did you mean {close!r}?" if close is not None else ""


def closest(word: str, candidates: Iterable[str]) -> tuple[str | None, int]:
    """The candidate closest to ``word`` (``None`` when none is close enough), and how many
    candidates were compared in full to find it (at most ``MAX_COMPARISONS``)."""
    if len(word) > MAX_WORD:
        return None, 0
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(word)  # seq2 is the one SequenceMatcher indexes once
    bounds: list[tuple[float, str]] = []
    for name in islice(candidates, MAX_CANDIDATES):
        if name == word or not _typo_length(word, name):
            continue
        matcher.set_seq1(name)
        bound = matcher.quick_ratio()
        if bound >= CUTOFF:
            bounds.append((bound, name))
    best: tuple[float, str] | None = None
    compared = 0
    for bound, name in heapq.nlargest(MAX_COMPARISONS, bounds):
        if best is not None and bound < best[0]:
            break  # sorted by bound: none left can beat the best
        matcher.set_seq1(name)
        compared += 1
        score = (matcher.ratio(), name)
        if score[0] >= CUTOFF and (best is None or score > best):
            best = score
    return (best[1] if best else None), compared


def _typo_length(word: str, name: str) -> bool:
    # A typo adds or drops a few characters: three, or a third of the shorter.
    shorter, longer = sorted((len(word), len(name)))
    return longer - shorter <= max(3, shorter // 3)


__all__ = ["CUTOFF", "MAX_CANDIDATES", "MAX_COMPARISONS", "MAX_WORD", "closest", "did_you_mean"]
