"""bot.turns: one message computes at a time; waiting gives the turn away."""

from __future__ import annotations

import asyncio

import pytest

from bot.turns import Turns


async def busy(turns: Turns, log: list[str], name: str, steps: int = 2) -> None:
    """A message whose processing yields to the loop between steps (as Rasa's does)."""
    async with turns.message():
        for step in range(steps):
            log.append(f"{name}{step}")
            await asyncio.sleep(0)


async def test_messages_compute_one_after_another_in_arrival_order():
    turns, log = Turns(), []
    await asyncio.gather(*(busy(turns, log, name) for name in "abc"))
    # Without turns the loop interleaves them: a0 b0 c0 a1 b1 c1.
    assert log == ["a0", "a1", "b0", "b1", "c0", "c1"]


async def test_a_message_waiting_on_a_service_lets_others_compute_then_resumes_first():
    turns, log = Turns(), []
    answer = asyncio.Event()

    async def with_action_call() -> None:
        async with turns.message():
            log.append("a: parse")
            async with turns.waiting():
                log.append("a: waits for the action server")
                await answer.wait()
            log.append("a: resumes")

    async def new_message(name: str) -> None:
        async with turns.message():
            log.append(f"{name}: parse")
            if name == "b":
                answer.set()  # the action server answers while b computes
            await asyncio.sleep(0)
            log.append(f"{name}: done")

    a = asyncio.create_task(with_action_call())
    await asyncio.sleep(0)
    await asyncio.gather(a, new_message("b"), new_message("c"))
    assert log == ["a: parse", "a: waits for the action server", "b: parse", "b: done",
                   "a: resumes", "c: parse", "c: done"]


async def test_a_hung_service_blocks_only_its_own_message():
    turns = Turns()
    hung = asyncio.Event()

    async def stuck() -> None:
        async with turns.message(), turns.waiting():
            await hung.wait()

    stuck_task = asyncio.create_task(stuck())
    await asyncio.sleep(0)
    log: list[str] = []
    await asyncio.wait_for(asyncio.gather(*(busy(turns, log, n) for n in "xyz")), 2)
    assert len(log) == 6
    stuck_task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck_task
    # The cancelled message held no turn: the next one starts at once.
    await asyncio.wait_for(busy(turns, log, "w"), 1)


async def test_cancelled_waiters_do_not_leak_or_swallow_turns():
    turns, log = Turns(), []
    release = asyncio.Event()

    async def holder() -> None:
        async with turns.message():
            await release.wait()

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    queued = [asyncio.create_task(busy(turns, log, n)) for n in "pq"]
    await asyncio.sleep(0)
    assert turns.queued == 2
    queued[0].cancel()
    release.set()
    await first
    await asyncio.wait_for(queued[1], 1)
    assert log == ["q0", "q1"] and turns.queued == 0
    # The turn came back: a fresh message does not wait.
    await asyncio.wait_for(busy(turns, log, "r"), 1)


async def test_message_is_reentrant_and_waiting_outside_a_turn_is_harmless():
    turns = Turns()
    async with turns.waiting():  # e.g. Rasa's HTTP API, not a channel message
        pass
    async with turns.message():
        async with turns.message():
            pass
    await asyncio.wait_for(busy(turns, [], "s"), 1)
