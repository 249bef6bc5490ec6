"""How the Teams channel reads an activity (pure functions of bot/channels/teams.py)."""

from __future__ import annotations

from bot.channels.entry_guard import EntryGuardMixin
from bot.channels.teams import TeamsInput
from bot.settings import load_teams_settings


def test_the_channel_masks_first_and_loads_without_configuration(caplog):
    assert TeamsInput.__mro__[1] is EntryGuardMixin
    channel = TeamsInput(load_teams_settings({}))
    assert not channel.settings.configured
    assert "RAKEL_TEAMS_APP_ID" in caplog.text and "503" in caplog.text


def test_mentions_are_stripped_and_card_submits_become_payloads():
    assert (
        TeamsInput.message_text({"text": "<at>Rakel</at> hvordan bytter jeg PC?"})
        == "hvordan bytter jeg PC?"
    )
    assert TeamsInput.message_text({"value": {"payload": "/deny"}}) == "/deny"
    assert TeamsInput.message_text({"value": {"payload": 5}}) == ""
    assert TeamsInput.message_text({"text": "", "value": "x"}) == ""


def test_identity_and_teams_details_come_from_the_activity():
    metadata = TeamsInput.metadata(
        {
            "from": {"id": "29:x", "name": "Kari", "aadObjectId": "aad-1"},
            "locale": "nb-NO",
            "channelData": {"tenant": {"id": "t-1"}},
            "conversation": {"id": "c"},
        }
    )
    assert metadata == {
        "teams": {"name": "Kari", "aadObjectId": "aad-1", "tenantId": "t-1", "locale": "nb-NO"},
        "rakel_identity": {"id": "aad-1", "name": "Kari", "source": "teams"},
    }
    # No Entra ID object id (e.g. a guest in the emulator): no identity.
    assert "rakel_identity" not in TeamsInput.metadata({"from": {"id": "29:x"}})
