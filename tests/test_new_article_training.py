"""Adding an article means adding one file: after training, Rakel answers it.

Trains a small fixture model (config.yml's pipeline, two topics' articles plus the new
one, all hand-written NLU data) from a copy of knowledge/ in which the only
edit is one new article file, then checks that its question is answered with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.actions.decision import decide
from bot.evaluate import parse_with_model
from bot.train import ensure_model
from tests.support.fixture_content import NEW_ARTICLE_ID, fixture_settings

pytestmark = pytest.mark.training


@pytest.fixture(scope="module")
def fixture_model(tmp_path_factory) -> Path:
    return ensure_model(fixture_settings(tmp_path_factory))


def test_a_new_article_file_is_answered_after_training(fixture_model):
    parse = parse_with_model(fixture_model)
    # Worded unlike any of its examples.
    decision = decide(parse("går det an å gjøre bakgrunnen uklar når jeg er i et teamsmøte?"))
    assert decision.outcome == "answer"
    assert decision.article == NEW_ARTICLE_ID
    # The articles already there still answer their own questions.
    assert decide(parse("hvordan setter jeg opp authenticator på mobilen")).article == (
        "mfa_setup_app"
    )
