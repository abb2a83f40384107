"""DAG construction and the checks a pipeline passes before anything runs."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

import gnomon
from gnomon.errors import InvalidInput
from gnomon.pipelines.decorators import step_params
from gnomon.pipelines.params import check_values, parse_pairs
from gnomon.pipelines.spec import (
    Node,
    OutputOf,
    OutputsOf,
    ParamOf,
    PipelineSpec,
    StepSpec,
    Value,
)
from gnomon.pipelines.typing_check import compatible


@gnomon.step
def numbers(n: int) -> list[int]:
    return list(range(n))


@gnomon.step
def total(values: list[int]) -> int:
    return sum(values)


@gnomon.step
def grow(values: list[int]) -> list[int]:
    return [*values, len(values)]


@gnomon.step
def shout(text: str) -> str:
    return text.upper()


class Split(NamedTuple):
    train: list[int]
    test: list[int]


@gnomon.step
def split(values: list[int]) -> Split:
    return Split(values[:-1], values[-1:])


@gnomon.step(outputs=["low", "high"])
def halves(values: list[int]) -> tuple[list[int], list[int]]:
    return values[:1], values[1:]


@gnomon.step
def side_effect(values: list[int]) -> None:
    print(values)


@gnomon.pipeline
def diamond(n: int = 3):
    values = numbers(n)
    train, test = split(values)
    low, high = halves(train)
    side_effect(test)
    return total(low), total(high), total(values)


def test_a_pipeline_builds_a_checked_dag_with_named_outputs() -> None:
    spec = diamond.build()
    ids = [node.id for node in spec.nodes]
    assert ids == ["numbers", "split", "halves", "side_effect", "total", "total-2", "total-3"]
    assert [p.name for p in spec.node("split").step.outputs] == ["train", "test"]
    assert spec.node("halves").args["values"] == OutputOf("split", "train")
    assert spec.node("side_effect").step.outputs == ()
    assert spec.node("numbers").args["n"] == ParamOf("n")
    order = spec.validate()
    assert order.index("numbers") < order.index("split") < order.index("halves")
    assert diamond.build() is spec  # built once


def test_steps_called_outside_a_pipeline_are_plain_functions() -> None:
    assert total([1, 2, 3]) == 6
    assert split([1, 2, 3]) == Split([1, 2], [3])


def _node(node_id: str, step: StepSpec, **args: Any) -> Node:
    return Node(node_id, step, args)


def test_a_cycle_is_refused_naming_its_steps() -> None:
    step = grow.spec
    spec = PipelineSpec(
        "loop",
        (
            _node("a", step, values=OutputOf("c")),
            _node("b", step, values=OutputOf("a")),
            _node("c", step, values=OutputOf("b")),
            _node("d", step, values=Value([1])),
        ),
    )
    with pytest.raises(InvalidInput, match=r"cycle through steps 'a', 'b', 'c'"):
        spec.validate()


def test_a_type_mismatch_between_connected_steps_names_both() -> None:
    spec = PipelineSpec(
        "mismatch",
        (
            _node("make", shout.spec, text=Value("x")),
            _node("sum", total.spec, values=OutputOf("make")),
        ),
    )
    with pytest.raises(InvalidInput, match="step 'make' gives 'output' as str, step 'sum' takes"):
        spec.validate()


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (_node("x", total.spec, values=OutputOf("ghost")), "unknown step 'ghost'"),
        (_node("x", total.spec, values=ParamOf("ghost")), "unknown parameter 'ghost'"),
        (_node("x", total.spec, wrong=Value(1)), "has no input 'wrong'"),
        (_node("x", total.spec), "input 'values' is not given"),
    ],
)
def test_dangling_bindings_are_refused(node: Node, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        PipelineSpec("p", (node,)).validate()


def test_an_unknown_output_and_a_duplicate_node_are_refused() -> None:
    spec = PipelineSpec(
        "p",
        (
            _node("a", split.spec, values=Value([1])),
            _node("b", total.spec, values=OutputOf("a", "validation")),
        ),
    )
    with pytest.raises(InvalidInput, match="which has no output 'validation'"):
        spec.validate()
    twice = (_node("a", shout.spec, text=Value("x")),) * 2
    with pytest.raises(InvalidInput, match="two steps named 'a'"):
        PipelineSpec("p", twice).validate()


def test_a_type_mismatch_is_caught_when_the_decorated_pipeline_is_built() -> None:
    @gnomon.pipeline
    def wrong():
        return total(shout("text"))

    with pytest.raises(InvalidInput, match="type mismatch: step 'shout'"):
        wrong.build()


def test_symbols_cannot_be_computed_with_while_building() -> None:
    @gnomon.pipeline
    def branching(n: int):
        if n > 3:
            return numbers(n)
        return None

    with pytest.raises(InvalidInput, match="pipeline parameter 'n' is only known when"):
        branching.build()

    @gnomon.pipeline
    def not_json():
        return total(object())

    with pytest.raises(InvalidInput, match="input 'values' is given a object"):
        not_json.build()


def test_parameters_unknown_missing_or_of_the_wrong_type_are_refused() -> None:
    spec = diamond.build()
    with pytest.raises(InvalidInput, match="has no parameter 'm'; it takes n"):
        step_params(spec, {"m": 1})
    with pytest.raises(InvalidInput, match="has no parameter 'epochs'"):
        parse_pairs(spec, ["epochs=3"])
    with pytest.raises(InvalidInput, match="parameter 'n' takes int, not 'three'"):
        parse_pairs(spec, ["n=three"])
    with pytest.raises(InvalidInput, match="parameter 'n' is int, not str"):
        check_values(spec, {"n": "3"})
    assert parse_pairs(spec, ["n=7"]) == {"n": 7}
    assert step_params(spec, {}) == {"n": 3}


def test_type_compatibility_follows_python_typing() -> None:
    assert compatible(int, float)
    assert compatible(bool, int)
    assert compatible(list[int], list)
    assert compatible(int, int | None)
    assert compatible(Any, str)
    assert not compatible(str, int)
    assert not compatible(int | str, int)
    assert not compatible(dict, list[int])


def test_step_settings_are_bounded() -> None:
    with pytest.raises(InvalidInput, match=r"retries must be 0\.\.100"):
        gnomon.step(retries=-1)(lambda: 1)
    with pytest.raises(InvalidInput, match="timeout must be"):
        gnomon.step(timeout=0)(lambda: 1)


def test_a_list_of_outputs_is_one_input_checked_element_by_element() -> None:
    @gnomon.pipeline
    def joined():
        return total([numbers_total(3), numbers_total(4)])

    spec = joined.build()
    node = spec.node("total")
    assert node.args["values"] == OutputsOf(
        (OutputOf("numbers_total"), OutputOf("numbers_total-2"))
    )
    assert spec.upstream(node) == ["numbers_total", "numbers_total-2"]

    @gnomon.pipeline
    def wrong_element():
        return total([shout("a"), shout("b")])

    with pytest.raises(InvalidInput, match="step 'shout' gives 'output' as str, step 'total'"):
        wrong_element.build()

    @gnomon.pipeline
    def mixed():
        return total([numbers_total(3), 4])

    with pytest.raises(InvalidInput, match="mixes step outputs with other values"):
        mixed.build()


@gnomon.step
def numbers_total(n: int) -> int:
    return n
