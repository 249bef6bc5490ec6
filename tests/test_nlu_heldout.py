"""Rakel understands real employee questions it was never trained on.

Every held-out message (tests/data/heldout_nlu.yml) is parsed by the running Rasa
server. The classifier's top label must be of the message's topic (issue 3: topic
accuracy >= 0.93), few messages may be answered with another topic (a fallback to
"Mente du"/"not sure" is not an answer), and out-of-scope messages must get the
out-of-scope reply (recall >= 0.85). `make eval` prints the same report.
"""

from __future__ import annotations

import pytest
import requests

from bot.content.catalogue import catalogue
from bot.evaluate import (
    HELDOUT_WRONG_LIMIT,
    OOS_RECALL_TARGET,
    TOPIC_TARGET,
    evaluate_heldout,
    load_heldout,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def report(rakel):
    session = requests.Session()

    def parse(text: str) -> dict:
        response = session.post(
            f"{rakel.rasa_url}/model/parse",
            params={"token": rakel.rasa_token},
            json={"text": text},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    result = evaluate_heldout(load_heldout(), parse, catalogue())
    print("\n".join(result.lines()))
    return result


def test_topic_accuracy_on_heldout_messages(report):
    assert report.total >= 150
    assert report.topic_accuracy >= TOPIC_TARGET, "\n".join(report.lines())


def test_few_heldout_messages_are_answered_with_another_topic(report):
    assert report.wrong_share <= HELDOUT_WRONG_LIMIT, "\n".join(report.lines())


def test_out_of_scope_recall_on_heldout_messages(report):
    assert report.recall("out_of_scope") >= OOS_RECALL_TARGET, "\n".join(report.lines())
