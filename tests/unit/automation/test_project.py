"""A project file's entry points: commands split once and filled word by word, values typed;
and where ``SOURCE@REF`` puts the ref."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnomon.automation.project import EntryPoint, Parameter, check_value, parse_project
from gnomon.automation.run_project import parse_source
from gnomon.errors import InvalidInput, NotFound


def entry(command: str, **parameters: object) -> EntryPoint:
    raw = {"name": "p", "entry_points": {"main": {"command": command, "parameters": parameters}}}
    return parse_project(raw).entry_point("main")


def test_a_value_fills_its_word_and_never_splits_it() -> None:
    main = entry("python 'my script.py' --x={x} {y} '{{literal}}'", x="str", y="str")
    assert main.argv({"x": "a b; c", "y": "$(d) `e`"}) == [
        "python",
        "my script.py",
        "--x=a b; c",
        "$(d) `e`",
        "{literal}",
    ]


def test_defaults_are_typed_and_given_values_checked() -> None:
    main = entry("t {n} {f} {p}", n={"type": "int", "default": 3}, f="float", p="path")
    assert main.resolve({"f": "1e-3", "p": "out"}, Path("/work")) == {
        "n": "3",
        "f": "0.001",
        "p": "/work/out",
    }
    assert main.resolve({"f": "2", "p": "out"}, None)["p"] == "out"  # recorded: as it was
    with pytest.raises(InvalidInput, match="'f' must be a finite number, not 'inf'"):
        main.resolve({"f": "inf", "p": "x"}, None)


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("int", " -7 ", "-7"),
        ("float", "0.10", "0.1"),
        ("str", " kept as is ", " kept as is "),
        ("dataset", "sales@12", "sales@12"),
    ],
)
def test_values_of_each_type(kind: str, text: str, value: str) -> None:
    assert check_value(Parameter("v", kind), text, None) == value


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("int", "1.0"),
        ("int", "٣"),
        ("float", "NaN"),
        ("str", "a\x00b"),
        ("path", " "),
        ("dataset", "sales"),
        ("dataset", "sales@latest"),
        ("dataset", "sales@0"),
    ],
)
def test_values_not_of_their_type_are_refused(kind: str, text: str) -> None:
    with pytest.raises(InvalidInput, match="parameter 'v' must be"):
        check_value(Parameter("v", kind), text, None)


@pytest.mark.parametrize(
    ("text", "uri", "ref"),
    [
        ("https://example.com/org/repo.git@v1.2", "https://example.com/org/repo.git", "v1.2"),
        ("https://user:token@example.com/repo", "https://user:token@example.com/repo", None),
        ("ssh://git@example.com/repo@feature/x", "ssh://git@example.com/repo", "feature/x"),
        ("git@example.com:org/repo.git", "git@example.com:org/repo.git", None),
        ("git@example.com:org/repo.git@main", "git@example.com:org/repo.git", "main"),
        ("file:///srv/repo.git@abc123", "file:///srv/repo.git", "abc123"),
    ],
)
def test_where_the_ref_is(text: str, uri: str, ref: str | None) -> None:
    found = parse_source(text)
    assert (found.uri, found.ref, found.local) == (uri, ref, False)


def test_a_local_folder_and_its_credentials_free_display(tmp_path: Path) -> None:
    (tmp_path / "a@b").mkdir()
    found = parse_source(str(tmp_path / "a@b"))  # an @ in a folder that exists is its name
    assert (found.uri, found.ref, found.local) == (str(tmp_path / "a@b"), None, True)
    assert parse_source(f"{tmp_path}/a@b@main").ref == "main"
    assert parse_source("https://u:secret@example.com/r@main").shown == "https://example.com/r"


def test_a_name_too_long_to_be_a_path_is_no_folder_not_a_crash() -> None:
    with pytest.raises(NotFound, match="no folder"):
        parse_source("a" * 10_000)
    with pytest.raises(NotFound, match="no folder"):
        parse_source("a" * 10_000 + "@main")
