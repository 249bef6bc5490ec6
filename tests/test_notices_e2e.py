"""Outage notices end to end: published through the web service's API, told by Rakel.

Rasa, the action server and the web service run as processes (tests/conftest.py
`rakel`); an admin publishes over /api/notices, a user asks over the REST channel.
Each test resolves its notices afterwards: the processes are shared with the other
end-to-end tests, whose articles must not get a notice in front of them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import requests

from bot.settings import PROJECT_ROOT as ROOT
from tests.conftest import RestClient

pytestmark = pytest.mark.e2e

ADMIN_USER = "driftsadmin"
ADMIN_PASSWORD = "e2e-driftsmeldinger-passord"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class NoticeDesk:
    """The service desk publishing notices through the JSON API, as monitoring would."""

    def __init__(self, web_url: str) -> None:
        self.web_url = web_url
        self.http = requests.Session()
        self.published: list[int] = []

    def login(self) -> None:
        page = self.http.get(f"{self.web_url}/login", timeout=30)
        token = CSRF.search(page.text)
        assert token, page.text
        done = self.http.post(
            f"{self.web_url}/login",
            data={
                "csrf_token": token.group(1),
                "username": ADMIN_USER,
                "password": ADMIN_PASSWORD,
                "next": "/staff/notices",
            },
            allow_redirects=False,
            timeout=30,
        )
        assert done.status_code == 303, done.text

    def publish(self, **fields) -> dict:
        now = datetime.now(timezone.utc)
        body = {
            "text": "Vi jobber med saken.",
            "municipalities": "alle",
            "starts_at": (now - timedelta(minutes=5)).isoformat(),
            "expected_end_at": (now + timedelta(hours=2)).isoformat(),
            "status": "aktiv",
            **fields,
        }
        response = self.http.post(f"{self.web_url}/api/notices", json=body, timeout=30)
        assert response.status_code == 201, response.text
        notice = response.json()
        self.published.append(notice["id"])
        return notice

    def resolve_all(self) -> None:
        for notice_id in self.published:
            response = self.http.patch(
                f"{self.web_url}/api/notices/{notice_id}", json={"status": "lost"}, timeout=30
            )
            assert response.status_code == 200, response.text


@pytest.fixture
def desk(rakel) -> Iterator[NoticeDesk]:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "create-staff", ADMIN_USER, "--admin"],
        input=ADMIN_PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=rakel.env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0 or "already exists" in done.stderr, done.stderr
    desk = NoticeDesk(rakel.web_url)
    desk.login()
    yield desk
    desk.resolve_all()


def test_status_question_without_notices_is_honest(rakel, desk, user: RestClient):
    reply = user.reply("er det driftsproblemer nå?")
    assert reply.startswith("Ingen kjente feil akkurat nå"), reply
    # ... then the outage article's advice, which offers to report the fault.
    assert "meld saken" in reply


def test_status_question_with_a_notice_lists_it(rakel, desk, user: RestClient):
    title = f"Teams er nede {uuid.uuid4().hex[:6]}"
    desk.publish(title=title, service="teams", text="Møter og chat virker ikke.")
    texts = user.texts("er teams nede?")
    assert texts[0] == "Dette er kjente driftsproblemer akkurat nå:", texts
    listed = [t for t in texts if t.startswith(title)]
    assert listed == [
        f"{title} (Teams, alle kommunene): Møter og chat virker ikke. Forventet løst: "
        + listed[0].rsplit("Forventet løst: ", 1)[-1]
    ], texts
    assert "Ingen kjente feil" not in " ".join(texts)


def test_an_affected_service_question_gets_the_notice_first(rakel, desk, user: RestClient):
    title = f"Teams-feil {uuid.uuid4().hex[:6]}"
    desk.publish(title=title, service="teams")
    texts = user.texts("Teams starter ikke på PC-en min")
    assert texts[0].startswith(f"Kjent feil nå: {title}."), texts
    assert "Kundeservice jobber med saken" in texts[0]
    # The article follows as usual, and asks whether it helped.
    assert len(texts) >= 3 and texts[-1] == "Hjalp dette?", texts


def test_a_resolved_notice_is_no_longer_told(rakel, desk, user: RestClient):
    title = f"E-post nede {uuid.uuid4().hex[:6]}"
    notice = desk.publish(title=title, service="email")
    desk.http.patch(
        f"{desk.web_url}/api/notices/{notice['id']}", json={"status": "lost"}, timeout=30
    ).raise_for_status()
    assert title not in user.reply("er det driftsproblemer nå?")


def test_a_ticket_reported_during_a_notice_is_linked_to_it(rakel, desk, user: RestClient):
    title = f"Teams-brudd {uuid.uuid4().hex[:6]}"
    notice = desk.publish(title=title, service="teams")
    texts = user.texts("kameraet virker ikke i teams")
    assert texts[0].startswith(f"Kjent feil nå: {title}."), texts
    assert texts[-1] == "Hjalp dette?"
    user.texts("/deny")  # ... offers a ticket
    asked = user.say("/affirm")  # ... shows the notice: still a ticket?
    assert asked[0]["text"].startswith(
        f"Kundeservice vet allerede om denne feilen: {title}. Vi jobber med saken. Forventet "
    ), asked
    assert asked[-1]["text"].endswith(".\n\nVil du fortsatt melde en sak?"), asked
    assert [b["title"] for b in asked[-1]["buttons"]] == ["Ja", "Nei"], asked
    user.texts("/affirm")  # "Ja": the form asks for the municipality
    user.texts('/inform{"municipality": "Molde"}')
    user.texts('/inform{"priority": "hoy"}')
    user.texts("kari.nordmann@molde.kommune.example")
    done = " ".join(user.texts("/affirm"))
    match = re.search(r"RAK-\d+", done)
    assert match, done
    linked = desk.http.get(f"{desk.web_url}/api/notices/{notice['id']}", timeout=30).json()
    assert linked["tickets"] == [match.group(0)]


def test_no_to_a_ticket_during_a_notice_closes_politely(rakel, desk, user: RestClient):
    title = f"Teams nede {uuid.uuid4().hex[:6]}"
    notice = desk.publish(title=title, service="teams")
    user.texts("kameraet virker ikke i teams")
    user.texts("/deny")  # "Hjalp dette?" no: the ticket offer
    asked = " ".join(user.texts("/affirm"))
    assert title in asked and "Vil du fortsatt melde en sak?" in asked, asked
    closed = user.texts("/deny")
    assert closed == [
        "Greit, da melder jeg ingen sak. Kundeservice jobber med feilen. "
        "Spør meg gjerne om noe annet."
    ], closed
    linked = desk.http.get(f"{desk.web_url}/api/notices/{notice['id']}", timeout=30).json()
    assert linked["tickets"] == []
    # The conversation goes on as usual: no form is waiting for an answer.
    assert "Kjent feil nå" in " ".join(user.texts("Teams starter ikke på PC-en min"))


def test_a_vague_question_gets_the_notice_before_the_topic_clarifier(rakel, desk, user: RestClient):
    title = f"Teams-trøbbel {uuid.uuid4().hex[:6]}"
    desk.publish(title=title, service="teams")
    texts = user.texts("teams virker ikke")
    assert texts[0] == f"Kjent feil nå: {title}. Forventet " + texts[0].split("Forventet ", 1)[-1]
    assert texts[0].endswith("Kundeservice jobber med saken."), texts
    # ... then the Teams clarifier, with its buttons, as without a notice.
    assert len(texts) == 2 and "Teams" in texts[1], texts
