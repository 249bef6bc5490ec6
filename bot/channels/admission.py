"""A bound on messages the Rasa process works on at once, first come first served.

Why (docs/performance.md, "The p95 tail"): Rasa runs every message in one
event loop. A message that calls the action server two or three times (a hand-off)
went to the back of the loop's queue each time the answer came back, behind the work
of every message that had arrived meanwhile; under load it took three times as long as
a question. With at most `limit` messages in flight, a message coming back from the
action server waits behind at most `limit - 1` others, and new messages wait their
turn at the door, in arrival order. The default 3 keeps the CPU busy while a message
waits for the action server (one `make bench` run each: throughput ×0.79 of the
baseline with 2, ×0.97 with 3).

A slot is a lease: a message still running after `lease_seconds` (say, a hung action
server, whose calls Rasa times out only after minutes) stops counting, so it can hold
up the others by that much at most, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import weakref
from collections.abc import AsyncIterator

from bot.settings import load_settings

DEFAULT_LIMIT = 3
DEFAULT_LEASE_SECONDS = 2.0


class Admission:
    def __init__(
        self, limit: int = DEFAULT_LIMIT, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> None:
        self.limit = limit
        self.lease_seconds = lease_seconds
        # One semaphore per event loop: asyncio primitives belong to one loop.
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.limit <= 0:
            yield
            return
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self.limit)
        await slots.acquire()
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                slots.release()

        lease = loop.call_later(self.lease_seconds, release)
        try:
            yield
        finally:
            lease.cancel()
            release()


@functools.cache
def process_admission() -> Admission:
    """One bound for the whole Rasa process, shared by every channel
    (RAKEL_RASA_MAX_IN_FLIGHT)."""
    return Admission(load_settings().rasa_max_in_flight)
