"""Adding an article means adding one file: after training, Rakel answers it.

Trains a small fixture model (config.yml's pipeline, two topics' articles plus the new
one, all hand-written NLU data) from a copy of knowledge/ in which the only
edit is one new article file, then checks that its question is answered with it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.actions.decision import decide
from bot.evaluate import parse_with_model
from bot.settings import PROJECT_ROOT, load_settings
from bot.train import CONFIG, ensure_model

pytestmark = pytest.mark.training

NEW_ARTICLE = """\
id: teams_background_demo
topic: teams
title: Bakgrunnseffekter i Teams-møter
answer: |
  Slik gjør du bakgrunnen uskarp eller bytter den ut i et Teams-møte:

  1. I møtet trykker du «Flere» (…) og velger «Videoeffekter».
  2. Velg «Uskarp» eller et av bakgrunnsbildene.
  3. Trykk «Bruk».
source:
  report_sections: []
  general_guidance: true
report_facts: []
needs_person: false
reviewed: 2026-12-01
owner: Fagansvarlig Microsoft 365
examples: |
  - hvordan gjør jeg bakgrunnen uskarp i teams
  - uskarp bakgrunn teams møte
  - blur bakgrunn i teams
  - kan jeg bytte bakgrunnsbilde i teamsmøte
  - vil ikke at folk ser kjøkkenet mitt i teams
  - bakgrunnseffekter teams
  - korleis gjer eg bakgrunnen uklar i teams
  - legge inn eget bakgrunnsbilde i teams
  - skjule rotet bak meg på video i teams
  - teams videoeffekter bakgrunn
  - endre bakgrunn på kamera i teams møtet
  - hvor finner jeg bakgrunnsfilter i teams
"""


@pytest.fixture(scope="module")
def fixture_model(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("new-article")
    knowledge = root / "knowledge"
    knowledge.mkdir()
    shutil.copy(PROJECT_ROOT / "knowledge" / "catalogue.yml", knowledge)
    for topic in ("two_factor", "service_desk"):
        shutil.copytree(PROJECT_ROOT / "knowledge" / topic, knowledge / topic)
    (knowledge / "teams").mkdir()
    (knowledge / "teams" / "teams_background_demo.yml").write_text(NEW_ARTICLE, encoding="utf-8")

    # The real pipeline: it trains no network, so the fixture is small by its data alone.
    config_path = CONFIG

    settings = load_settings(
        {
            "RAKEL_VAR_DIR": str(root / "var"),
            "RAKEL_KNOWLEDGE_DIR": str(knowledge),
            "RAKEL_MODEL_DIR": str(root / "models"),
            # The checkout's embeddings: only the new article's examples are embedded.
            "RAKEL_EMBEDDING_CACHE": str(PROJECT_ROOT / "var" / "cache"),
        }
    )
    return ensure_model(settings, config=config_path)


def test_a_new_article_file_is_answered_after_training(fixture_model):
    parse = parse_with_model(fixture_model)
    # Worded unlike any of its examples.
    decision = decide(parse("går det an å gjøre bakgrunnen uklar når jeg er i et teamsmøte?"))
    assert decision.outcome == "answer"
    assert decision.article == "teams_background_demo"
    # The articles already there still answer their own questions.
    assert decide(parse("hvordan setter jeg opp authenticator på mobilen")).article == (
        "mfa_setup_app"
    )
