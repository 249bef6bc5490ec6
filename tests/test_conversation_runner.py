"""bot/evaluation/conversations.py without a model: the file format is checked, and a
reply is read as the article or the kind of reply it is."""

from __future__ import annotations

import pytest

from bot.content.catalogue import catalogue
from bot.content.render import KnowledgeBase
from bot.evaluation.conversations import (
    CONVERSATIONS,
    ConversationError,
    Reply,
    ReplyReader,
    SetReport,
    is_right,
    load,
    play,
)
from bot.settings import load_settings
from tests.test_handoff_e2e import text


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeBase:
    return KnowledgeBase.from_settings(load_settings())


@pytest.fixture(scope="module")
def reader(knowledge) -> ReplyReader:
    return ReplyReader(knowledge)


def test_the_train_set_has_forty_conversations_of_several_turns():
    conversations = load(CONVERSATIONS / "train.yml", catalogue().articles)
    assert len(conversations) >= 40
    assert all(len(c.turns) >= 2 for c in conversations)
    turns = [t for c in conversations for t in c.turns]
    assert sum(t.followup for t in turns) >= 15
    assert sum(t.switch for t in turns) >= 5


def test_the_holdout_set_loads_with_clicks_and_hand_offs():
    conversations = load(CONVERSATIONS / "holdout.yml", catalogue().articles)
    assert len(conversations) >= 20
    turns = [t for c in conversations for t in c.turns]
    # A click sends the article's button payload, as the widget and Teams do.
    assert '/faq{"article_id": "teams_devices_buy"}' in [t.user for t in turns]
    handoff = next(t for t in turns if t.expect_kind == "handoff")
    assert is_right(handoff, Reply("ticket_form")) and is_right(handoff, Reply("ticket_offer"))
    assert not is_right(handoff, Reply("fallback"))


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("- id: a\n  source: s\n  turns:\n    - user: x\n      expect: {}\n", "expect one of"),
        (
            "- id: a\n  source: s\n  turns:\n    - user: x\n      expect: {article: nope}\n"
            "    - user: y\n      expect: {kind: ok}\n",
            "unknown article 'nope'",
        ),
        (
            "- id: a\n  source: s\n  turns:\n    - user: x\n      expect: {kind: maybe}\n",
            "unknown kind 'maybe'",
        ),
        ("- id: a\n  turns: []\n", "no source"),
        (
            "- id: a\n  source: s\n  turns:\n    - click: nope\n      expect: {kind: ok}\n",
            "unknown article 'nope'",
        ),
        ("- id: a\n  source: s\n  turns:\n    - user: x\n      expect: {kind: ok}\n", "two turns"),
    ],
)
def test_a_conversation_that_does_not_say_what_to_expect_is_refused(tmp_path, body, error):
    path = tmp_path / "set.yml"
    path.write_text("conversations:\n" + "\n".join("  " + line for line in body.splitlines()))
    with pytest.raises(ConversationError, match=error):
        load(path, catalogue().articles)


def test_replies_are_read_as_what_the_user_sees(reader, knowledge):
    article = knowledge.get("teams_camera_sound")
    answer = [{"text": knowledge.render(article)}, {"text": "Hjalp dette?"}]
    assert reader.read(answer).article == "teams_camera_sound"
    clarifier = [
        {
            "text": text("utter_topic_clarifier", topic_label="Teams"),
            "buttons": [{"title": "x", "payload": '/faq{"article_id": "teams_mobile"}'}],
        }
    ]
    assert reader.read(clarifier) == Reply(
        "clarifier", None, ("teams_mobile",), clarifier[0]["text"]
    )
    sorry_then_more = [{"text": text("utter_sorry_not_helped")}, {"text": text("utter_next_best")}]
    assert reader.read(sorry_then_more).kind == "next_best"
    sorry_then_offer = [
        {"text": text("utter_sorry_not_helped")},
        {"text": text("utter_offer_ticket")},
    ]
    assert reader.read(sorry_then_offer).kind == "ticket_offer"
    summary = text(
        "utter_ticket_summary", description="d", municipality="Molde", priority="p", contact="c"
    )
    assert reader.read([{"text": summary}]).kind == "ticket_summary"
    assert (
        reader.read([{"text": text("utter_unsure")}, {"text": text("utter_offer_ticket")}]).kind
        == "fallback"
    )


def test_a_switch_answered_from_the_old_topic_counts_as_carried(tmp_path, reader, knowledge):
    path = tmp_path / "set.yml"
    path.write_text(
        "conversations:\n"
        "  - id: a\n    source: s\n    turns:\n"
        "      - user: q1\n        expect: {article: teams_screen_share}\n"
        "      - user: q2\n        switch: true\n        expect: {article: mfa_change_password}\n"
        "      - user: q3\n        followup: true\n        expect: {article: mfa_code_rejected}\n"
    )
    replies = {
        "q1": "teams_screen_share",
        "q2": "teams_tips",  # wrong, and from the previous topic
        "q3": "mfa_code_rejected",
    }

    def send(sender, message):
        return [{"text": knowledge.render(knowledge.get(replies[message]))}]

    content = catalogue()
    report = play(load(path, content.articles), send, reader, content, "t")
    assert [r.right for r in report.results] == [True, False, True]
    assert report.context_wrongly_carried == 1.0
    assert report.followups_in_context == 1.0
    assert report.all_turns_right == pytest.approx(2 / 3)
    assert "wrong a#2 'q2': teams_tips (want mfa_change_password)" in "\n".join(report.lines())


def test_a_set_without_follow_ups_reports_no_share_rather_than_a_perfect_one():
    report = SetReport("t", [])
    assert report.followups_in_context != report.followups_in_context  # NaN, not 0 or 1
    assert "follow-ups in context    nan" in "\n".join(report.lines())
