"""action_answer_article and action_helped_feedback with real trackers."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from bot.actions import services
from bot.actions.decision import THRESHOLDS
from bot.actions.feedback import ActionHelpedFeedback
from bot.actions.knowledge import ActionAnswerArticle
from bot.models import Feedback, NluMiss
from tests.support.trackers import parse_data, tracker, user_event


async def run(action, tracker_, domain):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, domain)
    return dispatcher.messages, events


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_answers_with_the_selected_article_and_its_source(database, domain):
    message = parse_data("hvordan setter jeg opp tofaktor", "faq", article="mfa_setup_app")
    messages, events = await run(ActionAnswerArticle(), tracker(message), domain)
    knowledge = services.knowledge()
    article = knowledge.get("mfa_setup_app")
    assert messages[0]["response"] == "utter_article"
    assert messages[0]["article_answer"] == knowledge.render(article)
    source = knowledge.source_line(article)
    assert messages[0]["article_source"] == (f"\n\n{source}" if source else "")
    assert slot_events(events) == {
        "last_article": "mfa_setup_app",
        "fallback_count": 0,
        "article_needs_person": False,
        "clarify_exhausted": None,
        "knowledge_handover": None,
        "current_topic": "two_factor",
        "next_best": [],
        "next_best_offered": False,
    }


async def test_an_unsure_selector_answers_nothing_and_hands_over_to_clarify(database, domain):
    # The best article is about as likely as "other IT": stating it would be a guess.
    close = THRESHOLDS.answer_confidence + 0.01
    message = parse_data(
        "teams på mobilen",
        "faq",
        ranking=[("teams_mobile", close), ("teams_not_starting", THRESHOLDS.suggest_confidence)],
    )
    message["intent_ranking"].append(
        {"name": "other_it", "confidence": close - THRESHOLDS.answer_margin + 0.005}
    )
    messages, events = await run(ActionAnswerArticle(), tracker(message), domain)
    assert messages == []
    assert slot_events(events) == {"article_needs_person": None, "knowledge_handover": "suggest"}


async def test_report_based_article_carries_the_source_line(database, domain):
    message = parse_data("hvor mange pc-er ble byttet", "faq", article="pc_rollout")
    messages, _ = await run(ActionAnswerArticle(), tracker(message), domain)
    assert messages[0]["article_source"].startswith("\n\nKilde: ROR-IKT årsrapport 2020, kap.")
    assert "652" in messages[0]["article_answer"]


async def test_button_payload_article_wins_over_the_selector(database, domain):
    message = parse_data(
        "/faq",
        "faq",
        article="teams_intro",
        entities=[{"entity": "article_id", "value": "mfa_lost_phone"}],
    )
    _, events = await run(ActionAnswerArticle(), tracker(message), domain)
    assert slot_events(events)["last_article"] == "mfa_lost_phone"
    # Losing the authenticator phone needs the service desk: a ticket is offered.
    assert slot_events(events)["article_needs_person"] is True


async def test_unknown_article_is_treated_as_unclear(database, domain):
    message = parse_data("/faq", "faq", entities=[{"entity": "article_id", "value": "nope"}])
    messages, events = await run(ActionAnswerArticle(), tracker(message), domain)
    assert messages == []
    assert slot_events(events) == {"article_needs_person": None, "knowledge_handover": "suggest"}


async def test_yes_to_helped_is_stored_and_answered(database, domain):
    question = user_event("kamera teams svart", "faq", article="teams_camera_sound")
    latest = parse_data("ja", "affirm")
    messages, _ = await run(
        ActionHelpedFeedback(),
        tracker(latest, slots={"last_article": "teams_camera_sound"}, history=[question]),
        domain,
    )
    assert messages[0]["response"] == "utter_glad_helped"
    rows = database.run(lambda s: s.query(Feedback).all())
    assert [(r.article_id, r.helped, r.conversation_id) for r in rows] == [
        ("teams_camera_sound", True, "anon:rest:user-1")
    ]
    assert database.run(lambda s: s.query(NluMiss).count()) == 0


async def test_no_to_helped_records_the_question_as_a_miss(database, domain):
    question = user_event("kamera teams svart", "faq", article="teams_camera_sound")
    latest = parse_data("nei", "deny")
    messages, _ = await run(
        ActionHelpedFeedback(),
        tracker(latest, slots={"last_article": "teams_camera_sound"}, history=[question]),
        domain,
    )
    assert messages[0]["response"] == "utter_sorry_not_helped"
    misses = database.run(
        lambda s: [(m.kind, m.text, m.predicted_intent) for m in s.query(NluMiss).all()]
    )
    assert misses == [("not_helped", "kamera teams svart", "faq/teams_camera_sound")]
    assert database.run(lambda s: s.query(Feedback).one().helped) is False


async def test_a_resent_feedback_call_stores_nothing_twice(database, domain):
    """nginx resends an action call whose action server died before answering; the
    first attempt may already have committed. Keyed by Rasa's message id, the second
    run finds the rows; the user's next "nei" (a new message) is stored again."""
    question = user_event("kamera teams svart", "faq", article="teams_camera_sound")
    first = tracker(
        parse_data("nei", "deny"),
        slots={"last_article": "teams_camera_sound"},
        history=[question],
        message_id="a" * 32,
    )
    for _ in range(2):
        messages, _ = await run(ActionHelpedFeedback(), first, domain)
        assert messages[0]["response"] == "utter_sorry_not_helped"
    assert database.run(lambda s: s.query(Feedback).count()) == 1
    assert database.run(lambda s: s.query(NluMiss).count()) == 1
    later = tracker(
        parse_data("nei", "deny"),
        slots={"last_article": "teams_camera_sound"},
        history=[question],
        message_id="b" * 32,
    )
    await run(ActionHelpedFeedback(), later, domain)
    ids = database.run(lambda s: sorted(r.message_id for r in s.query(Feedback).all()))
    assert ids == ["a" * 32, "b" * 32]
    assert database.run(lambda s: s.query(NluMiss).count()) == 2


async def test_feedback_still_answers_when_the_database_is_down(tmp_path, monkeypatch, domain):
    monkeypatch.setenv("RAKEL_DB_URL", "sqlite:////proc/no-such-dir/rakel.db")
    services.reset()
    try:
        messages, _ = await run(
            ActionHelpedFeedback(),
            tracker(parse_data("ja", "affirm"), slots={"last_article": "teams_intro"}),
            domain,
        )
        assert messages[0]["response"] == "utter_glad_helped"
    finally:
        services.reset()


def rendered_reply(message: dict, domain: dict) -> str:
    """The reply as the user reads it: domain.yml's template filled with the action's values."""
    from rasa.core.nlg.interpolator import interpolate_text

    template = domain["responses"][message["response"]][0]["text"]
    return interpolate_text(template, message)


async def test_an_answer_with_general_steps_does_not_cite_the_report_as_its_source(
    database, domain
):
    # sd_priorities states the report's figures (22 Kritisk, 39 Høy) and adds our own advice.
    message = parse_data("hva betyr prioritet kritisk", "faq", article="sd_priorities")
    messages, _ = await run(ActionAnswerArticle(), tracker(message), domain)
    reply = rendered_reply(messages[0], domain)
    assert "22" in reply and "Kilde:" not in reply
    assert reply.endswith(
        "\n\nTall og fakta er fra ROR-IKT årsrapport 2020, kap. 2.1.1 Kundeservice. "
        "Rådene er generell veiledning."
    )


async def test_an_answer_wholly_from_the_report_names_it_as_the_source(database, domain):
    message = parse_data("hvor mange saker fikk kundeservice", "faq", article="sd_volumes")
    messages, _ = await run(ActionAnswerArticle(), tracker(message), domain)
    reply = rendered_reply(messages[0], domain)
    assert reply.endswith(
        "\n\nKilde: ROR-IKT årsrapport 2020, kap. 2.1.1 Kundeservice og 2.1.2 Drift"
    )


async def test_pure_general_guidance_has_no_source_line(database, domain):
    message = parse_data("mistet mobilen", "faq", article="mfa_lost_phone")
    messages, _ = await run(ActionAnswerArticle(), tracker(message), domain)
    reply = rendered_reply(messages[0], domain)
    assert reply == services.knowledge().render(services.knowledge().get("mfa_lost_phone"))
    assert "årsrapport" not in reply
