"""Messages take turns at Rasa's CPU work, first come first served.

Why: the Rasa server handles every message in one event loop, and its work per message
(NLU, policies, tracker) is synchronous CPU work between awaits. Without turns, a
message that waits for the action server goes to the back of the loop's queue when the
answer arrives, behind every other message that came in meanwhile, and again after its
next action call. Under load a hand-off message (two or three action calls) thus took
three times as long as a question (docs/performance.md, `make bench` at 10 users).

With turns, one message computes at a time; a message gives its turn away while it
waits for another service (the action server, a channel's outbound HTTP), and gets it
back before any message that has not started. Throughput stays the same: the loop
never ran two messages' CPU work at once anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
from collections.abc import AsyncIterator

# Lower goes first: a message coming back from a wait resumes before new ones start.
RESUMING, NEW = 0, 1


class Turns:
    def __init__(self, slots: int = 1) -> None:
        self._free = slots
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._holding: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"turn-{id(self)}", default=False)

    @property
    def queued(self) -> int:
        return sum(not future.done() for _, _, future in self._waiting)

    async def _acquire(self, priority: int) -> None:
        if self._free > 0 and not self.queued:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # the turn was handed over as we were cancelled
            raise

    def _release(self) -> None:
        while self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)  # hand the turn straight to the next in line
                return
        self._free += 1

    @contextlib.asynccontextmanager
    async def message(self) -> AsyncIterator[None]:
        """Hold a turn while one message is processed (reentrant)."""
        if self._holding.get():
            yield
            return
        await self._acquire(NEW)
        self._holding.set(True)
        try:
            yield
        finally:
            if self._holding.get():
                self._holding.set(False)
                self._release()

    @contextlib.asynccontextmanager
    async def waiting(self) -> AsyncIterator[None]:
        """Give the turn away while this message waits for another service."""
        if not self._holding.get():
            yield
            return
        self._holding.set(False)
        self._release()
        try:
            yield
        finally:
            await self._acquire(RESUMING)
            self._holding.set(True)


# The Rasa process's turns: taken by every channel (bot.channels.masking.guarded),
# given away around action-server calls (bot.rasa_runtime) and outbound sends.
TURNS = Turns()
