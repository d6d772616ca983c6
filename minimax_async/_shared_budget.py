"""One rate budget for every client of an account, held in Redis.

MiniMax limits requests per account (GroupId), not per process. Clients given the same Redis,
GroupId and API host share one budget there: a GCRA bucket (the time at which the next
request is due) and what was learnt about the rate, updated by one Lua script, atomically, in
one round trip per admitted request. The script reserves the request's turn and answers how
long to wait for it, so a process never asks twice for one request.

What the clients learn is shared: each round trip carries the 1002 answers its process saw
since the last one, and whether they persist; the script then sets the rate from what the
whole account was admitted over the last minute (minus the refusals), and grows it after a
quiet minute, never above a configured ``rpm``. ``max_in_flight`` stays per process.

Keys are ``minimax-async:{<hash>}:...``: a hash of GroupId and API host (never the API key;
the braces keep them in one slot of a Redis cluster), and they expire once unused. Each round
trip also marks its process as live in a sorted set, so the answer says how many processes
share the budget: the local share to fall back on when Redis does not answer in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol, cast

import anyio
import attrs

from ._exceptions import SharedBudgetError

__all__ = ["Learning", "Reservation", "SharedBudget", "budget_prefix"]

# How long a process counts as live after its last round trip.
MEMBER_TTL: Final = 30.0
# Keys of a budget nobody uses expire after this long.
KEY_TTL: Final = 600.0

# KEYS: the bucket hash, the per-second window hash, the members sorted set.
# ARGV: member id, configured rate (req/s, 0: none), min rate, refusals to report, whether
# they persist (1/0), cooldown, quiet, growth, headroom, min sample, member ttl, key ttl.
# Returns: {seconds to wait (string), rate in req/s (string, "-1": unlimited), members}.
_SCRIPT: Final = """
local bucket, window, members = KEYS[1], KEYS[2], KEYS[3]
local member = ARGV[1]
local cfg = tonumber(ARGV[2])
local min_rate = tonumber(ARGV[3])
local refused = tonumber(ARGV[4])
local persist = tonumber(ARGV[5])
local cooldown, quiet, growth = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local headroom, min_sample = tonumber(ARGV[9]), tonumber(ARGV[10])
local member_ttl, key_ttl = tonumber(ARGV[11]), math.floor(tonumber(ARGV[12]) * 1000)

local t = redis.call('TIME')
local sec = tonumber(t[1])
local now = sec + tonumber(t[2]) / 1e6

redis.call('ZADD', members, now, member)
redis.call('ZREMRANGEBYSCORE', members, '-inf', now - member_ttl)
local live = redis.call('ZCARD', members)

-- Per-second counts of admitted (a:) and refused (r:) requests over the last minute.
-- 'oldest' is never more than a minute before the latest turn: a window whose 'oldest' is
-- minutes old holds only counts older than the minute (a pause shorter than the keys'
-- life), and is dropped whole rather than left to grow by one such minute per pause.
local oldest = tonumber(redis.call('HGET', window, 'oldest')) or sec
if oldest < sec - 180 then
  redis.call('DEL', window)
  oldest = sec - 60
end
while oldest < sec - 60 do
  redis.call('HDEL', window, 'a:' .. oldest, 'r:' .. oldest)
  oldest = oldest + 1
end
redis.call('HSET', window, 'oldest', oldest)
if refused > 0 then redis.call('HINCRBY', window, 'r:' .. sec, refused) end

local state = redis.call('HMGET', bucket, 'tat', 'rate', 'ceiling', 'last_cut', 'grown')
local tat = tonumber(state[1]) or now
local rate = tonumber(state[2])
local ceiling = tonumber(state[3])
local last_cut = tonumber(state[4]) or -1e18
local grown = tonumber(state[5]) or now
if cfg > 0 then
  if rate == nil or rate > cfg then rate = cfg end
  if ceiling == nil or ceiling > cfg then ceiling = cfg end
end

if persist == 1 and now - last_cut >= cooldown then
  local accepted = 0
  for s = sec - 59, sec do
    accepted = accepted + (tonumber(redis.call('HGET', window, 'a:' .. s)) or 0)
      - (tonumber(redis.call('HGET', window, 'r:' .. s)) or 0)
  end
  local top = nil
  if accepted >= min_sample then top = accepted / 60
  elseif rate ~= nil then top = rate / 2 end
  if top ~= nil then
    if cfg > 0 and top > cfg then top = cfg end
    ceiling = math.max(top, min_rate)
    rate = math.max(headroom * top, min_rate)
    last_cut = now
    grown = now
  end
elseif rate ~= nil and ceiling ~= nil and now - last_cut >= quiet then
  local since = math.max(grown, last_cut + quiet)
  rate = rate + ceiling * growth * math.max(now - since, 0)
  grown = now
  if cfg > 0 then rate = math.min(rate, cfg) elseif rate > ceiling then ceiling = rate end
end

local wait = 0
if rate ~= nil then
  -- GCRA: a burst of one second of rate, then one request every 1 / sustained seconds, the
  -- sustained rate lowered so that any 60 s window stays within the budget.
  local burst = math.max(1, rate)
  local sustained = math.max(rate - burst / 60, min_rate / 2)
  local interval = 1 / sustained
  if tat < now then tat = now end
  wait = math.max(0, tat - (burst - 1) * interval - now)
  tat = tat + interval
end
redis.call('HINCRBY', window, 'a:' .. sec, 1)
redis.call('HSET', bucket, 'tat', tostring(tat), 'rate', tostring(rate or ''),
  'ceiling', tostring(ceiling or ''), 'last_cut', tostring(last_cut), 'grown', tostring(grown))
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, key_ttl) end
return {tostring(wait), tostring(rate or -1), live}
"""


def budget_prefix(group_id: str, host: str) -> str:
    """The key prefix of one account's budget: a hash of GroupId and API host, never the key."""
    digest = hashlib.sha256(f"{group_id}\n{host}".encode()).hexdigest()[:32]
    return f"minimax-async:{{{digest}}}"


@attrs.frozen
class Reservation:
    """Redis's answer to one round trip: the wait before the request may go, and the shared
    rate (requests per second, ``None``: unlimited) and live participants it reported."""

    wait: float
    rate: float | None
    participants: int


class _ScriptRunner(Protocol):
    """What is needed of a Redis client: redis-py's asyncio ``Redis`` satisfies it."""

    def register_script(self, script: str) -> Any: ...


@attrs.frozen
class Learning:
    """The adaptive constants the script applies, the same as the local limiter's."""

    cooldown: float
    quiet: float
    growth: float
    headroom: float
    min_sample: int


class SharedBudget:
    """A client's handle on its account's shared budget in Redis (see the module docstring).

    ``target`` is a ``redis://`` URL (a client is made, and closed by ``aclose``) or a ready
    redis-py asyncio client (left open). Every call is bounded by ``timeout`` and never
    raises because of Redis: ``reserve`` answers ``None`` when Redis failed or was too slow.
    """

    def __init__(
        self,
        target: str | object,
        *,
        group_id: str,
        host: str,
        rpm: float | None,
        min_rpm: float,
        learning: Learning,
        timeout: float,
    ) -> None:
        self._prefix = budget_prefix(group_id, host)
        self._keys = [f"{self._prefix}:bucket", f"{self._prefix}:window", f"{self._prefix}:members"]
        self._member = secrets.token_hex(8)
        self._cfg_rate = 0.0 if rpm is None else rpm / 60.0
        self._min_rate = min_rpm / 60.0
        self._learning = learning
        self._timeout = timeout
        self._owned = isinstance(target, str)
        self._redis: Any = _from_url(target, timeout) if isinstance(target, str) else target
        if not callable(getattr(self._redis, "register_script", None)) or not (
            inspect.iscoroutinefunction(getattr(self._redis, "execute_command", None))
        ):
            # A synchronous redis.Redis would block the event loop: refused as well.
            raise TypeError(
                "shared must be a redis:// URL or a redis.asyncio.Redis client, "
                f"got {type(target).__name__}"
            )
        self._script: Callable[..., Awaitable[Any]] = cast(
            _ScriptRunner, self._redis
        ).register_script(_SCRIPT)
        self.last_error: BaseException | None = None

    @property
    def prefix(self) -> str:
        """The prefix of every key this budget uses in Redis."""
        return self._prefix

    async def reserve(self, *, refused: int, persistent: bool) -> Reservation | None:
        """Take the next turn in the shared budget, reporting the refusals seen since the
        last call; ``None`` when Redis did not answer within the timeout."""
        if not _on_asyncio():
            raise SharedBudgetError(
                "the Redis-shared rate budget runs on asyncio only (redis-py's asyncio "
                "client); under trio, use a RateLimit without shared="
            )
        learning = self._learning
        args = [
            self._member,
            repr(self._cfg_rate),
            repr(self._min_rate),
            str(refused),
            "1" if persistent else "0",
            repr(learning.cooldown),
            repr(learning.quiet),
            repr(learning.growth),
            repr(learning.headroom),
            str(learning.min_sample),
            repr(MEMBER_TTL),
            repr(KEY_TTL),
        ]
        answer: Any = None
        try:
            with anyio.move_on_after(self._timeout):
                answer = await self._script(keys=self._keys, args=args)
        except Exception as exc:  # Redis is an outside service: any failure means "not now"
            self.last_error = exc
            return None
        if answer is None:
            self.last_error = TimeoutError(f"no answer from Redis within {self._timeout} s")
            return None
        try:
            wait, rate, live = answer
            rate_value, wait_value = float(rate), float(wait)
            if not (math.isfinite(wait_value) and math.isfinite(rate_value)):
                # Junk in the bucket (a "tat" of 1e999, written by anyone with access to
                # the keys): a turn that never comes is no turn, and a rate of NaN no rate
                # (it read as "unlimited"). Go on the local share.
                raise ValueError(f"Redis answered a wait of {wait!r} at a rate of {rate!r}")
            return Reservation(
                wait=max(wait_value, 0.0),
                rate=None if rate_value < 0 else rate_value,
                participants=max(int(live), 1),
            )
        except (TypeError, ValueError) as exc:
            self.last_error = exc
            return None

    async def aclose(self) -> None:
        """Close the Redis client if this budget made it (from a URL)."""
        if self._owned:
            # Closing a connection to a dead server: nothing to report.
            with anyio.move_on_after(self._timeout, shield=True), contextlib.suppress(Exception):
                await self._redis.aclose()


def _from_url(url: str, timeout: float) -> Any:
    try:
        import redis.asyncio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "a shared rate budget needs redis-py: pip install 'minimax-async[redis]'"
        ) from exc
    if not url.startswith(("redis://", "rediss://", "unix://")):
        # Not echoed: a Redis URL may carry a password.
        raise ValueError("shared must be a redis://, rediss:// or unix:// URL")
    return redis.asyncio.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry_on_timeout=False,
        health_check_interval=0,
    )


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio (or no loop at all)
        return False
    return True
