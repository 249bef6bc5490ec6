"""The migrations build exactly the schema the models declare, and can be undone."""

from __future__ import annotations

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
