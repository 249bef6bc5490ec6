"""End to end: the real Rasa server, action server and web service answer in Norwegian,
and a conversation survives a restart of the Rasa server."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from bot.content.render import KnowledgeBase
from bot.settings import load_settings

pytestmark = pytest.mark.e2e


def test_greeting_is_answered_in_norwegian(user):
    replies = user.texts("hei")
    assert replies, "Rakel did not answer a greeting"
    assert "Rakel" in replies[0] and "Teams" in replies[0]


def test_it_question_gets_the_knowledge_article(user):
    knowledge = KnowledgeBase.from_settings(load_settings())
    article = knowledge.get("mfa_setup_app")
    messages = user.say("hvordan setter jeg opp tofaktor på mobilen?")
    texts = [m.get("text", "") for m in messages]
    # Rasa's output channels send each paragraph of a text as its own message.
    assert knowledge.render(article).strip() in "\n\n".join(texts)
    # Then Rakel asks whether it helped, with yes/no buttons.
    assert texts[-1] == "Hjalp dette?"
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/affirm", "/deny"]


def test_health_reports_every_process(rakel):
    response = requests.get(f"{rakel.web_url}/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "rasa": "ok",
        "action_server": "ok",
        "database": "ok",
    }


def test_rasa_runs_with_rakels_runtime_fixes(rakel):
    # `bot.cli run rasa` execs bot.rasa_runtime (Rasa's CLI plus our fixes, measured
    # in docs/performance.md) rather than the plain `rasa` script.
    cmdline = Path(f"/proc/{rakel.processes['rasa'].pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[1:4] == [b"-m", b"bot.rasa_runtime", b"run"]


def test_no_token_is_on_any_command_line(rakel):
    # Every local user can read /proc/<pid>/cmdline (and `ps`); the tokens stay out of it.
    tokens = [
        (rakel.var_dir / "secrets" / name).read_bytes().strip()
        for name in ("rasa_token", "action_token")
    ]
    for name, process in rakel.processes.items():
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert not [token for token in tokens if token in cmdline], name
        assert b"--auth-token" not in cmdline, name


def test_action_server_answers_only_rasa(rakel, user):
    call = {"next_action": "action_hello_world", "sender_id": "x", "tracker": {}, "domain": {}}
    webhook = f"{rakel.actions_url}/webhook"
    assert requests.post(webhook, json=call, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * 43}
    assert requests.post(webhook, json=call, headers=wrong, timeout=10).status_code == 403
    assert requests.get(f"{rakel.actions_url}/actions", timeout=10).status_code == 401
    assert requests.get(f"{rakel.actions_url}/health", timeout=10).status_code == 200
    # Rasa's own action calls carry the token: the article answer is an action's.
    assert user.texts("hvordan setter jeg opp tofaktor på mobilen?")[-1] == "Hjalp dette?"


def test_rasa_http_api_needs_the_token(rakel, user):
    user.say("hei")
    url = f"{rakel.rasa_url}/conversations/{user.conversation_id}/tracker"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, params={"token": "wrong"}, timeout=10).status_code == 401
    assert requests.get(url, params={"token": rakel.rasa_token}, timeout=10).status_code == 200


def test_conversation_survives_a_rasa_restart(rakel, user):
    user.say("hvordan setter jeg opp tofaktor?")
    before = [e["text"] for e in user.tracker()["events"] if e["event"] == "user"]
    rakel.restart("rasa")
    after = [e["text"] for e in user.tracker()["events"] if e["event"] == "user"]
    assert after[: len(before)] == before
    # The dialogue state survived too: "ja" still answers the "Hjalp dette?" question.
    assert user.texts("ja") == ["Så bra! Er det noe mer jeg kan hjelpe med?"]


def test_health_reports_a_stopped_action_server(rakel):
    rakel.stop("actions")
    try:
        response = requests.get(f"{rakel.web_url}/health", timeout=10)
        assert response.status_code == 503
        assert response.json()["checks"]["action_server"]["status"] == "error"
    finally:
        rakel.start("actions")
