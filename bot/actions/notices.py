"""Outage notices in the conversation: which apply to this user, and how they are said.

Two places use them (both from action_answer_article, bot/actions/knowledge.py):
- the status article (the catalogue's `status_article`, "er det driftsproblemer nå?")
  is preceded by every active notice of the user's municipality, or by an honest
  "Ingen kjente feil akkurat nå";
- any other article is preceded, briefly, by the newest active notice whose service
  concerns the article's topic (a Teams notice before a Teams article).

The municipality comes from the verified identity's e-mail address or UPN (the
catalogue's email_domains), else from the conversation (the ticket form's answer or a
municipality the user named), else the user sees the notices of every municipality.
Reading notices never breaks an answer: a database fault is logged, and the article
still comes.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import notices
from bot.actions import services
from bot.actions.nlu import latest_entity, latest_message_id
from bot.actions.tickets import identity
from bot.content.articles import Article
from bot.models import Notice
from bot.tickets.labels import local_time, match_municipality

log = logging.getLogger(__name__)

# Identity fields that may hold the user's address (the intranet token's subject
# is often the user's e-mail address).
_ADDRESS_FIELDS = ("upn", "email", "id")


def user_municipality(tracker: Tracker) -> str | None:
    """The user's municipality: the identity's own (the widget token may carry it) or its
    address's domain, else the conversation, else None."""
    found = identity(tracker) or {}
    content = services.catalogue()
    # The intranet's token may say where the user works (bot/channels/widget_token.py).
    if found.get("municipality") in content.municipalities:
        return str(found["municipality"])
    for name in _ADDRESS_FIELDS:
        value = found.get(name)
        municipality = content.municipality_of_address(value if isinstance(value, str) else None)
        if municipality:
            return municipality
    for said in (tracker.get_slot("ticket_municipality"), latest_entity(tracker, "municipality")):
        municipality = match_municipality(said) if isinstance(said, str) else None
        if municipality:
            return municipality
    return None


def _variables(notice: Notice) -> dict[str, Any]:
    service = services.catalogue().notice_services.get(notice.service)
    label = service.label if service else notice.service
    if notice.system_name:
        label = f"{label}: {notice.system_name}"
    places = notices.municipalities_of(notice)
    everywhere = len(places) == len(services.catalogue().municipalities)
    end = notice.expected_end_at
    return {
        "notice_title": notice.title,
        "notice_text": notice.text,
        "notice_service": label,
        "notice_municipalities": "alle kommunene" if everywhere else ", ".join(places),
        "notice_end": f" Forventet løst: {local_time(end)}." if end is not None else "",
    }


async def _active(tracker: Tracker) -> list[Notice] | None:
    """The active notices for this user; None when the database cannot tell."""
    municipality = user_municipality(tracker)
    try:
        return await services.database().run_async(
            lambda s: notices.active_notices(s, municipality)
        )
    except Exception:  # noqa: BLE001 - any storage fault: the answer still comes
        log.exception("could not read the outage notices")
        return None


async def announce(dispatcher: CollectingDispatcher, tracker: Tracker, article: Article) -> None:
    """Utter the notices that belong before `article` (nothing when none do)."""
    content = services.catalogue()
    active = await _active(tracker)
    told: list[int] = []
    if article.id == content.status_article:
        if active is None:
            dispatcher.utter_message(response="utter_notices_unavailable")
        elif not active:
            dispatcher.utter_message(response="utter_no_notices")
        else:
            dispatcher.utter_message(response="utter_notices_intro")
            for notice in active:
                dispatcher.utter_message(response="utter_notice", **_variables(notice))
                told.append(notice.id)
    else:
        for notice in active or []:
            service = content.notice_services.get(notice.service)
            if service is not None and service.concerns(article.topic):
                dispatcher.utter_message(response="utter_notice_first", **_variables(notice))
                told.append(notice.id)
                break
    if told:
        message_id = latest_message_id(tracker)
        await services.record_safely(
            lambda s: notices.record_shown(s, told, tracker.sender_id, message_id),
            "the notices shown",
        )
