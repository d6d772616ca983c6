"""``minimax-async demo``: the whole library in one run, against the emulator or the real API.

Without ``MINIMAX_API_KEY`` it starts :class:`~minimax_async.testing.FakeMiniMax` in-process.
It uploads a small handbook, creates an assistant with retrieval and a function tool, fans out
a few dozen questions (some need the tool, the rest are answered from the handbook with a
citation), shows progress, and prints the answers with their citations and a summary.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Final

import anyio
from rich.console import Console

from .._client import AsyncMiniMax
from .._clock import Clock
from .._exceptions import MiniMaxError
from .._orchestration.fanout import RunResult
from .._records import (
    File,
    FileCitationAnnotation,
    FunctionDefinition,
    FunctionTool,
    RetrievalTool,
)
from .._retry import RetryPolicy, outcome_unknown
from .._wait_policy import WaitPolicy
from .bulk import BulkSummary, create_marked
from .console import RichReporter, results_table, summary_table

__all__ = ["HANDBOOK", "QUESTIONS", "get_order_status", "run_demo"]

HANDBOOK: Final = """\
Aurora Tea Company — customer handbook

Shipping. Orders placed before 2 pm ship the same working day from our Hangzhou warehouse.
Standard shipping takes three to five working days; express shipping takes one to two days
and costs 25 yuan. Shipping is free for baskets above 200 yuan.

Returns. Unopened tea can be returned within 30 days for a full refund. Opened packages
can be exchanged within 14 days if the tea arrived damaged. Refunds reach the original
payment method within seven days.

Green tea. Our Longjing green tea is harvested in early spring on the West Lake hills. Brew
it at 80 degrees for two minutes; hotter water makes it bitter.

Oolong. The Tieguanyin oolong is rolled by hand and roasted twice. It can be steeped five
times; start with 45 seconds at 95 degrees and add 15 seconds per steeping.

Black tea. Keemun black tea has a smoky, orchid-like aroma. Use boiling water and steep for
three to four minutes. It pairs well with milk.

Storage. Keep tea in an airtight tin, away from light, heat and strong smells. Green tea
keeps best in the fridge and should be used within six months.

Loyalty club. Members earn one point per yuan spent. One hundred points give a 10 yuan
voucher, and members receive a free sample with every parcel.

Store hours. The Hangzhou tea house opens from 9 am to 9 pm every day, and until 11 pm on
Fridays and Saturdays. Tastings are free on Sunday afternoons.
"""

_TOPICS: Final = [
    "How long does standard shipping take?",
    "What does express shipping cost?",
    "Can I return tea I already opened?",
    "How hot should the water be for Longjing green tea?",
    "How many times can Tieguanyin oolong be steeped?",
    "Does Keemun black tea go well with milk?",
    "How should I keep green tea fresh?",
    "How many points give a voucher in the loyalty club?",
    "When does the Hangzhou tea house open on Saturday?",
    "Are tastings free?",
    "Where do parcels ship from?",
    "How quickly do refunds arrive?",
]
#: Emulator faults that decide a run's outcome rather than disturb a request.
_OUTCOME_FAULTS: Final = frozenset({"run_failed", "run_expired", "indexing_failed"})
_ORDERS: Final = [f"A{1000 + n * 37}" for n in range(12)]

#: The questions the demo asks: handbook questions and order lookups, interleaved.
QUESTIONS: Final = [
    q
    for pair in zip(
        _TOPICS + [t.replace("?", " please?") for t in _TOPICS],
        [f"What is the status of my order? order_id={o}" for o in _ORDERS]
        + [f"Has order order_id={o} been delivered yet?" for o in _ORDERS],
        strict=True,
    )
    for q in pair
]

ORDER_TOOL: Final = FunctionTool(
    FunctionDefinition(
        name="get_order_status",
        description="look up the delivery status of an order by its order id",
        parameters={
            "type": "object",
            "properties": {"order_id": {"type": "string", "description": "the order id"}},
            "required": ["order_id"],
        },
    )
)


async def get_order_status(order_id: str) -> dict[str, str]:
    """The demo's tool: a made-up order database (any async or sync function works)."""
    await anyio.sleep(0.01)  # as if it were a database query
    states = ["packed", "shipped", "out for delivery", "delivered"]
    digest = hashlib.sha256(order_id.encode()).digest()
    return {"order_id": order_id, "status": states[digest[0] % len(states)]}


async def _upload_handbook(client: AsyncMiniMax, *, attempts: int = 5) -> File:
    """Upload the handbook, sending it again when an answer was lost.

    A lost answer leaves at worst a second copy of a small file nobody refers to, which is
    harmless here (unlike a second assistant or run), so the demo simply tries again.
    """
    for attempt in range(attempts):
        try:
            return await client.files.upload(HANDBOOK.encode(), filename="aurora-handbook.txt")
        except MiniMaxError as exc:
            if attempt + 1 >= attempts or not outcome_unknown(exc):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _citation(result: RunResult) -> str:
    for annotation in result.citations:
        if isinstance(annotation, FileCitationAnnotation):
            quote = " ".join(annotation.file_citation.quote.split())
            return _short(f"{annotation.text} {quote}", 60)
    return "—"


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


async def run_demo(
    *,
    questions: int = len(QUESTIONS),
    concurrency: int = 16,
    fault_rate: float = 0.0,
    seed: int = 7,
    console: Console | None = None,
    clock: Clock | None = None,
) -> int:
    """Run the demo and return the exit status (0 when every question was answered).

    *fault_rate* and *seed* configure the emulator's random faults (ignored against the real
    API): the same seed gives the same faults. *clock* drives the emulator and its client
    (run phases, waits, backoff, the exactly-once second look), e.g. a ``ManualClock`` that a
    test moves on; it is ignored against the real API.
    """
    console = console or Console()
    api_key = os.environ.get("MINIMAX_API_KEY", "").strip()
    chosen = QUESTIONS[: max(1, min(questions, len(QUESTIONS)))]
    client: AsyncMiniMax
    if api_key:
        console.print("[bold]Using the real MiniMax API[/] (MINIMAX_API_KEY is set).")
        client = AsyncMiniMax()
        model = os.environ.get("MINIMAX_MODEL", "abab5.5-chat")
        policy = WaitPolicy()
    else:
        from ..testing import REFUSAL_KINDS, FakeMiniMax, FaultKind, Faults, Latency

        # The faults a client can absorb: rate limits, server errors, 5xx, dropped and refused
        # connections, slow answers. Runs that end failed or expired are the model's outcome,
        # not a transport fault, and refusals (1008, 1026, 2049, ...) are answers: no client
        # setting can turn them into answers. Late commits past the second look are the one
        # window exactly-once leaves open (README, "Exactly-once creates").
        absorbable: dict[FaultKind, float] = {
            kind: 1.0
            for kind in FaultKind
            if kind not in _OUTCOME_FAULTS
            and kind not in REFUSAL_KINDS
            and kind is not FaultKind.LATE_COMMIT
        }
        fake = FakeMiniMax(
            latency=Latency(queued=0.05, in_progress=0.25),
            indexing_delay=0.3,
            faults=Faults(rate=fault_rate, weights=absorbable) if fault_rate else None,
            seed=seed,
            clock=clock,
        )
        console.print(
            "[bold]Using the embedded MiniMax emulator[/] (set MINIMAX_API_KEY and "
            "MINIMAX_GROUP_ID to run against the real API)."
        )
        # Each request meets a fault with probability fault_rate, independently of the last
        # attempt, so a call fails for good only if all of its 1 + max_retries attempts do:
        # fault_rate ** (1 + max_retries). The default two retries leave 0.2**3 = 0.8 % per
        # call at one fault in five; a demo makes about a hundred calls, so most demos would
        # lose a read (the final messages.list of some question). Eight retries make it
        # 0.2**9, about 5e-7 per call. The waits stay short because these faults do not
        # come from an overloaded server that needs time to recover.
        patient = RetryPolicy(max_retries=8, base=0.05, cap=0.5)
        client = fake.client(retry=patient, clock=clock)
        model = "abab5.5-chat"
        policy = WaitPolicy(first_poll=0.1)

    started = time.monotonic()
    async with client:
        file = await _upload_handbook(client)
        console.print(f"Uploaded the handbook as file {file.file_id}.")
        assistant_id = await create_marked(
            client,
            {
                "model": model,
                "name": "Aurora Tea helper",
                "instructions": "Answer customers of the Aurora Tea Company from the handbook; "
                "use get_order_status for questions about an order.",
                "tools": [RetrievalTool(), ORDER_TOOL],
                "file_ids": [str(file.file_id)],
            },
        )
        assistant = await client.assistants.wait_until_ready(assistant_id, policy=policy)
        console.print(
            f"Assistant {assistant.id} is {assistant.status}; asking {len(chosen)} questions."
        )
        reporter = RichReporter(client, title="questions")
        before = client.stats
        batch_started = time.monotonic()
        async with reporter, anyio.create_task_group() as group:
            group.start_soon(reporter.refresh_forever)
            reporter.start(len(chosen))
            results = await client.fan_out(
                chosen,
                assistant=assistant.id,
                tools={"get_order_status": get_order_status},
                concurrency=concurrency,
                on_result=reporter.result,
                policy=policy,
                timeout=300,
            )
            group.cancel_scope.cancel()
    rows = [
        (
            str(r.index + 1),
            chosen[r.index],
            _short(r.answer or r.status, 160),
            _citation(r),
        )
        for r in results
    ]
    console.print(results_table(rows, ["#", "question", "answer", "citation"], title="Answers"))
    statuses: dict[str, int] = {}
    for result in results:
        statuses[result.status] = statuses.get(result.status, 0) + 1
    summary = BulkSummary(
        statuses=statuses,
        skipped=0,
        bad_lines=(),
        elapsed=time.monotonic() - batch_started,
        requests=client.stats.requests - before.requests,
        retries=client.stats.retries - before.retries,
        reconciliations=client.stats.reconciliations - before.reconciliations,
    )
    console.print(summary_table(summary, title="Fan-out"))
    console.print(f"Total time, setup included: {time.monotonic() - started:.2f} s")
    return summary.exit_code
