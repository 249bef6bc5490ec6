"""End to end over the REST channel: every hand-off trigger leads to a ticket in the
database, the user can correct and cancel, and can ask for the status of their own
tickets only. Personal data never reaches the ticket, the tracker store or the logs."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing

import pytest
import yaml

from bot.settings import CONTACT_DEFAULTS, PROJECT_ROOT

pytestmark = pytest.mark.e2e

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
VALID_FNR = "15076500565"  # synthetic, valid check digits: masked
INVALID_FNR = "15076500566"  # wrong check digit: an ordinary number, kept
PASSWORD = "Sommer2026!"
PHONE = "912 34 567"


def text(name: str, **values: str) -> str:
    return RESPONSES[name][0]["text"].format(**values)


def ticket_row(rakel, public_id: str) -> dict:
    with closing(sqlite3.connect(rakel.var_dir / "rakel.db")) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute(
            "SELECT * FROM tickets WHERE public_id = ?", (public_id,)
        ).fetchone()
    assert row is not None, f"{public_id} is not in the database"
    return dict(row)


def tickets_of(rakel, conversation_id: str) -> list[dict]:
    with closing(sqlite3.connect(rakel.var_dir / "rakel.db")) as connection:
        connection.row_factory = sqlite3.Row
        return [
            dict(r)
            for r in connection.execute(
                "SELECT * FROM tickets WHERE conversation_id = ?", (conversation_id,)
            )
        ]


def created_id(replies: list[str]) -> str:
    match = re.search(r"RAK-\d+", replies[-1])
    assert match, replies
    expected = text("utter_ticket_created", ticket_id=match.group(0))
    assert replies == [expected]
    return match.group(0)


def answer_rest_of_form(
    user,
    municipality='/inform{"municipality": "Rauma"}',
    priority='/inform{"priority": "hoy"}',
    contact="kari.nordmann@rauma.kommune.no",
) -> list[dict]:
    """Answer municipality, priority and contact; return the summary messages."""
    assert user.texts(municipality) == [text("utter_ask_ticket_priority")]
    assert user.texts(priority) == [text("utter_ask_ticket_contact")]
    return user.say(contact)


def summary_text(description, municipality, priority, contact) -> str:
    return text(
        "utter_ticket_summary",
        description=description,
        municipality=municipality,
        priority=priority,
        contact=contact,
    )


def test_asking_for_a_person_creates_a_ticket(rakel, user):
    replies = user.texts("jeg vil snakke med en person")
    assert replies == [text("utter_ticket_intro"), text("utter_ask_ticket_description")]
    messages = user.say("Skriveren på kontoret skriver bare ut blanke ark")
    assert [m["text"] for m in messages] == [text("utter_ask_ticket_municipality")]
    assert [b["title"] for b in messages[0]["buttons"]] == ["Aukra", "Molde", "Rauma", "Vestnes"]
    summary = answer_rest_of_form(user)
    assert summary[0]["text"] == summary_text(
        "Skriveren på kontoret skriver bare ut blanke ark",
        "Rauma",
        "Høy",
        "kari.nordmann@rauma.kommune.no",
    )
    assert summary[0]["buttons"][0] == {"title": "Ja, send saken", "payload": "/affirm"}
    public_id = created_id(user.texts("/affirm"))

    row = ticket_row(rakel, public_id)
    assert (
        row["requester_id"],
        row["channel"],
        row["status"],
        row["municipality"],
        row["priority"],
        row["contact"],
        row["category"],
    ) == (
        user.conversation_id,
        "rest",
        "ny",
        "Rauma",
        "hoy",
        "kari.nordmann@rauma.kommune.no",
        "service_desk",
    )
    assert row["description"] == "Skriveren på kontoret skriver bare ut blanke ark"
    transcript = json.loads(row["transcript"])
    assert transcript[0] == {
        **transcript[0],
        "sender": "user",
        "text": "jeg vil snakke med en person",
    }
    clicked = [t for t in transcript if t["payload"] == '/inform{"municipality": "Rauma"}']
    assert clicked and clicked[0]["text"] == "Rauma"


def test_knowledge_answer_that_needs_a_person_offers_a_ticket(rakel, user):
    messages = user.say("jeg har mistet mobilen med authenticator-appen")
    assert messages[-1]["text"] == text("utter_offer_ticket")
    replies = user.texts("/affirm")
    # The question is already known: Rakel goes straight to the municipality.
    assert replies == [text("utter_ticket_intro"), text("utter_ask_ticket_municipality")]
    summary = answer_rest_of_form(
        user, municipality="Molde", priority='/inform{"priority": "kritisk"}'
    )
    assert "Beskrivelse: jeg har mistet mobilen med authenticator-appen" in summary[0]["text"]
    row = ticket_row(rakel, created_id(user.texts("ja")))
    assert (row["category"], row["municipality"], row["priority"]) == (
        "two_factor",
        "Molde",
        "kritisk",
    )


def test_no_to_did_this_help_offers_a_ticket(rakel, user):
    messages = user.say("kameraet virker ikke i teams")
    assert messages[-1]["text"] == text("utter_ask_helped")
    assert user.texts("/deny") == [text("utter_sorry_not_helped"), text("utter_offer_ticket")]
    assert user.texts("/affirm") == [
        text("utter_ticket_intro"),
        text("utter_ask_ticket_municipality"),
    ]
    answer_rest_of_form(user)
    row = ticket_row(rakel, created_id(user.texts("/affirm")))
    assert (row["category"], row["description"]) == ("teams", "kameraet virker ikke i teams")


def test_two_unclear_messages_offer_a_ticket(rakel, user):
    # `/nlu_fallback` is what the NLU yields for a message it cannot place; sending it
    # keeps this dialogue test deterministic (tests/test_nlu_heldout.py measures the NLU).
    # Nothing close to answer or suggest: Rakel says so and offers a ticket at once.
    replies = user.texts("/nlu_fallback")
    assert replies == [text("utter_unsure"), text("utter_offer_ticket")]
    assert user.texts("/affirm") == [
        text("utter_ticket_intro"),
        text("utter_ask_ticket_description"),
    ]
    description = "Skjermen blinker og slår seg av etter noen minutter"
    assert user.texts(description) == [text("utter_ask_ticket_municipality")]
    answer_rest_of_form(user)
    row = ticket_row(rakel, created_id(user.texts("/affirm")))
    assert row["description"] == description
    assert row["category"] == "service_desk"


def test_a_field_can_be_corrected_at_the_summary(rakel, user):
    user.say("meld sak")
    user.say("Får ikke logget inn i Visma fra hjemmekontoret")
    answer_rest_of_form(user)
    assert user.texts('/change_ticket{"ticket_field": "kommune"}') == [
        text("utter_ask_ticket_municipality")
    ]
    summary = user.texts("Vestnes")
    assert summary == [
        summary_text(
            "Får ikke logget inn i Visma fra hjemmekontoret",
            "Vestnes",
            "Høy",
            "kari.nordmann@rauma.kommune.no",
        )
    ]
    assert user.texts("endre prioritet") == [text("utter_ask_ticket_priority")]
    assert "Prioritet: Normal" in user.texts('/inform{"priority": "normal"}')[0]
    row = ticket_row(rakel, created_id(user.texts("/affirm")))
    assert (row["municipality"], row["priority"]) == ("Vestnes", "normal")


@pytest.mark.parametrize("when", ["description", "priority", "summary"])
def test_cancel_at_any_step_stores_nothing(rakel, user, when):
    user.say("jeg vil melde en sak")
    if when != "description":
        user.say("PC-en starter ikke etter oppdateringen")
        user.say("Aukra")
    if when == "summary":
        user.say('/inform{"priority": "normal"}')
        user.say("ola@aukra.kommune.no")
    assert user.texts("avbryt") == [text("utter_ticket_cancelled")]
    assert tickets_of(rakel, user.conversation_id) == []
    # The form is gone: a greeting is a greeting again.
    assert user.texts("hei") == [text("utter_greet")]


def test_status_of_own_ticket_and_nobody_elses(rakel, user):
    from tests.conftest import RestClient

    user.say("jeg vil snakke med noen")
    user.say("Dokkingstasjonen lader ikke PC-en")
    answer_rest_of_form(user)
    public_id = created_id(user.texts("/affirm"))

    replies = user.texts(f"Hva er status på {public_id}?")
    assert len(replies) == 1
    assert replies[0].startswith(
        f"{public_id} «Dokkingstasjonen lader ikke PC-en»: Ny – ikke påbegynt ennå. Sist oppdatert "
    )

    # The anonymous creator sees it again in the same conversation, listed too.
    listed = user.texts("hva er status på saken min")
    assert len(listed) == 1 and listed[0].startswith(f"{public_id} «Dokkingstasjonen")

    # Anyone else over REST is anonymous: told politely how to get help, never shown it.
    refusal = [text("utter_ticket_status_needs_identity", **CONTACT_DEFAULTS)]
    other = RestClient(rakel)
    assert other.texts(f"Hva er status på {public_id}?") == refusal
    assert other.texts("Hva er status på RAK-99999?") == refusal
    assert other.texts("hva er status på saken min") == refusal
    # A client cannot claim someone else's identity through metadata.
    for forged_id in (user.sender, user.conversation_id):
        forged = {"rakel_identity": {"id": forged_id, "name": "Kari", "source": "intranet"}}
        assert other.texts(f"Hva er status på {public_id}?", metadata=forged) == refusal


def test_personal_data_is_masked_everywhere(rakel, user):
    user.say("meld sak")
    description = (
        f"Kontoen er låst. Fødselsnummeret mitt er {VALID_FNR}, "
        f"passord: {PASSWORD} og mobil {PHONE}. Ordrenummer {INVALID_FNR}."
    )
    user.say(description)
    answer_rest_of_form(user)
    public_id = created_id(user.texts("/affirm"))
    row = ticket_row(rakel, public_id)

    with closing(sqlite3.connect(rakel.var_dir / "tracker.db")) as connection:
        events = "\n".join(
            r[0]
            for r in connection.execute(
                "SELECT data FROM events WHERE sender_id = ?", (user.conversation_id,)
            )
        )
    places = {
        "description": row["description"],
        "transcript": row["transcript"],
        "tracker store": events,
        "rasa log": rakel.log("rasa"),
        "actions log": rakel.log("actions"),
    }
    for place, content in places.items():
        for secret in (VALID_FNR, PASSWORD, PHONE, "91234567"):
            assert secret not in content, f"{secret} found in the {place}"
    assert "[fødselsnummer fjernet]" in row["description"]
    assert "[passord fjernet]" in row["description"]
    assert "[telefonnummer fjernet]" in row["description"]
    assert INVALID_FNR in row["description"], "an invalid fødselsnummer is not personal data"
    said = [t["text"] for t in json.loads(row["transcript"]) if t["sender"] == "user"]
    assert any(t.startswith("Kontoen er låst") and "[fødselsnummer fjernet]" in t for t in said), (
        said
    )


def test_a_phone_number_as_contact_is_refused_politely(rakel, user):
    user.say("meld sak")
    user.say("Outlook krasjer når jeg åpner vedlegg")
    user.say("Molde")
    user.say('/inform{"priority": "normal"}')
    assert user.texts(f"ring meg på {PHONE}") == [
        text("utter_ticket_contact_no_phone"),
        text("utter_ask_ticket_contact"),
    ]
    assert user.say("per@molde.kommune.no")[0]["text"].startswith("Dette sender jeg")
