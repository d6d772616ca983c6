"""The package's layers import only downwards (the layout in the README's "Development").

Every module of ``minimax_async`` is read with ``ast``; its imports, at module level and
inside functions alike, are resolved to modules of the package and checked against the
layer order below. Imports under ``if TYPE_CHECKING:`` count too: they run nothing, but a
type named from a layer above is a dependency on it all the same (a leaf's signatures take
protocols of its own instead). ``importlib.import_module("...")`` with a literal name counts
as an import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import attrs

import minimax_async

PACKAGE = "minimax_async"
ROOT = Path(minimax_async.__file__).parent

#: Lowest first. A module may import its own layer and the layers before it. A package
#: entry covers all its modules; a new top-level module must be placed here by hand.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "leaves",
        frozenset(
            {
                "_codes",
                "_clock",
                "_types",
                "_version",
                "_secrets",
                "_logging",
                "_shard",
                "_hooks",
                "_tracing",
                "_knobs",
            }
        ),
    ),
    (
        "policies and errors",
        frozenset({"_exceptions", "_shared_budget", "_limiter", "_retry", "_wait_policy", "_web"}),
    ),
    ("http", frozenset({"_http"})),
    ("records", frozenset({"_records", "_serde", "_validate", "_pagination", "_options"})),
    ("transport", frozenset({"_transport", "_streaming", "_run_stream", "_requester"})),
    ("resources", frozenset({"_resources"})),
    ("orchestration", frozenset({"_orchestration"})),
    ("client", frozenset({"", "_client", "_raw"})),  # "" is minimax_async/__init__.py
    ("command line", frozenset({"_cli", "__main__"})),
)

#: The emulator depends on nothing above it: of the client package it may use only these.
EMULATOR = "testing"
EMULATOR_MAY_USE: frozenset[str] = frozenset({"_codes", "_clock"})
#: Only the command line may use the emulator (``demo`` embeds it, ``serve`` serves it).
EMULATOR_USERS: frozenset[str] = frozenset({"command line"})

#: Upward imports that exist today: two lazy imports inside a function, one for types only.
#: Remove an entry when its import goes; a stale entry fails
#: `test_every_known_exception_still_exists`.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    # RunFailedError.run, AssistantIndexingError.assistant, ...: errors carry the record they
    # are about, typed as that record for the caller; only the type checker reads the import.
    ("minimax_async._exceptions", "minimax_async._records"): "errors typed with their records",
    # FakeMiniMax.client() builds a ready AsyncMiniMax for the user's tests; the emulator
    # itself (the app, serving it) imports nothing of the client.
    ("minimax_async.testing._fake", "minimax_async"): "FakeMiniMax.client()",
    # fake.client(http_backend="aiohttp") returns an AsyncMiniMax that owns its loopback
    # server; _fake imports this module lazily, only when such a client is asked for.
    ("minimax_async.testing._served", "minimax_async"): "fake.client(http_backend='aiohttp')",
}


@attrs.frozen
class Import:
    """One import of a package module by another."""

    source: str
    target: str
    line: int
    type_checking: bool


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:]) if "." in name else Path()
    base = ROOT / relative
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in {
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        }:
            for child in node.body:
                exempt.update(id(n) for n in ast.walk(child))
    return exempt


def imports_of(source_module: str, text: str, *, is_package: bool) -> Iterator[Import]:
    """The imports of package modules in *text*, the source of *source_module*."""
    tree = ast.parse(text)
    exempt = _type_checking_nodes(tree)
    package = source_module if is_package else source_module.rpartition(".")[0]
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # `from pkg import sub` imports the submodule when there is one.
            targets = [
                f"{module}.{alias.name}" if _is_module(f"{module}.{alias.name}") else module
                for alias in node.names
            ]
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in {"importlib.import_module", "import_module"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            targets = [node.args[0].value]
        for target in dict.fromkeys(targets):
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                yield Import(source_module, target, node.lineno, id(node) in exempt)


def package_imports() -> list[Import]:
    """Every import of a package module by a package module."""
    found: list[Import] = []
    for path in sorted(ROOT.rglob("*.py")):
        name = _module_name(path)
        found.extend(imports_of(name, path.read_text("utf-8"), is_package=path.stem == "__init__"))
    return found


def _top(module: str) -> str:
    """The first component below the package: ``_http`` for ``minimax_async._http.wire``."""
    rest = module.removeprefix(PACKAGE).removeprefix(".")
    return rest.partition(".")[0]


def layer_of(module: str) -> tuple[int, str] | None:
    """The rank and name of *module*'s layer; None for the emulator."""
    top = _top(module)
    if top == EMULATOR:
        return None
    for rank, (name, members) in enumerate(LAYERS):
        if top in members:
            return rank, name
    raise AssertionError(f"{module} is in no layer: place it in LAYERS in {__name__}")


def violation(found: Import) -> str | None:
    """Why *found* goes against the layer order, or None when it does not."""
    source, target = layer_of(found.source), layer_of(found.target)
    if source is None:  # the emulator
        if target is None or _top(found.target) in EMULATOR_MAY_USE:
            return None
        return f"the emulator uses the client's {target[1]} layer"
    if target is None:
        if source[1] in EMULATOR_USERS:
            return None
        return f"the {source[1]} layer uses the emulator"
    if target[0] > source[0]:
        return f"the {source[1]} layer uses the {target[1]} layer above it"
    return None


def _describe(found: Import, why: str) -> str:
    return f"{found.source}:{found.line} imports {found.target}: {why}"


def test_no_module_imports_a_layer_above_its_own() -> None:
    """Outside the known exceptions, every import points down (or sideways), type-only ones too."""
    upward = [
        _describe(found, why)
        for found in package_imports()
        if (why := violation(found)) is not None
        and (found.source, found.target) not in KNOWN_EXCEPTIONS
    ]
    assert upward == []


def test_every_known_exception_still_exists() -> None:
    """An exception that was fixed is taken off the list, so the list only shrinks."""
    upward = {
        (found.source, found.target) for found in package_imports() if violation(found) is not None
    }
    assert sorted(set(KNOWN_EXCEPTIONS) - upward) == []


def test_the_walker_sees_module_function_and_dynamic_imports_and_marks_type_checking() -> None:
    """Relative, absolute, lazy and importlib imports are found; TYPE_CHECKING ones are marked."""
    text = (
        "from typing import TYPE_CHECKING\n"
        "import importlib\n"
        "from .wire import Call\n"
        "from .. import _validate as check\n"
        "if TYPE_CHECKING:\n"
        "    from .._client import AsyncMiniMax\n"
        "def late():\n"
        "    from .._orchestration.wait import wait_for_run\n"
        "    return importlib.import_module('minimax_async._cli.cli')\n"
    )
    found = {
        (i.target, i.type_checking)
        for i in imports_of("minimax_async._http.example", text, is_package=False)
    }
    assert found == {
        ("minimax_async._http.wire", False),
        ("minimax_async._validate", False),
        ("minimax_async._client", True),
        ("minimax_async._orchestration.wait", False),
        ("minimax_async._cli.cli", False),
    }


def test_upward_imports_are_reported_type_checking_ones_included() -> None:
    """An HTTP module reaching resources, or the emulator reaching the client, is a violation,
    for a type the checker alone reads as much as for code that runs."""

    def check(source: str, target: str, *, type_checking: bool = False) -> str | None:
        return violation(Import(source, target, 1, type_checking))

    assert check("minimax_async._http.wire", "minimax_async._resources.runs") is not None
    assert check("minimax_async._resources.runs", "minimax_async._orchestration.wait") is not None
    assert check("minimax_async._orchestration.wait", "minimax_async._cli.cli") is not None
    assert check("minimax_async.testing._app", "minimax_async._exceptions") is not None
    assert check("minimax_async._client", "minimax_async.testing") is not None
    for source, target in [
        ("minimax_async._http.wire", "minimax_async._client"),
        ("minimax_async._tracing", "minimax_async._http.wire"),
    ]:
        assert check(source, target, type_checking=True) is not None
    assert check("minimax_async._cli.demo", "minimax_async.testing") is None
    assert check("minimax_async.testing._faults", "minimax_async._codes") is None
    assert check("minimax_async._orchestration.wait", "minimax_async._records") is None


def test_the_real_package_has_imports_in_every_layer() -> None:
    """The walk reads the installed package: each layer but the leaves imports something."""
    sources = {layer_of(found.source) for found in package_imports()}
    names = {layer[1] for layer in sources if layer is not None}
    assert {name for name, _ in LAYERS} - {"leaves"} <= names


def import_cycles(imports: list[Import]) -> list[list[str]]:
    """The groups of two or more modules that import each other round in a loop.

    Every import counts here, ``TYPE_CHECKING`` ones included: a loop of type-only imports
    still ties the modules together for whoever reads them. Tarjan's strongly connected
    components over the import graph.
    """
    graph: dict[str, set[str]] = {}
    for found in imports:
        if found.source != found.target:
            graph.setdefault(found.source, set()).add(found.target)
            graph.setdefault(found.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _without_packages(imports: list[Import]) -> list[Import]:
    # `from . import x` in a package's __init__ and `import pkg` elsewhere both name the
    # package face, which hands names on: loops through a face are not loops of code.
    faces = {_module_name(p) for p in ROOT.rglob("__init__.py")}
    return [i for i in imports if i.source not in faces and i.target not in faces]


def test_no_modules_import_each_other_in_a_loop() -> None:
    """No two modules of the package import each other round, even for types only."""
    assert import_cycles(_without_packages(package_imports())) == []


def test_the_loop_finder_finds_a_loop_of_type_only_imports() -> None:
    """Three modules that import each other round, one of them for types, are one loop."""
    loop = [
        Import("minimax_async.a", "minimax_async.b", 1, False),
        Import("minimax_async.b", "minimax_async.c", 1, True),
        Import("minimax_async.c", "minimax_async.a", 1, False),
        Import("minimax_async.c", "minimax_async.d", 1, False),
    ]
    assert import_cycles(loop) == [["minimax_async.a", "minimax_async.b", "minimax_async.c"]]
    assert import_cycles(loop[:2] + loop[3:]) == []
