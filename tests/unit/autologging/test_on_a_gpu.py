"""On an NVIDIA GPU, skipped elsewhere: a module trained there is saved to run on the CPU and
left where it was, autologging reads losses that live on the GPU, Lightning on the GPU logs a
model that serves on the CPU, and system metrics sample the GPU while a run holds memory there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import gnomon
from gnomon.modelfolder import load_folder, save_model
from gnomon.tracking.system_metrics import sample_gpus
from tests.unit.autologging.runs import history, only_run
from tests.unit.autologging.test_for_torch import WEIGHTS, Regressor, train

pytestmark = [
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine"),
    pytest.mark.filterwarnings("ignore::lightning.fabric.utilities.warnings.PossibleUserWarning"),
    pytest.mark.filterwarnings("ignore:.*treespec.*:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec.*"),
]
GPU = torch.device("cuda")


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


def test_a_module_on_the_gpu_is_saved_for_the_cpu_and_left_where_it_was(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    model.to(GPU).train()
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(6, 4)), columns=list("abcd"))
    save_model(model, tmp_path / "model", input_example=frame)
    assert all(p.device.type == "cuda" for p in model.parameters()) and model.training

    loaded = load_folder(tmp_path / "model")
    with torch.no_grad():
        expected = model.eval()(torch.tensor(frame.to_numpy("float32"), device=GPU)).cpu()
    np.testing.assert_allclose(loaded.predict(frame), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_a_plain_loop_on_the_gpu_logs_its_loss(autologged: None, data: Any) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1).to(GPU)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    on_gpu = tuple(tensor.to(GPU) for tensor in data)
    with gnomon.start_run():
        losses = train(model, optimizer, on_gpu, steps=5)
        losses += train(model, optimizer, on_gpu, steps=2, micro=2)
    assert history(only_run(), "train_loss") == pytest.approx(losses, rel=1e-5)


def test_lightning_on_the_gpu_logs_a_model_that_serves_on_the_cpu(
    autologged: None, data: Any
) -> None:
    import lightning.pytorch as L

    torch.manual_seed(0)
    module = Regressor(lr=0.05)
    x, y = data
    L.Trainer(
        max_epochs=2,
        accelerator="gpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    ).fit(module, DataLoader(TensorDataset(x[:24], y[:24]), batch_size=8))
    run = only_run()
    assert run.status == "FINISHED" and len(history(run, "train_loss")) == 2
    model = gnomon.load_model(f"runs:/{run.id}/model")
    with torch.no_grad():
        expected = module.to(GPU).eval()(x.to(GPU)).cpu().numpy()
    np.testing.assert_allclose(model.predict(x.numpy()), expected, rtol=1e-4, atol=1e-5)
    assert F.mse_loss(torch.tensor(model.predict(x.numpy())), y).item() < 100


def test_system_metrics_sample_the_gpu_a_run_uses(
    gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNOMON_SYSTEM_METRICS_INTERVAL", "0.1")
    before = sample_gpus()
    assert before["gpu_0_memory_usage_megabytes"] > 0 and "gpu_0_utilization_percentage" in before
    with gnomon.start_run(log_system_metrics=True) as run:
        held = torch.empty(2 * 1024**3, dtype=torch.uint8, device=GPU)  # 2 GiB on the GPU
        torch.cuda.synchronize()
        time.sleep(0.6)
    client = gnomon.get_client()
    memory = [
        p.value for p in client.get_metric_history(run.id, "system/gpu_0_memory_usage_megabytes")
    ]
    assert len(memory) >= 3
    assert max(memory) >= before["gpu_0_memory_usage_megabytes"] + 2000  # the 2 GiB was seen
    utilisation = client.get_metric_history(run.id, "system/gpu_0_utilization_percentage")
    assert all(0 <= p.value <= 100 for p in utilisation) and utilisation
    del held
