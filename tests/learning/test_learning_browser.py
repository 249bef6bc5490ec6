"""The learning pages in real headless Chromium: staff decide on a missed message, and
every new page is labelled and axe clean (WCAG 2.1 AA)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
from playwright.async_api import Page, async_playwright, expect

from bot.models import ContentAudit, ContentChange
from bot.settings import PROJECT_ROOT
from bot.web.app import create_app
from tests.notices.test_notice_browser import log_in
from tests.review.conftest import database, settings  # noqa: F401 - fixtures
from tests.review.test_review_data import write_tracker_events
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, served
from tests.support.staff import ADMIN, make_miss, make_ticket

pytestmark = pytest.mark.browser

AXE = PROJECT_ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
async def page(settings, database) -> AsyncIterator[Page]:  # noqa: F811
    async with served(create_app(settings)) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # axe is injected as an inline script, which the pages' CSP rightly forbids.
        context = await browser.new_context(base_url=url, bypass_csp=True)
        page = await context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        yield page
        assert dialogs == [], "a script from user data ran in the page"
        await browser.close()


async def violations(page: Page) -> list[dict]:
    """Every axe WCAG 2.1 A/AA violation of the page, whatever its impact."""
    await page.add_script_tag(path=str(AXE))
    return await page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}));
    }""")


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
        assert await violations(page) == [], path
    # The ticket page's decision form, opened; and a refused draft with its errors.
    await page.get_by_text("Vurder svaret på meldingen").click()
    assert await violations(page) == []
    await page.goto("/staff/content/draft")
    await page.get_by_label("Tittel").fill("Uten kilde")
    await page.get_by_role("button", name="Lagre utkastet").click()
    await expect(page.get_by_role("alert")).to_contain_text("Ingenting ble lagret.")
    assert await violations(page) == []
