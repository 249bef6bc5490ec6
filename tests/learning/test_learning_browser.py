"""The learning pages in real headless Chromium: staff decide on a missed message, and
every new page is labelled and axe clean (WCAG 2.1 AA)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
from playwright.async_api import Page, expect

from bot.models import ContentAudit, ContentChange
from bot.web.app import create_app
from tests.review.conftest import database, settings  # noqa: F401 - fixtures
from tests.review.test_review_data import write_tracker_events
from tests.support.browser import axe_violations, log_in, served, staff_page
from tests.support.staff import ADMIN, make_miss, make_ticket

pytestmark = pytest.mark.browser


@pytest.fixture
async def page(settings, database) -> AsyncIterator[Page]:  # noqa: F811
    # axe is injected as an inline script, which the pages' CSP rightly forbids.
    async with served(create_app(settings)) as url, staff_page(url, bypass_csp=True) as page:
        yield page


async def unlabelled(page: Page) -> list[str]:
    return await page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')]
        .filter(e => !(e.labels && e.labels.length)).map(e => e.name)""")


async def test_staff_assign_a_missed_message_to_an_article(page, database):  # noqa: F811
    miss = make_miss(database, "kameraet blir svart når jeg deler skjerm", kind="rephrased")
    await log_in(page, "/staff/misses")
    row = page.locator(f"#miss-{miss}")
    await expect(row).to_contain_text("Spurte på nytt")
    await row.get_by_label("Riktig svar på meldingen").select_option(
        label="Kamera eller lyd virker ikke i Teams"
    )
    await row.get_by_role("button", name="Lagre").click()
    await expect(page.locator(f"#miss-{miss}")).to_contain_text(f"merket av {ADMIN}")
    await page.get_by_role("link", name="Innhold", exact=True).first.click()
    await expect(page.locator("table.changes")).to_contain_text("Nytt eksempelspørsmål")
    await expect(page.locator("table.audit")).to_contain_text("valgte riktig svar")
    change = database.run(lambda s: s.query(ContentChange).one())
    assert (change.kind, change.intent, change.status, change.created_by) == (
        "example",
        "faq/teams_camera_sound",
        "approved",
        ADMIN,
    )
    audit = database.run(
        lambda s: [(a.actor, a.action) for a in s.query(ContentAudit).order_by(ContentAudit.id)]
    )
    assert audit == [(ADMIN, "assigned"), (ADMIN, "approved")]


async def test_the_new_pages_are_labelled_and_axe_clean(page, settings, database):  # noqa: F811
    now = datetime.now(timezone.utc).timestamp()
    await write_tracker_events(
        settings.tracker_db_url, {"conv-a": [("faq", now)], "conv-b": [("faq", now)]}
    )
    for kind in ("rephrased", "none_fit", "asked_for_person"):
        make_miss(database, f"melding {kind}", kind=kind)
    public_id = make_ticket(database, conversation_id="conv-a")
    await log_in(page, "/staff/content")
    paths = (
        "/staff/content",
        "/staff/content/draft",
        "/staff/content/articles/teams_tips",
        "/staff/misses",
        "/staff/stats",
        f"/staff/tickets/{public_id}",
    )
    for path in paths:
        await page.goto(path)
        assert await unlabelled(page) == [], path
        assert await axe_violations(page) == [], path
    # The ticket page's decision form, opened; and a refused draft with its errors.
    await page.get_by_text("Vurder svaret på meldingen").click()
    assert await axe_violations(page) == []
    await page.goto("/staff/content/draft")
    await page.get_by_label("Tittel").fill("Uten kilde")
    await page.get_by_role("button", name="Lagre utkastet").click()
    await expect(page.get_by_role("alert")).to_contain_text("Ingenting ble lagret.")
    assert await axe_violations(page) == []
