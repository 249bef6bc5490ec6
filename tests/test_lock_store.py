"""A replica that dies holding a conversation's lock costs one lock lifetime, not the
conversation (bot/lock_store.py)."""

from __future__ import annotations

import asyncio

from rasa.core.lock_store import InMemoryLockStore, LockStore

from bot.lock_store import KeepPlaceWhileWaiting


class KeepPlaceInMemory(KeepPlaceWhileWaiting, InMemoryLockStore):
    lock_lifetime = 1.0


async def next_message_gets_the_lock(store: LockStore) -> bool:
    """A replica took a ticket and died (nobody cleans it up); the next message of the
    conversation arrives a moment later with the same lifetime. Polling once a second,
    as Rasa does, misses the short gap between the two expiries."""
    store.issue_ticket("c1", lock_lifetime=1.0)
    await asyncio.sleep(0.3)

    async def next_message() -> bool:
        async with store.lock("c1", lock_lifetime=1.0, wait_time_in_seconds=1.0):
            return True

    try:
        return await asyncio.wait_for(next_message(), timeout=5)
    except asyncio.TimeoutError:
        return False


async def test_waiting_message_gets_the_lock_after_a_dead_holders_ticket_expires():
    assert await next_message_gets_the_lock(KeepPlaceInMemory())


async def test_rasas_own_lock_store_loses_the_waiting_message():
    # The race this module closes, shown on Rasa's lock store (same timings).
    assert not await next_message_gets_the_lock(InMemoryLockStore())
