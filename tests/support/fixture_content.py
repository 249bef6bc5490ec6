"""The small fixture content the training tests share, and its model.

Two topics' articles (two-factor sign-in, the service desk) plus one new article file
(a Teams article no model has seen), with all the hand-written NLU data: the real
pipeline (config.yml), small by its data alone. The content is built the same way for
every test and the model cache is the session's, so the first test that needs the
model trains it and the others reuse it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT, Settings, load_settings

NEW_ARTICLE_ID = "teams_background_demo"
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


def fixture_knowledge(root: Path) -> Path:
    """The fixture content under `root` (built once per folder)."""
    knowledge = root / "knowledge"
    if knowledge.exists():
        return knowledge
    knowledge.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "knowledge" / "catalogue.yml", knowledge)
    for topic in ("two_factor", "service_desk"):
        shutil.copytree(PROJECT_ROOT / "knowledge" / topic, knowledge / topic)
    (knowledge / "teams").mkdir()
    (knowledge / "teams" / f"{NEW_ARTICLE_ID}.yml").write_text(NEW_ARTICLE, encoding="utf-8")
    return knowledge


def fixture_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """RAKEL_* settings for the fixture content and the session's fixture model cache."""
    base = tmp_path_factory.getbasetemp() / "fixture-content"
    return {
        "RAKEL_KNOWLEDGE_DIR": str(fixture_knowledge(base)),
        "RAKEL_MODEL_DIR": str(base / "models"),
        # The checkout's embeddings: most texts were embedded by the project's training.
        "RAKEL_EMBEDDING_CACHE": str(PROJECT_ROOT / "var" / "cache"),
    }


def fixture_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    var = tmp_path_factory.mktemp("fixture-var")
    return load_settings({"RAKEL_VAR_DIR": str(var), **fixture_env(tmp_path_factory)})
