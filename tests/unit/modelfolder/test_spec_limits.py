"""A hostile ``gnomon-model.yaml``: bombs, wrong shapes and unencodable text are refused with
one ``InvalidInput`` (or ``PayloadTooLarge``) naming the file or key, never a crash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from gnomon.errors import InvalidInput, PayloadTooLarge
from gnomon.modelfolder import ColumnSpec, Contract, ModelSpec, read_spec, write_spec
from gnomon.modelfolder.contract import MAX_CATEGORY_VALUES, MAX_COLUMNS
from gnomon.modelfolder.spec_yaml import MAX_SPEC_BYTES, MAX_SPEC_NODES

DIGEST = hashlib.sha256(b"x").hexdigest()
HEAD = (
    "format_version: 1\nflavor: sklearn\npython_version: '3.12'\n"
    f"loader: {{file: model.joblib}}\nfiles: {{model.joblib: {DIGEST}}}\n"
)


def _folder(tmp_path: Path, text: str | bytes) -> Path:
    raw = text.encode() if isinstance(text, str) else text
    (tmp_path / "gnomon-model.yaml").write_bytes(raw)
    return tmp_path


def test_billion_laughs_is_refused_before_it_expands(tmp_path: Path) -> None:
    lines = ["metadata:", "  l0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    lines += [f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
    folder = _folder(tmp_path, HEAD + "\n".join(lines) + "\n")  # 10**9 leaves, 600 bytes

    with pytest.raises(InvalidInput, match="anchor or alias"):
        read_spec(folder, label="the uploaded model's gnomon-model.yaml")


def test_a_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path, HEAD + "metadata: &a {x: *a}\n")

    with pytest.raises(InvalidInput, match="anchor or alias"):
        read_spec(folder)


def test_a_description_over_the_size_cap_is_refused_unparsed(tmp_path: Path) -> None:
    folder = _folder(tmp_path, HEAD + "metadata: {pad: '" + "x" * MAX_SPEC_BYTES + "'}\n")

    with pytest.raises(PayloadTooLarge, match=f"the limit is {MAX_SPEC_BYTES}"):
        read_spec(folder)


def test_too_many_values_are_refused_before_they_are_built(tmp_path: Path) -> None:
    flat = "[" + ",".join(["a"] * (MAX_SPEC_NODES + 1)) + "]"  # 1 MB, under the byte cap
    folder = _folder(tmp_path, HEAD + f"metadata: {{x: {flat}}}\n")

    with pytest.raises(PayloadTooLarge, match=f"more than {MAX_SPEC_NODES} values"):
        read_spec(folder)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path, HEAD + "metadata: {x: " + "[" * 100 + "]" * 100 + "}\n")

    with pytest.raises(InvalidInput, match="nests deeper"):
        read_spec(folder)


def test_the_widest_real_contract_fits_and_round_trips(tmp_path: Path) -> None:
    columns = [
        ColumnSpec(f"feature_{i:05d}", "category", categories=[f"value_{j:03d}" for j in range(50)])
        for i in range(MAX_COLUMNS)
    ]
    spec = ModelSpec("sklearn", "3.12", contract=Contract(inputs=columns))

    write_spec(tmp_path, spec)

    assert read_spec(tmp_path) == spec


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("format_version: abc", "format_version"),
        ("format_version: .inf", "format_version"),
        ("format_version: 2", "upgrade gnomon"),
        ("flavor: [sklearn]", "'flavor'"),
        ("flavor: {a: 1}", "'flavor'"),
        ("python_version: [1]", "'python_version'"),
        ("requirements: {a: 1}", "'requirements'"),
        ("metadata: [1]", "'metadata'"),
        ("loader: [1]", "'loader'"),
        ("created_at: {a: 1}", "'created_at'"),
        ("created_at: 2025-01-01", "holds a date"),
        ("contract: abc", "'contract'"),
        ("contract: [1]", "'contract'"),
        ("contract: {margin: abc, inputs: []}", "margin"),
        ("contract: {inputs: 5}", "inputs"),
        ("contract: {inputs: [[name]]}", "column must be a mapping"),
        ("contract: {inputs: [{name: a, dtype: int64, minimum: x}]}", "minimum"),
        ("contract: {inputs: [{name: a, dtype: category, categories: [[1]]}]}", "category"),
        ("metadata: {x: !!binary aGk=}", "holds a bytes"),
        ("metadata: {x: !!int abc}", "not valid YAML"),
        ('flavor: "\\ud800"', "lone surrogate|invalid Unicode"),
        ('metadata: {"a\\0b": 1}', "NUL"),
        ("files: {1: x}", "must be a string"),
        ("files: {model.joblib: not-a-digest}", "64 lowercase hex"),
        ("[1, 2]", "does not hold a mapping"),
    ],
)
def test_every_wrong_shape_is_one_invalid_input_naming_the_key(
    tmp_path: Path, override: str, named: str
) -> None:
    key = override.split(":")[0]
    lines = [line for line in HEAD.splitlines() if not line.startswith(key + ":")]
    text = override if override.startswith("[") else "\n".join([*lines, override]) + "\n"

    with pytest.raises(InvalidInput, match=named) as caught:
        read_spec(_folder(tmp_path, text), label="the uploaded model's gnomon-model.yaml")
    caught.value.message.encode("utf-8")  # a message always encodes
    assert str(tmp_path) not in caught.value.message


def test_text_that_is_not_utf8_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_spec(_folder(tmp_path, HEAD.encode() + b"metadata: {x: \xff\xfe}\n"))


def test_the_contract_check_is_linear_and_bounded() -> None:
    columns = [{"name": f"c{i}", "dtype": "int64"} for i in range(MAX_COLUMNS + 1)]
    with pytest.raises(InvalidInput, match=f"the most is {MAX_COLUMNS}"):
        Contract.from_dict({"inputs": columns})
    duplicated = [ColumnSpec(f"c{i % 100}", "int64") for i in range(MAX_COLUMNS)]
    with pytest.raises(InvalidInput, match="more than once") as caught:
        Contract(inputs=duplicated)
    assert "and 95 more" in caught.value.message  # the first few names, not all of them
    many = list(range(MAX_CATEGORY_VALUES + 1))
    with pytest.raises(InvalidInput, match=f"the most is {MAX_CATEGORY_VALUES}"):
        ColumnSpec("c", "category", categories=many)


def test_a_written_description_is_one_that_reads_back(tmp_path: Path) -> None:
    shared = [1, 2]
    spec = ModelSpec("sklearn", "3.12", metadata={"a": shared, "b": shared})

    write_spec(tmp_path, spec)

    assert "&" not in (tmp_path / "gnomon-model.yaml").read_text()
    assert read_spec(tmp_path).metadata == {"a": [1, 2], "b": [1, 2]}
    with pytest.raises(InvalidInput, match="holds a bytes"):
        write_spec(tmp_path, ModelSpec("sklearn", "3.12", metadata={"x": b"raw"}))
    assert yaml.safe_load((tmp_path / "gnomon-model.yaml").read_text())["metadata"]["a"] == [1, 2]


def test_a_long_direct_reference_requirement_reads_back(tmp_path: Path) -> None:
    requirement = (
        "feature-lib @ git+https://github.com/example-organisation/example-internal-feature-"
        f"library.git@{'a' * 40}#subdirectory=python/packages/feature_lib"
        " ; python_version >= '3.10' and platform_machine == 'x86_64'"
    )
    assert len(requirement) > 200
    folder = _folder(tmp_path, HEAD + yaml.safe_dump({"requirements": [requirement]}))

    assert read_spec(folder).requirements == [requirement]
