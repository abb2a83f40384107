"""Definitions are checked when made: names, columns, and no secret in a source."""

from __future__ import annotations

import pytest

from gnomon.errors import InvalidInput
from gnomon.features.definitions import Entity, FeatureView, Field, FileSource, PostgresSource


def test_a_postgres_source_never_holds_a_password() -> None:
    for uri in ("postgresql://ann:secret@db/prod", "postgresql://ann@db/prod?password=secret"):
        with pytest.raises(InvalidInput, match="PGPASSWORD"):
            PostgresSource(uri, "SELECT 1")
    with pytest.raises(InvalidInput, match="postgresql://"):
        PostgresSource("mysql://db/prod", "SELECT 1")
    assert PostgresSource("postgresql://ann@db/prod", "SELECT 1").uri.endswith("/prod")


def test_columns_of_existing_tables_are_names_but_references_stay_parseable() -> None:
    assert Field("mean radius").name == "mean radius"
    for bad in ("a:b", " padded", "", "x" * 129, "tab\there"):
        with pytest.raises(InvalidInput):
            Field(bad)
    with pytest.raises(InvalidInput, match="view name"):
        FeatureView("bad name", ("e",), FileSource("x.parquet"), (Field("a"),))


def test_a_view_names_its_features_once_and_an_entity_has_keys() -> None:
    with pytest.raises(InvalidInput, match="twice"):
        FeatureView("v", ("e",), FileSource("x.parquet"), (Field("a"), Field("a")))
    with pytest.raises(InvalidInput, match="join keys"):
        Entity("e", ())
