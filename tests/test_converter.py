"""The converter factory: every converter it makes reads the wire the same way, on its own."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cattrs
import pytest

import minimax_async as mm
from minimax_async._serde import converter, make_converter

FIXTURE = Path(__file__).parent / "fixtures" / "seed_examples.json"
DOCS: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
Tools = tuple[mm.Tool, ...]

#: The record type each response example of the documents is an answer of.
SEED_TYPES: dict[str, Any] = {
    "retrieval messages": mm.Page[mm.Message],
    "code interpreter messages": mm.Page[mm.Message],
    "web search messages": mm.Page[mm.Message],
    "submitted run (1st print)": mm.Run,
    "function messages (1st print)": mm.Page[mm.Message],
    "submitted run (2nd print)": mm.Run,
    "function messages (2nd print)": mm.Page[mm.Message],
    "code interpreter steps": mm.Page[mm.RunStep],
    "file citation message": mm.Message,
    "web search steps": mm.Page[mm.RunStep],
    "required action run": mm.Run,
}


def _stream_frames(transcript: str) -> Iterator[dict[str, Any]]:
    """The JSON frames of a printed SSE transcript (one frame may wrap over two lines)."""
    for event in transcript.strip().split("\n\n"):
        yield json.loads(event.removeprefix("data:"))


def seed_examples() -> list[Any]:
    """Every example in the fixture, as (data, record type) params.

    Answers parse into their record; the request examples (``curl --data`` bodies) are what
    the client sends, so the part the converter handles there, their ``tools``, is used.
    """
    params = [
        pytest.param(example["data"], SEED_TYPES[name], id=name)
        for name, example in DOCS["seed"].items()
    ]
    params += [
        pytest.param(DOCS["af_assistant"], mm.Assistant, id="af_assistant"),
        pytest.param(DOCS["af_message"], mm.Message, id="af_message"),
        pytest.param(DOCS["af_run"], mm.Run, id="af_run"),
        pytest.param(DOCS["v1_response"], mm.ChatCompletion, id="v1_response"),
        pytest.param(DOCS["pro_response"], mm.ChatCompletionPro, id="pro_response"),
    ]
    params += [
        pytest.param(frame, mm.ChatCompletion, id=f"v1_stream frame {n}")
        for n, frame in enumerate(_stream_frames(DOCS["v1_stream"]))
    ]
    params += [
        pytest.param(request["body"]["tools"], Tools, id=f"curl line {request['line']}")
        for request in DOCS["curl_examples"]
        if "tools" in request["body"]
    ]
    return params


def test_every_response_example_has_a_record_type() -> None:
    """Each seed example of the fixture is mapped to the record it parses into."""
    assert set(SEED_TYPES) == set(DOCS["seed"])
    assert len(list(_stream_frames(DOCS["v1_stream"]))) == 3
    assert any("tools" in request["body"] for request in DOCS["curl_examples"])


@pytest.mark.parametrize(("data", "cls"), seed_examples())
def test_converters_from_the_factory_agree_on_every_seed_example(data: Any, cls: Any) -> None:
    """Two new converters and the module one give equal records and equal wire data."""
    first, second = make_converter(), make_converter()

    records = [c.structure(data, cls) for c in (first, second, converter)]

    assert records[0] == records[1] == records[2]
    assert records[0] == mm.structure(data, cls)
    assert first.unstructure(records[0]) == second.unstructure(records[1])
    assert first.unstructure(records[0]) == converter.unstructure(records[2])
    origin = getattr(cls, "__origin__", cls)
    assert isinstance(records[0], origin)


# The nested records a hook is registered for below, with an example that contains them.
NESTED = [
    pytest.param(
        mm.FunctionToolCall,
        DOCS["seed"]["required action run"]["data"],
        mm.Run,
        id="tool call in a run's required action",
    ),
    pytest.param(
        mm.TextContent,
        DOCS["seed"]["retrieval messages"]["data"],
        mm.Page[mm.Message],
        id="text content in a page of messages",
    ),
    pytest.param(
        mm.CodeInterpreterCall,
        DOCS["seed"]["code interpreter steps"]["data"],
        mm.Page[mm.RunStep],
        id="code call in a run step",
    ),
    pytest.param(mm.WebSearchTool, DOCS["af_assistant"], mm.Assistant, id="tool of an assistant"),
]


def _recording_hook(c: cattrs.Converter, cls: type[Any], seen: list[Any]) -> Callable[..., Any]:
    """A hook for *cls* that remembers what it was given and builds the record as before."""
    default = c.get_structure_hook(cls)

    def hook(value: Any, t: Any) -> Any:
        seen.append(value)
        return default(value, t)

    return hook


@pytest.mark.parametrize(("nested", "data", "cls"), NESTED)
def test_a_hook_registered_on_a_new_converter_reaches_no_other(
    nested: type[Any], data: Any, cls: Any
) -> None:
    """A hook added to one converter is used by it, not by the module one nor another new one."""
    mine, other = make_converter(), make_converter()
    seen: list[Any] = []
    mine.register_structure_hook(nested, _recording_hook(mine, nested, seen))

    other.structure(data, cls)
    converter.structure(data, cls)
    mm.structure(data, cls)
    assert seen == []

    mine.structure(data, cls)
    assert seen


@pytest.mark.parametrize(("nested", "data", "cls"), NESTED)
def test_a_hook_registered_after_first_use_reaches_nested_records(
    nested: type[Any], data: Any, cls: Any
) -> None:
    """Nothing is captured early: a hook added after a converter was used is used inside records."""
    fresh = make_converter()
    before = fresh.structure(data, cls)
    seen: list[Any] = []

    fresh.register_structure_hook(nested, _recording_hook(fresh, nested, seen))
    after = fresh.structure(data, cls)

    assert seen
    assert after == before
