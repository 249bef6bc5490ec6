"""HTTP: staff tell a requester with a status change (page and API); the widget fetches
what waits for its signed-in user and acknowledges what it showed."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels import widget_token
from bot.models import Ticket, UserMessage
from tests.notices.test_notice_pages import login, token
from tests.notices.test_user_messages import messages, ticket


def new_ticket(database, requester: str) -> str:
    return database.run(lambda s: ticket(s, requester).public_id)


def status_of(database, public_id: str) -> str:
    return database.run(
        lambda s: s.execute(select(Ticket.status).where(Ticket.public_id == public_id)).scalar_one()
    )


async def test_the_api_sends_the_staff_message_with_the_status_change(client, database):
    await login(client)
    public_id = new_ticket(database, "teams:aad-kari")
    alone = await client.patch(f"/api/tickets/{public_id}", json={"message": "Hei"})
    assert alone.status == 400
    assert (await alone.json())["field"] == "message"
    assert messages(database) == []
    changed = await client.patch(
        f"/api/tickets/{public_id}", json={"status": "lost", "message": "Ny lisens er lagt inn."}
    )
    assert changed.status == 200
    (found,) = messages(database)
    assert found.payload == (
        f"Saken din {public_id} er løst.\n\nMelding fra brukerstøtten: Ny lisens er lagt inn."
    )


async def test_the_ticket_page_sends_the_staff_message_with_the_status_change(client, database):
    await login(client)
    public_id = new_ticket(database, "intranet:per")
    page = f"/staff/tickets/{public_id}"
    assert "Melding til brukeren" in await (await client.get(page)).text()
    fields = {
        "priority": "normal",
        "assignee": "",
        "note": "",
        "csrf_token": await token(client, page),
    }
    refused = await client.post(page, data={**fields, "status": "ny", "message": "Hei"})
    assert refused.status == 400
    assert "Ugyldig verdi for Melding til brukeren" in await refused.text()
    assert messages(database) == []
    saved = await client.post(
        page,
        data={**fields, "status": "venter_paa_bruker", "message": "Hvilken PC gjelder det?"},
        allow_redirects=False,
    )
    assert saved.status == 303
    (found,) = messages(database)
    assert (found.via, found.recipient_id) == ("widget", "intranet:per")
    assert found.payload.endswith("Melding fra brukerstøtten: Hvilken PC gjelder det?")
    assert status_of(database, public_id) == "venter_paa_bruker"


async def test_the_widget_shows_waiting_messages_to_their_recipient_only(
    client, database, settings
):
    await login(client)
    per = new_ticket(database, "intranet:per")
    assert (await client.patch(f"/api/tickets/{per}", json={"status": "lost"})).status == 200
    key = settings.secret("widget_key")
    per_token = widget_token.issue(key, "per", "Per")
    ola_token = widget_token.issue(key, "ola", "Ola")

    assert (await client.post("/widget/messages", data={})).status == 401
    assert (await client.post("/widget/messages", data={"token": "forged"})).status == 401
    nothing = await (await client.post("/widget/messages", data={"token": ola_token})).json()
    assert nothing == {"messages": []}

    first = await (await client.post("/widget/messages", data={"token": per_token})).json()
    assert [m["text"] for m in first["messages"]] == [f"Saken din {per} er løst."]
    message_id = first["messages"][0]["id"]
    # Not shown yet: a second opening gets it again.
    again = await (await client.post("/widget/messages", data={"token": per_token})).json()
    assert again == first

    bad = await client.post("/widget/messages/seen", data={"token": per_token, "ids": "1;drop"})
    assert bad.status == 400
    by_ola = await client.post(
        "/widget/messages/seen", data={"token": ola_token, "ids": str(message_id)}
    )
    assert (await by_ola.json()) == {"recorded": 0}
    seen = await client.post(
        "/widget/messages/seen", data={"token": per_token, "ids": str(message_id)}
    )
    assert (await seen.json()) == {"recorded": 1}
    after = await (await client.post("/widget/messages", data={"token": per_token})).json()
    assert after == {"messages": []}
    delivered = database.run(lambda s: s.get(UserMessage, message_id).delivered_at)
    assert delivered is not None
