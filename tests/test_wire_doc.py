"""docs/wire-format.md is where the code's wire comments point, and every pointer resolves."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "wire-format.md"
PACKAGE = REPO / "minimax_async"
POINTER = re.compile(r"docs/wire-format\.md#([\w-]+)")
LOCAL_LINK = re.compile(r"\]\(#([\w-]+)\)")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings() -> list[str]:
    """The headings of the doc, outside fenced code blocks."""
    found, fenced = [], False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            found.append(line.lstrip("#"))
    return found


def anchors() -> set[str]:
    return {github_anchor(h) for h in headings()}


def pointers() -> list[tuple[str, str]]:
    """Every ``docs/wire-format.md#anchor`` in the package, as (file:line, anchor)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for anchor in POINTER.findall(line):
                found.append((f"{path.relative_to(REPO)}:{number}", anchor))
    return found


def test_anchors_are_computed_as_github_does() -> None:
    """The check below spells anchors the way GitHub renders them."""
    assert github_anchor("Hosts and GroupId") == "hosts-and-groupid"
    assert github_anchor("The `base_resp` envelope") == "the-base_resp-envelope"
    assert github_anchor("What (not) to do: 512 MB") == "what-not-to-do-512-mb"


def test_every_heading_has_its_own_anchor() -> None:
    """No two headings share an anchor, so none gets a positional suffix that could shift."""
    counts = Counter(github_anchor(h) for h in headings())
    assert len(counts) > 30
    assert [anchor for anchor, n in counts.items() if n > 1] == []


def test_every_pointer_in_the_package_names_a_heading_of_the_doc() -> None:
    """Each ``docs/wire-format.md#anchor`` in a comment or docstring leads to a section."""
    found = pointers()
    assert len(found) >= 15
    known = anchors()
    assert [(where, anchor) for where, anchor in found if anchor not in known] == []


def test_the_doc_links_within_itself_resolve() -> None:
    """The contents line and cross-references name existing sections."""
    links = LOCAL_LINK.findall(DOC.read_text(encoding="utf-8"))
    assert len(links) > 30
    assert sorted(set(links) - anchors()) == []


def test_the_doc_does_not_point_outside_the_repository() -> None:
    """The doc is self-contained: it does not send readers to the research notes."""
    assert "API_NOTES" not in DOC.read_text(encoding="utf-8")


def test_no_file_in_the_package_cites_the_research_notes() -> None:
    """No module of minimax_async mentions the research notes outside the repository."""
    citing = [
        str(p.relative_to(REPO))
        for p in sorted(PACKAGE.rglob("*.py"))
        if "API_NOTES" in p.read_text(encoding="utf-8")
    ]
    assert citing == []
