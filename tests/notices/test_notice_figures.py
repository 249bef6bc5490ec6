"""The statistics per notice: conversations shown in, of those without a ticket in 24 h,
tickets linked. From the repository to the statistics page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from aiohttp.test_utils import TestClient, TestServer

from bot import notices
from bot.models import NoticeShown, NoticeTicket
from bot.web.app import create_app
from tests.notices.conftest import notice_values
from tests.support.staff import ADMIN, ADMIN_PASSWORD, csrf_from, make_ticket


def test_figures_count_conversations_tickets_within_24_hours_and_links(database):
    now = datetime.now(timezone.utc)
    notice = database.run(lambda s: notices.create_notice(s, ADMIN, notice_values()))
    day_ago = now - timedelta(hours=30)

    def show(conversation, at, message):
        database.run(lambda s: notices.record_shown(s, [notice.id], conversation, message, at))

    show("anon:rest:a", day_ago, "m1")
    show("anon:rest:a", day_ago + timedelta(minutes=1), "m2")  # same conversation again
    show("anon:rest:b", day_ago, "m3")
    show("anon:rest:c", now - timedelta(hours=1), "m4")  # too recent to say
    show("anon:rest:c", now - timedelta(hours=1), "m4")  # a retried action: no second row
    # b reported a ticket two hours after seeing the notice; a reported nothing.
    ticket = make_ticket(
        database, conversation_id="anon:rest:b", created_at=day_ago + timedelta(hours=2)
    )
    database.run(
        lambda s: s.add(NoticeTicket(notice_id=notice.id, ticket_id=int(ticket[4:]) - 1000))
    )
    [f] = database.run(lambda s: notices.figures(s))
    assert (f.conversations, f.settled, f.without_ticket, f.tickets) == (3, 2, 1, 1)
    rows = database.run(lambda s: s.query(NoticeShown).count())
    assert rows == 4
    stored = database.run(lambda s: s.query(NoticeShown.conversation_sha256).all())
    assert all("anon:rest" not in digest for (digest,) in stored)


async def test_the_statistics_page_shows_the_figures_and_defines_them(settings, database):
    notice = database.run(lambda s: notices.create_notice(s, ADMIN, notice_values()))
    database.run(lambda s: notices.record_shown(s, [notice.id], "anon:rest:a", "m1"))
    async with TestClient(TestServer(create_app(settings))) as client:
        page = await client.get("/login")
        await client.post(
            "/login",
            data={
                "csrf_token": csrf_from(await page.text()),
                "username": ADMIN,
                "password": ADMIN_PASSWORD,
                "next": "/staff/stats",
            },
        )
        html = await (await client.get("/staff/stats")).text()
    assert "<caption>Driftsmeldinger i samtaler</caption>" in html
    assert "Uten sak innen 24 timer</strong>: av samtalene" in html
    row = html.split(f'href="/staff/notices/{notice.id}">Teams er nede</a></td>', 1)[1]
    assert row.split("</tr>", 1)[0].split("<td>")[2:] == ["1</td>", "0 (av 0)</td>", "0</td>"]
