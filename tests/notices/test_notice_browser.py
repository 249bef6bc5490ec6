"""The "Driftsmeldinger" page in real headless Chromium: an admin publishes a notice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import Page, expect

from bot import notices
from bot.channels import widget_token
from bot.web import notice_changes
from bot.web.app import create_app
from tests.notices.conftest import notice_values
from tests.notices.test_user_messages import ADMIN as ADMIN_STAFF
from tests.notices.test_user_messages import messages, ticket
from tests.support.browser import axe_violations, log_in, served, staff_page
from tests.support.staff import ADMIN

pytestmark = pytest.mark.browser


@pytest.fixture
async def base_url(settings, database) -> AsyncIterator[str]:
    async with served(create_app(settings)) as url:
        yield url


@pytest.fixture
async def page(base_url) -> AsyncIterator[Page]:
    # axe is injected as an inline script, which the pages' CSP rightly forbids.
    async with staff_page(base_url, bypass_csp=True) as page:
        yield page


async def serious_violations(page: Page) -> list[dict]:
    return [v for v in await axe_violations(page) if v["impact"] in ("serious", "critical")]


async def test_admin_publishes_a_notice_then_resolves_it(page, database):
    await log_in(page, "/staff/notices")
    await page.get_by_label("Tittel").fill("Teams er nede")
    await page.get_by_label("Tekst til brukerne").fill("Møter og chat virker ikke.")
    await page.get_by_label("Tjeneste").select_option(label="Teams")
    await page.get_by_label("Molde").check()
    start = (datetime.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    await page.get_by_label("Start (norsk tid)").fill(start)
    await page.get_by_label("Status").select_option(label="Aktiv")
    await page.get_by_role("button", name="Lagre driftsmeldingen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Driftsmelding: Teams er nede")
    [stored] = database.run(lambda s: notices.all_notices(s))
    assert (stored.status, notices.municipalities_of(stored)) == ("aktiv", ["Molde"])
    await page.get_by_role("button", name="Sett som løst").click()
    await expect(page.get_by_role("table", name="Endringslogg")).to_contain_text("endret status")
    assert database.run(lambda s: notices.all_notices(s))[0].status == "lost"


async def test_the_notice_pages_are_labelled_and_axe_clean(page, database):
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    overdue = database.run(
        lambda s: notices.create_notice(
            s, ADMIN, notice_values(starts_at=start, expected_end_at=start + timedelta(hours=1))
        )
    )
    await log_in(page, "/staff/notices")
    for path in ("/staff/notices", f"/staff/notices/{overdue.id}"):
        await page.goto(path)
        unlabelled = await page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')]
            .filter(e => !(e.labels && e.labels.length)).map(e => e.name)""")
        assert unlabelled == [], path
        assert await serious_violations(page) == [], path
    await expect(page.get_by_role("status").first).to_contain_text("Forfalt")


async def test_the_widget_shows_active_notices_in_a_status_banner(page, database):
    database.run(lambda s: notices.create_notice(s, ADMIN, notice_values(title="Teams er nede")))
    database.run(
        lambda s: notices.create_notice(
            s, ADMIN, notice_values(title="Planlagt arbeid", status="planlagt")
        )
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto("/widget/demo")
    await page.get_by_role("button", name="Spør 'o Rakel").click()
    banner = page.locator(".rakel-banner[role=status]")
    await expect(banner).to_contain_text("Driftsmelding: Teams er nede")
    await expect(banner).to_contain_text("Forventet løst:")
    await expect(banner).not_to_contain_text("Planlagt arbeid")
    assert await banner.get_attribute("aria-live") == "polite"
    assert await serious_violations(page) == []
    assert errors == []


async def test_the_widget_shows_no_banner_without_notices(page, database):
    await page.goto("/widget/demo")
    await page.get_by_role("button", name="Spør 'o Rakel").click()
    await expect(page.locator("#rakel-panel")).to_have_attribute("data-notices", "0")
    await expect(page.locator(".rakel-banner")).to_be_hidden()


async def test_the_widget_shows_a_waiting_message_once_to_its_signed_in_user(
    page, database, settings
):
    """Per reported the outage in the widget; when it is resolved, his next opening shows
    Rakel's message in the conversation (announced by its role="log"), and only once."""

    def outage(session):
        notice = notices.create_notice(session, ADMIN, notice_values(title="Teams er nede"))
        notices.link_ticket(session, ticket(session, "intranet:per"))
        notice_changes.update(session, ADMIN_STAFF, notice, {"status": notices.RESOLVED})

    database.run(outage)
    signed = widget_token.issue(settings.secret("widget_key"), "per", "Per")

    async def with_token(route):
        response = await route.fetch()
        html = (await response.text()).replace(
            'src="/widget/rakel-widget.js"', f'src="/widget/rakel-widget.js" data-token="{signed}"'
        )
        await route.fulfill(response=response, body=html)

    await page.route("**/widget/demo", with_token)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto("/widget/demo")
    await page.get_by_role("button", name="Spør 'o Rakel").click()
    log = page.get_by_role("log")
    await expect(log).to_contain_text("Feilen er rettet: «Teams er nede».")
    await expect(page.locator("#rakel-panel")).to_have_attribute("data-messages", "1")
    for _ in range(50):  # the acknowledgement follows the display
        if messages(database)[0].delivered_at is not None:
            break
        await page.wait_for_timeout(100)
    assert messages(database)[0].delivered_at is not None
    assert await serious_violations(page) == []
    # A new tab (fresh session storage) opens without the message: it was delivered.
    await page.evaluate("sessionStorage.clear()")
    await page.reload()
    await page.get_by_role("button", name="Spør 'o Rakel").click()
    await expect(page.locator("#rakel-panel")).to_have_attribute("data-messages", "0")
    await expect(log).not_to_contain_text("Feilen er rettet")
    assert errors == []


async def test_staff_write_to_the_requester_when_the_ticket_waits_for_them(page, database):
    public_id = database.run(lambda s: ticket(s, "intranet:per").public_id)
    await log_in(page, f"/staff/tickets/{public_id}")
    await page.get_by_label("Status").select_option(label="Venter på bruker")
    await page.get_by_label("Melding til brukeren").fill("Hvilken PC gjelder det?")
    await page.get_by_role("button", name="Lagre").click()
    await expect(page.locator("table.audit")).to_contain_text("Venter på bruker")
    [message] = messages(database)
    assert message.payload == (
        f"Saken din {public_id} venter på svar fra deg.\n\n"
        "Melding fra brukerstøtten: Hvilken PC gjelder det?"
    )
    assert await serious_violations(page) == []
