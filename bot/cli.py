"""Rakel's command line: `python -m bot.cli <command>`.

train             train the model if its inputs changed (cached by fingerprint)
migrate           bring the database schema up to date
validate          `rasa data validate` on domain, data and knowledge
check-content     load the content catalogue and check every article against the
                  annual report (schema, examples, grounding); exit 1 on a problem
run rasa|actions|web|worker|trainer
                  start one process (the Procfile uses these)
export-content    write the content changes staff approved into knowledge/ and
                  bot/data/nlu (for version control); a change whose file changed
                  since is refused and left for review; exit 1 if any was refused
banner            print where every process listens
create-staff USER [--admin]
                  create a service-desk account; the password is read from the
                  terminal (or stdin when piped), never from the command line
person find|export|delete IDENTITY [--force --reason TEXT]
                  a requester's stored data (GDPR art. 15/17): list it, print it
                  as JSON, or delete it with an audit entry (bot/person_data.py)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.settings import PROJECT_ROOT, Settings, load_settings, process_python


def rasa_environment(settings: Settings) -> dict[str, str]:
    """Values endpoints.yml expands; set here so the defaults need no configuration."""
    return {
        "RAKEL_ACTION_ENDPOINT": settings.action_server_url.rstrip("/") + "/webhook",
        # Sent by Rasa with every action call (endpoints.yml); bot.action_server checks it.
        "RAKEL_ACTION_TOKEN": settings.secret("action_token"),
        "RAKEL_TRACKER_DB_URL": settings.tracker_db_url,
    }


def rasa_port(settings: Settings) -> int:
    from urllib.parse import urlparse

    return urlparse(settings.rasa_url).port or 5005


def in_own_environment(process: str) -> None:
    """Continue `run <process>` in the process's own Python environment.

    The Procfile, the tests and the scaled profile may start any process from either
    environment; the web service and the worker must not run on Rasa's aiohttp 3.9
    and SQLAlchemy 1.4 (docs/architecture.md). Replaces this process, pid unchanged.
    """
    python = process_python(process)
    if Path(sys.prefix).resolve() == python.parent.parent.resolve():
        return
    if not python.exists():
        raise SystemExit(
            f"run {process}: its Python environment {python.parent.parent} is missing; "
            "run scripts/setup.sh"
        )
    command = [str(python), "-m", "bot.cli", "run", process]
    os.execv(command[0], command)  # noqa: S606 - the same command in the right interpreter


def environment_line(process: str) -> str:
    """What the process runs on, logged at start: operators and the tests read it."""
    import aiohttp
    import sqlalchemy

    return (
        f"{process}: Python {sys.version.split()[0]} in {sys.prefix}, "
        f"aiohttp {aiohttp.__version__}, SQLAlchemy {sqlalchemy.__version__}"
    )


def start_model(settings: Settings) -> Path:
    """The model a starting Rasa server loads: the one activated from the models page
    when it was trained on the files as they are now (a deployment with new files
    starts from those, and the page shows the staff changes still to retrain), else
    the files' own model, trained if needed."""
    from bot.train import ensure_model, fingerprint

    files_model = ensure_model(settings)
    try:
        from sqlalchemy import select

        from bot.db import Database
        from bot.models import ModelVersion

        database = Database(settings.db_url)
        try:
            active = database.run(
                lambda s: s.scalar(select(ModelVersion).where(ModelVersion.status == "active"))
            )
        finally:
            database.dispose()
    except Exception:  # noqa: BLE001 - no schema yet: the files' model, as before migrations
        return files_model
    if (
        active is not None
        and active.source == "staff"
        and active.path
        and Path(active.path).is_file()
        and active.base_fingerprint == fingerprint(settings)
    ):
        print(f"starting with the model activated on the models page: {active.path}", flush=True)
        return Path(active.path)
    return files_model


def run_rasa(settings: Settings) -> None:
    model = start_model(settings)
    # bot.rasa_runtime is `rasa` plus our runtime fixes (see that module). It adds
    # Rasa's API token itself: on this command line it would be readable by every
    # local user in `ps` and /proc/<pid>/cmdline.
    command = [
        sys.executable,
        "-m",
        "bot.rasa_runtime",
        "run",
        "--model",
        str(model),
        "--endpoints",
        str(settings.endpoints),
        "--credentials",
        str(settings.credentials),
        "--interface",
        settings.rasa_host,
        "--port",
        str(rasa_port(settings)),
        # The HTTP API (parse, trackers) is for operators: token only.
        "--enable-api",
    ]
    settings.secret("rasa_token")  # a short or unreadable token fails here, at start
    env = settings.child_environment(rasa_environment(settings))
    os.execve(command[0], command, env)  # noqa: S606 - replace this process with Rasa


def run_actions(settings: Settings) -> None:
    from bot.action_server import serve

    serve(settings)


def run_web(settings: Settings) -> None:
    from bot.web.app import serve

    serve(settings)


def run_worker(settings: Settings) -> None:
    from bot.worker import serve

    serve(settings)


def run_trainer(settings: Settings) -> None:
    from bot.trainer import serve

    serve(settings)


def export_content(settings: Settings) -> int:
    import getpass

    from bot.content_export import ExportError, export
    from bot.db import Database

    try:
        actor = f"cli:{getpass.getuser()}"
    except OSError:
        actor = "cli"
    database = Database(settings.db_url)
    try:
        result = database.run(lambda s: export(s, actor, settings.knowledge_dir))
    except ExportError as exc:
        print(f"export-content: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    for path in sorted(result.files):
        print(f"wrote {path}")
    print(f"exported {len(result.exported)} change(s), refused {len(result.refused)}")
    for change, note in result.refused:
        print(
            f"refused change {change.id} ({change.kind} {change.intent}): {note}", file=sys.stderr
        )
    return 1 if result.refused else 0


def safe_url(url: str) -> str:
    """A database URL for printing: the password replaced by ***."""
    from sqlalchemy.engine import make_url

    return repr(make_url(url))


def banner(settings: Settings) -> str:
    return "\n".join(
        [
            "Spør 'o Rakel is starting:",
            f"  Rasa server     {settings.rasa_url}"
            f"  (REST: {settings.rasa_url}/webhooks/rest/webhook)",
            f"  Action server   {settings.action_server_url}",
            f"  Web service     http://{settings.web_host}:{settings.web_port}  (health: /health)",
            f"  Database        {safe_url(settings.db_url)}",
            f"  Tracker store   {safe_url(settings.tracker_db_url)}",
        ]
    )


def read_password() -> str:
    """From the terminal without echo, or the first line of stdin when piped."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("Passord: ")
        if getpass.getpass("Gjenta passordet: ") != first:
            raise ValueError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def create_staff(settings: Settings, username: str, *, is_admin: bool) -> int:
    from bot.db import Database
    from bot.web.staff_accounts import AccountError
    from bot.web.staff_accounts import create_staff as create

    try:
        password = read_password()
        database = Database(settings.db_url)
        try:
            user = database.run(lambda s: create(s, username, password, is_admin=is_admin))
        finally:
            database.dispose()
    except (AccountError, ValueError) as exc:
        print(f"create-staff: {exc}", file=sys.stderr)
        return 2
    print(f"created staff account {user.username!r}" + (" (admin)" if is_admin else ""))
    return 0


def person(settings: Settings, args: argparse.Namespace) -> int:
    import getpass
    import json

    from bot import person_data
    from bot.db import Database

    try:
        actor = f"cli:{getpass.getuser()}"
    except OSError:  # no login name in this environment (e.g. a container)
        actor = "cli"
    database = Database(settings.db_url)
    try:
        if args.action == "delete":
            try:
                deletion = person_data.delete_person(
                    database,
                    settings.tracker_db_url,
                    args.identity,
                    actor=actor,
                    reason=args.reason,
                    force=args.force,
                )
            except person_data.PersonRequestError as exc:
                print(f"person delete: {exc}", file=sys.stderr)
                return 2
            print(json.dumps({"deleted": deletion.counts, "audit_id": deletion.audit_id}))
            return 0
        try:
            found = person_data.find(database, settings.tracker_db_url, args.identity)
        except person_data.PersonRequestError as exc:
            print(f"person {args.action}: {exc}", file=sys.stderr)
            return 2
        if args.action == "export":
            person_data.record_export(database, found.identity, actor=actor, counts=found.counts())
            print(json.dumps(person_data.as_json(found), ensure_ascii=False, indent=2))
        else:
            summary = {**found.counts(), "open_tickets": found.open_tickets}
            summary["ticket_ids"] = [t.public_id for t in found.tickets]
            print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train").add_argument("--force", action="store_true")
    sub.add_parser("migrate")
    sub.add_parser("validate")
    sub.add_parser("check-content")
    sub.add_parser("banner")
    sub.add_parser("export-content")
    sub.add_parser(
        "retention",
        help="delete conversations and closed tickets older than RAKEL_RETENTION_DAYS, once",
    )
    staff = sub.add_parser("create-staff")
    staff.add_argument("username")
    staff.add_argument("--admin", action="store_true")
    person_parser = sub.add_parser(
        "person", help="find, export or delete what is stored about one requester"
    )
    person_parser.add_argument("action", choices=["find", "export", "delete"])
    person_parser.add_argument("identity", help="as stored, e.g. teams:<aad id> or the raw id")
    person_parser.add_argument("--force", action="store_true", help="delete open tickets too")
    person_parser.add_argument("--reason", help="why (required with --force)")
    run = sub.add_parser("run")
    run.add_argument("process", choices=["rasa", "actions", "web", "worker", "trainer"])
    args = parser.parse_args(argv)
    settings = load_settings()

    if args.command == "train":
        from bot.train import ensure_model

        ensure_model(settings, force=args.force)
    elif args.command == "migrate":
        from bot import migrate
        from bot.db import Database

        database = Database(settings.db_url)
        migrate.upgrade(database)
        database.dispose()
        print(f"database up to date: {safe_url(settings.db_url)}")
    elif args.command == "check-content":
        from bot.content.grounding import check_catalogue

        problems = check_catalogue(settings.knowledge_dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"content: {'OK' if not problems else f'{len(problems)} problem(s)'}")
        return 1 if problems else 0
    elif args.command == "validate":
        import subprocess

        from bot.train import CONFIG, DOMAIN, data_paths, rasa_cli

        command = [
            rasa_cli(),
            "data",
            "validate",
            "--fail-on-warnings",
            "--config",
            str(CONFIG),
            "--domain",
            str(DOMAIN),
            "--data",
            *data_paths(settings),
        ]
        return subprocess.run(
            command, cwd=PROJECT_ROOT, env=settings.child_environment(), check=False
        ).returncode
    elif args.command == "retention":
        from bot.retention import run_retention

        result = run_retention(settings)
        print(
            f"deleted {result.tracker_events} tracker events and {result.tickets} "
            f"closed tickets, {result.feedback} feedback rows, {result.nlu_misses} missed "
            f"messages, {result.teams_references} Teams references and "
            f"{result.login_failures} failed staff logins older than {result.cutoff.isoformat()}"
        )
    elif args.command == "export-content":
        return export_content(settings)
    elif args.command == "banner":
        print(banner(settings))
    elif args.command == "create-staff":
        return create_staff(settings, args.username, is_admin=args.admin)
    elif args.command == "person":
        return person(settings, args)
    elif args.command == "run":
        in_own_environment(args.process)
        print(environment_line(args.process), file=sys.stderr, flush=True)
        processes = {
            "rasa": run_rasa,
            "actions": run_actions,
            "web": run_web,
            "worker": run_worker,
            "trainer": run_trainer,
        }
        processes[args.process](settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
