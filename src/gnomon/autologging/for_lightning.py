"""Lightning autologging: ``Trainer.fit`` of ``lightning.pytorch`` (and of the older
``pytorch_lightning`` package, when that is what the program imports).

``fit`` logs to the active run, or to a run named after the LightningModule that it starts
and ends (FAILED if ``fit`` raises). A callback added for the call logs the module's
``hparams``, the trainer's ``max_epochs``, ``max_steps``, ``accumulate_grad_batches``,
``precision`` and ``gradient_clip_val``, the first optimizer's class and hyperparameters
(``optimizer_name``, ``optimizer.lr``, ...), and ``trainer.callback_metrics`` at the end of
each training epoch (step = epoch). After training, the module is logged as a PyTorch model
whose contract is read from the first training batch's inputs, when those form a table
(rows of features); as with any PyTorch model, its ``forward`` must be exportable.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
from collections.abc import Callable
from typing import Any

from gnomon.autologging import session
from gnomon.autologging.calls import autologged
from gnomon.autologging.for_pytorch import optimizer_params
from gnomon.autologging.imports import when_imported
from gnomon.autologging.patching import inside, patch, safely
from gnomon.autologging.session import EXAMPLE_ROWS, Options
from gnomon.tracking import fluent

LIBRARY = "lightning"
# The package that may be imported → its module holding Trainer and Callback.
PACKAGES = {"lightning": "lightning.pytorch", "pytorch_lightning": "pytorch_lightning"}
TRAINER_SETTINGS = (
    "max_epochs",
    "max_steps",
    "accumulate_grad_batches",
    "precision",
    "gradient_clip_val",
)

logger = logging.getLogger("gnomon.autolog")


def enable(options: Options) -> None:
    """Patch ``Trainer.fit``, now or when Lightning is imported; ``autolog`` calls this."""
    for package, module in PACKAGES.items():
        when_imported(LIBRARY, package, functools.partial(_patch, module, options))


def _patch(module_name: str, options: Options) -> None:
    trainer = importlib.import_module(module_name).Trainer
    callback_class = _callback_class(module_name)
    patch(LIBRARY, trainer, "fit", lambda original: _logging_fit(original, callback_class, options))


def _logging_fit(
    original: Callable[..., Any], callback_class: type, options: Options
) -> Callable[..., Any]:
    def fit(trainer: Any, *args: Any, **kwargs: Any) -> Any:
        # Under DDP every process runs fit; the one of rank 0 logs.
        if inside() is not None or os.environ.get("RANK", "0") != "0":
            return original(trainer, *args, **kwargs)
        model = args[0] if args else kwargs.get("model")
        with autologged(LIBRARY, type(model).__name__) as run:
            if run is None:
                return original(trainer, *args, **kwargs)
            callback = safely("add the callback", _add_callback, trainer, callback_class, run)
            try:
                result = original(trainer, *args, **kwargs)
            finally:
                if callback is not None:
                    safely("remove the callback", _remove_callback, trainer, callback)
            # Without the callback no batch was seen: its warning already said why.
            if options.log_models and model is not None and callback is not None:
                safely("log the model", _log_model, model, callback.example)
        return result

    return fit


def _add_callback(trainer: Any, callback_class: type, run: session.AutologRun) -> Any:
    callback = callback_class(run.run.id)
    trainer.callbacks.append(callback)
    return callback


def _remove_callback(trainer: Any, callback: Any) -> None:
    if callback in trainer.callbacks:
        trainer.callbacks.remove(callback)


# The callback classes by the module they derive from, named so that pickle finds them here
# (a spawning DDP launcher pickles the trainer with its callbacks).
_CALLBACKS = {"lightning.pytorch": "LightningCallback", "pytorch_lightning": "PLCallback"}


def __getattr__(name: str) -> type:
    for module_name, class_name in _CALLBACKS.items():
        if name == class_name:
            return _callback_class(module_name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _callback_class(module_name: str) -> type:
    base = importlib.import_module(module_name).Callback

    class Autolog(base):  # type: ignore[misc, valid-type]
        """Logs params at the start of training and metrics at the end of each epoch, into
        run ``run_id`` only (not into a run a spawned process would start)."""

        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id
            self.example: Any = None  # the first training batch's inputs, as a table
            self.ended_epoch: int | None = None  # an epoch whose metrics are not logged yet

        def _ours(self, trainer: Any) -> bool:
            current = fluent.active_run()
            return trainer.is_global_zero and current is not None and current.id == self.run_id

        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            if self._ours(trainer):
                safely("log the params", _log_params, trainer, pl_module)

        def on_train_batch_start(
            self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int
        ) -> None:
            if self.example is None:
                self.example = safely("read an input example", _table, batch)

        # Callbacks see an epoch's end before the module's own on_train_epoch_end has logged
        # its values, so an epoch's metrics are read when the next one starts, or training ends.
        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            self.ended_epoch = trainer.current_epoch

        def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
            self._log_ended_epoch(trainer)

        def on_train_end(self, trainer: Any, pl_module: Any) -> None:
            self._log_ended_epoch(trainer)

        def _log_ended_epoch(self, trainer: Any) -> None:
            if self.ended_epoch is not None and self._ours(trainer):
                safely("log the epoch's metrics", _log_epoch, trainer, self.ended_epoch)
            self.ended_epoch = None

    Autolog.__name__ = Autolog.__qualname__ = _CALLBACKS[module_name]
    Autolog.__module__ = __name__
    return Autolog


def _log_params(trainer: Any, pl_module: Any) -> None:
    params = dict(getattr(pl_module, "hparams", {}) or {})
    params.update({name: getattr(trainer, name, None) for name in TRAINER_SETTINGS})
    if trainer.optimizers:
        params.update(optimizer_params(trainer.optimizers[0]))
    session.log_params({key: value for key, value in params.items() if value is not None})


def _log_epoch(trainer: Any, epoch: int) -> None:
    metrics = {
        key: value.item() if hasattr(value, "item") else value
        for key, value in trainer.callback_metrics.items()
        if not hasattr(value, "numel") or value.numel() == 1
    }
    session.log_metrics(metrics, step=epoch)


def _table(batch: Any) -> Any:
    """The batch's inputs (the batch, or its first item) when they are rows of features."""
    inputs = batch[0] if isinstance(batch, list | tuple) and batch else batch
    if not hasattr(inputs, "detach") or inputs.ndim != 2:
        return None
    return inputs[:EXAMPLE_ROWS].detach().cpu().float().numpy()


def _log_model(model: Any, example: Any) -> None:
    if example is None:
        logger.warning(
            "gnomon autolog did not log the %s: its first training batch held no table "
            "(rows of features) to infer a contract from; log it with gnomon.log_model",
            type(model).__name__,
        )
        return
    session.log_model(model, example)
