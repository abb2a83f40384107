"""PyTorch and Lightning autologging on embedded SQLite: a plain loop's loss and optimizer
inside the user's run, Lightning's fit with its own run, reverting, and failures."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning.pytorch as L
import numpy as np
import pytest
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import gnomon
from gnomon.autologging import for_lightning
from gnomon.tracking.entities import RunStatus
from tests.unit.autologging.runs import history, only_run, runs

pytestmark = [
    # Lightning's own advice (workers, logging intervals) and its deprecations under torch 2.13.
    pytest.mark.filterwarnings("ignore::lightning.fabric.utilities.warnings.PossibleUserWarning"),
    pytest.mark.filterwarnings("ignore:.*treespec.*:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec.*"),
]

WEIGHTS = torch.tensor([1.0, -2.0, 0.5])


@pytest.fixture
def autologged(gnomon_home: Path) -> Iterator[None]:
    gnomon.autolog(["pytorch", "lightning"])
    yield
    gnomon.autolog(["pytorch", "lightning"], disable=True)


@pytest.fixture
def data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, generator=generator)
    return x, x @ WEIGHTS + 0.1


def train(model: torch.nn.Module, optimizer: Any, data: Any, steps: int, micro: int = 1) -> list:
    """A plain loop; returns each step's loss as the loop sees it (the mean of its
    micro-batches' losses under gradient accumulation)."""
    x, y = data
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        seen = []
        for part in range(micro):
            rows = slice(part * len(x) // micro, (part + 1) * len(x) // micro)
            loss = F.mse_loss(model(x[rows]).squeeze(-1), y[rows])
            loss.backward()
            seen.append(loss.item())
        optimizer.step()
        losses.append(sum(seen) / micro)
    return losses


def test_a_plain_loop_logs_its_loss_and_optimizer_into_the_users_run(
    autologged: None, data: Any
) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    train(model, optimizer, data, steps=2)  # outside a run: nothing, and no run started
    assert runs() == []
    with gnomon.start_run(name="loop") as run:
        losses = train(model, optimizer, data, steps=4)
        losses += train(model, optimizer, data, steps=3, micro=2)
    stored = only_run()
    assert stored.id == run.id and stored.status == RunStatus.FINISHED
    assert history(stored, "train_loss") == pytest.approx(losses)
    assert stored.params == {
        "optimizer_name": "SGD",
        "optimizer.lr": "0.05",
        "optimizer.momentum": "0.9",
        "optimizer.dampening": "0",
        "optimizer.weight_decay": "0",
        "optimizer.nesterov": "False",
    }
    assert stored.tags["gnomon.autolog"] == "pytorch"


def test_under_a_grad_scaler_the_loss_is_logged_unscaled(autologged: None, data: Any) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    x, y = data
    losses = []
    with gnomon.start_run():
        for _ in range(3):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x).squeeze(-1), y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            losses.append(loss.item())
    run = only_run()
    assert history(run, "train_loss") == pytest.approx(losses)
    assert (
        run.params["optimizer_name"] == "Adam" and run.params["optimizer.betas"] == "(0.9, 0.999)"
    )


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_gnomon_failing_warns_and_the_loop_carries_on(
    autologged: None, data: Any, caplog: pytest.LogCaptureFixture
) -> None:
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    optimizer.defaults["schedule"] = Unprintable()  # a custom optimizer's setting
    before = model.weight.detach().clone()
    with caplog.at_level(logging.WARNING, logger="gnomon.autolog"), gnomon.start_run():
        train(model, optimizer, data, steps=2)
    assert not torch.equal(model.weight, before)  # the steps were taken
    warnings = [r.getMessage() for r in caplog.records if r.name == "gnomon.autolog"]
    assert any("could not log the training loss: RuntimeError: no repr" in w for w in warnings)
    assert only_run().status == RunStatus.FINISHED


def test_disable_removes_the_hooks(gnomon_home: Path, data: Any) -> None:
    backward, scale, fit = torch.Tensor.backward, torch.amp.GradScaler.scale, L.Trainer.fit
    gnomon.autolog(["pytorch", "lightning"])
    assert torch.Tensor.backward is not backward and L.Trainer.fit is not fit
    assert gnomon.autolog(["pytorch", "lightning"], disable=True) == ["pytorch", "lightning"]
    assert torch.Tensor.backward is backward and torch.amp.GradScaler.scale is scale
    assert L.Trainer.fit is fit
    model = torch.nn.Linear(3, 1)
    with gnomon.start_run():
        train(model, torch.optim.SGD(model.parameters(), lr=0.1), data, steps=2)
    assert only_run().metrics == {} and only_run().params == {}  # the step hook is gone too


class Regressor(L.LightningModule):
    def __init__(self, lr: float = 0.05, fail_at_epoch: int = -1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)

    def training_step(self, batch: Any, index: int) -> torch.Tensor:
        if self.current_epoch == self.hparams.fail_at_epoch:
            raise ValueError("the user's training step")
        x, y = batch
        loss = F.mse_loss(self(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: Any, index: int) -> None:
        x, y = batch
        self.log("val_loss", F.mse_loss(self(x), y))

    def on_train_epoch_end(self) -> None:
        self.log("epoch_seen", float(self.current_epoch))  # logged after callbacks ran

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


class Branchy(Regressor):
    """A forward that depends on the data: torch.export cannot trace it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x).squeeze(-1)
        return out if bool(out.sum() > 0) else -out


def trainer(epochs: int = 3) -> L.Trainer:
    return L.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )


def loaders(data: Any) -> tuple[DataLoader, DataLoader]:
    x, y = data
    return (
        DataLoader(TensorDataset(x[:24], y[:24]), batch_size=8),
        DataLoader(TensorDataset(x[24:], y[24:]), batch_size=8),
    )


def test_lightning_fit_logs_params_epochs_and_the_model(autologged: None, data: Any) -> None:
    torch.manual_seed(0)
    module = Regressor(lr=0.05)
    trainer(epochs=3).fit(module, *loaders(data))
    run = only_run()
    assert (run.name, run.status, run.tags["gnomon.autolog"]) == (
        "Regressor",
        "FINISHED",
        "lightning",
    )
    assert run.params["lr"] == "0.05" and run.params["max_epochs"] == "3"
    assert run.params["optimizer_name"] == "SGD" and run.params["optimizer.lr"] == "0.05"
    assert run.params["precision"] == "32-true"
    # One point per epoch, the plain-loop hooks silent inside fit.
    assert len(history(run, "train_loss")) == 3
    assert history(run, "epoch_seen") == [0.0, 1.0, 2.0]
    x, y = data
    final_val_loss = F.mse_loss(module(x[24:]), y[24:]).item()
    assert history(run, "val_loss")[-1] == pytest.approx(final_val_loss, rel=1e-5)

    model = gnomon.load_model(f"runs:/{run.id}/model")
    assert model.contract is not None and len(model.contract.input_names) == 3
    expected = module(x).detach().numpy()
    np.testing.assert_allclose(model.predict(x.numpy()), expected, rtol=1e-5, atol=1e-6)


def test_lightning_user_error_fails_the_run_and_gnomon_error_only_warns(
    autologged: None, data: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ValueError, match="the user's training step"):
        trainer(epochs=2).fit(Regressor(fail_at_epoch=1), *loaders(data))
    assert gnomon.active_run() is None
    failed = only_run()
    assert failed.status == RunStatus.FAILED and len(history(failed, "val_loss")) == 1

    with caplog.at_level(logging.WARNING, logger="gnomon.autolog"):
        trainer(epochs=1).fit(Branchy(), *loaders(data))
    warnings = [r.getMessage() for r in caplog.records if r.name == "gnomon.autolog"]
    assert any("could not log the model" in w for w in warnings), warnings
    last = runs()[-1]
    assert last.status == RunStatus.FINISHED and "gnomon.logged_models" not in last.tags
    assert len(history(last, "val_loss")) == 1


def test_a_trainer_that_refuses_the_callback_only_warns(
    autologged: None, data: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fitting = trainer(epochs=1)
    fitting.callbacks = tuple(fitting.callbacks)  # no append: gnomon cannot add its callback
    module = Regressor()
    with caplog.at_level(logging.WARNING, logger="gnomon.autolog"):
        fitting.fit(module, *loaders(data))
    warnings = [r.getMessage() for r in caplog.records if r.name == "gnomon.autolog"]
    assert any("could not add the callback: AttributeError" in w for w in warnings), warnings
    assert fitting.current_epoch == 1  # trained
    run = only_run()
    assert run.status == RunStatus.FINISHED and "gnomon.logged_models" not in run.tags


def test_the_lightning_callback_survives_pickling() -> None:
    # A spawning DDP launcher pickles the trainer, callbacks included.
    callback = for_lightning.LightningCallback("run-1")
    copy = pickle.loads(pickle.dumps(callback))
    assert type(copy) is type(callback) and isinstance(copy, L.Callback)
    assert copy.run_id == "run-1"
