"""Small text helpers shared by the scripted model: language, tokens, numbers, cities."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

__all__ = [
    "cjk_chars",
    "estimate_tokens",
    "find_city",
    "is_chinese",
    "match_tokens",
    "numbers",
    "words",
]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9']*|\d+(?:\.\d+)?")
# ASCII-only look-arounds: in "上海2024年" the number touches ideographs, which \w would match.
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])-?\d+(?:\.\d+)?(?![A-Za-z0-9_])")

# Words too common to say anything about which tool or chunk a message is about.
_STOP_WORDS_TEXT = (
    "a an and are as at be by can could do does for from get give has have how i in is it its "
    "me my of on or please set show tell than that the their them then there these this to us "
    "use using was what when where which who why will with would you your"
)
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
# Characters that appear in almost any Chinese sentence; matching on them would match everything.
_STOP_CHARS = frozenset("的了是在我你他她它们吗呢吧么怎样什这那有和与就都也很请把给一个不")

_CITIES: tuple[tuple[str, str], ...] = (
    ("北京", "Beijing"),
    ("上海", "Shanghai"),
    ("广州", "Guangzhou"),
    ("深圳", "Shenzhen"),
    ("杭州", "Hangzhou"),
    ("南京", "Nanjing"),
    ("成都", "Chengdu"),
    ("武汉", "Wuhan"),
    ("西安", "Xi'an"),
    ("重庆", "Chongqing"),
    ("天津", "Tianjin"),
    ("苏州", "Suzhou"),
    ("香港", "Hong Kong"),
    ("东京", "Tokyo"),
    ("巴黎", "Paris"),
    ("伦敦", "London"),
    ("纽约", "New York"),
    ("柏林", "Berlin"),
    ("悉尼", "Sydney"),
    ("新加坡", "Singapore"),
    ("首尔", "Seoul"),
    ("旧金山", "San Francisco"),
)


def is_chinese(text: str) -> bool:
    """Return whether `text` contains any CJK ideograph (the fake then answers in Chinese)."""
    return _CJK.search(text) is not None


def cjk_chars(text: str) -> set[str]:
    """Return the distinct CJK ideographs of `text`, minus ubiquitous function characters."""
    return {c for c in _CJK.findall(text) if c not in _STOP_CHARS}


def words(text: str) -> set[str]:
    """Return the distinct lower-cased English words and numbers of `text`, minus stop words."""
    found = {w.lower().strip("'") for w in _WORD.findall(text)}
    return {w for w in found if w and w not in _STOP_WORDS and (len(w) > 1 or w.isdigit())}


def _bigrams(text: str) -> set[str]:
    # Bigrams only within a run of adjacent ideographs: "天气" yes, "天，气" no.
    runs = _CJK_RUN.findall(text)
    return {run[i : i + 2] for run in runs for i in range(len(run) - 1)}


def match_tokens(text: str) -> set[str]:
    """Return the tokens used to score passages against a query: English words and CJK bigrams."""
    return words(text) | _bigrams(text) | cjk_chars(text)


def numbers(text: str) -> list[float]:
    """Return the numbers written in `text`, in order."""
    return [float(m) for m in _NUMBER.findall(text)]


def find_city(text: str) -> str | None:
    """Return the first known city named in `text`, spelled as the message spells it."""
    best: tuple[int, str] | None = None
    lowered = text.lower()
    for zh, en in _CITIES:
        for name in (zh, en):
            if is_chinese(name):
                index = text.find(name)
            else:
                hit = re.search(rf"\b{re.escape(name.lower())}\b", lowered)
                index = hit.start() if hit else -1
            if index >= 0 and (best is None or index < best[0]):
                best = (index, name)
    return None if best is None else best[1]


def estimate_tokens(texts: Iterable[str]) -> int:
    """Estimate a token count: one per CJK ideograph plus one per four other characters."""
    total = 0
    for text in texts:
        cjk = len(_CJK.findall(text))
        total += cjk + math.ceil((len(text) - cjk) / 4)
    return total
