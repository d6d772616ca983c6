"""When to poll a run next: adaptive polling from what this client has observed.

Each phase of a run (from creation, or from a submission, to the next state that needs the
caller) is timed per assistant on this client, and shared live between the runs being waited
on:

- a phase nobody has timed yet gets up to two *scouts*, runs that poll early and densely
  (``scout_poll``, growing by ``scout_growth``); the other runs entering it wait for what
  the scouts find (at most ``max_interval``) instead of polling blind;
- what is known is a pair of bounds (a run was seen still going at ``lo`` seconds, and over
  by ``hi``); each run polls once, 90 % of the way from ``lo`` to ``hi`` after its
  own phase began, and after a miss in steps starting at a tenth of that;
- hits lower ``hi``, misses raise ``lo``, a run still going past ``hi`` raises both (the
  service slowed down), and ``lo`` reopens when the two meet, so the schedule follows the
  service while a typical run costs one poll per phase.

Without ``adaptive`` (or for a run whose start was not seen) polls start at ``first_poll``
and grow by ``growth`` up to ``max_interval``. Every wait reads and sleeps on the policy's
clock, so tests drive it with a manual clock.
"""

from __future__ import annotations

import random
from typing import Final

import anyio

from .._clock import clock_deadline
from .._wait_policy import WaitPolicy

__all__ = ["Phase", "PhaseEstimates"]

#: How many max_intervals a run waits for scouts before polling on its own regardless.
_FOLLOWER_PATIENCE: Final = 12
#: Bounds closer than this share of hi count as met; after this many on-time hits the lower
#: bound is reopened a little, to notice a service that got faster.
_TIGHT: Final = 0.03
_PROBE_AFTER: Final = 20
#: Where between the bounds a run aims its poll: near hi, since a miss costs a poll and
#: every run of a concurrent batch would miss together.
_AIM: Final = 0.9
_MARGIN: Final = 0.02


class PhaseEstimates:
    """What one client has learnt about phase durations, per ``(assistant_id, phase)``.

    It keeps the ``SIZE`` most recently timed phases, so a client that lives for weeks and
    waits on runs of ever new assistants does not grow with them.

    Besides the estimates it coordinates *scouts*: while a phase has no estimate, up to
    ``SCOUTS`` of the runs entering it poll densely to time it, and the others wait for what
    the scouts find (or ``max_interval``, whichever is first) instead of polling blind.
    """

    SCOUTS: Final = 2
    #: Phases remembered at most: the most recently timed ones. A client that sees more
    #: assistants than this (one per user, a new one per batch) forgets the phases it
    #: timed longest ago, which are scouted again if they come back, instead of keeping
    #: every assistant it ever waited on.
    SIZE: Final = 4096

    def __init__(self) -> None:
        # Per key: (lo, hi), a phase was seen still running at lo and over by hi seconds.
        self._bounds: dict[tuple[str, str], tuple[float, float]] = {}
        self._hits: dict[tuple[str, str], int] = {}
        self._scouts: dict[tuple[str, str], int] = {}
        self._news: dict[tuple[str, str], anyio.Event] = {}

    def __len__(self) -> int:
        """How many phases have an estimate now (at most ``SIZE``)."""
        return len(self._bounds)

    def get(self, key: tuple[str, str]) -> float | None:
        """When to poll a phase of *key*: 90 % of the way from lo to hi, or hi once they meet."""
        bounds = self._bounds.get(key)
        if bounds is None:
            return None
        lo, hi = bounds
        return hi if hi - lo <= _TIGHT * hi else lo + _AIM * (hi - lo)

    def observe(self, key: tuple[str, str], missed_at: float, seen_at: float) -> None:
        """Record a phase seen over *seen_at* s after it began, still running at *missed_at*.

        ``hi`` only falls (a run saw the phase over earlier) unless a run was still going
        past it, which means the service slowed down; ``lo`` rises with runs seen still
        going. Once the two meet, runs aim at ``hi``; every ``_PROBE_AFTER`` on-time hits
        ``lo`` is reopened a little below, so a service that speeds up is noticed. Many
        concurrent observations cannot compound: each is compared with the bounds, not
        applied as a factor.
        """
        # Taken out and put back: the phases are kept in the order they were last timed.
        bounds = self._bounds.pop(key, None)
        if bounds is None:
            self._bounds[key] = (min(max(missed_at, 0.0), seen_at * 0.9), seen_at)
            self._hits[key] = 0
            if len(self._bounds) > self.SIZE:
                oldest = next(iter(self._bounds))
                del self._bounds[oldest]
                self._hits.pop(oldest, None)
            self._announce(key)
            return
        lo, hi = bounds
        if missed_at >= hi:  # still running past hi: slower than we thought
            lo, hi = missed_at, seen_at
        else:
            hi = min(hi, seen_at)
            lo = min(max(lo, missed_at), hi)
        if missed_at <= 0:
            self._hits[key] = hits = self._hits.get(key, 0) + 1
            if hits >= _PROBE_AFTER and hi - lo <= _TIGHT * hi:
                lo, self._hits[key] = hi * (1 - 2 * _TIGHT), 0
        self._bounds[key] = (lo, hi)

    def enlist(self, key: tuple[str, str]) -> int:
        """Become a scout for *key* if it needs one: the scout's number (1, 2), or 0."""
        count = self._scouts.get(key, 0)
        if count >= self.SCOUTS:
            return 0
        self._scouts[key] = count + 1
        return count + 1

    def scouting(self, key: tuple[str, str]) -> bool:
        """Whether some run is timing *key* right now."""
        return self._scouts.get(key, 0) > 0

    def discharge(self, key: tuple[str, str]) -> None:
        """A scout leaves (its phase ended, or its wait did); followers re-evaluate."""
        left = self._scouts.get(key, 0) - 1
        if left > 0:
            self._scouts[key] = left
        else:
            self._scouts.pop(key, None)
        if key not in self._bounds:
            self._announce(key)

    def news(self, key: tuple[str, str]) -> anyio.Event:
        """An event set the next time something is learnt about *key*."""
        event = self._news.get(key)
        if event is None:
            event = self._news[key] = anyio.Event()
        return event

    def _announce(self, key: tuple[str, str]) -> None:
        event = self._news.pop(key, None)
        if event is not None:
            event.set()


class Phase:
    """The polling schedule of one phase of one run (see the module docstring)."""

    __slots__ = ("estimates", "interval", "key", "missed_at", "policy", "polls", "scout", "start")

    def __init__(
        self,
        key: tuple[str, str],
        start: float | None,
        estimates: PhaseEstimates,
        policy: WaitPolicy,
    ) -> None:
        self.key = key
        self.start = start if policy.adaptive else None
        self.estimates = estimates
        self.policy = policy
        self.polls = 0
        self.interval = 0.0
        self.missed_at = 0.0
        self.scout = 0
        if self.start is not None and estimates.get(key) is None:
            self.scout = estimates.enlist(key)

    async def pause(self) -> None:
        """Wait until this run should be polled next."""
        policy, estimates, clock = self.policy, self.estimates, self.policy.clock
        if (
            self.start is not None
            and not self.scout
            and self.polls == 0
            and estimates.get(self.key) is None
        ):
            # Scouts are timing this phase: wait for what they find rather than poll blind,
            # for as long as one is at it (phases can outlast max_interval), but not forever.
            give_up = clock.now() + _FOLLOWER_PATIENCE * policy.max_interval
            while estimates.get(self.key) is None and clock.now() < give_up:
                async with clock_deadline(clock, policy.max_interval):
                    await estimates.news(self.key).wait()
                if estimates.get(self.key) is None and not estimates.scouting(self.key):
                    self.scout = estimates.enlist(self.key)
                    if self.scout:
                        self.start = clock.now()
                    break
        await clock.sleep(self._next_delay(clock.now()))

    def _next_delay(self, now: float) -> float:
        policy = self.policy
        estimate = None if self.start is None else self.estimates.get(self.key)
        aimed = False
        if estimate is not None and self.start is not None:
            # Known phase: poll when it should end, then in small growing steps.
            # A small margin: a run that recorded its phase start a little late (a busy
            # event loop) reports a phase slightly short, and a poll a hair early misses.
            due = self.start + estimate * (1 + _MARGIN) - now
            if due > 0:
                delay, aimed = due, True
                self.interval = estimate / 10
            elif self.polls == 0:  # woken after its phase should have ended: look now
                delay = policy.min_interval
                self.interval = estimate / 10
            else:
                self.interval = self.interval * policy.growth if self.interval else estimate / 10
                delay = self.interval
        elif self.polls == 0 and self.scout:
            # The second scout polls between the first one's polls: together they bound
            # the phase twice as tightly as one would.
            offset = policy.scout_growth ** ((self.scout - 1) / PhaseEstimates.SCOUTS)
            delay = self.interval = policy.scout_poll * offset
        elif self.polls == 0:
            delay = self.interval = policy.first_poll
        else:
            self.interval *= policy.scout_growth if self.scout else policy.growth
            delay = self.interval
        self.polls += 1
        # max_interval caps blind waits; an aimed one rests on what this client measured.
        delay = max(delay, policy.min_interval)
        if not aimed:
            delay = min(delay, policy.max_interval)
        self.interval = min(max(self.interval, policy.min_interval), policy.max_interval)
        if policy.jitter and not aimed and not self.scout:
            delay *= 1 + policy.jitter * (2 * random.random() - 1)
        return delay

    def missed(self, now: float) -> None:
        if self.start is not None:
            self.missed_at = now - self.start

    def ended(self, now: float) -> None:
        if self.start is not None and self.polls:
            self.estimates.observe(self.key, self.missed_at, now - self.start)
        self.close()

    def close(self) -> None:
        if self.scout:
            self.scout = 0
            self.estimates.discharge(self.key)
