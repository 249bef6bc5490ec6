"""Microsoft Teams channel (`/webhooks/teams/webhook`), built on Rasa's Bot Framework channel.

What differs from Rasa 3.6's `botframework` channel, and why:
- authentication both ways is ours (bot/channels/teams_auth.py): tenant token
  authority, RS256 pinned, issuer/audience/expiry checked, no blocking I/O;
- configured from the environment (RAKEL_TEAMS_*), so credentials.yml holds no
  secrets. Unconfigured, the channel still loads (Rasa and the other channels must
  start on a developer machine) but answers 503 and logs which variables are missing
  (an error when some are set: app id and password without RAKEL_TEAMS_TENANT_ID);
- only `msteams` activities from RAKEL_TEAMS_TENANT_ID whose serviceUrl the token
  names are accepted (teams_auth.check_activity and the serviceurl claim);
- buttons are `messageBack` actions whose hidden text is the payload, so a click
  arrives as "/affirm" (Rasa's hero-card buttons arrive empty); Adaptive Card submits
  (`value.payload`) are mapped to payloads too; text goes out as one Markdown message;
- the verified user goes into the metadata as `rakel_identity`, and the conversation
  is `teams:<Bot Framework user id>` (bot/identity.py): no other channel can name it;
- the bot being added gets `utter_teams_welcome`, a 👍/👎 reaction counts as the
  answer to "Hjalp dette?", every other activity type is acknowledged and ignored;
- every user's conversation reference is stored so Rakel can write first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import aiohttp
from rasa.core.channels.botframework import BotFramework, BotFrameworkInput
from rasa.core.channels.channel import UserMessage
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.entry_guard import EntryGuardMixin
from bot.channels.teams_auth import HTTP_TIMEOUT, AppTokenProvider, AuthError, InboundAuthenticator
from bot.channels.teams_references import reference_from_activity, save_reference
from bot.db import Database
from bot.identity import IDENTITY_KEY, TEAMS, namespaced
from bot.settings import TeamsSettings, load_settings, load_teams_settings

logger = logging.getLogger(__name__)

WELCOME_RESPONSE = "utter_teams_welcome"
# The same answers as the "Hjalp dette?" buttons (bot/data/rules/knowledge.yml).
REACTION_PAYLOADS = {"like": "/affirm", "dislike": "/deny"}
MENTION = re.compile(r"<at>.*?</at>", re.DOTALL)


class TeamsOutput(BotFramework):
    """Sends with aiohttp and our cached tenant token instead of blocking `requests`."""

    @classmethod
    def name(cls) -> str:
        return "teams"

    def __init__(
        self,
        settings: TeamsSettings,
        tokens: AppTokenProvider,
        http: aiohttp.ClientSession,
        activity: dict[str, Any],
    ) -> None:
        super().__init__(
            settings.app_id or "",
            "",
            activity["conversation"],
            # The bot's channel account: Rasa annotates `bot` as str, yet sends it as the
            # activity's "from" object (BotFramework.send), which is what we pass.
            activity.get("recipient") or {},  # type: ignore[arg-type]
            activity["serviceUrl"],
        )
        self.tokens = tokens
        self.http = http
        self.reply_to = activity.get("id")
        self.user = activity.get("from") or {}

    def prepare_message(self, recipient_id: str, message_data: dict[str, Any]) -> dict[str, Any]:
        data = super().prepare_message(recipient_id, message_data)
        # Rasa names the recipient by our namespaced conversation id; the Bot
        # Connector wants the user's own id.
        data["recipient"] = {"id": self.user.get("id")}
        data["conversation"] = {"id": self.conversation["id"]}
        if self.reply_to:
            data["replyToId"] = self.reply_to
        return data

    async def send(self, message_data: dict[str, Any]) -> None:
        url = f"{self.global_uri}conversations/{self.conversation['id']}/activities"
        try:
            bearer = await self.tokens.token(self.http)
            async with self.http.post(
                url,
                json=message_data,
                timeout=HTTP_TIMEOUT,
                headers={"Authorization": f"Bearer {bearer}"},
            ) as resp:
                if resp.status >= 300:
                    logger.error(
                        "Bot Connector refused a reply (%s): %s",
                        resp.status,
                        (await resp.text())[:300],
                    )
        except (AuthError, aiohttp.ClientError, TimeoutError) as exc:
            logger.error("Could not send a Teams reply: %r", exc)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        # One message, Markdown: Teams renders lists and bold; Rasa splits paragraphs
        # into separate messages.
        await self.send(
            self.prepare_message(recipient_id, {"text": text.strip(), "textFormat": "markdown"})
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        actions = [
            {
                "type": "messageBack",
                "title": button["title"],
                "displayText": button["title"],
                "text": button["payload"],
                "value": {"payload": button["payload"]},
            }
            for button in buttons
        ]
        card = {
            "contentType": "application/vnd.microsoft.card.hero",
            "content": {"text": text.strip(), "buttons": actions},
        }
        await self.send(self.prepare_message(recipient_id, {"attachments": [card]}))


class _TeamsInput(BotFrameworkInput):
    @classmethod
    def name(cls) -> str:
        return "teams"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> _TeamsInput:
        return cls(load_teams_settings())

    def __init__(self, settings: TeamsSettings) -> None:
        # Not super().__init__: Rasa's fetches the signing keys with blocking I/O there.
        # Rasa's attributes (str); only Rasa's own blueprint, replaced below, reads them.
        self.app_id = settings.app_id or ""
        self.app_password = settings.app_password or ""
        self.settings = settings
        self.authenticator = InboundAuthenticator(settings)
        self.tokens = AppTokenProvider(settings)
        self._http: aiohttp.ClientSession | None = None
        self._database: Database | None = None
        if not settings.configured:
            # Half a configuration is an operator's mistake, not a developer machine: say
            # so loudly. Without a tenant there is no one to accept, so no fallback.
            partial = len(settings.missing) < len(settings.required)
            logger.log(
                logging.ERROR if partial else logging.WARNING,
                "Teams channel is not configured (missing %s): it answers 503.",
                ", ".join(settings.missing),
            )

    @property
    def http(self) -> aiohttp.ClientSession:
        # Created on first use, inside Sanic's event loop.
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    @property
    def database(self) -> Database:
        if self._database is None:
            self._database = Database(load_settings().db_url)
        return self._database

    def output(self, activity: dict[str, Any]) -> TeamsOutput:
        return TeamsOutput(self.settings, self.tokens, self.http, activity)

    @staticmethod
    def metadata(activity: dict[str, Any]) -> dict[str, Any]:
        sender = activity.get("from") or {}
        tenant = ((activity.get("channelData") or {}).get("tenant") or {}).get("id")
        metadata: dict[str, Any] = {
            "teams": {
                "name": sender.get("name"),
                "aadObjectId": sender.get("aadObjectId"),
                "tenantId": tenant or (activity.get("conversation") or {}).get("tenantId"),
                "locale": activity.get("locale"),
            },
        }
        if sender.get("aadObjectId"):
            metadata[IDENTITY_KEY] = {
                "id": sender["aadObjectId"],
                "name": sender.get("name"),
                "source": "teams",
            }
        return metadata

    @staticmethod
    def message_text(activity: dict[str, Any]) -> str:
        text = MENTION.sub("", activity.get("text") or "").strip()
        value = activity.get("value")
        if not text and isinstance(value, dict) and isinstance(value.get("payload"), str):
            text = value["payload"]  # an Adaptive Card Action.Submit
        return text

    async def _remember(self, activity: dict[str, Any]) -> None:
        reference = reference_from_activity(activity)
        if reference is None:
            return
        try:
            await self.database.run_async(lambda session: save_reference(session, reference))
        except Exception:  # noqa: BLE001 - the user still gets an answer
            logger.exception("Could not store the Teams conversation reference")

    async def _welcome(self, request: Request, activity: dict[str, Any]) -> None:
        bot_id = (activity.get("recipient") or {}).get("id")
        added = [member.get("id") for member in activity.get("membersAdded") or []]
        if bot_id not in added:
            return
        domain = request.app.ctx.agent.domain
        generator = TemplatedNaturalLanguageGenerator(domain.responses)
        conversation_id = activity["conversation"]["id"]
        tracker = DialogueStateTracker(conversation_id, domain.slots)
        message = await generator.generate(WELCOME_RESPONSE, tracker, self.name())
        if message:
            await self.output(activity).send_response(conversation_id, message)

    def user_message(self, activity: dict[str, Any], text: str) -> UserMessage:
        return UserMessage(
            text=text,
            output_channel=self.output(activity),
            sender_id=namespaced(TEAMS, activity["from"]["id"]),
            input_channel=self.name(),
            metadata=self.metadata(activity),
            message_id=activity.get("id"),
        )

    async def handle(
        self,
        request: Request,
        activity: dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        kind = activity.get("type")
        if kind == "message":
            await self._remember(activity)
            text = self.message_text(activity)
            if text:
                await on_new_message(self.user_message(activity, text))
        elif kind == "conversationUpdate":
            await self._welcome(request, activity)
        elif kind == "messageReaction":
            await self._remember(activity)
            for reaction in activity.get("reactionsAdded") or []:
                payload = REACTION_PAYLOADS.get(reaction.get("type"))
                if payload:
                    await on_new_message(self.user_message(activity, payload))
                    break
        else:
            logger.debug("Ignoring Teams activity of type %r", kind)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        teams = Blueprint("teams_webhook", __name__)

        @teams.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.settings.configured else "unconfigured"})

        @teams.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.settings.configured:
                logger.warning(
                    "Refused a Teams request: channel not configured (missing %s)",
                    ", ".join(self.settings.missing),
                )
                return response.text(
                    "Teams channel is not configured.", status=HTTPStatus.SERVICE_UNAVAILABLE
                )
            try:
                activity = request.json
            except Exception:  # noqa: BLE001 - sanic raises its own for bad JSON
                activity = None
            if not isinstance(activity, dict):
                return response.text("Expected a JSON activity.", status=HTTPStatus.BAD_REQUEST)
            try:
                await self.authenticator.validate(
                    request.headers.get("Authorization"), activity, self.http
                )
            except AuthError as exc:
                logger.warning("Refused a Teams request: %s", exc)
                return response.text("Unauthorized.", status=HTTPStatus.UNAUTHORIZED)
            try:
                await self.handle(request, activity, on_new_message)
            except Exception:  # noqa: BLE001 - Microsoft retries on errors; log, don't loop
                logger.exception(
                    "Could not handle a Teams activity of type %r", activity.get("type")
                )
            return response.text("", status=HTTPStatus.OK)

        return teams


class TeamsInput(EntryGuardMixin, _TeamsInput):
    """The Teams channel Rasa loads from credentials.yml."""
