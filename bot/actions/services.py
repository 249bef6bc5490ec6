"""Lazily created services shared by the actions of one action-server process.

Actions are instantiated by rasa-sdk with no arguments, so they reach their
dependencies through these functions; tests reset them with `reset()`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot.content.catalogue import Catalogue
from bot.content.catalogue import catalogue as load_catalogue
from bot.content.render import KnowledgeBase
from bot.db import Database
from bot.settings import Settings, load_settings


@functools.cache
def settings() -> Settings:
    return load_settings()


@functools.cache
def knowledge() -> KnowledgeBase:
    return KnowledgeBase.from_settings(settings())


@functools.cache
def database() -> Database:
    return Database(settings().db_url)


def reset() -> None:
    if database.cache_info().currsize:
        database().dispose()
    for cached in (settings, knowledge, database):
        cached.cache_clear()


async def record_safely(work: Callable[[Session], object], what: str) -> None:
    """Store a statistics record without letting a database fault reach the user.

    Feedback and missed messages help staff improve Rakel; losing one is better
    than failing the user's conversation while the database is unavailable.
    """
    import logging

    try:
        await database().run_async(work)
    except Exception:  # noqa: BLE001 - any storage fault: log it, keep talking
        logging.getLogger(__name__).exception("could not store %s", what)


def utter_with_contacts(dispatcher: CollectingDispatcher, response: str) -> None:
    """Utter `response` with the service desk's contact details as its template variables."""
    # utter_message takes template variables as `**kwargs: Any`. Spread as a Mapping[str, str]
    # mypy would also match them against its typed parameters (json_message, buttons, ...);
    # the contact keys (CONTACT_DEFAULTS) are none of those.
    variables: dict[str, Any] = dict(settings().contacts)
    dispatcher.utter_message(response=response, **variables)


def catalogue() -> Catalogue:
    return load_catalogue(settings().knowledge_dir)
