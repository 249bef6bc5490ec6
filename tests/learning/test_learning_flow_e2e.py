"""From a real conversation to an approved, audited change: the user rephrases after an
answer over REST, a staff member assigns the question to an article in Chromium."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from playwright.async_api import async_playwright, expect

from tests.learning.test_probably_wrong_e2e import REPHRASE, answer, misses_of
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_handoff_e2e import text
from tests.test_honest_replies_e2e import CLEAR
from tests.test_review_e2e import STAFF_PASSWORD, STAFF_USER, staff_account  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def rows(rakel, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(rakel.var_dir / "rakel.db")) as connection:
        return connection.execute(sql, args).fetchall()


async def test_a_rephrased_question_is_assigned_to_an_article_by_staff(
    rakel,
    user,
    staff_account,  # noqa: F811
):
    answered = answer(user)
    assert user.say(REPHRASE)[-1]["text"] == text("utter_ask_helped")
    assert misses_of(rakel, user.conversation_id) == [("rephrased", CLEAR, answered)]
    [(miss_id,)] = rows(
        rakel,
        "SELECT id FROM nlu_misses WHERE conversation_id = ? AND kind = 'rephrased'",
        user.conversation_id,
    )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(base_url=rakel.web_url)
        await page.goto("/staff/misses?kind=rephrased")
        await page.get_by_label("Brukernavn").fill(STAFF_USER)
        await page.get_by_label("Passord").fill(STAFF_PASSWORD)
        await page.get_by_role("button", name="Logg inn").click()
        row = page.locator(f"#miss-{miss_id}")
        await expect(row).to_contain_text(CLEAR)
        await expect(row).to_contain_text(REPHRASE)  # the message that followed
        await row.get_by_label("Riktig svar på meldingen").select_option(
            label="Dele skjermen i Teams"
        )
        await row.get_by_role("button", name="Lagre").click()
        await expect(page.locator(f"#miss-{miss_id}")).to_contain_text(f"merket av {STAFF_USER}")
        await browser.close()
    assert rows(
        rakel,
        "SELECT kind, intent, status, created_by FROM content_changes WHERE miss_id = ?",
        miss_id,
    ) == [("example", "faq/teams_screen_share", "approved", STAFF_USER)]
    assert rows(
        rakel,
        "SELECT actor, action FROM content_audit WHERE miss_id = ? OR change_id IN "
        "(SELECT id FROM content_changes WHERE miss_id = ?) ORDER BY id",
        miss_id,
        miss_id,
    ) == [(STAFF_USER, "assigned"), (STAFF_USER, "approved")]
