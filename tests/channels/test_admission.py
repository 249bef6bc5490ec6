"""bot.channels.admission: a bounded number of messages in flight, in arrival order."""

from __future__ import annotations

import asyncio
import time

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels.admission import Admission
from bot.channels.entry_guard import guarded

CPU = 0.02  # one stretch of NLU / policy work (blocks the loop, as Rasa's does)
ACTION_CALL = 0.005  # one round trip to the action server


def compute() -> None:
    """Blocks the event loop, as Rasa's NLU and policies do between two awaits."""
    time.sleep(CPU)


async def message(door: Admission, name: str, action_calls: int, done: list[str]) -> None:
    async with door.slot():
        for _ in range(action_calls):
            compute()
            await asyncio.sleep(ACTION_CALL)
        compute()
    done.append(name)


async def finish_order(limit: int) -> list[str]:
    door, done = Admission(limit), []
    # A hand-off (three action calls) arrives first, with seven questions (one call).
    await asyncio.gather(
        message(door, "hand-off", 3, done), *(message(door, f"q{n}", 1, done) for n in range(7))
    )
    return done


async def test_a_hand_off_is_not_overtaken_by_every_later_question():
    # Unbounded, each action call sends the hand-off behind all the questions' work.
    assert (await finish_order(0)).index("hand-off") >= 5
    # With two in flight it only shares the loop with the questions admitted beside it.
    assert (await finish_order(2)).index("hand-off") <= 2


async def test_messages_are_admitted_in_arrival_order_and_never_more_than_the_limit():
    door, started, inside = Admission(2), [], []
    peak = 0

    async def tracked(name: str) -> None:
        nonlocal peak
        async with door.slot():
            started.append(name)
            inside.append(name)
            peak = max(peak, len(inside))
            await asyncio.sleep(0.01)
            inside.remove(name)

    await asyncio.gather(*(tracked(f"m{n}") for n in range(6)))
    assert started == [f"m{n}" for n in range(6)]
    assert peak == 2


async def test_a_hung_message_holds_its_slot_only_for_the_lease():
    door, done = Admission(1, lease_seconds=0.1), []
    hung = asyncio.Event()

    async def stuck() -> None:
        async with door.slot():
            await hung.wait()  # an action server that never answers

    stuck_task = asyncio.create_task(stuck())
    await asyncio.sleep(0)
    await asyncio.wait_for(message(door, "next", 1, done), 2)
    assert done == ["next"]
    hung.set()
    await stuck_task
    # The expired lease is not released twice: the bound still holds afterwards.
    await asyncio.wait_for(asyncio.gather(*(message(door, f"q{n}", 1, done) for n in range(3))), 2)


async def test_zero_means_no_bound():
    door, inside, peak = Admission(0), 0, 0

    async def tracked() -> None:
        nonlocal inside, peak
        async with door.slot():
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(tracked() for _ in range(5)))
    assert peak == 5


async def test_every_channel_message_passes_the_door():
    door, inside, peak = Admission(1), 0, 0

    async def processor(message: UserMessage) -> None:
        nonlocal inside, peak
        inside += 1
        peak = max(peak, inside)
        await asyncio.sleep(0.01)
        await message.output_channel.send_text_message(message.sender_id, "svar")
        inside -= 1

    handle = guarded(processor, lambda name: None, door=door)
    outputs = [CollectingOutputChannel() for _ in range(4)]
    await asyncio.gather(
        *(handle(UserMessage("hei", out, f"u{n}")) for n, out in enumerate(outputs))
    )
    assert peak == 1
    assert [out.messages[0]["text"] for out in outputs] == ["svar"] * 4


def test_the_bound_comes_from_the_environment(monkeypatch):
    from bot.channels.admission import process_admission

    monkeypatch.setenv("RAKEL_RASA_MAX_IN_FLIGHT", "5")
    process_admission.cache_clear()
    try:
        assert process_admission().limit == 5
    finally:
        process_admission.cache_clear()
    monkeypatch.delenv("RAKEL_RASA_MAX_IN_FLIGHT")
    assert process_admission().limit == 3
    process_admission.cache_clear()
