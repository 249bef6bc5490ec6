"""The texts the entry guard sends itself, from the domain of the model Rasa loaded.

Rasa's server keeps its agent in `app.ctx.agent`; the agent's domain holds the
responses the model was trained with, so a notice reads as the running model says,
and a model replaced at runtime brings its own texts. Looked up when a notice is
sent, because Rasa loads the agent after the channels are registered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa.shared.core.domain import Domain
from sanic import Blueprint

logger = logging.getLogger(__name__)

# response name -> its text, or None when there is no domain to read it from
Notices = Callable[[str], str | None]


def response_text(domain: Domain | None, name: str) -> str | None:
    """The (first) text of the domain's response `name`."""
    if domain is None:
        return None
    variations = domain.responses.get(name) or []
    return variations[0].get("text") if variations else None


class AgentNotices:
    """Notices from the domain of the agent of the Sanic app a channel runs in."""

    def __init__(self) -> None:
        self._app: Any = None

    def attach(self, blueprint: Blueprint) -> Blueprint:
        """Learn the app when the channel's blueprint starts with it."""

        async def bind(app: Any, _loop: Any) -> None:
            self._app = app

        blueprint.listener("before_server_start")(bind)
        return blueprint

    def __call__(self, name: str) -> str | None:
        agent = getattr(self._app.ctx, "agent", None) if self._app is not None else None
        text = response_text(getattr(agent, "domain", None), name)
        if text is None:
            logger.error("no response %s: Rasa has no model loaded", name)
        return text


def domain_notices(domain: Domain) -> Notices:
    """Notices from a given domain (tests, tools)."""
    return lambda name: response_text(domain, name)
