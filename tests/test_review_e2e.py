"""A ticket from a real conversation, worked by staff in the real web service.

Rasa, the action server and the web service run as processes (tests/conftest.py
`rakel`); the user talks over the REST channel, a staff member over Chromium.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from playwright.async_api import async_playwright, expect

from bot.settings import PROJECT_ROOT as ROOT
from tests.conftest import RestClient
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

STAFF_USER = "kundeservice"
STAFF_PASSWORD = "e2e-passord-som-er-langt"
DESCRIPTION = "Kameraet mitt er svart i alle Teams-møter <b>siden mandag</b>"


def report_case(user: RestClient) -> str:
    """The ticket form, answered like a user: text where typed, buttons where offered."""
    replies = " ".join(user.texts("/request_human"))
    assert "Beskriv kort hva som ikke virker" in replies
    assert "Hvilken kommune" in " ".join(user.texts(DESCRIPTION))
    assert "Hvor mye haster det" in " ".join(user.texts('/inform{"municipality": "Rauma"}'))
    assert "e-postadresse" in " ".join(user.texts('/inform{"priority": "hoy"}'))
    assert "Skal jeg sende saken?" in " ".join(user.texts("kari.nordmann@rauma.kommune.no"))
    done = " ".join(user.texts("/affirm"))
    match = re.search(r"RAK-\d+", done)
    assert match, done
    return match.group(0)


@pytest.fixture
def staff_account(rakel):
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "create-staff", STAFF_USER],
        input=STAFF_PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=rakel.env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0 or "already exists" in done.stderr, done.stderr
    return STAFF_USER


async def test_ticket_from_a_real_conversation_is_worked_in_the_browser(rakel, user, staff_account):
    public_id = report_case(user)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(base_url=rakel.web_url)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        await page.goto("/staff/")
        await page.get_by_label("Brukernavn").fill(STAFF_USER)
        await page.get_by_label("Passord").fill(STAFF_PASSWORD)
        await page.get_by_role("button", name="Logg inn").click()

        await page.get_by_label("Søk").fill(public_id)
        await page.get_by_role("button", name="Vis").click()
        row = page.locator("table.tickets tbody tr")
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("Rauma")
        await row.get_by_role("link", name=public_id).click()

        chat = page.locator("ol.chat")
        await expect(chat).to_contain_text(DESCRIPTION)  # markup shown as the user typed it
        await expect(chat).to_contain_text("Hvilken kommune jobber du i?")
        await expect(chat).to_contain_text("Klikket på knappen «Rauma»")
        await expect(page.locator("dl.fields")).to_contain_text("Høy")

        await page.get_by_label("Status").select_option(label="Under arbeid")
        await page.get_by_role("button", name="Lagre").click()
        await expect(page.locator("table.audit")).to_contain_text(
            "endret status fra «Ny» til «Under arbeid»"
        )
        await expect(page.locator("table.audit")).to_contain_text(STAFF_USER)
        await browser.close()
    assert dialogs == []
