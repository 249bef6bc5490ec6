"""Bring Rakel's database schema up to date (Alembic), from code or the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec

from alembic import command
from alembic.config import Config

from bot.db import Database

P = ParamSpec("P")  # the arguments of the Alembic command `_run` is given

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _run(
    database: Database,
    step: Callable[Concatenate[Config, P], object],
    *args: P.args,
    **kwargs: P.kwargs,
) -> None:
    """Run an Alembic command on the engine `database` hands over, in one transaction."""
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, *args, **kwargs)


def upgrade(database: Database, revision: str = "head") -> None:
    _run(database, command.upgrade, revision)


def downgrade(database: Database, revision: str) -> None:
    """Undo migrations down to `revision` ("base": an empty database)."""
    _run(database, command.downgrade, revision)


def revision(database: Database, message: str) -> None:
    """Autogenerate a new migration from the models (developer tool)."""
    _run(database, command.revision, message=message, autogenerate=True)
