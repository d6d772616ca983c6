"""Per-call overhead: client CPU per "retrieve a run, get a record", four clients side by side.

One loopback server process (``_loopback``) serves the same run JSON at MiniMax's and OpenAI's
retrieve routes. In this process, each contender makes the same number of calls from
``concurrency`` concurrent callers; the process CPU time (``time.process_time``: user + system,
all threads) spent on those calls, divided by their number, is the contender's cost per call.
Contenders run one at a time, in an order rotated every round, and every round measures all of
them at every concurrency, so slow drifts of the (shared, noisy) machine hit all of them alike.
Ratios are taken within a round (paired) and their median over rounds is reported.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.abc
import json
import sys
import time
from collections.abc import Callable
from typing import Any, Final

import anyio
import httpx

from . import _common as c
from ._loopback import RUN_ID, THREAD_ID

#: Connection-pool limits of the raw-httpx floor: the same as minimax_async's built-in client.
FLOOR_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


class Contender:
    """One client under test. ``call`` retrieves the run and returns what the user gets."""

    name = ""
    label = ""

    async def open(self, url: str) -> None:
        raise NotImplementedError

    async def call(self) -> Any:
        raise NotImplementedError

    def check(self, result: Any) -> None:
        """Fail loudly if the call did not return the run (each contender is checked once)."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class RawHttpx(Contender):
    name = "raw_httpx"
    label = "raw httpx + json.loads"

    async def open(self, url: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=url,
            limits=FLOOR_LIMITS,
            timeout=60.0,
            headers={"Authorization": f"Bearer {c.API_KEY}"},
        )
        self.params = {"GroupId": c.GROUP_ID, "thread_id": THREAD_ID, "run_id": RUN_ID}

    async def call(self) -> Any:
        response = await self.http.get("/v1/threads/run/retrieve", params=self.params)
        return json.loads(response.content)

    def check(self, result: Any) -> None:
        assert result["id"] == RUN_ID, result
        assert result["status"] == "requires_action", result

    async def close(self) -> None:
        await self.http.aclose()


class RawAiohttp(Contender):
    """The floor of the aiohttp backend: one aiohttp session and ``json.loads``."""

    name = "raw_aiohttp"
    label = "raw aiohttp + json.loads"

    async def open(self, url: str) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=FLOOR_LIMITS.max_connections or 0),
            headers={"Authorization": f"Bearer {c.API_KEY}"},
        )
        self.url = f"{url}/v1/threads/run/retrieve"
        self.params = {"GroupId": c.GROUP_ID, "thread_id": THREAD_ID, "run_id": RUN_ID}

    async def call(self) -> Any:
        async with self.session.get(self.url, params=self.params) as response:
            return json.loads(await response.read())

    def check(self, result: Any) -> None:
        assert result["id"] == RUN_ID, result
        assert result["status"] == "requires_action", result

    async def close(self) -> None:
        await self.session.close()


class RawAiohttpSameRequest(RawAiohttp):
    """Raw aiohttp sending minimax_async's request: the GET's params also as a JSON body.

    minimax_async mirrors a GET's parameters in a JSON body, as MiniMax's own examples send
    them; aiohttp (on Python < 3.12) writes any body from a task of its own, which costs a
    loop iteration per call. This floor pays the same, so the gap left is the library's.
    """

    name = "raw_aiohttp_same_request"
    label = "raw aiohttp + json.loads, GET with the JSON body"

    async def open(self, url: str) -> None:
        await super().open(url)
        self.body = json.dumps({"thread_id": THREAD_ID, "run_id": RUN_ID}).encode()
        self.headers = {"Content-Type": "application/json"}

    async def call(self) -> Any:
        async with self.session.get(
            self.url, params=self.params, data=self.body, headers=self.headers
        ) as response:
            return json.loads(await response.read())


class AiohttpAdapter(Contender):
    """minimax_async's aiohttp adapter alone: a built request sent, the body read, json.loads.

    No resource, retry loop, limiter, envelope check or typed record: the difference between
    this and raw aiohttp sending the same request is the adapter's own cost.
    """

    name = "minimax_async_aiohttp_adapter"
    label = "minimax_async's aiohttp adapter alone + json.loads"

    async def open(self, url: str) -> None:
        from minimax_async._http.aiohttp_requester import AiohttpRequester
        from minimax_async._http.retrying import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT
        from minimax_async._http.wire import Call, Method, build_request
        from minimax_async._limiter import Priority
        from minimax_async._secrets import Scrubber
        from minimax_async._transport import default_limits

        call = Call(
            Method.GET,
            "/threads/run/retrieve",
            params={"thread_id": THREAD_ID, "run_id": RUN_ID},
            idempotent=True,
            priority=Priority.READ,
        )
        self.request = build_request(
            call, base_url=url + "/v1", group_query=f"GroupId={c.GROUP_ID}"
        )
        self.requester = AiohttpRequester(scrubber=Scrubber(c.API_KEY), limits=default_limits(8))
        self.timeout = DEFAULT_TIMEOUT
        self.max_bytes = DEFAULT_MAX_RESPONSE_BYTES

    async def call(self) -> Any:
        answer = await self.requester.send(self.request, self.timeout, max_bytes=self.max_bytes)
        return json.loads(answer.body)

    def check(self, result: Any) -> None:
        assert result["id"] == RUN_ID, result
        assert result["status"] == "requires_action", result

    async def close(self) -> None:
        await self.requester.aclose()


class AiohttpAdapterDecoded(AiohttpAdapter):
    """The adapter alone, then the envelope check: what decoding adds with real I/O around it."""

    name = "minimax_async_aiohttp_adapter_decoded"
    label = "the aiohttp adapter alone + the envelope check (decode_json)"

    async def call(self) -> Any:
        answer = await self.requester.send(self.request, self.timeout, max_bytes=self.max_bytes)
        return self.decode_json(answer, self.call_spec, self.request.where)

    async def open(self, url: str) -> None:
        await super().open(url)
        from minimax_async._http.wire import Call, Method, decode_json

        # Imported once here, not in call(): an import statement per call would be counted.
        self.decode_json = decode_json
        self.call_spec = Call(Method.GET, "/threads/run/retrieve", idempotent=True)


class AiohttpAdapterTyped(AiohttpAdapterDecoded):
    """The adapter, the envelope check and the typed ``Run``: all but the resource, retry loop
    and limiter layers."""

    name = "minimax_async_aiohttp_adapter_typed"
    label = "the aiohttp adapter alone + decode_json + the typed Run"

    async def open(self, url: str) -> None:
        await super().open(url)
        from minimax_async._records import Run
        from minimax_async._serde import structure

        self.run_type = Run
        self.structure = structure

    async def call(self) -> Any:
        return self.structure(await super().call(), self.run_type)

    def check(self, result: Any) -> None:
        assert result.id == RUN_ID, result
        assert result.status == "requires_action", result


class MinimaxAsync(Contender):
    name = "minimax_async"
    label = "minimax_async"

    def _options(self) -> dict[str, Any]:
        """What this variant passes to AsyncMiniMax besides the credentials and URL."""
        return {}

    async def open(self, url: str) -> None:
        import minimax_async as mm

        self.client = mm.AsyncMiniMax(
            api_key=c.API_KEY, group_id=c.GROUP_ID, base_url=url + "/v1", **self._options()
        )
        self.runs = self.client.threads.runs

    async def call(self) -> Any:
        return await self.runs.retrieve(THREAD_ID, RUN_ID)

    def check(self, result: Any) -> None:
        import minimax_async as mm

        assert isinstance(result, mm.Run), result
        assert result.status == "requires_action", result
        assert result.tool_calls[0].function.name == "get_weather", result

    async def close(self) -> None:
        await self.client.aclose()


class MinimaxAsyncUnbounded(MinimaxAsync):
    """minimax_async without its in-flight bound: shows what the bound does at high concurrency."""

    name = "minimax_async_unbounded"
    label = "minimax_async, RateLimit.unlimited()"

    def _options(self) -> dict[str, Any]:
        import minimax_async as mm

        return {"rate_limit": mm.RateLimit.unlimited()}


class MinimaxAsyncAiohttp(MinimaxAsync):
    """minimax_async over httpx-aiohttp's transport (aiohttp does the HTTP; httpx the API)."""

    name = "minimax_async_aiohttp"
    label = "minimax_async over httpx-aiohttp"

    def _options(self) -> dict[str, Any]:
        from httpx_aiohttp import AiohttpTransport

        # As the README shows it: the transport with its own defaults.
        return {"transport": AiohttpTransport()}


class MinimaxAsyncNativeAiohttp(MinimaxAsync):
    """minimax_async with ``http_backend="aiohttp"``: aiohttp without httpx in between."""

    name = "minimax_async_native_aiohttp"
    label = 'minimax_async, http_backend="aiohttp"'

    def _options(self) -> dict[str, Any]:
        return {"http_backend": "aiohttp"}


class MinimaxAsyncNativeAiohttpUnbounded(MinimaxAsync):
    """The aiohttp backend without the in-flight bound: what the bound costs at many callers."""

    name = "minimax_async_native_aiohttp_unbounded"
    label = 'minimax_async, http_backend="aiohttp", RateLimit.unlimited()'

    def _options(self) -> dict[str, Any]:
        import minimax_async as mm

        return {"http_backend": "aiohttp", "rate_limit": mm.RateLimit.unlimited()}


class MinimaxAsyncHttpcore(MinimaxAsync):
    """minimax_async over httpx's own transport: httpcore's pool instead of the built-in one."""

    name = "minimax_async_httpcore"
    label = "minimax_async over httpcore's pool"

    def _options(self) -> dict[str, Any]:
        from minimax_async._transport import default_limits

        return {"transport": httpx.AsyncHTTPTransport(limits=default_limits(8))}


class MinimaxAsyncClientLayer(MinimaxAsync):
    """minimax_async through httpx's client layer: the built-in pool in an injected client."""

    name = "minimax_async_client_layer"
    label = "minimax_async through httpx's client layer"

    def _options(self) -> dict[str, Any]:
        from minimax_async._http.pool import PoolTransport
        from minimax_async._transport import DEFAULT_TIMEOUT, default_limits

        self.http = httpx.AsyncClient(
            transport=PoolTransport(limits=default_limits(8)), timeout=DEFAULT_TIMEOUT
        )
        return {"http_client": self.http}

    async def close(self) -> None:
        await super().close()
        await self.http.aclose()  # an injected client is its owner's to close


class OpenAIPython(Contender):
    name = "openai"
    label = "openai-python AsyncOpenAI"

    async def open(self, url: str) -> None:
        from openai import AsyncOpenAI

        self.client = AsyncOpenAI(api_key=c.API_KEY, base_url=url + "/v1")
        self.runs = self.client.beta.threads.runs

    async def call(self) -> Any:
        return await self.runs.retrieve(RUN_ID, thread_id=THREAD_ID)

    def check(self, result: Any) -> None:
        from openai.types.beta.threads import Run

        assert isinstance(result, Run), result
        assert result.status == "requires_action", result
        call = result.required_action.submit_tool_outputs.tool_calls[0]  # type: ignore[union-attr]
        assert call.function.name == "get_weather", result

    async def close(self) -> None:
        await self.client.close()


class MinimaxClient(Contender):
    """minimax-client's AsyncMiniMax. It has no base_url option: its httpx client is replaced
    by one built with the same arguments (its own ``_get_http_client``) plus the loopback base URL
    and the GroupId query parameter."""

    name = "minimax_client"
    label = "minimax-client AsyncMiniMax"

    async def open(self, url: str) -> None:
        from minimax_client import AsyncMiniMax

        self.client = AsyncMiniMax(api_key=c.API_KEY)
        await self.client.http_client.aclose()
        self.http = httpx.AsyncClient(
            base_url=url + "/v1",
            headers={"Authorization": f"Bearer {c.API_KEY}"},
            params={"GroupId": c.GROUP_ID},
            timeout=self.client.timeout,
        )
        self.client.http_client = self.http
        self.runs = self.client.threads.runs
        self.runs.client = self.http

    async def call(self) -> Any:
        return await self.runs.retrieve(RUN_ID, THREAD_ID)

    def check(self, result: Any) -> None:
        from minimax_client.entities.thread import RunRetrieveResponse

        assert isinstance(result, RunRetrieveResponse), result
        assert result.status == "requires_action", result
        assert result.required_action is not None
        assert result.required_action.submit_tool_outputs is not None
        assert result.required_action.submit_tool_outputs.tool_calls[0].function.name == (
            "get_weather"
        )

    async def close(self) -> None:
        await self.http.aclose()


CONTENDERS: dict[str, Callable[[], Contender]] = {
    "raw_httpx": RawHttpx,
    "raw_aiohttp": RawAiohttp,
    "raw_aiohttp_same_request": RawAiohttpSameRequest,
    "minimax_async": MinimaxAsync,
    "minimax_async_aiohttp_adapter": AiohttpAdapter,
    "minimax_async_aiohttp_adapter_decoded": AiohttpAdapterDecoded,
    "minimax_async_aiohttp_adapter_typed": AiohttpAdapterTyped,
    "openai": OpenAIPython,
    "minimax_client": MinimaxClient,
    "minimax_async_unbounded": MinimaxAsyncUnbounded,
    "minimax_async_aiohttp": MinimaxAsyncAiohttp,
    "minimax_async_native_aiohttp": MinimaxAsyncNativeAiohttp,
    "minimax_async_native_aiohttp_unbounded": MinimaxAsyncNativeAiohttpUnbounded,
    "minimax_async_httpcore": MinimaxAsyncHttpcore,
    "minimax_async_client_layer": MinimaxAsyncClientLayer,
}

#: Variants of minimax_async, each reported as a paired ratio to the default.
VARIANTS = (
    "minimax_async_unbounded",
    "minimax_async_aiohttp",
    "minimax_async_native_aiohttp",
    "minimax_async_httpcore",
    "minimax_async_client_layer",
)


class CollectorTime:
    """CPU time the cyclic garbage collector spends, and its collections, while registered.

    At many callers a collection walks every object the calls in flight hold, so a contender
    whose calls keep many objects alive across their awaits can pay several microseconds per
    call or more here: reported beside the CPU time, it tells that apart from its own code.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._started = 0.0

    def __enter__(self) -> CollectorTime:
        gc.callbacks.append(self._observe)
        return self

    def __exit__(self, *exc_info: object) -> None:
        gc.callbacks.remove(self._observe)

    def _observe(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started
            self.collections += 1


async def burst(
    contender: Contender,
    concurrency: int,
    per_caller: int,
    collector: CollectorTime | None = None,
) -> tuple[float, float]:
    """Make concurrency x per_caller calls; return (process CPU s, wall s).

    *collector*, if given, adds up the collections made during the calls (not the one made
    before them, which starts every burst from the same heap).
    """

    async def caller() -> None:
        call = contender.call
        for _ in range(per_caller):
            await call()

    gc.collect()
    with contextlib.nullcontext() if collector is None else collector:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(concurrency):
                group.start_soon(caller)
        return time.process_time() - cpu0, time.perf_counter() - wall0


async def _run(
    url: str,
    names: list[str],
    levels: list[int],
    rounds: int,
    calls: int,
    log: Callable[[str], None],
    first_round: int = 0,
) -> dict[str, Any]:
    contenders: list[Contender] = []
    skipped: dict[str, str] = {}
    for name in names:
        contender = CONTENDERS[name]()
        try:
            await contender.open(url)
            contender.check(await contender.call())
        except Exception as exc:  # e.g. the package does not install or import
            skipped[name] = f"{type(exc).__name__}: {exc}"
            log(f"  per-call: skipping {name}: {skipped[name]}")
            continue
        contenders.append(contender)
    if not contenders:
        raise RuntimeError(f"no contender could run: {skipped}")
    # Freeze what setup allocated (imports, pools), so that every contender's collections
    # scan only the garbage its own calls make, not the other libraries' modules.
    gc.collect()
    gc.freeze()
    samples: dict[str, dict[int, list[float]]] = {
        k.name: {lvl: [] for lvl in levels} for k in contenders
    }
    walls: dict[str, dict[int, list[float]]] = {
        k.name: {lvl: [] for lvl in levels} for k in contenders
    }
    collector: dict[str, dict[int, list[float]]] = {
        k.name: {lvl: [] for lvl in levels} for k in contenders
    }
    collections: dict[str, dict[int, list[float]]] = {
        k.name: {lvl: [] for lvl in levels} for k in contenders
    }
    started = time.perf_counter()
    clock = CollectorTime()
    for round_ in range(rounds):
        for index, level in enumerate(levels):
            per_caller = max(1, calls // level)
            shift = (first_round + round_ + index) % len(contenders)
            order = contenders[shift:] + contenders[:shift]
            for contender in order:
                # Warm-up (connections open, caches filled), at most 100 at once: a burst of
                # 1,000 on a cold httpx pool is its own (much slower) case, measured below.
                await burst(contender, min(level, 100), 1)
                before = clock.seconds, clock.collections
                cpu, wall = await burst(contender, level, per_caller, clock)
                total = level * per_caller
                samples[contender.name][level].append(cpu / total * 1e6)
                walls[contender.name][level].append(wall / total * 1e6)
                collector[contender.name][level].append((clock.seconds - before[0]) / total * 1e6)
                collections[contender.name][level].append(
                    (clock.collections - before[1]) / total * 1000
                )
        log(
            f"  per-call round {round_ + 1}/{rounds} done ({time.perf_counter() - started:.0f} s): "
            + ", ".join(
                f"{k.name} c={levels[0]} {samples[k.name][levels[0]][-1]:.0f} us"
                for k in contenders
            )
        )
    # Once per contender: the first burst of the largest concurrency on a fresh client (no
    # open connections): every caller at once into a cold pool.
    cold: dict[str, float] = {}
    top = levels[-1]
    for contender in contenders:
        await contender.close()
        await contender.open(url)
        cpu, _wall = await burst(contender, top, 1)
        cold[contender.name] = cpu / top * 1e6
        await contender.close()
    log("  per-call cold burst: " + ", ".join(f"{k} {v:.0f} us" for k, v in cold.items()))
    gc.unfreeze()
    return {
        "contenders": {k.name: k.label for k in contenders},
        "skipped": skipped,
        "levels": levels,
        "rounds": rounds,
        "calls_per_measurement": {lvl: level_calls(calls, lvl) for lvl in levels},
        "cpu_us_per_call": samples,
        "cold_burst_cpu_us_per_call": {"concurrency": levels[-1], "values": cold},
        "wall_us_per_call": walls,
        "gc_cpu_us_per_call": collector,
        "gc_collections_per_1000_calls": collections,
    }


async def run_one_process(
    url: str,
    names: list[str],
    levels: list[int],
    calls: int,
    log: Callable[[str], None],
    first: int,
) -> dict[str, Any]:
    """One round of the paired loop in this process, its contenders' order rotated by *first*."""
    return await _run(url, names, levels, 1, calls, log, first)


def level_calls(calls: int, level: int) -> int:
    return level * max(1, calls // level)


def paired_ratios(
    samples: dict[str, dict[int, list[float]]],
    a: str,
    b: str,
    level: int,
    level_b: int | None = None,
) -> list[float]:
    """Per-round ratios a/b (b at *level_b* if given): the paired comparison."""
    xs = samples.get(a, {}).get(level, [])
    ys = samples.get(b, {}).get(level if level_b is None else level_b, [])
    return [x / y for x, y in zip(xs, ys, strict=False) if y]


def run(
    *,
    levels: list[int],
    rounds: int,
    calls: int,
    names: list[str],
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Start the loopback server, measure, and return the raw samples plus summaries."""
    with c.child_server("benchmarks._loopback") as (url, proc), c.pinned_apart(proc.pid) as pins:
        result = anyio.run(_run, url, names, levels, rounds, calls, log, backend="asyncio")
    result["cpu_pinning"] = pins
    return summarize(result, levels)


#: What serves the per-call runs (recorded with their results).
SERVER: Final = "benchmarks/_loopback.py: raw asyncio Protocol (uvloop if installed)"


def summarize(result: dict[str, Any], levels: list[int]) -> dict[str, Any]:
    """Add the server, the per-contender summaries and the paired ratios to *result*."""
    result["server"] = SERVER
    samples = result["cpu_us_per_call"]
    summary: dict[str, Any] = {}
    for name, by_level in samples.items():
        summary[name] = {str(lvl): c.summary(v) for lvl, v in by_level.items()}
    result["summary"] = summary
    ratios: dict[str, Any] = {}
    for lvl in levels:
        ratios[f"minimax_async/raw_httpx@{lvl}"] = c.summary(
            paired_ratios(samples, "minimax_async", "raw_httpx", lvl)
        )
        ratios[f"minimax_async_native_aiohttp/raw_aiohttp@{lvl}"] = c.summary(
            paired_ratios(samples, "minimax_async_native_aiohttp", "raw_aiohttp", lvl)
        )
        ratios[f"minimax_async_native_aiohttp/raw_aiohttp_same_request@{lvl}"] = c.summary(
            paired_ratios(samples, "minimax_async_native_aiohttp", "raw_aiohttp_same_request", lvl)
        )
        ratios[f"openai/minimax_async@{lvl}"] = c.summary(
            paired_ratios(samples, "openai", "minimax_async", lvl)
        )
        ratios[f"minimax_client/minimax_async@{lvl}"] = c.summary(
            paired_ratios(samples, "minimax_client", "minimax_async", lvl)
        )
        ratios[f"raw_httpx@{lvl}/raw_httpx@{levels[0]}"] = c.summary(
            paired_ratios(samples, "raw_httpx", "raw_httpx", lvl, levels[0])
        )
        ratios[f"minimax_async@{lvl}/minimax_async@{levels[0]}"] = c.summary(
            paired_ratios(samples, "minimax_async", "minimax_async", lvl, levels[0])
        )
        for variant in VARIANTS:
            if variant in samples:
                ratios[f"{variant}/minimax_async@{lvl}"] = c.summary(
                    paired_ratios(samples, variant, "minimax_async", lvl)
                )
    result["ratios"] = ratios
    return result


# ------------------------------------------------------------------------ tracing overhead

#: How OpenTelemetry is set up in each child process of the tracing measurement.
TRACING_MODES: dict[str, str] = {
    "absent": "opentelemetry not importable (hidden before minimax_async is imported)",
    "noop": "opentelemetry-api installed, no tracer provider (the API's no-op tracer)",
    "sdk": "an SDK TracerProvider: every span recorded, no processor (nothing exported)",
    "sdk_export": "an SDK TracerProvider, SimpleSpanProcessor into an in-memory exporter",
}


class _HideOpenTelemetry(importlib.abc.MetaPathFinder):
    """Makes ``import opentelemetry...`` fail, as if the package were not installed."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {name!r}")


def _set_up_tracing(mode: str) -> Callable[[], int]:
    """Set this process up for *mode*; return what counts the spans exported so far."""
    if mode == "absent":
        sys.meta_path.insert(0, _HideOpenTelemetry())
        return lambda: 0
    if mode == "noop":
        return lambda: 0
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider()
    exported = [0]
    exporter = InMemorySpanExporter()
    if mode == "sdk_export":
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    def drain() -> int:
        # Counted and dropped after every burst, so memory stays flat.
        exported[0] += len(exporter.get_finished_spans())
        exporter.clear()
        return exported[0]

    return drain


async def _tracing_child_run(
    url: str, levels: list[int], calls: int, repeats: int, drain: Callable[[], int]
) -> dict[str, Any]:
    contender = MinimaxAsync()
    await contender.open(url)
    contender.check(await contender.call())
    gc.collect()
    gc.freeze()
    cpu: dict[str, float] = {}
    for level in levels:
        per_caller = max(1, calls // level)
        await burst(contender, min(level, 100), 1)
        drain()
        values = []
        for _ in range(repeats):
            spent, _wall = await burst(contender, level, per_caller)
            values.append(spent / (level * per_caller) * 1e6)
            drain()
        cpu[str(level)] = c.median(values)
    await contender.close()
    return {"cpu_us_per_call": cpu, "span_us": _span_cost(url, drain)}


def _span_cost(url: str, drain: Callable[[], int], n: int = 20_000) -> float:
    """CPU microseconds of the tracing code alone per call: a call's span, entered and ended.

    This is what the transport adds around each call (``call_span`` and ``answered``), timed
    in a tight loop, so the figure is not lost in the noise of a whole call.
    """
    from minimax_async._http.wire import Call, Method, Where
    from minimax_async._tracing import call_span

    call = Call(Method.GET, "/threads/run/retrieve", params={"thread_id": THREAD_ID})
    where = Where("GET", f"{url}/v1/threads/run/retrieve", "/threads/run/retrieve")
    data = {"id": RUN_ID, "status": "requires_action"}
    started = time.process_time()
    for _ in range(n):
        with call_span(call, where) as span:
            span.answered(200, data)
    spent = time.process_time() - started
    drain()
    return spent / n * 1e6


def _tracing_child(mode: str, url: str, levels: list[int], calls: int, repeats: int) -> None:
    """One measurement of one mode (run as ``python -m benchmarks.percall --tracing-child``)."""
    drain = _set_up_tracing(mode)
    from minimax_async import _tracing

    result = anyio.run(_tracing_child_run, url, levels, calls, repeats, drain, backend="asyncio")
    result["mode"] = mode
    result["tracing_enabled"] = _tracing.ENABLED
    result["opentelemetry_loaded"] = any(m.startswith("opentelemetry") for m in sys.modules)
    result["spans_exported"] = drain()
    print(json.dumps(result))


def run_tracing(
    *,
    levels: list[int],
    rounds: int,
    calls: int,
    repeats: int = 3,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Client CPU per call of minimax_async in each tracing mode, paired within rounds.

    Each mode runs in a fresh child process (a process has one global tracer provider, and
    "absent" must hide the package before anything imports it), against one loopback
    server; the order of the modes rotates every round. Ratios are mode / absent per round.
    """
    modes = list(TRACING_MODES)
    samples: dict[str, dict[int, list[float]]] = {m: {lvl: [] for lvl in levels} for m in modes}
    span_us: dict[str, list[float]] = {m: [] for m in modes}
    checks: dict[str, Any] = {}
    started = time.perf_counter()
    with c.child_server("benchmarks._loopback") as (url, _proc):
        for round_ in range(rounds):
            shift = round_ % len(modes)
            for mode in modes[shift:] + modes[:shift]:
                args = ["--tracing-child", mode, "--url", url, "--calls", str(calls)]
                args += ["--levels", ",".join(map(str, levels)), "--repeats", str(repeats)]
                out = c.run_child("benchmarks.percall", args, timeout=600)
                for level, value in out["cpu_us_per_call"].items():
                    samples[mode][int(level)].append(value)
                span_us[mode].append(out["span_us"])
                checks[mode] = {
                    k: out[k] for k in ("tracing_enabled", "opentelemetry_loaded", "spans_exported")
                }
            log(
                f"  tracing round {round_ + 1}/{rounds} ({time.perf_counter() - started:.0f} s): "
                + ", ".join(f"{m} {samples[m][levels[0]][-1]:.0f} us" for m in modes)
            )
    ratios = {
        f"{mode}/absent@{level}": c.summary(paired_ratios(samples, mode, "absent", level))
        for level in levels
        for mode in modes[1:]
    }
    return {
        "modes": TRACING_MODES,
        "levels": levels,
        "rounds": rounds,
        "repeats": repeats,
        "calls_per_measurement": {lvl: level_calls(calls, lvl) for lvl in levels},
        "cpu_us_per_call": samples,
        "summary": {
            m: {str(lvl): c.summary(v) for lvl, v in by.items()} for m, by in samples.items()
        },
        "ratios": ratios,
        "span_us": {m: c.summary(v) for m, v in span_us.items()},
        "checks": checks,
    }


def tracing_markdown(result: dict[str, Any], machine: dict[str, Any], command: str) -> str:
    """The tracing measurement as a Markdown report."""
    levels = result["levels"]
    modes = list(result["modes"])
    lines = [
        "# Tracing overhead: client CPU per call (`python -m benchmarks.percall --tracing`)",
        "",
        f"- date: {machine['date']}; {machine['cpus']} CPUs, {machine['cpu_model']}; "
        f"Python {machine['python']}; load average at start "
        + ", ".join(str(x) for x in machine["loadavg_at_start"]),
        f"- command: `{command}`",
        f"- {result['rounds']} rounds; each mode in a fresh process per round, order rotated; "
        f"per measurement the median of {result['repeats']} bursts; calls per burst: "
        + ", ".join(f"{n} at {lvl}" for lvl, n in result["calls_per_measurement"].items()),
        "",
        "| mode | what |",
        "|---|---|",
        *(f"| {m} | {what} |" for m, what in result["modes"].items()),
        "",
        "Client CPU per `runs.retrieve` in microseconds, median over rounds (min–max):",
        "",
        "| concurrency | " + " | ".join(modes) + " |",
        "|---:|" + "---:|" * len(modes),
    ]
    for level in levels:
        cells = []
        for mode in modes:
            s = result["summary"][mode][str(level)]
            cells.append(f"{s['median']:.0f} ({s['min']:.0f}–{s['max']:.0f})")
        lines.append(f"| {level} | " + " | ".join(cells) + " |")
    lines += ["", "Paired ratios to `absent` (per round, median over rounds; min–max):", ""]
    lines += ["| concurrency | " + " | ".join(modes[1:]) + " |"]
    lines += ["|---:|" + "---:|" * (len(modes) - 1)]
    for level in levels:
        cells = []
        for mode in modes[1:]:
            s = result["ratios"][f"{mode}/absent@{level}"]
            cells.append(f"{s['median']:.3f} ({s['min']:.3f}–{s['max']:.3f})")
        lines.append(f"| {level} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "The tracing code alone (a call's span entered, answered and ended, in a tight loop of "
        "20,000), CPU microseconds per call, median over rounds (min–max):",
        "",
        "| " + " | ".join(modes) + " |",
        "|" + "---:|" * len(modes),
        "| "
        + " | ".join(
            f"{result['span_us'][m]['median']:.2f} "
            f"({result['span_us'][m]['min']:.2f}–{result['span_us'][m]['max']:.2f})"
            for m in modes
        )
        + " |",
    ]
    lines += ["", "Checks (last round): " + json.dumps(result["checks"]), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``--tracing``: measure the tracing overhead and write ``results/<name>.md``/``.json``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.percall")
    parser.add_argument("--tracing", action="store_true", help="measure the tracing overhead")
    parser.add_argument("--tracing-child", choices=sorted(TRACING_MODES), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--levels", default="1,100")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--name", default="percall-otel")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    if args.tracing_child:
        _tracing_child(args.tracing_child, args.url, levels, args.calls, args.repeats)
        return 0
    if not args.tracing:
        parser.error("nothing to do: pass --tracing (the other measurements: python -m benchmarks)")
    machine = c.machine()
    result = run_tracing(levels=levels, rounds=args.rounds, calls=args.calls, repeats=args.repeats)
    command = "python -m benchmarks.percall " + " ".join(argv or sys.argv[1:])
    payload = {"machine": machine, "command": command, "tracing": result}
    c.save_results(args.name, payload, tracing_markdown(result, machine, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
