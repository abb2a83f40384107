"""Profiles: the numbers against NumPy and pandas on known data, their bounds, the stored copy,
the errors, the CLI, and the page's escaping (tests/integration/data renders it in a browser)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import gnomon
from gnomon.data import profile as profiles
from gnomon.data.profile import BINS, MAX_CORRELATED, TOP, comparison, profile_table
from gnomon.data.profile_html import render
from gnomon.errors import InvalidInput, NotFound
from tests.fixtures.cli import invoke, ok, ok_json

HOSTILE = "<script>alert(1)</script>"


def known_frame(rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "amount": rng.normal(100.0, 10.0, rows),
            "age": rng.integers(18, 30, rows),  # 12 distinct: one bin per integer
            "city": rng.choice(["Lyon", "Oslo", "Porto"], rows, p=[0.5, 0.3, 0.2]).astype(object),
            "score": rng.normal(0.0, 1.0, rows),
            "flag": rng.random(rows) < 0.3,
        }
    )
    frame["score"] += frame["amount"] * 0.05  # something to correlate
    frame.loc[::9, "amount"] = np.nan
    frame.loc[::13, "city"] = None
    return frame


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    return gnomon.Client()


def by_name(profile: dict) -> dict:  # type: ignore[type-arg]
    return {c["name"]: c for c in profile["columns"]}


def test_numbers_equal_numpy_and_pandas(client: gnomon.Client) -> None:
    frame = known_frame()
    client.datasets.log(frame, "tx")
    found = client.datasets.profile("tx")
    columns = by_name(found)
    assert (found["ref"], found["rows"]) == ("tx@1", len(frame))
    for name in ("id", "amount", "age", "score"):
        column, values = columns[name], frame[name].dropna()
        assert column["missing"] == frame[name].isna().sum()
        assert column["count"] == len(values) and column["distinct"] == values.nunique()
        assert column["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert column["std"] == pytest.approx(values.std(), rel=1e-12)  # ddof 1, as pandas
        assert (column["min"], column["max"]) == (values.min(), values.max())
        expected = values.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).tolist()
        assert list(column["quantiles"].values()) == pytest.approx(expected, rel=1e-12)
        counts = column["histogram"]["counts"]
        assert sum(counts) == len(values) and len(counts) <= BINS
        edges = column["histogram"]["edges"]
        assert (
            counts
            == np.histogram(values, bins=len(counts), range=(edges[0], edges[-1]))[0].tolist()
        )
    assert columns["amount"]["missing_fraction"] == pytest.approx(frame["amount"].isna().mean())
    assert columns["age"]["histogram"]["edges"][:2] == [17.5, 18.5]  # narrow integers: unit bins
    city = columns["city"]
    assert city["missing"] == frame["city"].isna().sum()
    expected_top = frame["city"].value_counts()
    assert [(t["value"], t["count"]) for t in city["top"]] == list(expected_top.items())
    assert city["other"] == 0 and city["length"] == {
        "min": 4,
        "mean": pytest.approx(frame["city"].dropna().str.len().mean()),
        "max": 5,
    }
    assert {t["value"] for t in columns["flag"]["top"]} == {"true", "false"}
    matrix = found["correlations"]
    assert matrix["columns"] == ["id", "amount", "age", "score"]
    expected_corr = frame.select_dtypes("number").corr().to_numpy()
    assert np.array(matrix["matrix"], dtype=float) == pytest.approx(expected_corr, abs=1e-12)


def test_work_is_bounded_and_pairwise(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    rows = 70_000  # past one correlation chunk
    frame = pd.DataFrame({f"n{i:02d}": rng.normal(size=rows) for i in range(MAX_CORRELATED + 5)})
    frame.loc[::3, "n01"] = np.nan
    frame.loc[::5, "n02"] = np.nan
    frame["n03"] = 7.0  # constant: no correlation
    frame["many"] = pd.Series(rng.integers(0, 100, rows)).map(lambda i: f"v{i}")
    found = profile_table(pa.Table.from_pandas(frame, preserve_index=False))
    matrix = found["correlations"]
    assert len(matrix["columns"]) == MAX_CORRELATED
    assert found["limits"]["numeric_columns"] == MAX_CORRELATED + 5
    expected = frame[matrix["columns"]].corr().to_numpy()
    got = np.array([[np.nan if v is None else v for v in row] for row in matrix["matrix"]])
    assert np.allclose(got, expected, atol=1e-12, equal_nan=True)
    assert matrix["matrix"][3][0] is None and matrix["matrix"][3][3] is None
    many = by_name(found)["many"]
    counts = frame["many"].value_counts()
    assert len(many["top"]) == TOP and many["top"][0]["count"] == counts.iloc[0]
    assert many["other"] == rows - counts.iloc[:TOP].sum()
    json.dumps(found, allow_nan=False)  # storable as it is


def test_the_profile_is_stored_and_read_back(
    client: gnomon.Client, gnomon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = client.datasets.log(known_frame(), "tx").version
    first = client.datasets.profile("tx@1")
    digest = version.manifest_digest.split(":", 1)[1]
    stored = gnomon_home / "artifacts" / "default" / "datasets" / "profiles" / f"{digest}.json"
    assert json.loads(stored.read_text()) == {k: v for k, v in first.items() if k != "ref"}

    def not_again(table: pa.Table) -> dict:  # type: ignore[type-arg]
        raise AssertionError("computed again")

    monkeypatch.setattr(profiles, "profile_table", not_again)
    assert client.datasets.profile("tx") == first


def test_files_have_no_profile_and_unknown_refs_are_not_found(
    client: gnomon.Client, tmp_path: Path
) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\0")
    client.datasets.add(tmp_path / "blob.bin", "blobs")
    with pytest.raises(InvalidInput, match="not tables"):
        client.datasets.profile("blobs@1")
    with pytest.raises(InvalidInput, match="not tables"):
        client.datasets.profile_html("blobs")
    with pytest.raises(NotFound):
        client.datasets.profile("nope")
    client.datasets.log(known_frame(), "tx")
    with pytest.raises(NotFound, match="no version 9"):
        client.datasets.profile("tx@9")


def test_a_comparison_bins_both_versions_alike(client: gnomon.Client) -> None:
    before, after = known_frame(seed=0), known_frame(rows=1500, seed=1)
    after["amount"] += 30
    client.datasets.log(before, "tx")
    client.datasets.log(after, "tx")
    service, scope = client.datasets.service, client.datasets.scope  # type: ignore[attr-defined]
    both = comparison(service, scope, "tx@1", "tx@2")
    shared = both["histograms"]["amount"]
    first, second = shared["counts"]
    assert (sum(first), sum(second)) == (
        before["amount"].notna().sum(),
        after["amount"].notna().sum(),
    )
    low = min(before["amount"].min(), after["amount"].min())
    high = max(before["amount"].max(), after["amount"].max())
    assert (shared["edges"][0], shared["edges"][-1]) == (low, high)
    assert set(both["histograms"]) == {"id", "amount", "age", "score"}


def test_user_text_is_escaped_in_the_page(client: gnomon.Client) -> None:
    frame = known_frame(rows=200)
    frame[HOSTILE] = frame["score"]
    frame.loc[:5, "city"] = '<img src=x onerror="alert(2)">'
    client.datasets.log(frame, "tx")
    page = client.datasets.profile_html("tx")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page


def test_render_draws_one_histogram_per_numeric_column() -> None:
    found = {
        "ref": "x@1",
        **profile_table(pa.Table.from_pandas(known_frame(), preserve_index=False)),
    }
    page = render(found)
    assert page.count('class="chart histogram"') == 4
    assert page.count('class="chart top-values"') == 2 and 'class="chart heatmap"' in page


def test_cli(gnomon_home: Path, tmp_path: Path) -> None:
    for seed in (0, 1):
        known_frame(seed=seed).to_csv(tmp_path / "t.csv", index=False)
        ok("data", "add", str(tmp_path / "t.csv"), "--name", "tx")
    found = ok_json("data", "profile", "tx@1")
    assert found["ref"] == "tx@1" and found["rows"] == 2000
    both = ok_json("data", "profile", "tx@2", "--compare", "tx@1")
    assert (both["profile"]["ref"], both["compare"]["ref"]) == ("tx@2", "tx@1")
    out = tmp_path / "report.html"
    said = ok("data", "profile", "tx@2", "--compare", "tx@1", "--html", str(out))
    assert said.startswith(f"wrote {out}") and out.read_text().startswith("<!doctype html>")
    assert "amount" in ok("data", "profile", "tx")
    (tmp_path / "blob.bin").write_bytes(b"\0")
    ok("data", "add", str(tmp_path / "blob.bin"), "--name", "blobs")
    result = invoke("data", "profile", "blobs")
    assert result.exit_code == 1 and "not tables" in result.stderr
