"""The models page in headless Chromium: the progress of a training follows the trainer's
row without a reload by hand, the finished result replaces it, and the page is axe
clean. The trainer's steps are made here on the database, as the trainer makes them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from bot.models import ModelVersion, utcnow
from bot.web.app import create_app
from tests.learning.test_model_pages import figures
from tests.review.conftest import database, settings  # noqa: F401 - fixtures
from tests.support.browser import axe_violations, log_in, served, staff_page

pytestmark = pytest.mark.browser


@pytest.fixture
async def page(settings, database) -> AsyncIterator[Page]:  # noqa: F811
    async with served(create_app(settings)) as url:
        # axe is injected as an inline script, which the pages' CSP rightly forbids.
        async with staff_page(url, bypass_csp=True) as page:
            yield page


def step(database, **fields) -> None:  # noqa: F811
    def work(session):
        row = session.scalar(select(ModelVersion).where(ModelVersion.source == "staff"))
        for key, value in fields.items():
            setattr(row, key, value)
        row.stage_at = utcnow()

    database.run(work)


async def test_the_page_follows_a_training_to_its_result(page, database):  # noqa: F811
    def live(session):
        session.add(
            ModelVersion(
                name="rakel-live",
                source="files",
                kind="full",
                status="active",
                figures=figures(0.63, 0.046),
                activated_at=utcnow(),
                activated_by="start",
            )
        )

    database.run(live)
    await log_in(page, "/staff/models")
    await page.get_by_role("button", name="Tren ny modell").click()
    await expect(page.get_by_role("status").filter(has_text="Treningen er bestilt")).to_be_visible()
    stage = page.locator("#training-stage")
    await expect(stage).to_have_text("venter på treneren")
    assert await page.get_by_role("button", name="Tren ny modell").is_disabled()
    assert await axe_violations(page) == []

    step(database, status="training", stage="training", started_at=utcnow())
    await expect(stage).to_have_text("trener modellen")
    step(database, status="evaluating", stage="evaluating")
    await expect(stage).to_have_text("evaluerer på ekte spørsmål")
    live_id = database.run(
        lambda s: s.scalar(select(ModelVersion.id).where(ModelVersion.source == "files"))
    )
    step(
        database,
        status="held_back",
        stage="held_back",
        finished_at=utcnow(),
        compared_with_id=live_id,
        kind="finetune",
        training_seconds=171.0,
        figures=figures(0.58, 0.05),
        reason="Holdt tilbake: riktige svar falt fra 63,0 % til 58,0 %.",
    )
    # The script reloads the page once the trainer is done.
    await expect(page.locator("#latest-status")).to_contain_text("Holdt tilbake")
    await expect(page.locator("#latest-reason")).to_contain_text("falt fra 63,0 % til 58,0 %")
    table = page.get_by_role("table", name="Før og etter")
    overall = table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="Riktige svar", exact=True)
    )
    await expect(overall).to_contain_text("-5,0 poeng")
    await expect(page.locator("#training-stage")).to_have_count(0)
    assert await page.get_by_role("button", name="Tren ny modell").is_enabled()
    assert await axe_violations(page) == []
