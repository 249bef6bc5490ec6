"""The migrations build exactly the schema the models declare, and can be undone."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot import migrate
from bot.db import Database
from bot.models import metadata


def differences(database: Database) -> list:
    with database.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), metadata)


def test_migrated_schema_matches_the_models(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'rakel.db'}")
    try:
        migrate.upgrade(database)
        assert differences(database) == []
        # The idempotency keys of actions that may be resent (docs/scaling.md).
        unique = {
            table: [
                c["column_names"] for c in inspect(database.engine).get_unique_constraints(table)
            ]
            for table in ("feedback", "nlu_misses")
        }
        assert unique == {"feedback": [["message_id"]], "nlu_misses": [["message_id", "kind"]]}
    finally:
        database.dispose()


def test_every_migration_downgrades_and_upgrades_again(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'rakel.db'}")
    try:
        migrate.upgrade(database)
        migrate.downgrade(database, "base")
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(database)
        assert differences(database) == []
    finally:
        database.dispose()


# Rows as Rakel wrote them before ids were namespaced (revision 0007).
OLD_TICKETS = [
    # (channel, conversation_id, requester_id): a Teams user with their Entra ID object id,
    ("teams", "29:kari", "aad-kari"),
    # a signed-in intranet user in a widget session,
    ("socketio", "f00dcafe", "molde\\kari"),
    # an anonymous widget session,
    ("socketio", "deadbeef", "deadbeef"),
    # and a REST caller who sent Kari's object id as sender (the impersonation).
    ("rest", "aad-kari", "aad-kari"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rakel.db'}"
    return request.getfixturevalue("postgres_url")


def _old_database(url: str) -> Database:
    from sqlalchemy import text

    database = Database(url)
    migrate.upgrade(database, "0007")
    with database.engine.begin() as connection:
        for number, (channel, conversation, requester) in enumerate(OLD_TICKETS, start=1):
            connection.execute(
                text(
                    "INSERT INTO tickets (id, public_id, created_at, updated_at, channel,"
                    " conversation_id, requester_id, category, priority, summary, description,"
                    " status, transcript) VALUES (:id, :public, '2026-11-20 10:00:00',"
                    " '2026-11-20 10:00:00', :channel, :conversation, :requester, 'teams',"
                    " 'normal', :summary, :summary, 'ny', '[]')"
                ),
                {
                    "id": number,
                    "public": f"RAK-{1000 + number}",
                    "channel": channel,
                    "conversation": conversation,
                    "requester": requester,
                    "summary": f"Sak {number}",
                },
            )
        for table, channel, conversation in (
            ("feedback", "teams", "29:kari"),
            ("feedback", "rest", "aad-kari"),
            ("nlu_misses", "socketio", "deadbeef"),
            ("nlu_misses", None, "api-user"),
        ):
            columns = "helped" if table == "feedback" else "kind, text"
            values = ":helped" if table == "feedback" else "'fallback', 'hæ'"
            insert = (
                f"INSERT INTO {table} (created_at, conversation_id, channel, {columns})"  # noqa: S608 - constant names
                f" VALUES ('2026-11-20 10:00:00', :conversation, :channel, {values})"
            )
            connection.execute(
                text(insert),
                {"conversation": conversation, "channel": channel, "helped": True},
            )
        connection.execute(
            text(
                "INSERT INTO teams_conversation_references (user_id, aad_object_id, service_url,"
                " conversation_id, bot_id, updated_at) VALUES ('29:kari', 'aad-kari',"
                " 'https://smba.trafficmanager.net/emea/', 'a:conv-1', '28:rakel',"
                " '2026-11-20 10:00:00')"
            )
        )
    return database


def _rows(database: Database) -> dict[str, list[tuple]]:
    from sqlalchemy import text

    queries = {
        "tickets": "SELECT conversation_id, requester_id FROM tickets ORDER BY id",
        "feedback": "SELECT conversation_id FROM feedback ORDER BY id",
        "nlu_misses": "SELECT conversation_id FROM nlu_misses ORDER BY id",
        "teams": "SELECT user_id, aad_object_id FROM teams_conversation_references",
    }
    with database.engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.execute(text(query))]
            for name, query in queries.items()
        }


def test_old_rows_get_namespaced_ids_and_owners_keep_their_tickets(database_url):
    from bot.identity import requester
    from bot.tickets.repository import latest_for_requester, latest_in_conversation

    database = _old_database(database_url)
    try:
        before = _rows(database)
        migrate.upgrade(database)
        assert _rows(database) == {
            "tickets": [
                ("teams:29:kari", "teams:aad-kari"),
                ("anon:widget:f00dcafe", "intranet:molde\\kari"),
                ("anon:widget:deadbeef", "anon:widget:deadbeef"),
                ("anon:rest:aad-kari", "anon:rest:aad-kari"),
            ],
            "feedback": [("teams:29:kari",), ("anon:rest:aad-kari",)],
            "nlu_misses": [("anon:widget:deadbeef",), ("anon:ukjent:api-user",)],
            "teams": [("teams:29:kari", "teams:aad-kari")],
        }

        def mine(session, conversation, identity):  # type: ignore[no-untyped-def]
            who = requester(conversation, identity)
            return [t.public_id for t in latest_for_requester(session, who.id)]

        # Kari, as the channels name her now, sees her own tickets and not the one the
        # REST caller made in her name...
        teams_kari = {"id": "aad-kari", "name": "Kari", "source": "teams"}
        assert database.run(lambda s: mine(s, "teams:29:kari", teams_kari)) == ["RAK-1001"]
        intranet_kari = {"id": "molde\\kari", "source": "intranet"}
        assert database.run(lambda s: mine(s, "intranet:molde\\kari", intranet_kari)) == [
            "RAK-1002"
        ]
        # ...the anonymous widget session still sees its ticket in that conversation...
        assert [
            t.public_id
            for t in database.run(lambda s: latest_in_conversation(s, "anon:widget:deadbeef"))
        ] == ["RAK-1003"]
        # ...and the REST caller sees nothing of Kari's.
        assert database.run(lambda s: mine(s, "anon:rest:aad-kari", None)) == ["RAK-1004"]

        migrate.downgrade(database, "0007")
        assert _rows(database) == before
    finally:
        database.dispose()
