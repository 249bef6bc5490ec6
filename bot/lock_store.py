"""Rasa's Redis lock store with one race closed (scaled profile).

Rasa serialises the messages of one conversation with numbered tickets that expire
after TICKET_LOCK_LIFETIME (60 s). When a replica dies while it holds a ticket, the next
message waits for that ticket to expire, but its own ticket was issued moments later
with the same lifetime. Rasa 3.6 polls once a second: if no poll falls into the gap
between the two expiries, the waiting ticket expires as well, nobody is "now serving"
it any more, and the message waits until the client gives up. We keep a waiting
ticket alive while its owner is still polling, so a dead replica costs one lock
lifetime, not the conversation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore, RedisLockStore

logger = logging.getLogger(__name__)


class KeepPlaceWhileWaiting(LockStore):
    """`_acquire_lock` that renews the waiter's own ticket on every poll."""

    lock_lifetime: float = LOCK_LIFETIME

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if not lock:
                break
            # Renew before checking: the check itself drops expired tickets.
            own = next((t for t in lock.tickets if t.number == ticket), None)
            if own is not None:
                own.expires = time.time() + max(self.lock_lifetime, 2 * wait_time_in_seconds)
                self.save_lock(lock)
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")


class RakelRedisLockStore(KeepPlaceWhileWaiting, RedisLockStore):
    """Configured like Rasa's `type: redis` (url, port, password, db, key_prefix)."""

    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
