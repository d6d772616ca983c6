"""The converter: wire quirks become clean records, unknown things never break parsing."""

from __future__ import annotations

from typing import Any

import pytest

import minimax_async as mm


def test_zero_timestamps_mean_unset() -> None:
    """A timestamp of 0 is None; a real one stays an int."""
    run = mm.structure(
        {"id": "run_1", "created_at": 1703245668, "started_at": 0, "completed_at": 0}, mm.Run
    )
    assert run.created_at == 1703245668
    assert run.started_at is None
    assert run.completed_at is None


def test_an_empty_required_action_means_none() -> None:
    """{"type": "", "submit_tool_outputs": null} is no required action."""
    run = mm.structure(
        {
            "id": "run_1",
            "status": "queued",
            "required_action": {"type": "", "submit_tool_outputs": None},
        },
        mm.Run,
    )
    assert run.required_action is None
    assert run.tool_calls == ()


def test_a_required_action_lists_its_function_calls() -> None:
    """A real required action exposes its function tool calls."""
    run = mm.structure(
        {
            "id": "run_1",
            "status": "requires_action",
            "required_action": {
                "type": "submit_tool_outputs",
                "submit_tool_outputs": {
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "上海"}'},
                        }
                    ]
                },
            },
        },
        mm.Run,
    )
    assert [c.function.name for c in run.tool_calls] == ["get_weather"]


@pytest.mark.parametrize("file_id", [891849227529, "891849227529"])
def test_file_ids_may_be_int_or_str(file_id: Any) -> None:
    """Files API ids parse whether the server sends a number or a string."""
    assert mm.structure({"file_id": file_id, "bytes": 10}, mm.File).file_id == file_id


def test_assistant_file_ids_become_strings_and_null_lists_become_empty() -> None:
    """Numeric ids in file_ids become strings; null lists become ()."""
    asst = mm.structure({"id": "asst_1", "file_ids": [88731293343809], "tools": None}, mm.Assistant)
    assert asst.file_ids == ("88731293343809",)
    assert asst.tools == ()


def test_the_streamed_spelling_of_object_is_folded_into_the_rest_one() -> None:
    """object "run" (streams) reads as "thread.run"; "run step" as "thread.run.step"."""
    assert mm.structure({"id": "r", "object": "run"}, mm.Run).object == "thread.run"
    assert mm.structure({"id": "s", "object": "run step"}, mm.RunStep).object == "thread.run.step"


def test_unknown_fields_are_ignored() -> None:
    """Fields this version does not know do not stop parsing."""
    msg = mm.structure({"id": "msg_1", "brand_new_field": {"x": 1}, "role": "ai"}, mm.Message)
    assert msg.role == "ai"


def test_unknown_statuses_are_kept_as_strings() -> None:
    """A run status nobody has seen yet parses and counts as not finished."""
    run = mm.structure({"id": "run_1", "status": "started"}, mm.Run)
    assert run.status == "started"
    assert not run.is_terminal


@pytest.mark.parametrize(
    ("cls", "data", "unknown_cls"),
    [
        (mm.Assistant, {"id": "a", "tools": [{"type": "image_gen", "size": 3}]}, mm.UnknownTool),
        (
            mm.Message,
            {"id": "m", "content": [{"type": "video_file", "video_file": {"file_id": "v"}}]},
            mm.UnknownContent,
        ),
        (
            mm.Message,
            {
                "id": "m",
                "content": [
                    {
                        "type": "text",
                        "text": {"value": "x", "annotations": [{"type": "map_citation"}]},
                    }
                ],
            },
            mm.UnknownAnnotation,
        ),
        (
            mm.RunStep,
            {"id": "s", "step_details": {"type": "thinking", "thought": "..."}},
            mm.UnknownStepDetails,
        ),
        (
            mm.RunStep,
            {
                "id": "s",
                "step_details": {
                    "type": "tool_calls",
                    "tool_calls": [{"id": "c", "type": "browser"}],
                },
            },
            mm.UnknownToolCall,
        ),
    ],
)
def test_unknown_kinds_parse_into_unknown_records_that_keep_the_raw_json(
    cls: type[Any], data: dict[str, Any], unknown_cls: type[Any]
) -> None:
    """A new tool/content/annotation/step/tool-call type is kept, not an error."""
    record = mm.structure(data, cls)

    def find(value: Any) -> list[Any]:
        if isinstance(value, unknown_cls):
            return [value]
        if isinstance(value, tuple):
            return [x for v in value for x in find(v)]
        if hasattr(value, "__attrs_attrs__"):
            return [x for a in value.__attrs_attrs__ for x in find(getattr(value, a.name))]
        return []

    found = find(record)
    assert len(found) == 1
    assert found[0].raw["type"] == found[0].type


@pytest.mark.parametrize("spelling", ["code", "code_interpreter"])
def test_both_spellings_of_the_code_interpreter_call_parse(spelling: str) -> None:
    """{"type": "code", "code": ...} and {"type": "code_interpreter", ...} both parse."""
    step = mm.structure(
        {
            "id": "s",
            "step_details": {
                "type": "tool_calls",
                "tool_calls": [
                    {
                        "type": spelling,
                        spelling: {"input": "1+1", "outputs": [{"type": "logs", "logs": "2"}]},
                    }
                ],
            },
        },
        mm.RunStep,
    )
    assert isinstance(step.step_details, mm.ToolCallsStepDetails)
    call = step.step_details.tool_calls[0]
    assert isinstance(call, mm.CodeInterpreterToolCall)
    assert call.type == spelling
    assert call.code_interpreter.outputs[0].logs == "2"


def test_records_round_trip_through_the_converter() -> None:
    """structure(unstructure(record)) gives back an equal record."""
    run = mm.structure(
        {
            "id": "run_1",
            "object": "thread.run",
            "status": "requires_action",
            "created_at": 5,
            "required_action": {
                "type": "submit_tool_outputs",
                "submit_tool_outputs": {
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ]
                },
            },
            "tools": [
                {"type": "function", "function": {"name": "f"}},
                {"type": "retrieval"},
                {"type": "new_tool"},
            ],
            "last_error": {"code": "x", "message": "y"},
        },
        mm.Run,
    )
    assert mm.structure(mm.unstructure(run), mm.Run) == run


def test_unstructured_records_use_the_wire_spellings() -> None:
    """Unset times go back to 0 and no required action back to {"type": ""}."""
    data = mm.unstructure(mm.Run(id="run_1"))
    assert data["created_at"] == 0
    assert data["required_action"] == {"type": "", "submit_tool_outputs": None}
    assert not any("link" in key for key in data)  # a run's link to its client is not data


@pytest.mark.parametrize(
    "data",
    [
        {"id": "run_1", "status": ["queued"]},
        {"id": None},
        {"id": "run_1", "created_at": "yesterday"},
        {"id": "run_1", "tools": "retrieval"},
        {"id": "run_1", "required_action": "now"},
        {"status": "queued"},
    ],
)
def test_wrongly_typed_input_raises_type_or_value_errors(data: dict[str, Any]) -> None:
    """Values of the wrong JSON type are refused, not coerced into nonsense."""
    with pytest.raises((TypeError, ValueError, KeyError)):
        mm.structure(data, mm.Run)


def test_message_text_and_annotations_helpers() -> None:
    """message.text joins text parts; message.annotations lists every citation."""
    msg = mm.structure(
        {
            "id": "m",
            "content": [
                {
                    "type": "text",
                    "text": {
                        "value": "a【1†source】",
                        "annotations": [
                            {
                                "type": "web_citation",
                                "text": "【1†source】",
                                "start_index": 1,
                                "end_index": 11,
                                "web_citation": {"quote": "q"},
                            }
                        ],
                    },
                },
                {"type": "image_file", "image_file": {"file_id": "img"}},
                {"type": "text", "text": {"value": "b", "annotations": []}},
            ],
        },
        mm.Message,
    )
    assert msg.text == "a【1†source】\n\nb"
    (citation,) = msg.annotations
    assert isinstance(citation, mm.WebCitationAnnotation)
    assert citation.web_citation.url == ""


def test_an_unbound_run_says_how_to_get_a_bound_one() -> None:
    """refresh() on a Run not obtained from a client explains the fix."""
    import anyio

    with pytest.raises(RuntimeError, match=r"client\.threads\.runs"):
        anyio.run(mm.Run(id="run_1").refresh)
