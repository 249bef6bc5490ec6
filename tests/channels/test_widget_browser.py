"""The intranet widget in real headless Chromium against the real Rakel processes."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Page, expect, sync_playwright

from bot.content.render import KnowledgeBase
from bot.settings import load_settings
from tests.support.browser import AXE, CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

UNREACHABLE = "Rakel er ikke tilgjengelig akkurat nå"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, rakel) -> Iterator[Page]:
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{rakel.web_url}/widget/demo")
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def log(page: Page):
    return page.get_by_role("log")


def ask(page: Page, text: str) -> None:
    box = page.get_by_label("Skriv spørsmålet ditt")
    box.fill(text)
    box.press("Enter")


def open_widget(page: Page) -> None:
    page.get_by_role("button", name="Spør 'o Rakel").click()
    expect(page.get_by_role("heading", name="Spør 'o Rakel")).to_be_visible()
    connected(page)


def connected(page: Page) -> None:
    expect(page.locator("#rakel-panel")).to_have_attribute("data-connection", "open")


def first_line_of_answer() -> str:
    knowledge = KnowledgeBase.from_settings(load_settings())
    return knowledge.render(knowledge.get("mfa_setup_app")).strip().splitlines()[0]


def test_question_button_and_reload(page, rakel):
    open_widget(page)
    expect(log(page)).to_contain_text("Hei! Jeg er Rakel")  # the greeting
    ask(page, "Hvordan setter jeg opp tofaktor?")

    expect(log(page)).to_contain_text(first_line_of_answer())
    expect(log(page)).to_contain_text("Hjalp dette?")
    page.get_by_role("button", name="Ja", exact=True).click()
    expect(log(page)).to_contain_text("Så bra! Er det noe mer jeg kan hjelpe med?")
    expect(page.get_by_role("button", name="Ja", exact=True)).to_have_count(0)

    session = page.evaluate("JSON.parse(sessionStorage.getItem('rakel-widget:session'))")
    bot_messages = log(page).locator(".rakel-msg-bot").count()

    page.reload()
    # Open state, history and session survive the reload...
    expect(log(page)).to_contain_text(first_line_of_answer())
    expect(log(page)).to_contain_text("Så bra!")
    connected(page)
    assert page.evaluate("JSON.parse(sessionStorage.getItem('rakel-widget:session'))") == session
    # ...and so does the dialogue: the same Rasa conversation continues.
    ask(page, "takk")
    expect(log(page).locator(".rakel-msg-bot")).to_have_count(bot_messages + 1)
    tracker = requests.get(
        f"{rakel.rasa_url}/conversations/anon:widget:{session.split('.')[0]}/tracker",
        params={"token": rakel.rasa_token},
        timeout=30,
    ).json()
    texts = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert texts == ["Hvordan setter jeg opp tofaktor?", "/affirm", "takk"]


def test_keyboard_only_and_text_is_never_html(page):
    page.keyboard.press("Tab")  # the launcher is the first control on the demo page
    expect(page.get_by_role("button", name="Spør 'o Rakel")).to_be_focused()
    page.keyboard.press("Enter")
    box = page.get_by_label("Skriv spørsmålet ditt")
    expect(box).to_be_focused()
    connected(page)
    page.keyboard.type('<img src=x onerror="window.hacked=1"> hei')
    page.keyboard.press("Enter")
    expect(log(page)).to_contain_text('<img src=x onerror="window.hacked=1"> hei')
    expect(log(page).locator("img")).to_have_count(0)
    assert page.evaluate("window.hacked") is None
    page.keyboard.press("Escape")
    expect(page.get_by_role("log")).to_be_hidden()
    expect(page.get_by_role("button", name="Spør 'o Rakel")).to_be_focused()


def test_links_are_safe(page):
    # Bot text with Markdown and a javascript: link, rendered by the widget's own code.
    open_widget(page)
    page.evaluate("""() => {
        sessionStorage.setItem('rakel-widget:history', JSON.stringify([{sender: 'bot',
          text: 'Se [portalen](https://portal.example/x) og [dette](javascript:alert(1)) ' +
                'eller http://intranett.example/hjelp.'}]));
    }""")
    page.reload()
    links = log(page).locator("a")
    expect(links).to_have_count(2)
    for i in range(2):
        assert links.nth(i).get_attribute("rel") == "noopener noreferrer"
        assert re.match(r"^https?://", links.nth(i).get_attribute("href"))
    expect(log(page)).to_contain_text("[dette](javascript:alert(1))")


def test_no_serious_accessibility_violations(page):
    open_widget(page)
    ask(page, "Hvordan setter jeg opp tofaktor?")
    expect(page.get_by_role("button", name="Nei", exact=True)).to_be_visible()
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}));
    }""")
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert serious == []


def test_rakel_down_is_announced_in_norwegian(page, rakel):
    open_widget(page)
    expect(page.get_by_role("status")).to_have_text("")
    rakel.stop("rasa")
    try:
        expect(page.get_by_role("status")).to_contain_text(UNREACHABLE, timeout=30_000)
        # Typing now keeps the text and says it was not sent.
        ask(page, "hallo?")
        expect(page.get_by_role("status")).to_contain_text("Meldingen ble ikke sendt")
        expect(page.get_by_label("Skriv spørsmålet ditt")).to_have_value("hallo?")
        # A fresh visit while Rakel is down shows the notice instead of vanishing.
        page.reload()
        expect(page.get_by_role("status")).to_contain_text(UNREACHABLE, timeout=30_000)
    finally:
        rakel.start("rasa")
    expect(page.get_by_role("status")).to_contain_text(
        "Rakel er tilgjengelig igjen", timeout=60_000
    )
