"""The fluent SDK: ``gnomon.start_run()``, ``gnomon.log_metric()`` and friends.

The active run lives in a ``ContextVar`` (the only global state besides the default client).
Params, metrics and tags go through the client's buffer; ``end_run``, leaving the ``with``
block, ``flush()`` and interpreter exit write them.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import warnings
from contextvars import ContextVar
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from gnomon import checks
from gnomon.config import Settings
from gnomon.errors import Conflict, GnomonError, InvalidInput
from gnomon.sdk import Client
from gnomon.tracking import validation as v
from gnomon.tracking.capture import DIFF_ARTIFACT, REQUIREMENTS_ARTIFACT, capture
from gnomon.tracking.entities import Experiment, Metric, Run, RunStatus
from gnomon.tracking.frame import RunPage, pick_output
from gnomon.tracking.search import DEFAULT_MAX_RESULTS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import pandas as pd

    from gnomon.tracking.system_metrics import SystemMetricsMonitor

logger = logging.getLogger(__name__)

DATA_LOST_TAG = "gnomon.data_lost"  # how many logged values never reached the store

_active: ContextVar[tuple[ActiveRun, ...]] = ContextVar("gnomon_active_runs", default=())
_client: Client | None = None
_client_lock = threading.Lock()
_experiment: Experiment | None = None


class ActiveRun:
    """The run the fluent API logs to; a context manager that ends it (FAILED on error)."""

    def __init__(self, client: Client, run: Run) -> None:
        self.client = client
        self.run = run
        self.id = run.id
        self._params = dict(run.params)  # logged so far: lets a changed value fail at once
        self._monitor: SystemMetricsMonitor | None = None

    @property
    def name(self) -> str:
        return self.run.name

    @property
    def experiment_id(self) -> str:
        return self.run.experiment_id

    @property
    def artifact_uri(self) -> str:
        return self.run.artifact_uri

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id!r}, name={self.name!r})"

    def _repr_html_(self) -> str:
        """A notebook's view of the run as stored now, with what was logged so far."""
        # What was logged so far, if the writer gets it out soon: a display must not hang
        # through an outage. Raises nothing; a write error stays for flush/end_run.
        self.client.buffer.wait(timeout=2.0)
        try:
            run = self.client.get_run(self.id)
        except GnomonError:  # the store is away: show the run as it started
            run = self.run
        return run._repr_html_()

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        if any(run is self for run in _active.get()):
            _end(self, status)


def get_client(*, runs: bool = True) -> Client:
    """The client the fluent API uses, created from the environment on first use.

    ``runs=False`` (a pipeline's run, which records no environment): the client is not made
    ready to start runs, so git and the package list are not read ahead."""
    global _client
    if _client is None:
        with _client_lock:  # a process's first Client pauses collection itself (_gc.py)
            if _client is None:
                settings = Settings()
                if runs and settings.capture_environment:
                    # Read git and the installed packages now, off the caller's thread and
                    # while the store opens: the first run's end_run then does not wait for
                    # the git spawns (they took 5 ms past the opening of a new store).
                    threading.Thread(
                        target=_warm_capture, name="gnomon-capture", daemon=True
                    ).start()
                _client = Client(settings=settings)
    return _client


def _warm_capture() -> None:
    try:
        capture()
    except Exception as exc:  # a warm-up only: the run's own capture says what failed
        logger.debug("gnomon: could not read the environment ahead of a run: %s", exc)


def set_tracking_uri(uri: str) -> None:
    """Point the fluent API at another store (as ``GNOMON_URI`` would), e.g. from a notebook.

    What the old client buffered is written first; the experiment set before is forgotten.

    Raises:
        Conflict: a run is active; end it first.
        GnomonError: a write the old client buffered failed for good (as ``flush`` raises
            it); the fluent API then still talks to the old store.
    """
    _switch_client(uri=uri)


def set_workspace(name: str) -> None:
    """Make the fluent API act in workspace ``name`` (as ``GNOMON_WORKSPACE`` would).

    Raises:
        Conflict: a run is active; end it first.
        NotFound: the workspace does not exist, or is not the caller's.
    """
    _switch_client(workspace=name)


def _switch_client(**update: str) -> None:
    global _client, _experiment
    stack = _active.get()
    if stack:
        change = " and ".join(update)
        raise Conflict(f"run {stack[-1].id!r} is active: end it before changing the {change}")
    with _client_lock:
        old = _client
        settings = (old.settings if old is not None else Settings()).model_copy(update=update)
        new = Client(settings=settings)
        _ = new.scope  # a workspace that is not there fails here, before the old client goes
        if old is not None:
            old.close()  # writes what it buffered
        _client, _experiment = new, None


@overload
def search_runs(
    experiment: str | Iterable[str] | None = None,
    filter: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int = DEFAULT_MAX_RESULTS,
    output: Literal["page"] = "page",
) -> RunPage: ...


@overload
def search_runs(
    experiment: str | Iterable[str] | None = None,
    filter: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int = DEFAULT_MAX_RESULTS,
    *,
    output: Literal["pandas"],
) -> pd.DataFrame: ...


def search_runs(
    experiment: str | Iterable[str] | None = None,
    filter: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int = DEFAULT_MAX_RESULTS,
    output: Literal["page", "pandas"] = "page",
) -> RunPage | pd.DataFrame:
    """``Client.search_runs`` on the default client; ``experiment`` defaults to the one
    ``set_experiment`` chose (else ``GNOMON_EXPERIMENT``).

    Example:
        >>> gnomon.search_runs(filter="metrics.acc > 0.9", output="pandas")
    """
    client = get_client()
    if experiment is None:
        experiment = _experiment.id if _experiment else client.settings.experiment
    page = client.search_runs(experiment, filter, order_by, max_results)
    return pick_output(page, output)


def set_experiment(name: str) -> Experiment:
    """Log later runs to experiment ``name``, creating it if needed."""
    global _experiment
    client = get_client()
    _experiment = client.tracking.get_or_create_experiment(client.scope, name)
    return _experiment


def start_run(
    name: str | None = None,
    *,
    run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str = "",
    nested: bool = False,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it the active one.

    With ``log_system_metrics`` (default ``GNOMON_SYSTEM_METRICS``), CPU, memory, disk,
    network and NVIDIA GPU use are sampled every ``GNOMON_SYSTEM_METRICS_INTERVAL`` seconds
    until the run ends, and logged as ``system/...`` metrics.

    Example:
        >>> with gnomon.start_run(name="rf-baseline", tags={"team": "growth"}) as run:
        ...     gnomon.log_metric("loss", 0.3, step=1)

    Raises:
        Conflict: a run is already active and ``nested`` is false.
        NotFound: ``run_id`` names no run.
    """
    stack = _active.get()
    if stack and not nested:
        raise Conflict(f"run {stack[-1].id!r} is already active: end it first, or pass nested=True")
    client = get_client()
    if run_id is not None:
        run = client.tracking.resume_run(client.scope, run_id)
    else:
        experiment = _experiment or set_experiment(client.settings.experiment)
        run = client.tracking.create_run(
            client.scope,
            experiment.id,
            name,
            tags=tags,
            description=description,
            parent_run_id=stack[-1].id if stack else None,
        )
        if client.settings.capture_environment:
            client.buffer.submit(lambda: _record_context(client, run.id))
    active = ActiveRun(client, run)
    if client.settings.system_metrics if log_system_metrics is None else log_system_metrics:
        active._monitor = _start_monitor(client, run.id)
    _active.set((*stack, active))
    return active


def enter_run(run: Run) -> ActiveRun:
    """Make ``run``, which the caller has just created through the fluent client and is
    running, the active one without asking the store again (``gnomon.tune``'s trials: one
    round trip less per trial, and no environment capture: the study's run has it)."""
    active = ActiveRun(get_client(), run)
    _active.set((*_active.get(), active))
    return active


def _start_monitor(client: Client, run_id: str) -> SystemMetricsMonitor:
    from gnomon.tracking.system_metrics import SystemMetricsMonitor

    def log(metric: Metric) -> None:
        client.buffer.add_metric(run_id, metric)

    return SystemMetricsMonitor(log, client.settings.system_metrics_interval).start()


def active_run() -> ActiveRun | None:
    stack = _active.get()
    return stack[-1] if stack else None


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run; everything it logged is durable when this returns.

    It first waits for the buffer to deliver what the run logged, through an outage of up to
    ``GNOMON_RETRY_WINDOW_SECONDS``. If values had to be given up, it logs an error, warns
    (``RuntimeWarning``), tags the run ``gnomon.data_lost`` with their number, and ends it
    ``FAILED`` instead of ``FINISHED``.

    Raises:
        GnomonError: a buffered write of the run failed for good (as ``flush`` does), or the
            server cannot be reached to end the run (it then stays ``RUNNING``).
    """
    stack = _active.get()
    if stack:
        _end(stack[-1], status)


def flush() -> None:
    """Write everything buffered so far, retrying through a short outage.

    Raises:
        Unavailable: logged values were given up (the store could not take them within
            ``GNOMON_RETRY_WINDOW_SECONDS``); ``details["lost"]`` counts them per run.
        GnomonError: a buffered write failed for good (e.g. ``Conflict``: the run ended).
    """
    if _client is not None:
        _client.flush()


def log_metric(
    key: str, value: float, step: int | None = None, timestamp: int | None = None
) -> None:
    run = _current()
    key = checks.key("metric", key)
    value = v.metric_value(key, value)
    step = 0 if step is None else v.check_step(key, step)
    when = int(time.time() * 1000) if timestamp is None else v.check_step(key, timestamp)
    run.client.buffer.add_metric(run.id, Metric(key, value, step, when))


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    for key, value in metrics.items():
        log_metric(key, value, step)


def log_param(key: str, value: Any) -> None:
    log_params({key: value})


def log_params(params: dict[str, Any]) -> None:
    run = _current()
    checked = v.params_dict(params)
    for key, value in checked.items():
        old = run._params.get(key)
        if old is not None and old != value:
            raise Conflict(
                f"param {key!r} of run {run.id!r} is already {old!r}; cannot change it to "
                f"{value!r} (params are immutable)",
                {"key": key, "stored": old, "new": value},
            )
    run._params.update(checked)
    run.client.buffer.add(run.id, checked, {})


def set_tag(key: str, value: Any) -> None:
    set_tags({key: value})


def set_tags(tags: dict[str, Any]) -> None:
    run = _current()
    run.client.buffer.add(run.id, {}, v.tags_dict(tags))


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> str:
    """Upload a file or folder to the active run's artifacts; returns its artifact path."""
    run = _current()
    return run.client.log_artifact(run.id, local_path, artifact_path)


def log_text(text: str, artifact_file: str) -> str:
    run = _current()
    return run.client.log_text(run.id, text, artifact_file)


def log_dict(dictionary: Mapping[str, Any], artifact_file: str) -> str:
    """Write ``dictionary`` to the active run as JSON, or YAML when the file ends .yaml/.yml.

    Example:
        >>> gnomon.log_dict({"layers": [64, 32]}, "config.yaml")
    """
    run = _current()
    return run.client.log_dict(run.id, dictionary, artifact_file)


def load_dict(run_id: str, artifact_file: str) -> Any:
    """Read back a dict that ``log_dict`` wrote to run ``run_id``."""
    return get_client().load_dict(run_id, artifact_file)


def log_table(frame: pd.DataFrame, artifact_file: str) -> str:
    """Write a DataFrame to the active run as Parquet; ``artifact_file`` must end .parquet."""
    run = _current()
    return run.client.log_table(run.id, frame, artifact_file)


def load_table(run_id: str, artifact_file: str) -> pd.DataFrame:
    """Read back a DataFrame that ``log_table`` wrote to run ``run_id``."""
    return get_client().load_table(run_id, artifact_file)


def log_image(image: Any, artifact_file: str) -> str:
    """Write a NumPy array (uint8 HxW, HxWx3, HxWx4, or float in [0, 1]) or a PIL image
    to the active run as a PNG; ``artifact_file`` must end .png."""
    run = _current()
    return run.client.log_image(run.id, image, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> str:
    """Write a matplotlib figure (``.png``, ``.svg``, ``.pdf``) or a plotly figure (``.html``)
    to the active run.

    Example:
        >>> gnomon.log_figure(fig, "plots/loss.svg")
    """
    run = _current()
    return run.client.log_figure(run.id, figure, artifact_file)


def _current() -> ActiveRun:
    stack = _active.get()
    return stack[-1] if stack else start_run()


def _end(run: ActiveRun, status: RunStatus | str) -> None:
    if run._monitor is not None:  # first: no system metric may arrive after the run ends
        run._monitor.stop()
    stack = _active.get()
    client, buffer = run.client, run.client.buffer
    ended, final = False, _terminal(status)
    try:
        if final is not None and client.tracking.ends_with_a_batch:
            ended = buffer.end(run.id, final)  # the last values and the end: one transaction
        else:
            buffer.wait()
    except BaseException:  # interrupted (Ctrl-C) with values perhaps still queued
        status = RunStatus.KILLED
        raise
    finally:
        _active.set(tuple(r for r in stack if r is not run))
        lost = buffer.take_lost(run.id)
        if lost:
            status = _report_loss(run, lost, status)
        if not ended:
            client.tracking.end_run(client.scope, run.id, status)
    buffer.raise_error()


def _terminal(status: RunStatus | str) -> RunStatus | None:
    """``status`` as a terminal RunStatus; None for anything else, which ``end_run`` refuses
    once the values are written."""
    try:
        final = checks.member(RunStatus, status, "run status")
    except InvalidInput:
        return None
    return final if final.is_terminal else None


def _report_loss(run: ActiveRun, lost: int, status: RunStatus | str) -> RunStatus | str:
    """Say loudly that ``lost`` values of the run never reached the store; a run missing
    data is never FINISHED."""
    message = (
        f"gnomon: {lost} logged values (metric points, params, tags) of run {run.id!r} were "
        "lost: the store could not take them within GNOMON_RETRY_WINDOW_SECONDS; the run is "
        f"tagged {DATA_LOST_TAG} and ends FAILED, not FINISHED"
    )
    logger.error(message)
    warnings.warn(message, RuntimeWarning, stacklevel=4)
    client = run.client
    client.tracking.log_batch(client.scope, run.id, tags={DATA_LOST_TAG: str(lost)})
    finished = str(getattr(status, "value", status)).upper() == RunStatus.FINISHED.value
    return RunStatus.FAILED if finished else status


def _record_context(client: Client, run_id: str) -> None:
    try:
        context = capture()
        client.buffer.add(run_id, {}, context.tags)
        files = {REQUIREMENTS_ARTIFACT: context.requirements.encode()}
        if context.diff:
            files[DIFF_ARTIFACT] = context.diff.encode()
        client.tracking.log_files(client.scope, run_id, files)
    except (GnomonError, OSError) as exc:  # best effort: never fail a run over its context
        logger.warning("gnomon: could not record the run's environment: %s", exc)


@atexit.register
def _end_runs_at_exit() -> None:
    for run in reversed(_active.get()):
        try:
            _end(run, RunStatus.FINISHED)
        except Exception:
            logger.exception("gnomon: could not end run %s at exit", run.id)


def _reset() -> None:
    """Forget the default client, experiment and active runs (tests; GNOMON_* changes)."""
    global _client, _experiment
    for run in _active.get():
        if run._monitor is not None:
            run._monitor.stop()
    if _client is not None:
        _client.buffer.close()
    _client, _experiment = None, None
    _active.set(())
