"""The SQL tracker store on SQLite: conversations persist, connections are reused."""

from __future__ import annotations

import asyncio

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event

from bot.tracker_store import RakelTrackerStore


def conversation(sender: str, turns: int) -> DialogueStateTracker:
    events = [ActionExecuted("action_listen")]
    for n in range(turns):
        events += [
            UserUttered(f"spørsmål {n}", {"name": "faq", "confidence": 1.0}),
            BotUttered(f"svar {n}"),
            ActionExecuted("action_listen"),
        ]
    return DialogueStateTracker.from_events(sender, events)


def user_texts(tracker: DialogueStateTracker) -> list[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


async def test_messages_reuse_pooled_sqlite_connections(tmp_path):
    store = RakelTrackerStore(domain=Domain.empty(), url=f"sqlite:///{tmp_path / 't.db'}")
    connects = []
    event.listen(store.engine, "connect", lambda *_: connects.append(1))
    for turns in range(1, 11):  # one save and one load per message, like Rasa's server
        await store.save(conversation("ola", turns))
        assert len(user_texts(await store.retrieve("ola"))) == turns
    # SQLAlchemy 1.4 would open (and PRAGMA-configure) a new connection per session.
    assert len(connects) == 1
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    store.engine.dispose()


async def test_conversations_survive_a_new_store_and_interleave(tmp_path):
    url = f"sqlite:///{tmp_path / 't.db'}"
    store = RakelTrackerStore(domain=Domain.empty(), url=url)
    senders = [f"ansatt-{n}" for n in range(8)]
    await asyncio.gather(*(store.save(conversation(s, 3)) for s in senders))
    store.engine.dispose()

    restarted = RakelTrackerStore(domain=Domain.empty(), url=url)
    for sender in senders:
        assert user_texts(await restarted.retrieve(sender)) == [
            "spørsmål 0",
            "spørsmål 1",
            "spørsmål 2",
        ]
    restarted.engine.dispose()
