"""Who is talking: ids namespaced by where the channel verified them.

Rasa keys conversations by sender id, and tickets belong to a requester id. Both are
namespaced, so that no channel can name a conversation or a person of another:

- `teams:<id>`: verified by the Bot Framework token (bot/channels/teams_auth.py).
  Conversations use the Bot Framework user id, requesters the Entra ID object id.
- `intranet:<user id>`: a widget user with a token our web service signed
  (bot/channels/widget_token.py); conversation and requester are the same.
- `anon:<channel>:<sender>`: nobody vouches for it (the REST channel, a widget
  without a valid token). The requester is the conversation itself.

A REST caller's `sender` always lands under `anon:rest:`, whatever it contains, so
"teams:…" sent over REST is `anon:rest:teams:…`, not a Teams user.
"""

from __future__ import annotations

from typing import Any, NamedTuple

TEAMS = "teams"
INTRANET = "intranet"
ANONYMOUS = "anon"
# Namespaces whose ids a channel verified; only these may see a person's tickets.
VERIFIED = (TEAMS, INTRANET)
# Channels put the verified identity into the message metadata under this key
# (never taken from what the client sent: every channel drops it first).
IDENTITY_KEY = "rakel_identity"
# How channels name themselves inside `anon:<channel>:…`.
REST_CHANNEL = "rest"
WIDGET_CHANNEL = "widget"
# Rasa's SQL tracker store and Rakel's tables keep these ids in 255-character columns.
MAX_ID_CHARS = 255


class Requester(NamedTuple):
    id: str
    name: str | None
    verified: bool


def namespaced(namespace: str, value: str) -> str:
    return f"{namespace}:{value}"


def anonymous(channel: str, sender: str) -> str:
    return f"{ANONYMOUS}:{channel}:{sender}"


def max_chars_after(prefix: str) -> int:
    """How long the channel's own id may be once `prefix` is in front of it."""
    return MAX_ID_CHARS - len(prefix)


def namespace_of(value: str) -> str:
    return value.split(":", 1)[0] if ":" in value else ""


def strip_namespace(namespace: str, value: str) -> str:
    """The channel's own id inside `<namespace>:<id>` (what its API expects)."""
    prefix = f"{namespace}:"
    if not value.startswith(prefix):
        raise ValueError(f"{value!r} is not in the {namespace!r} namespace")
    return value[len(prefix) :]


def requester(conversation_id: str, identity: dict[str, Any] | None) -> Requester:
    """Who asks in this conversation, given the identity its channel put in the metadata.

    An identity counts only when its source is a verified namespace and the
    conversation itself lives in that namespace: a conversation only the Teams
    channel can address carries a Teams identity, never a REST one. Everything else is
    the conversation, anonymous.
    """
    if isinstance(identity, dict) and identity.get("id"):
        source = identity.get("source")
        if source in VERIFIED and namespace_of(conversation_id) == source:
            return Requester(namespaced(source, str(identity["id"])), identity.get("name"), True)
    if namespace_of(conversation_id) == ANONYMOUS:
        return Requester(conversation_id, None, False)
    # A conversation outside the anonymous namespace without its identity (a Teams
    # user without an Entra ID object id, an id set through Rasa's HTTP API).
    return Requester(f"{ANONYMOUS}:{conversation_id}", None, False)
