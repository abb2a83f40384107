"""Dicts, tables, images and figures as run artifacts: round-trips embedded and through a live
server, and clear errors for what cannot be written."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from matplotlib.figure import Figure
from PIL import Image

import gnomon
from gnomon.errors import Conflict, InvalidInput, NotFound
from tests.fixtures.databases import fresh_workspace
from tests.fixtures.server import LiveServer


@pytest.fixture(params=["embedded", "remote"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[gnomon.Client]:
    if request.param == "embedded":
        request.getfixturevalue("gnomon_home")
        yield gnomon.Client()
        return
    server: LiveServer = request.getfixturevalue("open_server")
    assert server.services.database is not None
    scope = fresh_workspace(server.services.database)
    settings = gnomon.Settings(uri=server.url, workspace=scope.workspace, home=tmp_path)
    remote = gnomon.Client(settings=settings)
    yield remote
    remote.close()


@pytest.fixture
def run_id(client: gnomon.Client) -> str:
    return client.create_run(client.create_experiment("rich").id).id


def _png_pixels(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(data)))


def test_a_dict_round_trips_as_json(client: gnomon.Client, run_id: str) -> None:
    config = {"lr": 0.01, "layers": [64, 32], "name": "ünï"}
    assert client.log_dict(run_id, config, "config/params.json") == "config/params.json"
    assert client.load_dict(run_id, "config/params.json") == config


def test_a_dict_round_trips_as_yaml(client: gnomon.Client, run_id: str, tmp_path: Path) -> None:
    client.log_dict(run_id, {"lr": 0.01, "layers": [64, 32]}, "params.yaml")
    assert client.load_dict(run_id, "params.yaml") == {"lr": 0.01, "layers": [64, 32]}
    local = client.download_artifacts(run_id, "params.yaml", tmp_path)
    assert local.read_text().startswith("lr: 0.01\n")


def test_a_table_round_trips_as_an_equal_frame(client: gnomon.Client, run_id: str) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "score": [0.5, float("nan"), 1.5], "s": list("abc")})
    client.log_table(run_id, frame, "eval/predictions.parquet")
    pd.testing.assert_frame_equal(client.load_table(run_id, "eval/predictions.parquet"), frame)


@pytest.mark.parametrize("shape", [(4, 5), (4, 5, 3), (4, 5, 4)])
def test_a_uint8_image_is_a_png_of_the_same_pixels(
    client: gnomon.Client, run_id: str, tmp_path: Path, shape: tuple[int, ...]
) -> None:
    image = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
    client.log_image(run_id, image, "plots/image.png")
    local = client.download_artifacts(run_id, "plots/image.png", tmp_path)
    np.testing.assert_array_equal(_png_pixels(local.read_bytes()), image)


def test_a_float_image_is_scaled_to_bytes(client: gnomon.Client, run_id: str) -> None:
    image = np.array([[0.0, 0.5, 1.0]])
    client.log_image(run_id, image, "gray.png")
    data = client.tracking.load_bytes(client.scope, run_id, "gray.png")
    np.testing.assert_array_equal(_png_pixels(data), [[0, 128, 255]])


def test_a_pil_image_is_saved_by_pillow(client: gnomon.Client, run_id: str) -> None:
    pixels = np.arange(60, dtype=np.uint8).reshape(4, 5, 3)
    client.log_image(run_id, Image.fromarray(pixels), "pil.png")
    data = client.tracking.load_bytes(client.scope, run_id, "pil.png")
    np.testing.assert_array_equal(_png_pixels(data), pixels)


def test_a_one_channel_image_is_grey(client: gnomon.Client, run_id: str) -> None:
    client.log_image(run_id, np.full((2, 3, 1), 9, np.uint8), "grey.png")
    data = client.tracking.load_bytes(client.scope, run_id, "grey.png")
    np.testing.assert_array_equal(_png_pixels(data), np.full((2, 3), 9))


def test_an_array_image_without_pillow_names_the_extra(
    client: gnomon.Client, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
    with pytest.raises(InvalidInput, match=r"pip install 'gnomon\[images\]'"):
        client.log_image(run_id, np.zeros((2, 2), np.uint8), "image.png")


def _line_figure() -> Figure:
    figure = Figure(figsize=(2, 1), dpi=50)
    figure.add_subplot().plot([0, 1, 2], [1, 0, 1])
    return figure


def test_a_matplotlib_figure_is_saved_in_the_extensions_format(
    client: gnomon.Client, run_id: str
) -> None:
    figure = _line_figure()
    client.log_figure(run_id, figure, "plots/line.png")
    client.log_figure(run_id, figure, "plots/line.svg")
    client.log_figure(run_id, figure, "plots/line.pdf")
    png = client.tracking.load_bytes(client.scope, run_id, "plots/line.png")
    assert _png_pixels(png).shape[:2] == (50, 100)
    svg = client.tracking.load_bytes(client.scope, run_id, "plots/line.svg").decode()
    assert svg.startswith("<?xml") and "<svg" in svg
    assert client.tracking.load_bytes(client.scope, run_id, "plots/line.pdf").startswith(b"%PDF")


def test_a_pyplot_figure_keeps_the_users_backend(client: gnomon.Client, run_id: str) -> None:
    from matplotlib import pyplot as plt

    backend = matplotlib.get_backend()
    figure, axes = plt.subplots()
    axes.bar(["a", "b"], [3, 4])
    client.log_figure(run_id, figure, "bars.png")
    plt.close(figure)
    assert matplotlib.get_backend() == backend
    png = client.tracking.load_bytes(client.scope, run_id, "bars.png")
    assert _png_pixels(png).ndim == 3


def test_a_plotly_figure_is_html_holding_its_plot(client: gnomon.Client, run_id: str) -> None:
    figure = go.Figure(go.Scatter(x=[1, 2, 3], y=[4, 1, 2], name="loss-curve"))
    client.log_figure(run_id, figure, "plots/loss.html")
    html = client.tracking.load_bytes(client.scope, run_id, "plots/loss.html").decode()
    assert 'class="plotly-graph-div"' in html
    assert "loss-curve" in html


@pytest.mark.parametrize(
    ("log", "value", "artifact_file", "problem"),
    [
        ("log_dict", {"a": 1}, "params.txt", "must end .json, .yaml or .yml"),
        ("log_dict", [1, 2], "params.json", "expects a dict, got list"),
        ("log_dict", {"a": object()}, "params.json", "cannot be serialised"),
        ("log_dict", {"a": object()}, "params.yaml", "cannot be serialised"),
        ("log_table", pd.DataFrame({"a": [1]}), "table.csv", "must end .parquet"),
        ("log_table", {"a": [1]}, "table.parquet", "expects a pandas DataFrame, got dict"),
        ("log_image", np.zeros((2, 2), np.uint8), "image.jpg", "must end .png"),
        ("log_image", [[0, 1]], "image.png", "expects a NumPy array or a PIL image, got list"),
        ("log_image", np.zeros((2, 2, 2), np.uint8), "image.png", "is not HxW, HxWx3 or HxWx4"),
        ("log_image", np.zeros((2, 2), np.int64), "image.png", "neither uint8 nor float"),
        ("log_image", np.full((2, 2), 1.5), "image.png", "every value in [0, 1]"),
        ("log_figure", Figure(), "plot.jpg", "must end .png, .svg or .pdf"),
        ("log_figure", go.Figure(), "plot.png", "only .html is supported without kaleido"),
        ("log_figure", np.zeros((2, 2)), "plot.png", "matplotlib or plotly figure, got ndarray"),
    ],
)
def test_what_cannot_be_written_is_refused_by_name(
    client: gnomon.Client, run_id: str, log: str, value: Any, artifact_file: str, problem: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        getattr(client, log)(run_id, value, artifact_file)
    assert problem in str(caught.value)
    assert client.list_artifacts(run_id) == []


def test_a_finished_run_refuses_rich_artifacts(client: gnomon.Client, run_id: str) -> None:
    client.end_run(run_id)
    with pytest.raises(Conflict):
        client.log_dict(run_id, {"a": 1}, "late.json")


@pytest.mark.parametrize("artifact_file", ["broken.json", "broken.yaml"])
def test_a_file_that_is_not_a_dict_is_refused_on_load(
    client: gnomon.Client, run_id: str, artifact_file: str
) -> None:
    client.log_text(run_id, "{not: [closed", artifact_file)
    with pytest.raises(InvalidInput, match="cannot be read as a dict"):
        client.load_dict(run_id, artifact_file)


def test_loading_an_absent_file_is_not_found(client: gnomon.Client, run_id: str) -> None:
    with pytest.raises(NotFound):
        client.load_dict(run_id, "absent.json")


def test_the_fluent_calls_write_to_the_active_run(gnomon_home: Path) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with gnomon.start_run() as run:
        gnomon.log_dict({"seed": 7}, "config.yml")
        gnomon.log_table(frame, "data.parquet")
        gnomon.log_image(np.zeros((2, 3), np.uint8), "blank.png")
        gnomon.log_figure(_line_figure(), "line.svg")
    assert gnomon.load_dict(run.id, "config.yml") == {"seed": 7}
    pd.testing.assert_frame_equal(gnomon.load_table(run.id, "data.parquet"), frame)
    paths = [a.path for a in gnomon.get_client().list_artifacts(run.id)]
    assert {"blank.png", "config.yml", "data.parquet", "line.svg"} <= set(paths)


def test_a_yaml_bomb_planted_in_a_run_is_refused_before_it_expands(
    client: gnomon.Client, run_id: str
) -> None:
    # Another editor of the workspace can write any config.yaml: anchors never expand.
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    client.log_text(run_id, bomb, "config.yaml")
    with pytest.raises(InvalidInput, match="cannot be read as a dict"):
        client.load_dict(run_id, "config.yaml")
