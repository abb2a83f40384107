"""log_model's input contract from a dataset version's schema (the whole training set), from
a training DataFrame, or, with a warning, without ranges from a few example rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gnomon
from gnomon.registry.contract_from_data import SmallExampleWarning


def training(rows: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "amount": rng.normal(100.0, 10.0, rows),
            "age": rng.integers(18, 90, rows),
            "city": rng.choice(["Lyon", "Oslo", "Porto"], rows),
            "label": rng.integers(0, 2, rows),
        }
    )


def fit(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    from sklearn.tree import DecisionTreeClassifier

    features = pd.get_dummies(frame[["amount", "age"]])
    return DecisionTreeClassifier(max_depth=2, random_state=0).fit(features, frame["label"])


def contract_of(uri: str):  # type: ignore[no-untyped-def]
    return gnomon.load_model(uri).contract


def test_ranges_come_from_the_whole_dataset_version(gnomon_home: Path) -> None:
    frame = training()
    version = gnomon.log_dataset(frame, "tx")
    example = frame[["amount", "age"]].head(20)
    with gnomon.start_run() as run:
        uri = gnomon.log_model(fit(frame), "model", input_example=example, training_data="tx")
    contract = contract_of(uri)
    assert contract.input_names == ["amount", "age"]  # the example's columns, not the label
    amount, age = contract.column("amount"), contract.column("age")
    low, high = frame["amount"].min(), frame["amount"].max()
    span = high - low
    assert amount.minimum == pytest.approx(low - 0.1 * span)
    assert amount.maximum == pytest.approx(high + 0.1 * span)
    assert (age.dtype, age.minimum <= 18, age.maximum >= 89) == ("int64", True, True)
    assert example["amount"].min() > amount.minimum + 0.05 * span  # 20 rows would be narrower
    spec = gnomon.load_model(uri).spec
    assert spec.training_data == version.ref == "tx@1"
    inputs = gnomon.get_client().datasets.inputs(run.id)
    assert [(i.ref, i.context) for i in inputs] == [("tx@1", "training")]


def test_categories_and_edited_bounds_come_through(gnomon_home: Path) -> None:
    frame = training()
    gnomon.log_dataset(frame, "tx")
    datasets = gnomon.get_client().datasets
    datasets.edit_schema("tx", "amount", min=0)  # a person's bound applies as set
    with gnomon.start_run():
        uri = gnomon.log_model(
            fit(frame), "model", input_example=frame[["amount", "age"]], training_data="tx@1"
        )
        no_example = gnomon.log_model(fit(frame), "bare", training_data="tx@1")
    assert contract_of(uri).column("amount").minimum == 0
    bare = contract_of(no_example)
    assert bare.input_names == ["amount", "age", "city", "label"]
    assert bare.column("city").categories == ["Lyon", "Oslo", "Porto"]


def test_a_training_dataframe_is_read_whole(gnomon_home: Path) -> None:
    frame = training()
    with gnomon.start_run():
        uri = gnomon.log_model(
            fit(frame), "model", input_example=frame[["amount", "age"]].head(5), training_data=frame
        )
    amount = contract_of(uri).column("amount")
    assert amount.minimum < frame["amount"].min() and amount.maximum > frame["amount"].max()
    assert gnomon.load_model(uri).spec.training_data == "DataFrame 2000x4"


def test_a_small_example_gives_no_ranges_and_says_why(gnomon_home: Path) -> None:
    frame = training()
    with gnomon.start_run(), pytest.warns(SmallExampleWarning, match="20 example rows"):
        uri = gnomon.log_model(
            fit(frame),
            "model",
            input_example=frame[["amount", "age"]].head(20),
            training_data="crm-export-2026-11",  # free text: kept as a description
        )
    contract = contract_of(uri)
    assert [(c.minimum, c.maximum) for c in contract.inputs] == [(None, None), (None, None)]
    assert contract.column("age").dtype == "int64"
    assert gnomon.load_model(uri).spec.training_data == "crm-export-2026-11"


def test_a_large_example_keeps_its_ranges(gnomon_home: Path) -> None:
    frame = training()
    with gnomon.start_run():
        uri = gnomon.log_model(fit(frame), "model", input_example=frame[["amount", "age"]])
    assert contract_of(uri).column("amount").minimum is not None
