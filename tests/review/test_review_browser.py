"""The review pages in real headless Chromium: what a service-desk employee does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import yaml
from playwright.async_api import Page, expect

from bot.web.app import create_app
from tests.support.browser import log_in, served, staff_page
from tests.support.staff import ADMIN, make_miss, make_ticket

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


@pytest.fixture
async def base_url(settings, database) -> AsyncIterator[str]:
    """The real web app on a free port of 127.0.0.1, in this event loop."""
    async with served(create_app(settings)) as url:
        yield url


@pytest.fixture
async def page(base_url) -> AsyncIterator[Page]:
    async with staff_page(base_url, accept_downloads=True) as page:
        yield page


async def test_staff_filters_queue_opens_ticket_and_changes_status(page, database):
    make_ticket(database, summary="Teams-kameraet er svart", municipality="Molde")
    public_id = make_ticket(
        database,
        summary="Mistet mobilen med Authenticator",
        category="two_factor",
        municipality="Rauma",
        transcript=[
            {
                "sender": "user",
                "text": "jeg har mistet mobilen " + XSS,
                "timestamp": "2026-11-26T09:15:00+00:00",
            },
            {
                "sender": "bot",
                "text": "Vil du at jeg lager en sak?",
                "timestamp": "2026-11-26T09:15:02+00:00",
                "buttons": [
                    {"title": "Ja, lag sak", "payload": "/affirm"},
                    {"title": "Nei takk", "payload": "/deny"},
                ],
            },
            {
                "sender": "user",
                "text": "/affirm",
                "payload": "/affirm",
                "timestamp": "2026-11-26T09:15:09+00:00",
            },
        ],
    )
    await log_in(page)
    rows = page.locator("table.tickets tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.get_by_role("link", name="Ny 2")).to_be_visible()

    await page.get_by_label("Kommune").select_option("Rauma")
    await page.get_by_role("button", name="Vis").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Mistet mobilen med Authenticator")

    await page.get_by_role("link", name=public_id).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(public_id)
    chat = page.locator("ol.chat")
    await expect(chat).to_contain_text("jeg har mistet mobilen <img src=x")  # shown as text
    await expect(chat).to_contain_text("Klikket på knappen «Ja, lag sak»")
    await expect(chat).to_contain_text("kl. 10:15")  # Oslo time

    await page.get_by_label("Status").select_option(label="Under arbeid")
    await page.get_by_label("Saksbehandler").fill("ola.nordmann")
    await page.get_by_label("Internt notat (vises ikke for brukeren)").fill("Sperret telefonen.")
    await page.get_by_role("button", name="Lagre").click()

    audit = page.locator("table.audit")
    await expect(audit).to_contain_text("endret status fra «Ny» til «Under arbeid»")
    await expect(audit).to_contain_text("endret saksbehandler fra «ingen» til «ola.nordmann»")
    await expect(audit.locator("tbody tr").last).to_contain_text(ADMIN)
    await expect(page.locator(".notes")).to_contain_text("Sperret telefonen.")
    await expect(page.locator("dl.fields")).to_contain_text("Under arbeid")

    await page.goto("/staff/?status=under_arbeid")
    await expect(rows).to_have_count(1)


async def test_staff_marks_a_missed_message_and_downloads_training_data(page, database, tmp_path):
    make_miss(database, "kameraet mitt er helt svart i møter")
    make_miss(database, "hvem vinner fotball-VM", kind="out_of_scope")
    await log_in(page, "/staff/misses")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Samtaler Rakel ikke klarte")
    select = page.get_by_label("Riktig svar på meldingen «kameraet mitt er helt svart i møter»")
    await select.select_option("faq/teams_camera_sound")
    row = page.locator("tr", has_text="kameraet mitt er helt svart")
    await row.get_by_role("button", name="Lagre").click()
    await expect(
        page.locator("tr", has_text="kameraet mitt er helt svart").get_by_role("status")
    ).to_have_text("Lagret")

    async with page.expect_download() as info:
        await page.get_by_role("link", name="Last ned merkede meldinger").click()
    download = await info.value
    path = tmp_path / download.suggested_filename
    await download.save_as(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data == {
        "version": "3.1",
        "nlu": [
            {
                "intent": "faq/teams_camera_sound",
                "examples": "- kameraet mitt er helt svart i møter\n",
            }
        ],
    }


async def test_keyboard_and_labels(page, database):
    make_ticket(database)
    await page.goto("/login")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Hopp til innhold")).to_be_focused()
    await log_in(page)
    for path in ("/staff/", "/staff/misses", "/staff/stats"):
        await page.goto(path)
        unlabelled = await page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')]
            .filter(e => !(e.labels && e.labels.length)).map(e => e.name)""")
        assert unlabelled == [], path
        assert await page.get_attribute("html", "lang") == "nb"
    await page.goto("/staff/stats")
    await expect(page.locator("svg[role=img] title").first).to_have_text("Saker per tema")
