"""A replica that dies holding a conversation's lock costs one lock lifetime, not the
conversation (bot/lock_store.py)."""

from __future__ import annotations

import asyncio

from rasa.core.lock_store import InMemoryLockStore

from bot.lock_store import KeepPlaceWhileWaiting


class KeepPlaceInMemory(KeepPlaceWhileWaiting, InMemoryLockStore):
    lock_lifetime = 1.0


async def test_waiting_message_gets_the_lock_after_a_dead_holders_ticket_expires():
    store = KeepPlaceInMemory()
    # A replica took a ticket and died: nobody will ever clean it up.
    store.issue_ticket("c1", lock_lifetime=1.0)
    # The next message arrives a moment later with the same lifetime; polling once a
    # second (Rasa's default) misses the short gap between the two expiries.
    await asyncio.sleep(0.3)

    async def next_message() -> bool:
        async with store.lock("c1", lock_lifetime=1.0, wait_time_in_seconds=1.0):
            return True

    assert await asyncio.wait_for(next_message(), timeout=5)


async def test_rasas_own_lock_store_loses_the_waiting_message():
    # The race this module closes, shown on Rasa's lock store (same timings).
    store = InMemoryLockStore()
    store.issue_ticket("c1", lock_lifetime=1.0)
    await asyncio.sleep(0.3)

    async def next_message() -> bool:
        async with store.lock("c1", lock_lifetime=1.0, wait_time_in_seconds=1.0):
            return True

    try:
        await asyncio.wait_for(next_message(), timeout=5)
        lost = False
    except asyncio.TimeoutError:
        lost = True
    assert lost
