"""Outage notices in the conversation: which apply to this user, and how they are said.

Where they are said:
- the status article (the catalogue's `status_article`, "er det driftsproblemer nå?")
  is preceded by every active notice of the user's municipality, or by an honest
  "Ingen kjente feil akkurat nå";
- any other article is preceded, briefly, by the newest active notice whose service
  concerns the article's topic (a Teams notice before a Teams article);
- a topic clarifier, "Mente du …?" or the other-IT reply likewise, by the notice that
  concerns the topic asked about or suggested (both from action_answer_article,
  bot/actions/knowledge.py, which hands the turn to those replies);
- a ticket request about an affected service: the ticket form first shows the notice
  and asks whether the user still wants to report a case (ticket_despite_notice,
  bot/actions/tickets.py); "nei" ends the form without a ticket.

The municipality comes from the verified identity's e-mail address or UPN (the
catalogue's email_domains), else from the conversation (the ticket form's answer or a
municipality the user named), else the user sees the notices of every municipality.
Reading notices never breaks an answer: a database fault is logged, and the article
still comes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import notices
from bot.actions import services, tickets
from bot.actions.nlu import latest_entity, latest_message_id
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
    found = tickets.identity(tracker) or {}
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
        first = _concerning(active or [], [article.topic])
        if first is not None:
            dispatcher.utter_message(response="utter_notice_first", **_variables(first))
            told.append(first.id)
    await _record(tracker, told)


def _concerning(active: Iterable[Notice], topics: Iterable[str | None]) -> Notice | None:
    """The newest of the active notices whose service concerns one of the topics."""
    content = services.catalogue()
    topics = list(topics) or [None]
    for notice in active:
        service = content.notice_services.get(notice.service)
        if service is not None and any(service.concerns(topic) for topic in topics):
            return notice
    return None


async def _record(tracker: Tracker, told: list[int]) -> None:
    if told:
        message_id = latest_message_id(tracker)
        await services.record_safely(
            lambda s: notices.record_shown(s, told, tracker.sender_id, message_id),
            "the notices shown",
        )


async def announce_before_question(
    dispatcher: CollectingDispatcher, tracker: Tracker, topics: Iterable[str | None]
) -> None:
    """Before a topic clarifier, "Mente du …?" or the other-IT reply: the notice that
    concerns the topics asked about or suggested (none: only an "alle systemer" one)."""
    notice = _concerning(await _active(tracker) or [], topics)
    if notice is not None:
        dispatcher.utter_message(response="utter_notice_before_question", **_variables(notice))
        await _record(tracker, [notice.id])


async def notice_for_ticket(tracker: Tracker, topic: str | None) -> int | None:
    """The id of the active notice a ticket about `topic` would most likely be about.

    Only a notice about the topic itself (or "alle systemer") counts; none when the
    database cannot tell, so a storage fault never stands between the user and a ticket.
    """
    notice = _concerning(await _active(tracker) or [], [topic])
    return notice.id if notice is not None else None


class ActionAskTicketDespiteNotice(Action):
    """The ticket form's first question during an outage of the ticket's topic: the
    notice, and whether the user still wants to report a case (Ja/Nei)."""

    def name(self) -> str:
        return "action_ask_ticket_despite_notice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        notice_id = str(tracker.get_slot("ticket_notice") or "")
        notice: Notice | None = None
        try:
            if notice_id.isdigit():
                notice = await services.database().run_async(
                    lambda s: notices.get_notice(s, int(notice_id))
                )
        except Exception:  # noqa: BLE001 - the question still comes, without details
            log.exception("could not read the outage notice %s", notice_id)
            notice = None
        if notice is None:
            dispatcher.utter_message(response="utter_ask_ticket_still_wanted")
            return []
        dispatcher.utter_message(response="utter_ask_ticket_despite_notice", **_variables(notice))
        await _record(tracker, [notice.id])
        return []
