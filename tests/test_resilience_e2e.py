"""Faults and bad input: Rakel stays up, answers politely, and loses nothing."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.domain import response as notice

pytestmark = pytest.mark.e2e


def webhook(rakel) -> str:
    return f"{rakel.rasa_url}/webhooks/rest/webhook"


def assert_rasa_up(rakel):
    assert requests.get(f"{rakel.rasa_url}/", timeout=10).status_code == 200


def test_action_server_down_mid_conversation(rakel, user):
    first = user.texts("hvordan setter jeg opp tofaktor?")
    assert first[-1] == "Hjalp dette?"
    rakel.stop("actions")
    try:
        # "ja" runs a custom action: the user gets a polite notice, not silence.
        assert user.texts("ja") == [notice("utter_action_unavailable")]
        assert_rasa_up(rakel)
    finally:
        rakel.start("actions")
    # Once the action server is back, the same conversation goes on.
    again = user.texts("hvordan setter jeg opp tofaktor?")
    assert again[-1] == "Hjalp dette?"
    assert notice("utter_action_unavailable") not in again


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "JSON object"),
        (b"\xff\xfe\x00\x01binary", 400, "JSON object"),
        (b"[1, 2, 3]", 400, "JSON object"),
        (json.dumps({"message": "hei"}).encode(), 400, "'sender'"),
        (json.dumps({"sender": "", "message": "hei"}).encode(), 400, "'sender'"),
        (json.dumps({"sender": "x" * 300, "message": "hei"}).encode(), 400, "'sender'"),
        (json.dumps({"sender": "a"}).encode(), 400, "'message'"),
        (json.dumps({"sender": "a", "message": 42}).encode(), 400, "'message'"),
        (
            json.dumps({"sender": "a", "message": "hei", "metadata": [1]}).encode(),
            400,
            "'metadata'",
        ),
    ],
)
def test_malformed_requests_get_a_precise_400(rakel, body, status, error):
    response = requests.post(
        webhook(rakel), data=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == status
    assert error in response.text
    assert_rasa_up(rakel)


@pytest.mark.parametrize(
    "text",
    [
        "😀🔥 teams virker ikke 🙈",
        "مرحبا، لا أستطيع تسجيل الدخول",
        "<script>alert('x')</script> hjelp med teams",
        "'; DROP TABLE events; -- hvordan logger jeg på",
        "\u200b\u200b\u200b",
        "   ",
    ],
)
def test_odd_text_gets_a_reply(rakel, user, text):
    messages = user.say(text)
    assert messages and all("text" in m for m in messages)
    assert_rasa_up(rakel)


def test_a_megabyte_message_gets_a_polite_answer(rakel, user):
    assert user.texts("a" * 1_000_000) == [notice("utter_message_too_long")]
    # It was not processed, so nothing of it was stored.
    assert all(e["event"] != "user" for e in user.tracker()["events"])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
bodies = st.one_of(
    st.fixed_dictionaries(
        {"sender": st.text(min_size=1, max_size=40), "message": st.text(max_size=300)},
        optional={"metadata": json_values},
    ),
    st.dictionaries(
        st.sampled_from(["sender", "message", "metadata", "x"]), json_values, max_size=4
    ),
    json_values,
)


@settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_fuzzed_requests_never_crash_the_rest_channel(rakel, body):
    response = requests.post(webhook(rakel), json=body, timeout=60)
    assert response.status_code in (200, 400), (body, response.status_code, response.text[:200])
    if response.status_code == 200:
        assert isinstance(response.json(), list) and response.json()
