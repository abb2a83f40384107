"""Schema inference on known data, owned edits, and each anomaly kind (none on clean data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import gnomon
from gnomon.data.schema import columns_of, infer
from gnomon.data.validation import Thresholds, validate
from gnomon.errors import Conflict, InvalidInput, NotFound
from tests.fixtures.cli import invoke, ok, ok_json


def known_frame(rows: int = 1000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "amount": rng.normal(100.0, 10.0, rows),
            "city": rng.choice(["Lyon", "Oslo", "Porto"], rows, p=[0.5, 0.3, 0.2]),
            "score": [None if i % 10 == 0 else float(i % 7) for i in range(rows)],
            "flag": rng.random(rows) < 0.5,
        }
    )


def schema_of(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return infer(columns_of(table), table.num_rows)


def test_inference_on_known_data() -> None:
    frame = known_frame()
    schema = schema_of(frame)
    by = {c.name: c for c in schema.columns}
    assert schema.rows == 1000
    assert [(c.name, c.type) for c in schema.columns] == [
        ("id", "integer"),
        ("amount", "float"),
        ("city", "string"),
        ("score", "float"),
        ("flag", "boolean"),
    ]
    assert (by["id"].min, by["id"].max, by["id"].unique, by["id"].nullable) == (0, 999, True, False)
    assert by["amount"].min == frame["amount"].min() and by["amount"].max == frame["amount"].max()
    assert by["amount"].quantiles is not None
    assert by["amount"].quantiles["p50"] == pytest.approx(frame["amount"].median(), rel=0.01)
    assert by["amount"].quantiles["p99"] == pytest.approx(frame["amount"].quantile(0.99), rel=0.01)
    assert by["city"].categories == pytest.approx(
        frame["city"].value_counts(normalize=True).to_dict()
    )
    assert (by["score"].nullable, by["score"].null_fraction, by["score"].unique) == (
        True,
        0.1,
        False,
    )
    assert set(by["flag"].categories or {}) == {"true", "false"}  # as Arrow writes them
    assert by["amount"].categories is None  # numbers get ranges, not categories


def test_many_distinct_texts_are_not_categorical() -> None:
    frame = pd.DataFrame({"email": [f"u{i}@x.org" for i in range(60)]})
    (column,) = schema_of(frame).columns
    assert (column.categories, column.unique, column.distinct) == (None, True, 60)


def test_clean_data_has_no_anomaly() -> None:
    schema = schema_of(known_frame(seed=0))
    assert validate(known_frame(seed=1), schema).ok


def test_each_anomaly_kind_is_found_with_counts_and_examples() -> None:
    schema = schema_of(known_frame())
    batch = known_frame(seed=1)
    batch.loc[:2, "amount"] = [1e6, -1e6, 5e5]  # out of range
    batch.loc[3:4, "city"] = "Paris"  # unseen category
    batch["score"] = np.nan  # null rate 10% -> 100%, and nulls where allowed
    batch.loc[5, "id"] = None  # a null in a column that had none (id becomes float)
    batch = batch.drop(columns=["flag"]).assign(extra=1)
    report = validate(batch, schema)
    kinds = {(a.kind, a.column): a for a in report.anomalies}
    assert set(kinds) >= {
        ("out_of_range", "amount"),
        ("unseen_category", "city"),
        ("null_rate_change", "score"),
        ("type_mismatch", "id"),
        ("missing_column", "flag"),
        ("extra_column", "extra"),
    }
    assert kinds[("out_of_range", "amount")].count == 3
    assert kinds[("out_of_range", "amount")].examples == ("1000000.0", "-1000000.0", "500000.0")
    assert (
        kinds[("unseen_category", "city")].count,
        kinds[("unseen_category", "city")].examples,
    ) == (
        2,
        ("'Paris'",),
    )
    assert kinds[("null_rate_change", "score")].count == 1000
    everything_null = validate(known_frame().assign(score=None), schema)
    assert [(a.kind, a.column) for a in everything_null.anomalies] == [
        ("null_rate_change", "score")
    ]


def test_nulls_in_a_column_without_nulls() -> None:
    schema = schema_of(pd.DataFrame({"x": [1.0, 2.0, 3.0] * 20}))
    report = validate(pd.DataFrame({"x": [1.0, None, 2.0, None] + [1.0] * 56}), schema)
    (null_values,) = [a for a in report.anomalies if a.kind == "null_values"]
    assert (null_values.count, null_values.examples) == (2, ("row 1", "row 3"))


def test_distribution_changes() -> None:
    schema = schema_of(known_frame())
    shifted = known_frame(seed=2)
    shifted["amount"] = shifted["amount"] + 15  # 1.1 IQR: every value still in range
    shifted["city"] = np.where(np.arange(1000) % 10 < 8, "Porto", "Lyon")
    report = validate(shifted, schema, Thresholds(numeric_shift=0.5, category_shift=0.2))
    drifted = {a.column for a in report.anomalies if a.kind == "distribution_change"}
    assert drifted == {"amount", "city"}
    assert validate(shifted, schema, Thresholds(numeric_shift=5, category_shift=0.9)).ok is False
    loose = validate(shifted, schema, Thresholds(numeric_shift=5, category_shift=0.9))
    assert {a.kind for a in loose.anomalies} == {"out_of_range"}


def test_thresholds_are_checked() -> None:
    with pytest.raises(InvalidInput, match="null_rate"):
        Thresholds(null_rate=0)
    with pytest.raises(InvalidInput, match="category_shift"):
        Thresholds(category_shift=float("nan"))


@pytest.fixture
def client(gnomon_home: Path) -> gnomon.Client:
    return gnomon.Client()


def test_first_table_version_sets_the_schema_and_later_ones_are_checked(
    client: gnomon.Client,
) -> None:
    first = client.datasets.log(known_frame(), "tx")
    assert first.validation is None
    schema = client.datasets.schema("tx")
    assert schema.column("amount").type == "float"
    bad = known_frame(seed=3)
    bad.loc[0, "city"] = "Paris"
    second = client.datasets.log(bad, "tx")
    assert second.validation is not None and not second.validation.ok
    assert [a.kind for a in second.validation.anomalies] == ["unseen_category"]
    described = client.datasets.described("tx@2")
    assert described.validation == second.validation
    assert described.schema.rows == 1000
    assert client.datasets.schema("tx") == schema  # the schema stays the people's


def test_schema_edits(client: gnomon.Client) -> None:
    client.datasets.log(known_frame(), "tx")
    client.datasets.edit_schema("tx", "amount", min=0, max=120)
    client.datasets.edit_schema("tx", "city", categories=["Lyon", "Oslo", "Porto", "Paris"])
    client.datasets.edit_schema("tx", "score", nullable=False)
    schema = client.datasets.schema("tx")
    assert (schema.column("amount").min, schema.column("amount").max) == (0.0, 120.0)
    assert schema.edited_by and "Paris" in (schema.column("city").categories or {})
    batch = known_frame(seed=4)
    batch.loc[0, "city"] = "Paris"  # now allowed
    report = client.datasets.validate("tx", batch)
    kinds = {(a.kind, a.column) for a in report.anomalies}
    assert ("unseen_category", "city") not in kinds
    assert ("null_values", "score") in kinds
    for column, changes, message in (
        ("amount", {"min": "abc"}, "must be a finite number"),
        ("amount", {"categories": ["a"]}, "categories are for text"),
        ("city", {"min": 3}, "it has no min"),
        ("amount", {"min": 10, "max": 5}, "is above max"),
        ("amount", {"color": "red"}, "a schema edit changes"),
        ("nope", {"min": 1}, "no column 'nope'"),
        ("flag", {"nullable": "yes"}, "true or false"),
    ):
        with pytest.raises(InvalidInput, match=message):
            client.datasets.edit_schema("tx", column, **changes)
    assert client.datasets.schema("tx") == schema  # refused edits change nothing


def test_a_stale_schema_edit_is_a_conflict(client: gnomon.Client) -> None:
    client.datasets.log(known_frame(), "tx")
    service, scope = client.datasets.service, client.datasets.scope  # type: ignore[attr-defined]
    schema, revision = service.schema(scope, "tx")
    service.set_schema(scope, "tx", schema, revision)
    with pytest.raises(Conflict, match="changed since revision"):
        service.set_schema(scope, "tx", schema, revision)


def test_files_have_no_schema(client: gnomon.Client, tmp_path: Path) -> None:
    (tmp_path / "blob.bin").write_bytes(b"\0")
    client.datasets.add(tmp_path / "blob.bin", "blobs")
    with pytest.raises(NotFound, match="has no schema"):
        client.datasets.schema("blobs")


def test_a_csv_that_does_not_parse_names_its_line(client: gnomon.Client, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,4\n5,6,7\n")
    with pytest.raises(InvalidInput, match="does not parse at line 4"):
        client.datasets.add(tmp_path / "bad.csv", "bad")
    with pytest.raises(NotFound):
        client.datasets.version("bad")  # nothing recorded


def test_validate_cli_exit_codes(gnomon_home: Path, tmp_path: Path) -> None:
    known_frame().to_csv(tmp_path / "train.csv", index=False)
    ok("data", "add", str(tmp_path / "train.csv"), "--name", "tx")
    clean = known_frame(seed=5)
    clean.to_csv(tmp_path / "clean.csv", index=False)
    assert "no anomaly" in ok("data", "validate", "tx", str(tmp_path / "clean.csv"))
    planted = known_frame(seed=6)
    planted.loc[:9, "amount"] = -500.0
    planted.to_csv(tmp_path / "planted.csv", index=False)
    result = invoke("data", "validate", "tx", str(tmp_path / "planted.csv"))
    assert result.exit_code == 3
    assert "out_of_range" in result.stdout and "-500.0" in result.stdout
    as_json = invoke("data", "validate", "tx", str(tmp_path / "planted.csv"), "-o", "json")
    assert as_json.exit_code == 3
    shown = ok_json("data", "schema", "show", "tx")
    assert [c["name"] for c in shown["columns"]] == ["id", "amount", "city", "score", "flag"]
    ok("data", "schema", "edit", "tx", "amount", "--min", "-1000")
    assert "no anomaly" in ok("data", "validate", "tx", str(tmp_path / "planted.csv"))
    ok("data", "add", str(tmp_path / "clean.csv"), "--name", "tx")  # tx@2: a file of its own
    assert "no anomaly" in ok("data", "validate", "tx", "tx@2")


def test_pandas_categories_are_read_as_their_values(client: gnomon.Client) -> None:
    frame = known_frame().assign(city=lambda f: f["city"].astype("category"))
    client.datasets.log(frame, "cats")
    assert set(client.datasets.schema("cats").column("city").categories or {}) == {
        "Lyon",
        "Oslo",
        "Porto",
    }
    batch = known_frame(seed=9).assign(city=lambda f: f["city"].astype("category"))
    assert client.datasets.validate("cats", batch).ok


def test_a_parquet_file_that_decodes_huge_is_refused_before_it_is_decoded(
    client: gnomon.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    from gnomon.data import budget

    monkeypatch.setattr(budget, "MAX_DECODED_BYTES", 8 * 2**20)  # 8 MiB here, 4 GiB in use
    bomb = tmp_path / "bomb.parquet"
    long = "x" * 2**20
    pq.write_table(pa.table({"s": [long] * 20, "n": list(range(20))}), bomb, compression="zstd")
    assert bomb.stat().st_size < 100_000  # 20 MiB of text in a few kilobytes
    with pytest.raises(InvalidInput, match=r"decodes to more than 8 MiB \(column 's'"):
        client.datasets.add(bomb, "bomb")
    with pytest.raises(NotFound):
        client.datasets.version("bomb")
    client.datasets.log(known_frame(100), "fine")  # ordinary tables pass the same check
    with pytest.raises(InvalidInput, match="decodes to more than"):
        client.datasets.validate("fine", bomb)
