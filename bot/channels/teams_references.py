"""Teams conversation references: where to reach a user, so Rakel can write first.

`user_id` and `aad_object_id` are stored namespaced (`teams:<id>`, bot/identity.py),
the same strings as the user's Rasa conversation id and ticket requester id, so
one identity finds its rows in every table. The Bot Connector gets the raw ids.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.teams_auth import HTTP_TIMEOUT, AppTokenProvider
from bot.db import Database
from bot.identity import TEAMS, namespaced, strip_namespace
from bot.models import TeamsConversationReference, utcnow
from bot.settings import TeamsSettings


class NoReferenceError(LookupError):
    """Rakel has never heard from this Teams user, so it cannot write to them."""


def reference_from_activity(activity: dict[str, Any]) -> dict[str, Any] | None:
    sender = activity.get("from") or {}
    conversation = activity.get("conversation") or {}
    recipient = activity.get("recipient") or {}
    if not (sender.get("id") and conversation.get("id") and activity.get("serviceUrl")):
        return None
    tenant = ((activity.get("channelData") or {}).get("tenant") or {}).get("id")
    aad = sender.get("aadObjectId")
    return {
        "user_id": namespaced(TEAMS, sender["id"]),
        "aad_object_id": namespaced(TEAMS, aad) if aad else None,
        "tenant_id": tenant or conversation.get("tenantId"),
        "service_url": activity["serviceUrl"],
        "conversation_id": conversation["id"],
        "bot_id": recipient.get("id") or "",
    }


def save_reference(session: Session, reference: dict[str, Any]) -> TeamsConversationReference:
    row = session.execute(
        select(TeamsConversationReference).where(
            TeamsConversationReference.user_id == reference["user_id"]
        )
    ).scalar_one_or_none()
    if row is None:
        row = TeamsConversationReference(**reference)
        session.add(row)
    else:
        for key, value in reference.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
    return row


def find_reference(session: Session, user: str) -> TeamsConversationReference | None:
    """By conversation id (`teams:<Bot Framework user id>`) or requester id
    (`teams:<Entra ID object id>`, what tickets store). Ids of other namespaces
    find nothing, whatever follows their prefix."""
    return (
        session.execute(
            select(TeamsConversationReference)
            .where(
                (TeamsConversationReference.user_id == user)
                | (TeamsConversationReference.aad_object_id == user)
            )
            .order_by(TeamsConversationReference.updated_at.desc())
        )
        .scalars()
        .first()
    )


async def message_user(
    database: Database,
    settings: TeamsSettings,
    user: str,
    text: str,
    *,
    http: aiohttp.ClientSession,
    tokens: AppTokenProvider | None = None,
) -> str | None:
    """Send `text` (Markdown) to a Teams user who has talked to Rakel before.

    `user` is the user's conversation id or requester id (both `teams:…`). Returns the id of
    the activity the Bot Connector created; raises NoReferenceError or
    aiohttp.ClientResponseError.
    """
    reference = await database.run_async(lambda session: find_reference(session, user))
    if reference is None:
        raise NoReferenceError(user)
    tokens = tokens or AppTokenProvider(settings)
    bearer = await tokens.token(http)
    url = (
        f"{reference.service_url.rstrip('/')}/v3/conversations/"
        f"{reference.conversation_id}/activities"
    )
    activity = {
        "type": "message",
        "textFormat": "markdown",
        "text": text,
        "from": {"id": reference.bot_id},
        "recipient": {"id": strip_namespace(TEAMS, reference.user_id)},
        "conversation": {"id": reference.conversation_id},
    }
    async with http.post(
        url, json=activity, headers={"Authorization": f"Bearer {bearer}"}, timeout=HTTP_TIMEOUT
    ) as resp:
        resp.raise_for_status()
        body = await resp.json(content_type=None)
    return (body or {}).get("id")
