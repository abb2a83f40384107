"""Carry "inside an autologged call" into scikit-learn's joblib workers.

The guard that keeps a search's candidates from logging runs of their own lives in a
``ContextVar``, which a thread does not inherit: under joblib's threading backend each
candidate's ``fit`` would otherwise look like the outermost call and make a stray run.
scikit-learn's own ``Parallel`` runs every job it dispatches, so its ``__call__`` wraps the
jobs of a call made inside an autologged fit to run inside it too (process workers
unpickle the wrapper; their scikit-learn is not patched, so it changes nothing there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gnomon.autologging.patching import inside, running

Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def wrap_parallel_call(original: Callable[..., Any]) -> Callable[..., Any]:
    """A ``Parallel.__call__`` that runs the jobs inside the caller's autologged call."""

    def call(self: Any, iterable: Iterable[Job]) -> Any:
        library = inside()
        if library is None:
            return original(self, iterable)
        return original(self, ((_inside_job(f, library), a, kw) for f, a, kw in iterable))

    return call


def _inside_job(function: Callable[..., Any], library: str) -> Callable[..., Any]:
    # A function scikit-learn did not delay itself is left alone, so it still warns of it.
    if hasattr(function, "with_config_and_warning_filters"):
        return InsideJob(function, library)
    return function


class InsideJob:
    """One delayed function, run as if inside ``library``'s autologged call."""

    def __init__(self, function: Any, library: str) -> None:
        self.function = function
        self.library = library

    def with_config_and_warning_filters(self, config: Any, warning_filters: Any) -> InsideJob:
        # scikit-learn hands its configuration on to the function it delayed.
        self.function = self.function.with_config_and_warning_filters(config, warning_filters)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with running(self.library):
            return self.function(*args, **kwargs)
