"""What every channel does with a message before Rasa sees it (bot/channels/entry_guard.py)."""

from __future__ import annotations

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.domain import Domain

from bot.channels.entry_guard import guarded
from bot.channels.length_limit import MAX_MESSAGE_CHARS
from bot.channels.notices import domain_notices
from tests.support.domain import project_domain
from tests.support.domain import response as notice


class Recorder:
    """Stands where Rasa's processor would: remembers what it was handed."""

    def __init__(self, reply: str | None) -> None:
        self.reply = reply
        self.seen: list[str] = []

    async def __call__(self, message: UserMessage) -> None:
        self.seen.append(message.text)
        if self.reply:
            await message.output_channel.send_text_message(message.sender_id, self.reply)


async def send(text: str, reply: str | None = "svar", domain: Domain | None = None):
    output = CollectingOutputChannel()
    processor = Recorder(reply)
    notices = domain_notices(domain or project_domain())
    await guarded(processor, notices)(UserMessage(text, output, "u1"))
    return processor.seen, [m["text"] for m in output.messages]


async def test_personal_data_is_masked_before_rasa_sees_it():
    seen, _ = await send("fnr 13097248022, passord: Sommer2020 og tlf 912 34 567")
    assert seen == [
        "fnr [fødselsnummer fjernet], passord: [passord fjernet] og tlf [telefonnummer fjernet]"
    ]


async def test_too_long_message_gets_a_polite_answer_and_is_not_processed():
    seen, replies = await send("a" * (MAX_MESSAGE_CHARS + 1))
    assert seen == []
    assert replies == [notice("utter_message_too_long")]
    assert "2000 tegn" in replies[0]


async def test_message_at_the_limit_is_processed():
    seen, replies = await send("b" * MAX_MESSAGE_CHARS)
    assert len(seen) == 1 and replies == ["svar"]


async def test_a_message_that_got_no_reply_gets_a_notice():
    _, replies = await send("hei", reply=None)
    assert replies == [notice("utter_action_unavailable")]
    assert replies[0].startswith("Beklager")


async def test_a_normal_reply_gets_no_extra_notice():
    _, replies = await send("hei")
    assert replies == ["svar"]


async def test_rasa_still_sees_its_own_collecting_channel():
    # Rasa's processor returns the collected replies only for a CollectingOutputChannel
    # (rasa/core/processor.py): the guard must not hide the channel behind a proxy.
    output = CollectingOutputChannel()
    seen_channels = []

    async def processor(message: UserMessage):
        seen_channels.append(message.output_channel)
        await message.output_channel.send_text_message(message.sender_id, "svar")
        return (
            message.output_channel.messages
            if isinstance(message.output_channel, CollectingOutputChannel)
            else None
        )

    result = await guarded(processor, domain_notices(project_domain()))(
        UserMessage("hei", output, "u1")
    )
    assert seen_channels == [output]
    assert result == [{"recipient_id": "u1", "text": "svar"}]
    # The counting wrappers are gone after the message.
    assert "send_text_message" not in vars(output)


OTHER_DOMAIN = Domain.from_dict(
    {
        "responses": {
            "utter_message_too_long": [{"text": "Skriv kortere, er du snill."}],
            "utter_action_unavailable": [{"text": "Prøv igjen om litt."}],
        }
    }
)


async def test_the_notices_are_the_given_domains_texts():
    # The texts come from the loaded model's domain, not from domain.yml on disk.
    _, too_long = await send("a" * (MAX_MESSAGE_CHARS + 1), domain=OTHER_DOMAIN)
    _, no_reply = await send("hei", reply=None, domain=OTHER_DOMAIN)
    assert (too_long, no_reply) == (["Skriv kortere, er du snill."], ["Prøv igjen om litt."])
