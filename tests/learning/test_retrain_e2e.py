"""The service desk teaches Rakel, end to end (issue 18): a message Rakel missed over
REST, assigned to an article in Chromium, a retraining the admin starts on the models
page, its evaluation, the activation through Rasa's `PUT /model`, and the same message
answered right over REST. Then a rollback restores the earlier answer, and a
deliberately harmful change is held back while the live model keeps answering.

A Rakel of its own (Rasa, actions, web service and the trainer) on the training
tests' fixture content and model (tests/support/fixture_content.py): the real pipeline
and trainer, on fewer articles, so each training takes about a minute.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import requests
from playwright.async_api import expect

from bot import content_changes
from bot.content.catalogue import catalogue
from bot.db import Database
from bot.settings import load_settings
from bot.train import ensure_model
from devtools.ports import free_port
from devtools.processes import Rakel, make_env, running
from tests.conftest import RestClient
from tests.support.browser import axe_violations, log_in, staff_page
from tests.support.fixture_content import fixture_env
from tests.support.staff import ADMIN, ADMIN_PASSWORD, make_miss

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.training]

# Worded unlike the article's examples: the live model is unsure about it.
MISSED = "jeg har fått ny jobbtelefon og nå kommer jeg ikke inn i noe"
ARTICLE = "mfa_new_phone"
# A mistake staff could make: every example question of the two-factor articles
# given to the opening-hours article. Measured on the fixture: right answers fall from
# 0.46 to 0.39 on the test split, confidently wrong ones rise from 0.25 to 0.31.
HARMFUL_TOPIC, HARMFUL_TARGET = "two_factor", "faq/sd_opening_hours"
ASKED = "hvordan setter jeg opp authenticator på mobilen"
TRAINING_TIMEOUT_MS = 12 * 60 * 1000


@pytest.fixture(scope="module")
def teachable(tmp_path_factory) -> Iterator[Rakel]:
    var_dir = tmp_path_factory.mktemp("teachable")
    ports = {name: free_port() for name in ("rasa", "actions", "web")}
    env = make_env(
        var_dir,
        ports,
        {
            **fixture_env(tmp_path_factory),
            "RAKEL_ADMIN_USER": ADMIN,
            "RAKEL_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "RAKEL_TRAINER_POLL_SECONDS": "0.5",
        },
    )
    # Trained (or taken from the session's cache) before Rasa starts with it.
    ensure_model(load_settings(env))
    with running(var_dir, ports, env, ("actions", "web", "rasa", "trainer")) as rakel:
        yield rakel


def database(rakel: Rakel) -> Database:
    return Database(f"sqlite:///{rakel.var_dir / 'rakel.db'}")


def rows(rakel: Rakel, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(rakel.var_dir / "rakel.db")) as connection:
        return connection.execute(sql, args).fetchall()


def live_model(rakel: Rakel) -> str:
    response = requests.get(
        f"{rakel.rasa_url}/status", params={"token": rakel.rasa_token}, timeout=30
    )
    response.raise_for_status()
    return response.json()["model_file"]


def answer_start() -> str:
    return catalogue().articles[ARTICLE].answer.strip().splitlines()[0][:50]


class Chatter:
    """Users who keep writing while the model is switched: every message is answered."""

    def __init__(self, rakel: Rakel) -> None:
        self.client = RestClient(rakel)
        self.stop = threading.Event()
        self.answered = 0
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                if self.client.texts("hei"):
                    self.answered += 1
                else:
                    self.failures.append("no reply")
            except requests.RequestException as exc:
                self.failures.append(repr(exc))
            self.stop.wait(1.0)

    def __enter__(self) -> Chatter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=90)


async def train_on_the_page(page, admin_url: str = "/staff/models") -> None:
    await page.goto(admin_url)
    await page.get_by_role("button", name="Tren ny modell").click()
    await expect(page.get_by_text("Treningen er bestilt")).to_be_visible()
    await expect(page.locator("#training-stage")).to_be_visible()
    # The page's script reloads it when the trainer is done.
    await expect(page.locator("#latest-status")).to_be_visible(timeout=TRAINING_TIMEOUT_MS)


async def test_a_missed_message_is_answered_right_after_staff_teach_and_an_admin_retrains(
    teachable,
):
    user = RestClient(teachable)
    before = user.reply(MISSED)
    assert answer_start() not in before
    [(miss_id,)] = rows(
        teachable,
        "SELECT id FROM nlu_misses WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
        user.conversation_id,
    )
    live_before = live_model(teachable)

    async with staff_page(teachable.web_url, bypass_csp=True) as page:
        await log_in(page, "/staff/misses")
        row = page.locator(f"#miss-{miss_id}")
        await row.get_by_label("Riktig svar på meldingen").select_option(
            label=catalogue().articles[ARTICLE].title
        )
        await row.get_by_role("button", name="Lagre").click()
        await expect(page.locator(f"#miss-{miss_id}")).to_contain_text(f"merket av {ADMIN}")

        with Chatter(teachable) as chatter:
            await train_on_the_page(page)
        await expect(page.locator("#latest-status")).to_contain_text("Aktiv")
        table = page.locator("#comparison")
        await expect(table).to_contain_text("Riktige svar")
        await expect(table).to_contain_text("Sikre, men gale svar")
        await expect(table).to_contain_text("Teams")
        assert await axe_violations(page) == []
        assert chatter.failures == [] and chatter.answered > 0

        # The same message, over REST, from a new conversation.
        assert answer_start() in RestClient(teachable).reply(MISSED)
        assert live_model(teachable) != live_before

        # One click back: the earlier model and its answer.
        await page.get_by_role("button", name="Rull tilbake til forrige modell").click()
        await expect(page.get_by_text("Den forrige modellen er tatt i bruk igjen")).to_be_visible()
        assert live_model(teachable) == live_before
        assert answer_start() not in RestClient(teachable).reply(MISSED)

    audit = [
        a
        for (a,) in rows(
            teachable, "SELECT action FROM content_audit WHERE model_id IS NOT NULL ORDER BY id"
        )
    ]
    assert audit[0] == "requested" and "activated" in audit and audit[-1] == "rolled_back"
    statuses = rows(teachable, "SELECT source, kind, status FROM model_versions ORDER BY id")
    # The request's row comes first; the model it replaced got its row when first seen.
    assert statuses == [("staff", "finetune", "rolled_back"), ("files", "full", "active")]


async def test_a_harmful_change_is_held_back_and_the_live_model_stays(teachable):
    live_before = live_model(teachable)
    answer_before = RestClient(teachable).reply(ASKED)
    knowledge = Path(teachable.env["RAKEL_KNOWLEDGE_DIR"])
    wrong = [
        example
        for article in catalogue(knowledge).articles.values()
        if article.topic == HARMFUL_TOPIC
        for example in article.examples
    ]
    assert len(wrong) > 500
    db = database(teachable)
    for text in wrong:
        miss = make_miss(db, text)
        db.run(
            lambda s, miss=miss: content_changes.assign(s, miss, HARMFUL_TARGET, ADMIN, knowledge)
        )
    db.dispose()

    async with staff_page(teachable.web_url, bypass_csp=True) as page:
        await log_in(page, "/staff/models")
        await train_on_the_page(page)
        await expect(page.locator("#latest-status")).to_contain_text("Holdt tilbake")
        await expect(page.locator("#latest-reason")).to_contain_text(
            "Den aktive modellen svarer fortsatt"
        )

    assert live_model(teachable) == live_before
    assert RestClient(teachable).reply(ASKED) == answer_before
    [(status, reason)] = rows(
        teachable,
        "SELECT status, reason FROM model_versions WHERE id = (SELECT max(id) FROM model_versions)",
    )
    assert status == "held_back" and "riktige svar falt" in reason
