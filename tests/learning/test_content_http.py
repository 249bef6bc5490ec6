"""The staff pages for decisions on messages, article edits and drafts, over HTTP."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.models import ContentAudit, ContentChange, NluMiss
from bot.web.app import create_app
from tests.learning.test_content_changes import EXAMPLES
from tests.review.conftest import database, settings  # noqa: F401 - fixtures
from tests.review.test_review_http import login
from tests.support.staff import csrf_from, make_miss, make_ticket


@pytest.fixture
async def client(settings, database):  # noqa: F811
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def token(client, path: str) -> str:
    return csrf_from(await (await client.get(path)).text())


def stored(database):  # noqa: F811
    return database.run(
        lambda s: (
            s.query(ContentChange).count(),
            s.query(ContentAudit).count(),
            s.query(NluMiss).count(),
        )
    )


@pytest.mark.parametrize(
    "path", ["/staff/content", "/staff/content/draft", "/staff/content/articles/teams_tips"]
)
async def test_the_content_pages_need_a_login(client, path):
    response = await client.get(path, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login")


async def test_content_forms_need_the_csrf_token(client, database):  # noqa: F811
    public_id = make_ticket(database)
    await login(client)
    for path in (
        "/staff/content/draft",
        "/staff/content/articles/teams_tips",
        f"/staff/tickets/{public_id}/meldinger/0",
    ):
        response = await client.post(path, data={"intent": "other_it"}, allow_redirects=False)
        assert response.status == 403, path
    assert stored(database)[:2] == (0, 0)


async def test_the_misses_page_assigns_dismisses_and_starts_a_draft(client, database):  # noqa: F811
    miss = make_miss(database, "kameraet er svart", kind="rephrased")
    await login(client)
    csrf = await token(client, "/staff/misses")
    response = await client.post(
        f"/staff/misses/{miss}",
        data={"csrf_token": csrf, "intent": "faq/teams_camera_sound", "decision": "assign"},
        allow_redirects=False,
    )
    assert response.status == 303
    change = database.run(lambda s: s.query(ContentChange).one())
    assert (change.kind, change.intent, change.status) == (
        "example",
        "faq/teams_camera_sound",
        "approved",
    )
    page = await (await client.get("/staff/content")).text()
    assert "Nytt eksempelspørsmål" in page and "kameraet er svart" in page
    await client.post(f"/staff/misses/{miss}", data={"csrf_token": csrf, "decision": "dismiss"})
    assert database.run(lambda s: s.query(ContentChange).one().status) == "withdrawn"
    assert "kameraet er svart" in await (await client.get("/staff/misses?state=avvist")).text()
    assert "kameraet er svart" not in await (await client.get("/staff/misses?state=umerket")).text()
    draft = await client.post(
        f"/staff/misses/{miss}",
        data={"csrf_token": csrf, "decision": "draft"},
        allow_redirects=False,
    )
    assert draft.headers["Location"] == f"/staff/content/draft?melding={miss}"
    form = await (await client.get(draft.headers["Location"])).text()
    assert ">kameraet er svart</textarea>" in form


async def test_a_bad_draft_shows_norwegian_errors_keeps_the_input_and_saves_nothing(
    client,
    database,  # noqa: F811
):
    await login(client)
    csrf = await token(client, "/staff/content/draft")
    response = await client.post(
        "/staff/content/draft",
        data={
            "csrf_token": csrf,
            "title": "Sykefravær",
            "topic": "teams",
            "answer": "Sykefraværet var 4,44 % i 2020.",
            "report_section": "2.1.1 KUNDESERVICE",
            "examples": EXAMPLES,
        },
    )
    assert response.status == 400
    html = await response.text()
    assert "Ingenting ble lagret." in html
    assert "Tallet 4,44 står ikke i avsnittet du viser til i årsrapporten." in html
    assert 'value="Sykefravær"' in html
    assert stored(database) == (0, 0, 0)


async def test_a_good_draft_is_stored_and_listed(client, database):  # noqa: F811
    await login(client)
    csrf = await token(client, "/staff/content/draft")
    response = await client.post(
        "/staff/content/draft",
        data={
            "csrf_token": csrf,
            "title": "Skrive ut fra Teams",
            "topic": "teams",
            "answer": "Åpne filen i Word eller Excel og skriv ut derfra.",
            "general_guidance": "1",
            "examples": EXAMPLES,
        },
        allow_redirects=False,
    )
    assert response.status == 303
    change = database.run(lambda s: s.query(ContentChange).one())
    assert (change.kind, change.created_by) == ("new_article", "admin")
    assert json.loads(change.after)["title"] == "Skrive ut fra Teams"
    assert "Skrive ut fra Teams" in await (await client.get(response.headers["Location"])).text()


async def test_an_article_edit_saves_both_fields_or_neither(client, database):  # noqa: F811
    await login(client)
    path = "/staff/content/articles/teams_breakout_rooms"
    page = await (await client.get(path)).text()
    assert "Grupperom styrer du som arrangør" in page
    csrf = csrf_from(page)
    examples = EXAMPLES + "\ngrupperom i teams"
    refused = await client.post(
        path, data={"csrf_token": csrf, "answer": "Opptil 987654 grupperom.", "examples": examples}
    )
    assert refused.status == 400
    assert "Tallet 987654 i svaret står ikke i årsrapporten." in await refused.text()
    assert stored(database)[:2] == (0, 0)
    answer = "Grupperom styrer du som arrangør fra Teams-appen på PC-en."
    done = await client.post(
        path,
        data={"csrf_token": csrf, "answer": answer, "examples": examples},
        allow_redirects=False,
    )
    assert done.status == 303
    kinds = database.run(
        lambda s: [c.kind for c in s.query(ContentChange).order_by(ContentChange.id)]
    )
    assert kinds == ["answer", "examples"]
    again = await (await client.get(path)).text()
    assert answer + "</textarea>" in again  # the approved text is what staff edit next


async def test_a_ticket_message_is_decided_from_the_ticket_page(client, database):  # noqa: F811
    public_id = make_ticket(database, conversation_id="conv-t")
    await login(client)
    page = await (await client.get(f"/staff/tickets/{public_id}")).text()
    assert f'action="/staff/tickets/{public_id}/meldinger/0"' in page
    assert f'action="/staff/tickets/{public_id}/meldinger/1"' not in page  # Rakel's turn
    csrf = csrf_from(page)
    bad = await client.post(
        f"/staff/tickets/{public_id}/meldinger/0",
        data={"csrf_token": csrf, "intent": "faq/finnes_ikke"},
    )
    assert bad.status == 400 and "Ukjent intensjon" in await bad.text()
    assert stored(database) == (0, 0, 0)  # not even the flagged message
    done = await client.post(
        f"/staff/tickets/{public_id}/meldinger/0",
        data={"csrf_token": csrf, "intent": "faq/teams_camera_sound", "decision": "assign"},
        allow_redirects=False,
    )
    assert done.headers["Location"] == f"/staff/tickets/{public_id}?vurdert=0#turn-0"
    miss = database.run(lambda s: s.query(NluMiss).one())
    assert (miss.kind, miss.text, miss.corrected_intent) == (
        "staff_flagged",
        "Kameraet virker ikke i Teams",
        "faq/teams_camera_sound",
    )
    assert database.run(lambda s: s.query(ContentChange).one().miss_id) == miss.id
    page = await (await client.get(done.headers["Location"])).text()
    assert "Vurderingen er lagret" in page
    bot_turn = await client.post(
        f"/staff/tickets/{public_id}/meldinger/1", data={"csrf_token": csrf, "intent": "other_it"}
    )
    assert bot_turn.status == 404
