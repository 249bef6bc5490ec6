"""Transcripts and prefilled descriptions from Rasa tracker events."""

from __future__ import annotations

from bot.tickets.transcript import build_transcript, last_questions


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
