"""The built-in scripted model: deterministic function calls, retrieval, code, search and echo.

Rules (documented for users in README-emulator.md):

* **Function tools** are called when the last user message names the function (``get_weather``,
  or all the words of its name but stop words: "weather") or shares words with its description:
  English by words (three letters or more, stop words and a plural "s" ignored), Chinese by
  ideographs (at least two distinct ones in common, ignoring ubiquitous characters such as
  的/是/么). Every matching function is called, in
  parallel. Arguments: required properties (all properties when the schema lists none as
  required) are filled from ``key=value`` / ``key: value`` in the message, else by type: numbers
  and integers take the message's numbers in order, enums the first member mentioned (else the
  first), booleans ``true``, location-like strings (``city``, ``location``, ``地点``...) a known
  city named in the message, any other string the message text. Optional properties are filled
  only when given as ``key=value``.
* **After tool outputs** the reply quotes every output, one line per call.
* **Code interpreter** (tool enabled and a ``.csv`` attached to the assistant or the message):
  one ``code`` tool call per CSV whose logs give the row count and the sum of each numeric column.
* **Retrieval** (tool enabled, text files attached to the assistant): files are cut into chunks
  of whole paragraphs; the chunk sharing most words/ideographs with the question is the citation
  quote, the reply repeats its best-matching sentence (and the next one) and ends with
  ``【1†source】`` plus a ``file_citation`` annotation.
* **Web search** (tool enabled, some page of the built-in corpus matches): up to three pages,
  each cited with ``【n†source】`` and a ``web_citation`` annotation.
* **Otherwise** the reply echoes the message in a fixed sentence (Chinese for Chinese input).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from minimax_async._codes import CITATION_MARKER

from ._corpus import CORPUS, WebPage
from ._responder import CallFunctions, FunctionCall, FunctionSpec, Reply, ToolResult, Turn
from ._text import cjk_chars, find_city, is_chinese, match_tokens, numbers, words

__all__ = [
    "Answer",
    "AttachedFile",
    "ToolStep",
    "arguments_json",
    "builtin_answer",
    "chunk_text",
    "fill_arguments",
    "match_functions",
    "plain_reply",
    "scripted_response",
    "search_corpus",
    "tool_results_reply",
]

CHUNK_CHARS = 600
_LOCATION_HINTS = ("city", "location", "place", "where", "region", "城市", "地点", "位置", "地区")
_KEY_VALUE = re.compile(
    r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=|:|：)\s*(\"[^\"]*\"|'[^']*'|[^\s,;，；。?？!！)）]+)"
)
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=\.)\s+|\n+")


@dataclass(frozen=True, kw_only=True)
class AttachedFile:
    """A file the model can read: its id (as Assistants spell it), name and bytes."""

    file_id: str
    filename: str
    data: bytes


@dataclass(frozen=True, kw_only=True)
class ToolStep:
    """A platform-run tool call (code, retrieval, web search) recorded as a ``tool_calls`` step.

    `call` is one ``step_details.tool_calls`` entry without its ``id``.
    """

    call: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class Answer:
    """A reply message (text and annotations) and the platform tool calls that preceded it."""

    text: str
    annotations: tuple[Mapping[str, Any], ...] = ()
    steps: tuple[ToolStep, ...] = ()


# ----------------------------------------------------------------------------- functions


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def match_functions(text: str, functions: Sequence[FunctionSpec]) -> list[FunctionSpec]:
    """Return the functions the message asks for, in the order they were declared."""
    lowered = text.lower()
    message_words = {_stem(w) for w in words(text) if len(w) >= 3}
    message_chars = cjk_chars(text)
    chosen: list[FunctionSpec] = []
    for spec in functions:
        name = spec.name.lower()
        # get_weather / getWeather -> {"weather"}: every meaningful word of the name is asked for.
        spaced = re.sub(r"[_\-]+|(?<=[a-z0-9])(?=[A-Z])", " ", spec.name).lower().strip()
        name_words = {_stem(w) for w in words(spaced) if len(w) >= 3}
        by_name = bool(name) and (
            name in lowered or (bool(name_words) and name_words <= message_words)
        )
        description_words = {_stem(w) for w in words(spec.description) if len(w) >= 3}
        by_words = bool(description_words & message_words)
        by_chars = len(cjk_chars(spec.description) & message_chars) >= 2
        if by_name or by_words or by_chars:
            chosen.append(spec)
    return chosen


def _explicit_values(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, raw in _KEY_VALUE.findall(text):
        values.setdefault(key.lower(), raw.strip("\"'"))
    return values


def _coerce(raw: str, kind: object) -> Any:
    if kind in ("number", "integer"):
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if kind == "integer" or number.is_integer() else number
    if kind == "boolean":
        return raw.lower() not in ("false", "no", "0", "否", "不")
    return raw


def fill_arguments(text: str, spec: FunctionSpec) -> dict[str, Any]:
    """Return the arguments the scripted model passes to `spec` for the message `text`."""
    params = spec.parameters if isinstance(spec.parameters, Mapping) else {}
    properties = params.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    required_raw = params.get("required")
    required = (
        [r for r in required_raw if isinstance(r, str)]
        if isinstance(required_raw, list)
        else list(properties)
    )
    explicit = _explicit_values(text)
    consumed = set(explicit.values())
    free_numbers = [n for n in numbers(text) if _number_text(n) not in consumed]
    message = text.strip()
    args: dict[str, Any] = {}
    for name, schema_raw in properties.items():
        schema = schema_raw if isinstance(schema_raw, Mapping) else {}
        kind = schema.get("type")
        if name.lower() in explicit:
            args[name] = _coerce(explicit[name.lower()], kind)
            continue
        if name not in required:
            continue
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            mentioned = [e for e in enum if str(e).lower() in message.lower()]
            args[name] = mentioned[0] if mentioned else enum[0]
        elif kind in ("number", "integer"):
            value = free_numbers.pop(0) if free_numbers else 0.0
            args[name] = int(value) if kind == "integer" or value.is_integer() else value
        elif kind == "boolean":
            args[name] = True
        elif kind == "array":
            items = schema.get("items")
            item_type = items.get("type") if isinstance(items, Mapping) else None
            args[name] = [message] if item_type in (None, "string") else []
        elif kind == "object":
            args[name] = {}
        else:
            hint = f"{name} {schema.get('description', '')}".lower()
            city = find_city(message) if any(h in hint for h in _LOCATION_HINTS) else None
            args[name] = city if city is not None else message
    return args


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def arguments_json(arguments: Mapping[str, Any] | str) -> str:
    """Encode call arguments the way the seeds show them: ``{"city": "上海"}``."""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(dict(arguments), ensure_ascii=False)


# ----------------------------------------------------------------------------- replies


def plain_reply(text: str) -> str:
    """Return the deterministic echo reply for a message with no tool to use."""
    message = text.strip()
    if not message:
        return "Hello from FakeMiniMax."
    if is_chinese(message):
        return f"收到你的消息：“{message}”。这是 FakeMiniMax 的确定性回复。"
    return f'You said: "{message}". This is a deterministic reply from FakeMiniMax.'


def tool_results_reply(question: str, results: Sequence[ToolResult]) -> str:
    """Return a reply that quotes every tool output, one line per call."""
    if is_chinese(question):
        lines = [f"{r.name} 返回：{r.output}" for r in results]
        return "根据函数调用的结果：\n" + "\n".join(lines)
    lines = [f"- {r.name} returned: {r.output}" for r in results]
    return "Based on the function results:\n" + "\n".join(lines)


def scripted_response(turn: Turn) -> Reply | CallFunctions:
    """Answer a turn with the scripted rules for functions, tool outputs and echo."""
    question = turn.last_user_text
    if turn.tool_results:
        return Reply(text=tool_results_reply(question, turn.tool_results))
    if turn.messages and turn.messages[-1].role == "user":
        matched = match_functions(question, turn.functions)
        if matched:
            calls = tuple(
                FunctionCall(name=s.name, arguments=fill_arguments(question, s)) for s in matched
            )
            return CallFunctions(calls=calls)
    return Reply(text=plain_reply(question))


# ----------------------------------------------------------------------------- retrieval


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def chunk_text(text: str, *, max_chars: int = CHUNK_CHARS) -> list[str]:
    """Cut a document into chunks of whole paragraphs of at most `max_chars` (longer ones split)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    pieces: list[str] = []
    for paragraph in paragraphs:
        while len(paragraph) > max_chars:
            pieces.append(paragraph[:max_chars])
            paragraph = paragraph[max_chars:]
        pieces.append(paragraph)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 2 + len(piece) <= max_chars:
            chunks[-1] = f"{chunks[-1]}\n\n{piece}"
        else:
            chunks.append(piece)
    return chunks


def _score(query_tokens: set[str], passage: str) -> int:
    return len(query_tokens & match_tokens(passage))


def _best_passage(question: str, chunk: str) -> str:
    """Return the best-matching sentence of `chunk` and the sentence after it, if any."""
    tokens = match_tokens(question)
    sentences = [s.strip() for s in _SENTENCE_END.split(chunk) if s and s.strip()]
    if not sentences:
        return chunk
    # Ties go to the longer sentence: headings share the question's words but answer nothing.
    best = max(
        range(len(sentences)), key=lambda i: (_score(tokens, sentences[i]), len(sentences[i]))
    )
    joiner = "" if is_chinese(chunk) else " "
    return joiner.join(sentences[best : best + 2])


def _cited(prefix: str, body: str, marker: str) -> tuple[str, int]:
    text = prefix + body
    return text + marker, len(text)


def _retrieval_answer(question: str, files: Sequence[AttachedFile], call: int) -> Answer | None:
    tokens = match_tokens(question)
    best: tuple[int, AttachedFile, str] | None = None
    for attached in files:
        for chunk in chunk_text(_decode(attached.data)):
            score = _score(tokens, chunk)
            if score > 0 and (best is None or score > best[0]):
                best = (score, attached, chunk)
    if best is None:
        return None
    _, attached, chunk = best
    sentence = _best_passage(question, chunk)
    marker = CITATION_MARKER.format(n=1)
    prefix = "根据文档内容：" if is_chinese(question) else "According to the attached document: "
    text, start = _cited(prefix, sentence, marker)
    annotation = {
        "type": "file_citation",
        "text": marker,
        "start_index": start,
        "end_index": start + len(marker),
        # The real server leaves file_id empty in citations (seed 004); the run step has it.
        "file_citation": {"file_id": "", "quote": chunk},
    }
    step = ToolStep(
        call={
            "type": "retrieval",
            "retrieval": {
                "query": question,
                "outputs": [{"no": call, "file_id": attached.file_id, "content": chunk}],
            },
        }
    )
    return Answer(text=text, annotations=(annotation,), steps=(step,))


# ----------------------------------------------------------------------------- code interpreter


def _format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(round(value, 6))


@dataclass(frozen=True)
class _CsvSummary:
    filename: str
    rows: int
    sums: tuple[tuple[str, float], ...]


def _summarise_csv(attached: AttachedFile) -> _CsvSummary | None:
    rows = [r for r in csv.reader(io.StringIO(_decode(attached.data))) if any(c.strip() for c in r)]
    if not rows:
        return None
    header, body = rows[0], rows[1:]
    sums: list[tuple[str, float]] = []
    for index, column in enumerate(header):
        values = [row[index].strip() for row in body if index < len(row) and row[index].strip()]
        try:
            total = sum(float(v) for v in values)
        except ValueError:
            continue
        if values:
            sums.append((column.strip(), total))
    return _CsvSummary(attached.filename, len(body), tuple(sums))


def _code_input(summary: _CsvSummary) -> str:
    columns = json.dumps([name for name, _ in summary.sums], ensure_ascii=False)
    return (
        "import csv\n\n"
        f'with open("/mnt/data/{summary.filename}", newline="", encoding="utf-8") as f:\n'
        "    rows = list(csv.DictReader(f))\n"
        'print(f"rows: {len(rows)}")\n'
        f"for column in {columns}:\n"
        "    total = sum(float(row[column]) for row in rows if row[column].strip())\n"
        '    print(f"sum({column}) = {int(total) if total.is_integer() else round(total, 6)}")'
    )


def _code_answer(question: str, files: Sequence[AttachedFile]) -> Answer | None:
    summaries = [
        s
        for f in files
        if f.filename.lower().endswith(".csv") and (s := _summarise_csv(f)) is not None
    ]
    if not summaries:
        return None
    steps: list[ToolStep] = []
    lines: list[str] = []
    for summary in summaries:
        logs = [f"rows: {summary.rows}"]
        logs += [f"sum({name}) = {_format_number(total)}" for name, total in summary.sums]
        steps.append(
            ToolStep(
                call={
                    "type": "code",
                    "code": {
                        "input": _code_input(summary),
                        "outputs": [{"type": "logs", "logs": "\n".join(logs)}],
                    },
                }
            )
        )
        if is_chinese(question):
            sums = "，".join(f"{n} = {_format_number(t)}" for n, t in summary.sums) or "无"
            lines.append(
                f"文件 {summary.filename} 共有 {summary.rows} 行数据。各数值列之和：{sums}。"
            )
        else:
            sums = ", ".join(f"{n} = {_format_number(t)}" for n, t in summary.sums) or "none"
            lines.append(
                f"The file {summary.filename} has {summary.rows} rows. Column sums: {sums}."
            )
    return Answer(text="\n".join(lines), steps=tuple(steps))


# ----------------------------------------------------------------------------- web search


def search_corpus(query: str, *, limit: int = 3) -> list[WebPage]:
    """Return up to `limit` built-in pages that share at least two tokens with `query`."""
    tokens = match_tokens(query)
    scored = [
        (_score(tokens, f"{page.title} {page.content} {page.keywords}"), index, page)
        for index, page in enumerate(CORPUS)
    ]
    hits = sorted((s for s in scored if s[0] >= 2), key=lambda s: (-s[0], s[1]))
    return [page for _, _, page in hits[:limit]]


def _web_answer(question: str) -> Answer | None:
    pages = search_corpus(question)
    if not pages:
        return None
    output = [{"no": i, "content": page.content} for i, page in enumerate(pages, start=1)]
    step = ToolStep(
        call={
            "type": "web_search",
            "web_search": {
                "name": "get_web_search_result",
                "arguments": json.dumps({"search_query": question}, ensure_ascii=False),
                "output": json.dumps(output, ensure_ascii=False, separators=(",", ":")),
            },
        }
    )
    chinese = is_chinese(question)
    text = "根据网络搜索结果：\n" if chinese else "Here is what the web says:\n"
    annotations: list[Mapping[str, Any]] = []
    for number, page in enumerate(pages, start=1):
        marker = CITATION_MARKER.format(n=number)
        text += f"\n{number}. {page.content}"
        start = len(text)
        text += marker
        annotations.append(
            {
                "type": "web_citation",
                "text": marker,
                "start_index": start,
                "end_index": start + len(marker),
                "web_citation": {"url": page.url, "quote": page.content},
            }
        )
    return Answer(text=text, annotations=tuple(annotations), steps=(step,))


# ----------------------------------------------------------------------------- dispatch


def builtin_answer(
    question: str,
    *,
    tool_types: frozenset[str],
    assistant_files: Sequence[AttachedFile],
    message_files: Sequence[AttachedFile],
) -> Answer:
    """Answer a run's question with the first platform tool that applies, else an echo.

    Order: code interpreter (a CSV is attached), retrieval (an attached file matches), web
    search (the corpus matches), echo.
    """
    if "code_interpreter" in tool_types:
        answer = _code_answer(question, [*message_files, *assistant_files])
        if answer is not None:
            return answer
    if "retrieval" in tool_types:
        answer = _retrieval_answer(question, assistant_files, call=1)
        if answer is not None:
            return answer
    if "web_search" in tool_types:
        answer = _web_answer(question)
        if answer is not None:
            return answer
    return Answer(text=plain_reply(question))
