"""PyTorch autologging for plain training loops.

A plain loop has no call that starts and ends training, so this logs only into a run the
user started (``with gnomon.start_run():`` around the loop) and never starts one: a run
begun at the first step could not know when to end, nor whether the loop it saw was training.
Within a run it logs, at each optimizer step:

- once per run and optimizer, its class and hyperparameters as params: ``optimizer_name``
  and ``optimizer.<name>`` for each of its defaults (``optimizer.lr``, ``optimizer.betas``,
  ...; implementation switches such as ``foreach`` left out);
- ``train_loss``, the mean of the one-element losses ``backward()`` was called on since the
  previous step (so gradient accumulation gives one point a step; under a ``GradScaler`` the
  loss before scaling), at step = the optimizer steps the run has seen, from 0.

It hooks PyTorch where a loop always passes: ``Tensor.backward`` and ``GradScaler.scale``
record the loss, and PyTorch's global optimizer step hook logs it. The training thread never
waits for a value: the loss stays a detached tensor on its device (summed and divided by
small kernels, queued like the loop's own), and the buffer's writer thread turns the queued
losses into numbers, one transfer per device at each of its rounds, so a GPU loop pays no
host sync for gnomon. Outside a run, or within another autologged call (Lightning's ``fit``
logs for itself), the hooks only check that.

No model is logged: nothing marks the loop's end. Log it with ``gnomon.log_model(model,
input_example=...)``, or train with Lightning, whose ``fit`` autologs the model too.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gnomon.autologging import session
from gnomon.autologging.imports import when_imported
from gnomon.autologging.patching import inside, on_revert, patch, safely
from gnomon.autologging.session import Options
from gnomon.tracking import fluent
from gnomon.tracking.entities import Metric

LIBRARY = "pytorch"
LOSS_METRIC = "train_loss"
# Defaults that choose how an optimizer computes, not what: not hyperparameters.
_SWITCHES = frozenset({"foreach", "fused", "capturable", "differentiable", "maximize"})


def enable(options: Options) -> None:
    """Hook PyTorch, now or when it is imported; ``autolog`` calls this."""
    when_imported(LIBRARY, "torch", _install)


def _install() -> None:
    import torch
    from torch.optim.optimizer import register_optimizer_step_post_hook

    patch(LIBRARY, torch.Tensor, "backward", _recording_backward)
    patch(LIBRARY, torch.amp.GradScaler, "scale", _recording_scale)
    handle = register_optimizer_step_post_hook(_after_step)
    on_revert(LIBRARY, handle.remove)


def optimizer_params(optimizer: Any) -> dict[str, Any]:
    """``optimizer_name`` and ``optimizer.<name>`` for each hyperparameter in its defaults."""
    params: dict[str, Any] = {"optimizer_name": type(optimizer).__name__}
    for key, value in optimizer.defaults.items():
        if key in _SWITCHES or value is None:
            continue
        if hasattr(value, "numel") and value.numel() == 1:  # a tensor learning rate
            value = value.item()
        params[f"optimizer.{key}"] = value
    return params


class _Recorded(threading.local):
    """The training thread's losses since its optimizer's last step, as a sum and a count
    (bounded, however many backward calls come without a step)."""

    def __init__(self) -> None:
        self.total: Any = None  # a 0-d float tensor on the loss's device
        self.count = 0
        self.scaled: Any = None  # what GradScaler.scale returned: its backward is recorded


_recorded = _Recorded()


def _recording() -> bool:
    return fluent.active_run() is not None and inside() is None


def _recording_backward(original: Callable[..., Any]) -> Callable[..., Any]:
    def backward(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _recorded.scaled is self:  # GradScaler.scale recorded the loss before scaling
            _recorded.scaled = None
        elif _recording():
            safely("record the loss", _record, self)
        return original(self, *args, **kwargs)

    return backward


def _recording_scale(original: Callable[..., Any]) -> Callable[..., Any]:
    def scale(self: Any, outputs: Any) -> Any:
        scaled = original(self, outputs)
        if _recording() and safely("record the loss", _record, outputs):
            _recorded.scaled = scaled
        return scaled

    return scale


def _record(loss: Any) -> bool:
    """Keep a one-element ``loss`` (detached) for the next step; whether it was one."""
    if not hasattr(loss, "numel") or loss.numel() != 1:
        return False
    value = loss.detach().reshape(()).float()
    _recorded.total = value if _recorded.total is None else _recorded.total + value
    _recorded.count += 1
    return True


def _after_step(optimizer: Any, args: Any, kwargs: Any) -> None:
    total, count = _recorded.total, _recorded.count
    if total is None:
        return
    _recorded.total, _recorded.count = None, 0
    run = fluent.active_run()
    if run is not None and inside() is None:
        # A new tensor, not a view of the user's loss, which the loop may reuse.
        safely("log the training loss", _log_step, run, optimizer, total / count)


@dataclass(frozen=True, slots=True)
class _Point:
    run_id: str
    step: int
    timestamp: int
    loss: Any  # a 0-d float tensor, perhaps still being computed on an accelerator


_lock = threading.Lock()
_queues: weakref.WeakKeyDictionary[Any, list[_Point]] = weakref.WeakKeyDictionary()
_params_logged: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_steps: dict[str, int] = {}  # run id → optimizer steps logged


def _log_step(run: fluent.ActiveRun, optimizer: Any, loss: Any) -> None:
    if _params_logged.get(optimizer) != run.id:
        _params_logged[optimizer] = run.id
        fluent.set_tag(session.SOURCE_TAG, LIBRARY)
        session.log_params(optimizer_params(optimizer))
    step = _steps.get(run.id, 0)
    _steps[run.id] = step + 1
    point = _Point(run.id, step, int(time.time() * 1000), loss)
    buffer = run.client.buffer
    with _lock:
        queue = _queues.get(buffer)
        if queue is None:  # no task waits for this buffer: queue one for its next round
            queue = _queues[buffer] = []
            buffer.submit(lambda: safely("log the training loss", _write, buffer), wake=False)
        queue.append(point)


def _write(buffer: Any) -> None:
    """On the writer thread: the queued losses as numbers, one transfer per device."""
    import torch

    with _lock:
        points = _queues.pop(buffer, [])
    by_device: dict[Any, list[_Point]] = {}
    for point in points:
        by_device.setdefault(point.loss.device, []).append(point)
    for group in by_device.values():
        values = torch.stack([point.loss for point in group]).tolist()
        for point, value in zip(group, values, strict=True):
            metric = Metric(LOSS_METRIC, float(value), point.step, point.timestamp)
            buffer.add_metric(point.run_id, metric)
