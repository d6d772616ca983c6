"""The generated record functions read the wire exactly as cattrs' own functions do.

The module converter builds records with flat functions generated per record class; a
converter made with ``generated=False`` uses cattrs' functions with the same hooks. Both must
give equal records (same classes, same fields, same wire data back) or the same error (same
class, same message) for every seed example, for hand-picked hostile values and for fuzzed
mutations of the examples.
"""

from __future__ import annotations

import collections
import json
import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minimax_async as mm
from minimax_async._serde import converter, make_converter, structure_run

from .test_converter import seed_examples

FIXTURE = Path(__file__).parent / "fixtures" / "seed_examples.json"
DOCS: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
#: A run that requires action, with every field the REST answers carry.
RUN: dict[str, Any] = {
    **DOCS["seed"]["submitted run (1st print)"]["data"],
    **DOCS["seed"]["required action run"]["data"],
    "status": "requires_action",
}

#: A converter with cattrs' own record functions: the reference the generated ones match.
REFERENCE = make_converter(generated=False)
#: A new converter with generated functions, beside the module one.
FRESH = make_converter()

FUZZ = settings(
    max_examples=int(os.environ.get("MINIMAX_FUZZ_EXAMPLES", "300")),
    derandomize=not os.environ.get("MINIMAX_FUZZ_RANDOM"),
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _outcome(c: Any, data: Any, cls: Any) -> tuple[Any, ...]:
    """What structuring gives: the record (and its repr and wire data) or the error."""
    try:
        record = c.structure(data, cls)
    except Exception as error:  # the error itself is the outcome compared
        return ("error", type(error), str(error))
    return ("record", type(record), record, repr(record), REFERENCE.unstructure(record))


def _assert_same(data: Any, cls: Any) -> tuple[Any, ...]:
    expected = _outcome(REFERENCE, data, cls)
    assert _outcome(converter, data, cls) == expected
    assert _outcome(FRESH, data, cls) == expected
    return expected


@pytest.mark.parametrize(("data", "cls"), seed_examples())
def test_every_seed_example_gives_the_record_cattrs_gives(data: Any, cls: Any) -> None:
    """Each seed example parses to an equal record through the generated functions."""
    assert _assert_same(data, cls)[0] == "record"


def _run(**fields: Any) -> dict[str, Any]:
    return {**RUN, **fields}


def _action(tool_calls: Any) -> dict[str, Any]:
    return {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": tool_calls}}


HOSTILE: list[Any] = [
    # Records.
    pytest.param({"id": "run_1"}, mm.Run, id="only an id"),
    pytest.param({}, mm.Run, id="no id"),
    pytest.param({"id": ""}, mm.Run, id="empty id"),
    pytest.param({"id": 12}, mm.Run, id="numeric id"),
    pytest.param({"id": None}, mm.Run, id="null id"),
    pytest.param([], mm.Run, id="a list"),
    pytest.param("run", mm.Run, id="a string"),
    pytest.param(None, mm.Run, id="null"),
    pytest.param(7, mm.Run, id="a number"),
    pytest.param(types.MappingProxyType(RUN), mm.Run, id="a mapping that is not a dict"),
    # Timestamps.
    pytest.param(_run(created_at=0, started_at=None, failed_at=""), mm.Run, id="zero times"),
    pytest.param(_run(created_at=1.0, expires_at="17"), mm.Run, id="times as float, text"),
    pytest.param(_run(created_at=1.5), mm.Run, id="fractional time"),
    pytest.param(_run(created_at="soon"), mm.Run, id="time as words"),
    pytest.param(_run(created_at=True), mm.Run, id="time as a boolean"),
    pytest.param(_run(updated_at=[]), mm.Run, id="time as a list"),
    # Required action and last error.
    pytest.param(_run(required_action={"type": "", "submit_tool_outputs": None}), mm.Run, id="ra"),
    pytest.param(_run(required_action=""), mm.Run, id="required action as a string"),
    pytest.param(_run(required_action=_action(None)), mm.Run, id="null tool calls"),
    pytest.param(_run(required_action=_action({})), mm.Run, id="tool calls as an object"),
    pytest.param(_run(required_action=_action([5])), mm.Run, id="tool call as a number"),
    pytest.param(_run(required_action=_action([{"id": "c"}])), mm.Run, id="no function"),
    pytest.param(
        _run(required_action=_action([{"id": 3, "function": {"name": 1, "output": 2}}])),
        mm.Run,
        id="numbers for text in a tool call",
    ),
    pytest.param(
        _run(required_action=_action([{"id": "c", "type": "x", "function": {"name": "f"}}])),
        mm.Run,
        id="tool call of another literal type",
    ),
    pytest.param(_run(last_error={"code": "", "message": ""}), mm.Run, id="empty last error"),
    pytest.param(_run(last_error={"code": "x", "message": None}), mm.Run, id="last error"),
    pytest.param(_run(last_error=[]), mm.Run, id="last error as a list"),
    # Unknown fields, values and kinds.
    pytest.param(_run(brand_new={"x": [1]}), mm.Run, id="unknown field"),
    pytest.param(_run(status="brand_new_status"), mm.Run, id="unknown status"),
    pytest.param(_run(tools=[{"type": "brand_new_tool", "x": 1}]), mm.Run, id="unknown tool"),
    pytest.param(_run(tools=[{"type": None}, {"type": 5}]), mm.Run, id="tool types not text"),
    pytest.param(_run(tools=["function"]), mm.Run, id="tool as a string"),
    pytest.param(_run(tools=[{"type": "function"}]), mm.Run, id="function tool without one"),
    pytest.param(_run(tools=None, file_ids=None), mm.Run, id="null lists"),
    pytest.param(_run(tools="abc"), mm.Run, id="tools as a string"),
    pytest.param(_run(file_ids=[1, "a", 2.5]), mm.Run, id="file ids of every kind"),
    pytest.param(_run(file_ids=[None, [1]]), mm.Run, id="file ids null and a list"),
    # Plain fields.
    pytest.param(_run(object="run"), mm.Run, id="streamed object name"),
    pytest.param(_run(object=None), mm.Run, id="null object name"),
    pytest.param(_run(object=[]), mm.Run, id="object name as a list"),
    pytest.param(_run(thread_id=5, assistant_id=None, model=2.5), mm.Run, id="text as others"),
    pytest.param(_run(thread_id={}), mm.Run, id="text as an object"),
    pytest.param(_run(thread_id=True), mm.Run, id="text as a boolean"),
    pytest.param(_run(metadata=[], t2a_option="x"), mm.Run, id="objects as others"),
    pytest.param(_run(_link="a link", **{"\x00link": 1}), mm.Run, id="a link in the JSON"),
    # Other records.
    pytest.param({"type": "other", "function": {"name": "f"}}, mm.FunctionTool, id="literal"),
    pytest.param({"type": None, "function": {"name": "f"}}, mm.FunctionTool, id="null literal"),
    pytest.param({"name": "f", "output": 5, "arguments": None}, mm.FunctionCall, id="output"),
    pytest.param(
        {"total_tokens": "12", "prompt_tokens": None, "completion_tokens": 3.0},
        mm.Usage,
        id="usage as text, null and float",
    ),
    pytest.param({"tokens_with_added_plugin": True}, mm.Usage, id="usage as a boolean"),
    pytest.param({"prompt_tokens": "x"}, mm.Usage, id="usage as words"),
    pytest.param(
        {"choices": [{"delta": {"content": None}, "message": None, "finish_reason": 5}]},
        mm.ChatCompletionV2,
        id="v2 choice",
    ),
    pytest.param({"choices": [{"index": None, "logprobes": 1}]}, mm.ChatCompletion, id="v1"),
    pytest.param({"choices": [{"delta": "abc"}, {"delta": 5}]}, mm.ChatCompletion, id="delta"),
    pytest.param({"choices": [{"delta": {}}]}, mm.ChatCompletion, id="v1 delta as an object"),
    pytest.param({"vectors": [[1, 2.5], []], "total_tokens": 3}, mm.Embeddings, id="vectors"),
    pytest.param({"vectors": [[1, "a"]]}, mm.Embeddings, id="vector with text"),
    pytest.param({"file_id": 123, "bytes": "5", "download_url": 5}, mm.File, id="file"),
    pytest.param({"file_id": 1.5}, mm.File, id="file id as a float"),
    pytest.param({"data": [{"id": "r"}], "has_more": None}, mm.Page[mm.Run], id="page"),
    pytest.param({"data": [{"id": "r"}], "has_more": "yes"}, mm.Page[mm.Run], id="has more"),
    pytest.param(
        {"id": "s", "step_details": {"type": "tool_calls", "tool_calls": [{"type": "new"}]}},
        mm.RunStep,
        id="step with an unknown tool call",
    ),
    pytest.param({"id": "s", "step_details": {"type": "new"}}, mm.RunStep, id="unknown step"),
    pytest.param({"id": "s", "step_details": None, "type": 1}, mm.RunStep, id="null step"),
    pytest.param({"id": "m", "content": [{"type": "text"}]}, mm.Message, id="text without text"),
    pytest.param(
        {"id": "m", "content": [{"type": "text", "text": {"value": None, "annotations": None}}]},
        mm.Message,
        id="text with nulls",
    ),
    pytest.param({"id": "a", "tools": [{"type": "x"}], "file_ids": [9]}, mm.Assistant, id="as"),
]


@pytest.mark.parametrize(("data", "cls"), HOSTILE)
def test_hostile_values_give_the_record_or_error_cattrs_gives(data: Any, cls: Any) -> None:
    """Odd values give the same record, or the same error class and message, on both paths."""
    _assert_same(data, cls)


# ------------------------------------------------------------------------------ fuzzed

#: Values the wire format gives meaning to, mixed with anything JSON can hold.
SPECIAL = st.sampled_from([0, "", None, [], {}, "run", "function", "text", 1.5, True, "12"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**40) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)
ANY = SPECIAL | JSON


@st.composite
def _mutated(draw: st.DrawFn, value: Any) -> Any:
    """A copy of *value* with some keys dropped, some values replaced, maybe an unknown key."""
    if draw(st.integers(0, 11)) == 0:
        return draw(ANY)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "mutate"]))
            if action == "keep":
                out[key] = item
            elif action == "mutate":
                out[key] = draw(_mutated(item))
        if draw(st.integers(0, 5)) == 0:
            out[draw(st.text(max_size=8))] = draw(ANY)
        return out
    if isinstance(value, list):
        return [draw(_mutated(item)) for item in value if draw(st.integers(0, 4))]
    return value


EXAMPLES = [(param.values[0], param.values[1]) for param in seed_examples()]


@st.composite
def _mutated_example(draw: st.DrawFn) -> tuple[Any, Any]:
    data, cls = draw(st.sampled_from(EXAMPLES))
    return draw(_mutated(data)), cls


@FUZZ
@given(_mutated_example())
def test_mutated_examples_give_the_record_or_error_cattrs_gives(case: tuple[Any, Any]) -> None:
    """Fuzzed mutations of every seed example give the same outcome on both paths."""
    data, cls = case
    _assert_same(data, cls)


# ------------------------------------------------------------------- hooks and linked runs


def test_a_hook_registered_for_a_scalar_type_is_used_for_record_fields() -> None:
    """A new str hook on a converter reaches a run's text fields, shortcuts notwithstanding."""
    c = make_converter()
    before = c.structure(RUN, mm.Run)
    c.register_structure_hook(str, lambda value, _: str(value).upper())

    after = c.structure(RUN, mm.Run)

    assert before.status == "requires_action"
    assert after.status == "REQUIRES_ACTION"
    assert after.id == before.id  # an Id field has its own hook


class _Link:
    """A run link that answers ``retrieve`` with a marker run."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def retrieve(self, thread_id: str, run_id: str) -> mm.Run:
        return mm.Run(id=f"{self.name}:{thread_id}:{run_id}")

    async def wait(self, run: mm.Run, options: mm.WaitOptions) -> mm.Run:
        return run


@pytest.mark.anyio
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(RUN, id="a plain dict"),
        pytest.param(_run(_link="x", **{"\x00link": "y"}), id="JSON that names a link"),
        pytest.param(collections.OrderedDict(RUN), id="a dict of a subclass"),
    ],
)
async def test_a_linked_run_equals_the_plain_one_and_refreshes_through_its_link(
    data: Mapping[str, Any],
) -> None:
    """structure_run gives the record structure gives, linked to the link it was handed."""
    run = structure_run(data, _Link("mine"))

    assert run == REFERENCE.structure(dict(data), mm.Run)
    refreshed = await run.refresh()
    assert refreshed.id == f"mine:{RUN['thread_id']}:{RUN['id']}"


@pytest.mark.parametrize("data", [[], "run", None, types.MappingProxyType(RUN)])
def test_a_linked_run_from_a_value_that_is_not_an_object_raises_type_error(data: Any) -> None:
    """Anything but a JSON object (a dict) is a TypeError naming what came."""
    with pytest.raises(TypeError, match=f"expected an object, got {type(data).__name__}"):
        structure_run(data, _Link("mine"))
