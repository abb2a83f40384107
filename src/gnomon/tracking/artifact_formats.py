"""Python objects to and from artifact bytes: dicts (JSON/YAML), tables (Parquet), images (PNG),
figures (matplotlib PNG/SVG/PDF, plotly HTML).

Heavy libraries are imported inside the functions, so ``import gnomon`` stays light.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from gnomon.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

_YAML_SUFFIXES = (".yaml", ".yml")
_MATPLOTLIB_FORMATS = (".png", ".svg", ".pdf")


def dict_bytes(dictionary: Mapping[str, Any], artifact_file: str) -> bytes:
    if not isinstance(dictionary, Mapping):
        raise InvalidInput(f"log_dict expects a dict, got {type(dictionary).__name__}")
    if artifact_file.endswith(_YAML_SUFFIXES):
        # The model format's bounded writer: what it writes, load_dict reads back.
        from gnomon.modelfolder.spec_yaml import dump_yaml

        try:
            return dump_yaml(dict(dictionary), repr(artifact_file)).encode()
        except InvalidInput as exc:
            raise InvalidInput(f"dict for {artifact_file!r} cannot be serialised: {exc}") from exc
    try:
        if artifact_file.endswith(".json"):
            return json.dumps(dictionary, indent=2).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"dict for {artifact_file!r} cannot be serialised: {exc}") from exc
    raise InvalidInput(f"dict artifact {artifact_file!r} must end .json, .yaml or .yml")


def dict_from_bytes(data: bytes, artifact_file: str) -> Any:
    unreadable = f"artifact {artifact_file!r} cannot be read as a dict"
    if artifact_file.endswith(_YAML_SUFFIXES):
        # Another editor of the workspace may have written it: read as hostile input, within
        # the model format's limits (no anchors or aliases, bounded size, nodes and depth).
        from gnomon.modelfolder.spec_yaml import load_yaml

        try:
            return load_yaml(data, repr(artifact_file))
        except InvalidInput as exc:
            raise InvalidInput(f"{unreadable}: {exc}") from exc
    if artifact_file.endswith(".json"):
        try:
            return json.loads(data)
        except ValueError as exc:
            raise InvalidInput(f"{unreadable}: {exc}") from exc
    raise InvalidInput(f"dict artifact {artifact_file!r} must end .json, .yaml or .yml")


def table_bytes(frame: pd.DataFrame, artifact_file: str) -> bytes:
    import pandas as pd

    _require_parquet(artifact_file)
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"log_table expects a pandas DataFrame, got {type(frame).__name__}")
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def table_from_bytes(data: bytes, artifact_file: str) -> pd.DataFrame:
    import pandas as pd

    _require_parquet(artifact_file)
    return pd.read_parquet(io.BytesIO(data))


def image_bytes(image: Any, artifact_file: str) -> bytes:
    """PNG bytes of a NumPy array (uint8, or float in [0, 1]) or a PIL image."""
    if not artifact_file.endswith(".png"):
        raise InvalidInput(f"image artifact {artifact_file!r} must end .png")
    if not type(image).__module__.startswith("PIL."):
        pixels = _uint8_pixels(image)
        # Pillow has no mode for HxWx1; it is the same grey image as HxW.
        image = _pil_image().fromarray(
            pixels[:, :, 0] if pixels.ndim == 3 and pixels.shape[2] == 1 else pixels
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def figure_bytes(figure: Any, artifact_file: str) -> bytes:
    """A matplotlib figure as PNG, SVG or PDF, or a plotly figure as HTML, by extension."""
    kind = _figure_library(figure)
    suffix = PurePosixPath(artifact_file).suffix
    if kind == "matplotlib":
        if suffix not in _MATPLOTLIB_FORMATS:
            raise InvalidInput(f"matplotlib figure {artifact_file!r} must end .png, .svg or .pdf")
        buffer = io.BytesIO()
        # savefig on the figure itself: the user's pyplot backend stays as it was.
        figure.savefig(buffer, format=suffix[1:])
        return buffer.getvalue()
    if kind == "plotly":
        if suffix != ".html":
            raise InvalidInput(
                f"plotly figure {artifact_file!r} must end .html: "
                "only .html is supported without kaleido"
            )
        text = io.StringIO()
        # plotly.js comes from its CDN, as in plotly's own default for shared files: embedding
        # it would add megabytes to every figure.
        figure.write_html(text, include_plotlyjs="cdn")
        return text.getvalue().encode()
    raise InvalidInput(
        f"log_figure expects a matplotlib or plotly figure, got {type(figure).__name__}"
    )


def _figure_library(figure: Any) -> str | None:
    # The figure's classes name their library, so neither is imported to test the other.
    for cls in type(figure).__mro__:
        if cls.__module__ == "matplotlib.figure" and cls.__name__ == "Figure":
            return "matplotlib"
        if cls.__module__.startswith("plotly.") and cls.__name__ == "BaseFigure":
            return "plotly"
    return None


def _require_parquet(artifact_file: str) -> None:
    if not artifact_file.endswith(".parquet"):
        raise InvalidInput(f"table artifact {artifact_file!r} must end .parquet")


def _uint8_pixels(image: Any) -> Any:
    import numpy as np

    if not isinstance(image, np.ndarray):
        raise InvalidInput(
            f"log_image expects a NumPy array or a PIL image, got {type(image).__name__}"
        )
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise InvalidInput(f"image shape {image.shape} is not HxW, HxWx3 or HxWx4")
    if image.dtype == np.uint8:
        return image
    if image.dtype.kind != "f":
        raise InvalidInput(f"image dtype {image.dtype} is neither uint8 nor float in [0, 1]")
    if not np.all((image >= 0) & (image <= 1)):
        raise InvalidInput("a float image must have every value in [0, 1]")
    return np.round(image * 255).astype(np.uint8)


def _pil_image() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:
        raise InvalidInput(
            "log_image of an array needs Pillow: pip install 'gnomon[images]'"
        ) from exc
    return Image
