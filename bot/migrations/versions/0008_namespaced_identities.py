"""namespaced requester and conversation ids

Requester and conversation ids say where they were verified (bot/identity.py):
`teams:<id>`, `intranet:<user id>`, `anon:<channel>:<sender>`. Before, a REST
caller who sent a colleague's Entra ID object id as `sender` was that colleague.

Old rows are converted by their channel, so owners still see their tickets:
- conversations: teams -> `teams:<id>`, socketio (keyed by widget session) ->
  `anon:widget:<session>`, every other channel -> `anon:<channel>:<id>`;
- ticket requesters: an identity the channel verified (it differs from the
  conversation id) -> `teams:<aad id>` or `intranet:<user id>`; otherwise the
  ticket was anonymous -> `anon:…` as its conversation. A REST ticket is always
  anonymous: REST never carried an identity;
- Teams conversation references: `teams:` before the user and object ids.

Rasa's own tracker store is not Rakel's database and is left alone: an ongoing
conversation starts afresh under its new id; retention removes the old one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 12:30:00
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The rules of bot/identity.py as of this revision (a migration must not follow later code).
UNKNOWN_CHANNEL = "'ukjent'"


def _channel(nullable: bool) -> str:
    return f"COALESCE(channel, {UNKNOWN_CHANNEL})" if nullable else "channel"


def _conversation(nullable: bool) -> str:
    return (
        "CASE"
        " WHEN channel = 'teams' THEN 'teams:' || conversation_id"
        " WHEN channel = 'socketio' THEN 'anon:widget:' || conversation_id"
        f" ELSE 'anon:' || {_channel(nullable)} || ':' || conversation_id END"
    )


def _prefix_of(column: str, prefix: str) -> str:
    return f"substr({column}, 1, length({prefix})) = {prefix}"


def _without(column: str, prefix: str) -> str:
    return f"substr({column}, length({prefix}) + 1)"


def _old_conversation(nullable: bool) -> str:
    anonymous = f"'anon:' || {_channel(nullable)} || ':'"
    cases = [
        ("channel = 'teams'", "'teams:'"),
        ("channel = 'socketio'", "'anon:widget:'"),
        ("channel = 'socketio'", "'intranet:'"),
        ("1 = 1", anonymous),
    ]
    whens = " ".join(
        f"WHEN {when} AND {_prefix_of('conversation_id', prefix)}"
        f" THEN {_without('conversation_id', prefix)}"
        for when, prefix in cases
    )
    return f"CASE {whens} ELSE conversation_id END"


def upgrade() -> None:
    op.execute(
        "UPDATE tickets SET"
        f" conversation_id = {_conversation(False)},"
        " requester_id = CASE"
        " WHEN channel = 'teams' AND requester_id <> conversation_id"
        " THEN 'teams:' || requester_id"
        " WHEN channel = 'socketio' AND requester_id <> conversation_id"
        " THEN 'intranet:' || requester_id"
        " WHEN channel = 'teams' THEN 'anon:teams:' || conversation_id"
        f" ELSE {_conversation(False)} END"
    )
    for table in ("feedback", "nlu_misses"):
        op.execute(f"UPDATE {table} SET conversation_id = {_conversation(True)}")
    op.execute(
        "UPDATE teams_conversation_references SET"
        " user_id = 'teams:' || user_id,"
        " aad_object_id = CASE WHEN aad_object_id IS NULL THEN NULL"
        " ELSE 'teams:' || aad_object_id END"
    )


def downgrade() -> None:
    # Back to raw ids; an anonymous requester was its conversation id.
    verified = " ".join(
        f"WHEN {_prefix_of('requester_id', prefix)} THEN {_without('requester_id', prefix)}"
        for prefix in ("'teams:'", "'intranet:'")
    )
    op.execute(
        "UPDATE tickets SET"
        f" conversation_id = {_old_conversation(False)},"
        f" requester_id = CASE {verified} ELSE {_old_conversation(False)} END"
    )
    for table in ("feedback", "nlu_misses"):
        op.execute(f"UPDATE {table} SET conversation_id = {_old_conversation(True)}")
    teams = "'teams:'"
    op.execute(
        "UPDATE teams_conversation_references SET"
        f" user_id = CASE WHEN {_prefix_of('user_id', teams)}"
        f" THEN {_without('user_id', teams)} ELSE user_id END,"
        f" aad_object_id = CASE WHEN {_prefix_of('aad_object_id', teams)}"
        f" THEN {_without('aad_object_id', teams)} ELSE aad_object_id END"
    )
