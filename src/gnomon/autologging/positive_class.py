"""Which class a binary classifier's precision, recall and F1 score: one rule for the
training metrics autologging logs and for ``gnomon.evaluate`` (which imports it from here,
as evaluation builds on autologging), so ``training_f1`` and an evaluation's ``f1`` agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def positive_label(classes: Sequence[Any]) -> Any:
    """The greater of two sorted classes (``1`` of 0/1, ``"yes"`` of ``"no"``/``"yes"``);
    None for any other number of classes, which are scored weighted over the classes.

    Example:
        >>> positive_label([0, 1]), positive_label(["no", "yes"]), positive_label([0, 1, 2])
        (1, 'yes', None)
    """
    return classes[-1] if len(classes) == 2 else None
