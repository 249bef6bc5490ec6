"""Messages to Teams requesters, sent by a real worker process through the fake Bot
Connector (tests/support/fake_microsoft.py) with the stored conversation references.

The connector refuses the first message (503) and holds a later one; the worker is
SIGKILLed while it waits. A second worker sends what was not sent, and nothing twice.
"""

from __future__ import annotations

import os
import signal

from sqlalchemy import select

from bot import migrate, notices
from bot.channels.teams_references import save_reference
from bot.db import Database
from bot.models import Ticket, UserMessage
from bot.settings import PROJECT_ROOT as ROOT
from bot.web import notice_changes, ticket_changes
from devtools.ports import free_port
from tests.notices.conftest import notice_values
from tests.notices.test_user_messages import ADMIN, ticket
from tests.support.fake_microsoft import FakeMicrosoft
from tests.tickets.test_itsm_delivery import Worker, wait_until

USERS = {"kari": "teams:aad-kari", "ola": "teams:aad-ola"}


def worker_env(tmp_path, db_url: str, microsoft: FakeMicrosoft) -> dict[str, str]:
    env = dict(os.environ)
    for name in [n for n in env if n.startswith("RAKEL_")]:
        del env[name]
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "RAKEL_VAR_DIR": str(tmp_path / "var"),
            "RAKEL_DB_URL": db_url,
            "RAKEL_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
            # Longer than the Bot Connector timeout (10 s), as the worker demands.
            "RAKEL_OUTBOX_LEASE_SECONDS": "11",
            "RAKEL_ITSM_RETRY_BASE_SECONDS": "0.2",
            "RAKEL_ITSM_RETRY_MAX_SECONDS": "1",
            "RAKEL_WORKER_POLL_SECONDS": "0.2",
            **microsoft.env(),
        }
    )
    return env


def setup_outage(db: Database, microsoft: FakeMicrosoft) -> tuple[int, dict[str, str]]:
    """Kari and Ola talked to Rakel in Teams and reported the outage; Per in the widget."""

    def work(session):
        for name, requester in USERS.items():
            save_reference(
                session,
                {
                    "user_id": f"teams:29:{name}",
                    "aad_object_id": requester,
                    "tenant_id": "tenant",
                    "service_url": microsoft.service_url,
                    "conversation_id": f"conv-{name}",
                    "bot_id": "28:rakel",
                },
            )
        notice = notices.create_notice(session, "admin", notice_values())
        public_ids = {}
        for name, requester in {**USERS, "per": "intranet:per"}.items():
            created = ticket(session, requester)
            notices.link_ticket(session, created)
            public_ids[name] = created.public_id
        return notice.id, public_ids

    return db.run(work)


def sent(db: Database) -> int:
    return db.run(
        lambda s: (
            s.query(UserMessage)
            .filter(UserMessage.via == "teams", UserMessage.delivered_at.isnot(None))
            .count()
        )
    )


async def test_each_requester_gets_one_message_despite_a_refusal_and_a_killed_worker(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'rakel.db'}")
    migrate.upgrade(db)
    microsoft = FakeMicrosoft(port=free_port()).start()
    notice_id, public_ids = setup_outage(db, microsoft)
    db.run(
        lambda s: notice_changes.update(
            s, ADMIN, notices.get_notice(s, notice_id), {"status": notices.RESOLVED}
        )
    )
    microsoft.refuse_activities = 1  # the first attempt: 503
    microsoft.hold_activity = 3  # the third request: the worker dies before an answer
    worker = Worker(worker_env(tmp_path, db.url, microsoft), tmp_path / "worker.log")
    try:
        worker.start()
        await wait_until(microsoft.holding.is_set, 60, "the connector holding a message")
        assert sent(db) == 1, "one message was sent and recorded before the held one"
        worker.kill(signal.SIGKILL)
        assert len(microsoft.activities) == 1

        worker.start()  # the held message's lease runs out; this worker sends it
        await wait_until(lambda: sent(db) == 2, 60, "both Teams messages sent")

        # Staff set Kari's ticket to "venter på bruker" with a question for her.
        def ask_kari(session):
            row = session.execute(
                select(Ticket).where(Ticket.public_id == public_ids["kari"])
            ).scalar_one()
            ticket_changes.update_ticket(
                session,
                row,
                "anne",
                {"status": "venter_paa_bruker"},
                message="Gjelder det også Teams på mobilen?",
            )

        db.run(ask_kari)
        await wait_until(lambda: sent(db) == 3, 60, "the ticket update sent")
    finally:
        worker.kill(signal.SIGTERM)
        microsoft.stop()

    kari = [r["activity"]["text"] for r in microsoft.replies("conv-kari")]
    ola = [r["activity"]["text"] for r in microsoft.replies("conv-ola")]
    assert ola == [
        f"Feilen er rettet: «Teams er nede». Den gjaldt saken din {public_ids['ola']}. "
        "Virker det fortsatt ikke for deg, kan du skrive til meg her."
    ]
    assert len(kari) == 2 and kari[0].startswith("Feilen er rettet: «Teams er nede».")
    assert kari[1] == (
        f"Saken din {public_ids['kari']} venter på svar fra deg.\n\n"
        "Melding fra brukerstøtten: Gjelder det også Teams på mobilen?"
    )
    assert microsoft.activity_requests == 5, "1 refused + 1 held and dropped + 3 accepted"
    for reply in microsoft.activities:
        assert reply["authorization"] in {f"Bearer {t}" for t in microsoft.issued_tokens}
        assert reply["activity"]["recipient"]["id"] in {"29:kari", "29:ola"}
    # Per uses the widget: his message waits for him, the worker never sends it.
    waiting = db.run(
        lambda s: s.execute(
            select(UserMessage.recipient_id).where(UserMessage.delivered_at.is_(None))
        ).all()
    )
    assert waiting == [("intranet:per",)]
    output = worker.output()
    assert "503" in output and "retry in" in output
    db.dispose()
