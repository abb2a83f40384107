"""Finding a pipeline by its ``module:attribute`` reference, as the CLI and the worker do."""

from __future__ import annotations

import os
import sys

from gnomon.errors import InvalidInput, UserCodeError
from gnomon.pipelines.decorators import Pipeline, resolve


def load_pipeline(ref: str) -> Pipeline:
    """The ``@gnomon.pipeline`` that ``module:attribute`` names; the current folder is
    importable, as with ``python -m``."""
    module, sep, attribute = ref.partition(":")
    if not sep or not module or not attribute or len(ref) > 1000:
        raise InvalidInput(f"a pipeline is given as module:attribute, not {ref[:100]!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found = resolve(ref)
    except ModuleNotFoundError as exc:
        raise InvalidInput(f"cannot import {module!r} for pipeline {ref!r}: {exc}") from None
    except AttributeError:
        raise InvalidInput(f"module {module!r} has no {attribute!r}") from None
    except Exception as exc:  # the module's own code raised while importing
        raise UserCodeError(
            f"importing {module!r} raised {type(exc).__name__}: {exc}", exc
        ) from None
    if not isinstance(found, Pipeline):
        raise InvalidInput(f"{ref!r} is a {type(found).__name__}, not a @gnomon.pipeline")
    return found


__all__ = ["load_pipeline"]
