"""FakeMiniMax: an in-memory MiniMax open-platform server for tests, demos and benchmarks.

Quick start (in process, no sockets)::

    import httpx
    from minimax_async.testing import FakeMiniMax, ManualClock

    fake = FakeMiniMax(clock=ManualClock())
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        r = await http.post("/threads/create", params={"GroupId": fake.group_id},
                            headers={"Authorization": f"Bearer {fake.api_key}"})

The fake speaks the wire format the MiniMax docs show (docs/wire-format.md: ``base_resp``
envelopes, GroupId in the query, GET with a JSON body or query parameters, role ``"ai"``,
zero timestamps), keeps each GroupId's objects apart, drives runs by its clock, answers with
a deterministic scripted model (or your `Responder`), and injects faults by rate or by
script, reproducibly from a seed. It shares no code with the client except the wire
constants in ``minimax_async._codes``.
"""

from ._clock import Clock, ManualClock, RealClock
from ._config import Latency
from ._fake import FakeMiniMax
from ._faults import REFUSAL_KINDS, FaultKind, Faults, ScriptedFault
from ._responder import (
    CallFunctions,
    FunctionCall,
    FunctionSpec,
    Reply,
    Responder,
    ToolResult,
    Turn,
    TurnMessage,
)
from ._serve import serve_in_thread
from ._stats import (
    MessageRecord,
    RpmDecision,
    RunRecord,
    Stats,
    SubmissionRecord,
    ToolCallRecord,
)
from ._transport import FakeTransport

__all__ = [
    "REFUSAL_KINDS",
    "CallFunctions",
    "Clock",
    "FakeMiniMax",
    "FakeTransport",
    "FaultKind",
    "Faults",
    "FunctionCall",
    "FunctionSpec",
    "Latency",
    "ManualClock",
    "MessageRecord",
    "RealClock",
    "Reply",
    "Responder",
    "RpmDecision",
    "RunRecord",
    "ScriptedFault",
    "Stats",
    "SubmissionRecord",
    "ToolCallRecord",
    "ToolResult",
    "Turn",
    "TurnMessage",
    "serve_in_thread",
]
