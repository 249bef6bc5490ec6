"""Transcripts and prefilled descriptions from Rasa tracker events."""

from __future__ import annotations

import json

from bot.tickets.transcript import build_transcript, last_questions, read_transcript


def user(text, intent, ts=1_790_000_000.0):
    return {
        "event": "user",
        "text": text,
        "timestamp": ts,
        "parse_data": {"intent": {"name": intent}},
    }


def bot(text, buttons=None, ts=1_790_000_001.0):
    return {
        "event": "bot",
        "text": text,
        "timestamp": ts,
        "data": {"buttons": buttons} if buttons else {},
    }


def test_transcript_keeps_order_buttons_and_clicked_titles():
    events = [
        {"event": "action", "name": "action_listen"},
        user("passord: hemmelig1 virker ikke", "faq"),
        bot("Hjalp dette?", [{"title": "Nei", "payload": "/deny"}]),
        user("/deny", "deny"),
        {"event": "slot", "name": "x", "value": 1},
    ]
    turns = build_transcript(events)
    assert [t["sender"] for t in turns] == ["user", "bot", "user"]
    assert turns[0]["text"] == "passord: [passord fjernet] virker ikke"
    assert turns[0]["timestamp"] == "2026-09-21T14:13:20+00:00"
    assert turns[1]["buttons"] == [{"title": "Nei", "payload": "/deny"}]
    assert (turns[2]["text"], turns[2]["payload"]) == ("Nei", "/deny")


def test_last_questions_skip_steering_messages_form_answers_and_old_tickets():
    events = [
        user("Teams starter ikke", "faq"),
        {"event": "action", "name": "action_create_ticket"},  # handed off already
        user("hei", "greet"),
        user("skriveren er tom for toner", "nlu_fallback"),
        user("/affirm", "affirm"),
        {"event": "active_loop", "name": "ticket_form"},
        user("Molde", "faq"),  # a form answer
        {"event": "active_loop", "name": None},
        user("og skjermen flimrer, tlf 91234567", "faq"),
        user("ja", "affirm"),
    ]
    assert last_questions(events) == [
        "skriveren er tom for toner",
        "og skjermen flimrer, tlf [telefonnummer fjernet]",
    ]
    assert last_questions(events, limit=1) == ["og skjermen flimrer, tlf [telefonnummer fjernet]"]


def test_a_click_after_a_plain_bot_message_keeps_its_button_title():
    # The buttons stay clickable in the chat after a plain message: the stored text is
    # the title the user clicked, as the staff page shows it (one rule, ShownButtons).
    events = [
        bot("Hjalp dette?", [{"title": "Ja, takk", "payload": "/affirm"}]),
        bot("Du kan også spørre om noe annet."),
        user("/affirm", "affirm"),
    ]
    stored = build_transcript(events)
    assert (stored[2]["text"], stored[2]["payload"]) == ("Ja, takk", "/affirm")
    turns = read_transcript(json.dumps(stored))
    assert (turns[2].text, turns[2].clicked) == ("Ja, takk", "Ja, takk")


def test_a_stored_click_is_shown_by_its_button_title_and_bad_entries_are_skipped():
    raw = json.dumps(
        [
            {
                "sender": "bot",
                "text": "Hjalp dette?",
                "buttons": [{"title": "Nei", "payload": "/deny"}],
            },
            "not a turn",
            {"sender": "user", "text": "/deny", "payload": "/deny", "timestamp": 1_790_000_000},
            {"sender": "user", "text": "/ukjent", "payload": "/ukjent"},
        ]
    )
    turns = read_transcript(raw)
    assert [t.clicked for t in turns] == [None, "Nei", "/ukjent"]
    assert turns[1].at.isoformat() == "2026-09-21T14:13:20+00:00"
    assert read_transcript("{ikke json") == [] and read_transcript(None) == []
