"""Teams end to end: the real Rasa server with our Teams channel, talking to local fakes of
Microsoft's key, token and Bot Connector endpoints with real RSA signatures."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from sqlalchemy import select

from bot.content.render import KnowledgeBase
from bot.db import Database
from bot.models import Feedback, TeamsConversationReference
from bot.settings import load_settings
from tests.support.fake_microsoft import APP_ID, TENANT_ID, FakeMicrosoft, new_key

pytestmark = pytest.mark.e2e


SIGNED = object()
# A message that always gets an answer (the greeting).
MARKER = "hei"


class TeamsUser:
    """A Teams user whose messages the (fake) Bot Connector posts to Rakel."""

    def __init__(self, rakel, microsoft: FakeMicrosoft) -> None:
        self.rakel = rakel
        self.microsoft = microsoft
        suffix = uuid.uuid4().hex[:10]
        self.user_id = f"29:user-{suffix}"
        self.aad = f"aad-{suffix}"
        self.conversation = f"a:conv-{suffix}"
        # How Rasa and Rakel's tables name this user (bot/identity.py).
        self.conversation_id = f"teams:{self.user_id}"
        self.requester_id = f"teams:{self.aad}"

    def activity(self, **fields) -> dict:
        activity = {
            "type": "message",
            "id": f"msg-{uuid.uuid4().hex[:8]}",
            "channelId": "msteams",
            "serviceUrl": self.microsoft.service_url,
            "locale": "nb-NO",
            "from": {"id": self.user_id, "name": "Kari Nordmann", "aadObjectId": self.aad},
            "recipient": {"id": f"28:{APP_ID}", "name": "Rakel"},
            "conversation": {
                "id": self.conversation,
                "conversationType": "personal",
                "tenantId": TENANT_ID,
            },
            "channelData": {"tenant": {"id": TENANT_ID}},
        }
        activity.update(fields)
        return activity

    def post(self, activity: dict, token: str | None | object = SIGNED) -> requests.Response:
        """Post as the Bot Connector would: with a valid token unless one is given."""
        headers = {}
        if token is SIGNED:
            token = self.microsoft.sign()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.post(
            f"{self.rakel.rasa_url}/webhooks/teams/webhook",
            json=activity,
            headers=headers,
            timeout=120,
        )

    def say(self, text: str | None = None, **fields) -> list[dict]:
        """Send a message; the activities Rakel posted back to the connector for it."""
        before = len(self.microsoft.replies(self.conversation))
        activity = self.activity(**fields) if text is None else self.activity(text=text, **fields)
        assert self.post(activity).status_code == 200
        return self.new_replies(before)

    def new_replies(self, before: int) -> list[dict]:
        # Rasa answers before the webhook returns; replies are already at the connector.
        replies = self.microsoft.wait_replies(self.conversation, before + 1, timeout=10)
        return replies[before:]

    def say_marker(self) -> str:
        """Send a signed greeting and wait for its reply; returns its activity id.

        The observable event that ends a "nothing happened" check: the channel handles
        a conversation's activities in order and Rasa answers before the webhook
        returns, so once this reply is in, anything an earlier activity caused is too.
        """
        activity = self.activity(text=MARKER)
        before = len(self.microsoft.replies(self.conversation))
        assert self.post(activity).status_code == 200
        assert self.new_replies(before), "Rakel did not answer the marker message"
        return activity["id"]

    def replies_to_anything_but(self, activity_id: str) -> list[dict]:
        return [
            reply
            for reply in self.microsoft.replies(self.conversation)
            if reply["activity"].get("replyToId") != activity_id
        ]

    def tracker(self) -> dict:
        response = requests.get(
            f"{self.rakel.rasa_url}/conversations/{self.conversation_id}/tracker",
            params={"token": self.rakel.rasa_token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()


def text_of(reply: dict) -> str:
    activity = reply["activity"]
    if activity.get("attachments"):
        return activity["attachments"][0]["content"].get("text", "")
    return activity.get("text", "")


@pytest.fixture
def teams(rakel, microsoft) -> TeamsUser:
    return TeamsUser(rakel, microsoft)


def database(rakel) -> Database:
    return Database(load_settings(rakel.env).db_url)


def test_a_question_is_answered_in_teams_with_the_tenant_token(rakel, microsoft, teams):
    knowledge = KnowledgeBase.from_settings(load_settings())
    article = knowledge.get("mfa_setup_app")

    replies = teams.say("Hvordan setter jeg opp tofaktor?")

    assert replies, "Rakel posted no reply to the Bot Connector"
    assert knowledge.render(article).strip().splitlines()[0] in text_of(replies[0])
    assert replies[0]["activity"]["textFormat"] == "markdown"
    for reply in replies:  # every reply carries a token the tenant endpoint issued
        assert reply["authorization"].removeprefix("Bearer ") in microsoft.issued_tokens
        # ...and is addressed to the user's own Bot Framework id, not Rasa's name for them.
        assert reply["activity"]["recipient"] == {"id": teams.user_id}
    assert microsoft.token_requests[-1]["scope"] == "https://api.botframework.com/.default"
    # "Hjalp dette?" arrives as a card whose buttons send the payload back.
    card = replies[-1]["activity"]["attachments"][0]
    assert card["content"]["text"] == "Hjalp dette?"
    assert [(b["type"], b["title"], b["text"]) for b in card["content"]["buttons"]] == [
        ("messageBack", "Ja", "/affirm"),
        ("messageBack", "Nei", "/deny"),
    ]

    # The verified identity and the Teams details are in the message metadata.
    user_event = [e for e in teams.tracker()["events"] if e["event"] == "user"][-1]
    assert user_event["metadata"]["rakel_identity"] == {
        "id": teams.aad,
        "name": "Kari Nordmann",
        "source": "teams",
    }
    assert user_event["metadata"]["teams"]["locale"] == "nb-NO"
    assert user_event["metadata"]["teams"]["tenantId"] == TENANT_ID

    # Rakel knows where to reach this user later.
    db = database(rakel)
    row = db.run(
        lambda s: s.execute(
            select(TeamsConversationReference).where(
                TeamsConversationReference.user_id == teams.conversation_id
            )
        ).scalar_one()
    )
    db.dispose()
    assert (row.conversation_id, row.service_url, row.aad_object_id) == (
        teams.conversation,
        microsoft.service_url,
        teams.requester_id,
    )


def test_a_teams_users_tickets_are_theirs_alone(rakel, teams):
    """Issue 14: a REST caller who sends a Teams user's ids sees none of their tickets."""
    from bot.settings import CONTACT_DEFAULTS
    from bot.tickets.repository import create_ticket
    from tests.conftest import RestClient
    from tests.test_handoff_e2e import text

    db = database(rakel)
    public_id = db.run(
        lambda s: (
            create_ticket(
                s,
                channel="teams",
                conversation_id=teams.conversation_id,
                requester_id=teams.requester_id,
                category="teams",
                description="Teams fryser når jeg deler skjermen",
            ).public_id
        )
    )
    db.dispose()
    refusal = [text("utter_ticket_status_needs_identity", **CONTACT_DEFAULTS)]
    for sender in (teams.aad, teams.user_id, teams.requester_id, teams.conversation_id):
        impostor = RestClient(rakel, sender=sender)
        assert impostor.texts(f"Hva er status på {public_id}?") == refusal, sender
        assert impostor.texts("hva er status på saken min") == refusal, sender
        # Nor did the REST caller write into the Teams user's conversation.
        assert impostor.tracker()["sender_id"] == f"anon:rest:{sender}"
    assert [e for e in teams.tracker()["events"] if e["event"] == "user"] == []

    replies = teams.say(f"Hva er status på {public_id}?")
    assert text_of(replies[0]).startswith(f"{public_id} «Teams fryser når jeg deler skjermen»: ")
    listed = teams.say("hva er status på saken min")
    assert text_of(listed[0]).startswith(f"{public_id} «Teams fryser")


def test_button_click_arrives_as_its_payload(teams):
    teams.say("Hvordan setter jeg opp tofaktor?")
    # messageBack: Teams posts the button's hidden text.
    assert text_of(teams.say("/affirm")[0]) == "Så bra! Er det noe mer jeg kan hjelpe med?"


def test_adaptive_card_submit_arrives_as_its_payload(teams):
    teams.say("Hvordan setter jeg opp tofaktor?")
    replies = teams.say(value={"payload": "/deny"})
    assert text_of(replies[0]) == "Beklager at det ikke løste problemet."


@pytest.mark.parametrize(
    "reaction, helped, reply",
    [
        ("like", True, "Så bra! Er det noe mer jeg kan hjelpe med?"),
        ("dislike", False, "Beklager at det ikke løste problemet."),
    ],
)
def test_a_reaction_on_an_answer_is_feedback(rakel, teams, reaction, helped, reply):
    answer = teams.say("Hvordan setter jeg opp tofaktor?")
    activity = teams.activity(
        type="messageReaction",
        replyToId="activity-of-the-answer",
        reactionsAdded=[{"type": reaction}],
    )
    before = len(teams.microsoft.replies(teams.conversation))
    assert answer and teams.post(activity).status_code == 200
    assert text_of(teams.new_replies(before)[0]) == reply

    db = database(rakel)
    rows = db.run(
        lambda s: (
            s.execute(select(Feedback).where(Feedback.conversation_id == teams.conversation_id))
            .scalars()
            .all()
        )
    )
    db.dispose()
    assert [(r.helped, r.channel, r.article_id) for r in rows] == [
        (helped, "teams", "mfa_setup_app")
    ]


def test_adding_the_bot_gets_the_norwegian_welcome(teams):
    activity = teams.activity(
        type="conversationUpdate", membersAdded=[{"id": f"28:{APP_ID}"}, {"id": teams.user_id}]
    )
    before = len(teams.microsoft.replies(teams.conversation))
    assert teams.post(activity).status_code == 200
    [welcome] = teams.new_replies(before)
    assert text_of(welcome).startswith("Hei, og takk for at du la meg til!")


@pytest.mark.parametrize(
    "activity_type", ["typing", "invoke", "installationUpdate", "conversationUpdate"]
)
def test_other_activities_are_acknowledged_and_ignored(teams, activity_type):
    assert teams.post(teams.activity(type=activity_type)).status_code == 200
    processed_after = teams.say_marker()
    # Everything Rakel posted to this conversation answers the later message.
    assert teams.replies_to_anything_but(processed_after) == []


def _unsigned(microsoft: FakeMicrosoft, alg: str) -> str:
    import jwt

    if alg == "none":
        return jwt.encode(microsoft.claims(), None, algorithm="none", headers={"kid": "fake-key-1"})
    return jwt.encode(
        microsoft.claims(),
        "a-guessed-secret-of-32-bytes-or-more",
        algorithm="HS256",
        headers={"kid": "fake-key-1"},
    )


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda m: None, id="missing"),
        pytest.param(lambda m: m.sign(key=new_key()), id="forged-other-key"),
        pytest.param(lambda m: m.sign(iss="https://sts.windows.net/evil/"), id="wrong-issuer"),
        pytest.param(lambda m: m.sign(aud="another-bot"), id="wrong-audience"),
        pytest.param(lambda m: m.sign(exp=int(time.time()) - 3600), id="expired"),
        pytest.param(lambda m: _unsigned(m, "none"), id="alg-none"),
        pytest.param(lambda m: _unsigned(m, "HS256"), id="hs256"),
    ],
)
def test_unauthenticated_activities_get_401_and_no_processing(teams, make_token):
    activity = teams.activity(text="Hvordan setter jeg opp tofaktor?")
    response = teams.post(activity, token=make_token(teams.microsoft))
    assert response.status_code == 401
    processed_after = teams.say_marker()
    assert teams.replies_to_anything_but(processed_after) == []
    # The refused message never reached the dialogue: only the later one did.
    tracker = teams.tracker()
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == [MARKER]


def test_did_you_mean_and_the_honest_replies_arrive_as_teams_buttons(teams):
    from tests.test_handoff_e2e import text
    from tests.test_honest_replies_e2e import AMBIGUOUS, OTHER_IT

    replies = teams.say(AMBIGUOUS)
    card = replies[-1]["activity"]["attachments"][0]["content"]
    assert card["text"] == text("utter_did_you_mean")
    buttons = [(b["type"], b["title"], b["text"]) for b in card["buttons"]]
    assert all(kind == "messageBack" for kind, _, _ in buttons)
    assert buttons[-1] == ("messageBack", "Ingen av disse", "/deny")
    assert buttons[0][2].startswith('/faq{"article_id": ')
    # "Ingen av disse": honest, then the ticket offer with its own buttons.
    replies = teams.say("/deny")
    assert text_of(replies[0]) == text("utter_none_fit")
    offer = replies[-1]["activity"]["attachments"][0]["content"]
    assert offer["text"] == text("utter_offer_ticket")
    assert [b["text"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    # Other IT: the honest reply and the ticket offer.
    replies = teams.say(OTHER_IT)
    assert text_of(replies[0]) == text("utter_other_it")
    assert text_of(replies[-1]) == text("utter_offer_ticket")


def test_topic_clarifier_and_next_best_arrive_as_teams_buttons(teams):
    from tests.test_handoff_e2e import text

    replies = teams.say("teams virker ikke")
    card = replies[-1]["activity"]["attachments"][0]["content"]
    assert card["text"] == text("utter_topic_clarifier", topic_label="Teams")
    buttons = [(b["type"], b["title"], b["text"]) for b in card["buttons"]]
    assert all(kind == "messageBack" for kind, _, _ in buttons)
    assert buttons[0] == (
        "messageBack",
        "Kamera eller lyd virker ikke i Teams",
        '/faq{"article_id": "teams_camera_sound"}',
    )
    assert buttons[-1] == ("messageBack", "Noe annet", "/request_human")
    # The user picks one; it does not help; the other common problems come as buttons.
    teams.say(buttons[0][2])
    replies = teams.say("/deny")
    card = replies[-1]["activity"]["attachments"][0]["content"]
    assert card["text"] == text("utter_next_best")
    offered = [(b["title"], b["text"]) for b in card["buttons"]]
    assert [payload for _, payload in offered[:-1]] == [payload for _, _, payload in buttons[1:3]]
    assert offered[-1] == ("Ingen av disse", "/deny")
