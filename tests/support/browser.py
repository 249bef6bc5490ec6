"""What the Chromium tests of the staff pages share: the real web app on a free
loopback port, how Chromium is started here, logging in, and the axe check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from playwright.async_api import Page, async_playwright

from bot.settings import PROJECT_ROOT
from devtools.ports import free_port
from tests.support.staff import ADMIN, ADMIN_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = PROJECT_ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """`app` served on 127.0.0.1 in this event loop; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def staff_page(base_url: str, **context_options: Any) -> AsyncIterator[Page]:
    """A Chromium page on `base_url` that fails the test if a dialog opened: a script
    from user data ran in a staff page."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(base_url=base_url, **context_options)
        page = await context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        try:
            yield page
        finally:
            await browser.close()
        assert dialogs == [], "a script from user data ran in the page"


async def log_in(page: Page, next_path: str = "/staff/") -> None:
    """Log in as the seeded admin through the login page a protected path sends to,
    by keyboard only."""
    await page.goto(next_path)
    assert "/login" in page.url
    await page.get_by_label("Brukernavn").fill(ADMIN)
    await page.get_by_label("Passord").fill(ADMIN_PASSWORD)
    await page.get_by_label("Passord").press("Enter")
    await page.wait_for_url(f"**{next_path}")


async def axe_violations(page: Page) -> list[dict]:
    """Every axe WCAG 2.1 A/AA violation of the page, whatever its impact. axe is
    injected as an inline script: open the page's context with bypass_csp=True."""
    await page.add_script_tag(path=str(AXE))
    return await page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}));
    }""")
