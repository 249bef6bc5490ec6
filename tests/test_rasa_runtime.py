"""bot.rasa_runtime: Rasa's behaviour unchanged, the repeated work gone."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator, ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.utils import common

from bot import rasa_runtime

rasa_runtime.apply()

VALID = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "topic", "value": "mfa"}],
        "responses": [{"text": "Hei"}],
    },
    {"events": [{"event": "followup", "name": "utter_greet"}]},
    {},
]
ACTION = RemoteAction("action_answer_question", None)
INVALID = [
    {"events": "not a list"},
    {"events": [{"name": "topic"}]},  # an event needs its "event" type
    {"events": [{"event": "no-such-event"}]},
    {"responses": [["not", "an", "object"]]},
]


def original_outcome(result: dict) -> bool:
    try:
        return RemoteAction._validate_action_result.__wrapped__(ACTION, result)
    except ValidationError:
        return False


@pytest.mark.parametrize("result", VALID + INVALID)
def test_action_results_are_judged_exactly_as_rasa_judges_them(result):
    expected = original_outcome(result)
    if expected:
        assert ACTION._validate_action_result(result) is True
    else:
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            ACTION._validate_action_result(result)
    assert result in VALID if expected else result in INVALID


def test_the_response_schema_is_checked_once_not_per_response(monkeypatch):
    checks = []
    original = Draft202012Validator.check_schema.__func__
    monkeypatch.setattr(
        Draft202012Validator,
        "check_schema",
        classmethod(lambda cls, schema: checks.append(1) or original(cls, schema)),
    )
    for _ in range(20):
        assert ACTION._validate_action_result(VALID[1]) is True
    # Rasa's own code checks the schema against the meta-schema on every response.
    assert len(checks) <= 1
    checks.clear()
    RemoteAction._validate_action_result.__wrapped__(ACTION, VALID[1])
    assert checks == [1], "the comparison above would not notice Rasa's per-call check"


def test_event_types_resolve_as_in_rasa_and_walk_the_class_tree_once(monkeypatch):
    events = [
        UserUttered("hei", {"name": "greet", "confidence": 1.0}),
        BotUttered("Hei!"),
        SlotSet("topic", "mfa"),
        ActionExecuted("action_listen"),
    ]
    original = Event.resolve_by_type.__wrapped__
    for event in events:
        assert Event.resolve_by_type(event.type_name) is original(event.type_name)

    walks = []
    real_walk = common.all_subclasses
    monkeypatch.setattr(common, "all_subclasses", lambda cls: walks.append(cls) or real_walk(cls))
    for _ in range(50):
        restored = [Event.from_parameters(event.as_dict()) for event in events]
    assert restored == events
    assert walks == [], "event types already seen must not walk the class tree again"


def test_unknown_event_types_keep_rasas_handling():
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no-such-event")
    assert Event.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None  # Rasa's legacy TopicSet events


def test_apply_is_idempotent():
    validate, resolve = RemoteAction._validate_action_result, Event.resolve_by_type
    rasa_runtime.apply()
    assert (RemoteAction._validate_action_result, Event.resolve_by_type) == (validate, resolve)


def test_an_api_token_starting_with_a_dash_reaches_rasa(monkeypatch, tmp_path):
    from rasa.__main__ import create_argument_parser

    token = "-2q" + "x" * 40  # token_urlsafe may start with "-"
    monkeypatch.setenv("RAKEL_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("RAKEL_RASA_TOKEN", token)
    args = rasa_runtime.with_api_token(["run", "--enable-api"])
    assert create_argument_parser().parse_args(args).auth_token == token
    assert rasa_runtime.with_api_token([*args]) == args, "a given token is kept"
