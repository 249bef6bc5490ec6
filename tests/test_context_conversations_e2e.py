"""The multi-turn conversations of tests/data/conversations/train.yml, over REST
against the real processes, every turn scored (bot/evaluation/conversations.py)."""

from __future__ import annotations

import pytest

from bot.evaluation.conversations import CONVERSATIONS, run_sets

pytestmark = pytest.mark.e2e


def test_the_train_conversations_keep_their_thread(rakel):
    (report,) = run_sets(rakel.rasa_url, [("train", CONVERSATIONS / "train.yml")])
    details = "\n".join(report.lines())
    print(details)
    assert len({r.conversation for r in report.results}) >= 40, details
    assert report.followups_in_context >= 0.90, details
    assert report.all_turns_right >= 0.90, details
    assert report.context_wrongly_carried <= 0.05, details
