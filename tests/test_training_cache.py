"""The model cache key: what decides the model changes it, nothing else does."""

from __future__ import annotations

import shutil

from bot.settings import PROJECT_ROOT, load_settings
from bot.train import fingerprint


def test_contacts_and_the_var_folder_do_not_change_the_model(tmp_path):
    # Tests and deployments set their own contact details and var folders; the same
    # content must reuse the same trained model (training takes minutes).
    here = fingerprint(load_settings({}))
    elsewhere = fingerprint(
        load_settings(
            {"RAKEL_VAR_DIR": str(tmp_path / "var"), "RAKEL_CONTACT_PHONE": "+47 12 34 56 78"}
        )
    )
    assert here == elsewhere


def test_an_article_example_changes_the_model(tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    env = {"RAKEL_VAR_DIR": str(tmp_path / "var"), "RAKEL_KNOWLEDGE_DIR": str(knowledge)}
    before = fingerprint(load_settings(env))
    article = knowledge / "teams" / "teams_tips.yml"
    article.write_text(
        article.read_text(encoding="utf-8") + "  - et helt nytt eksempel om teams\n",
        encoding="utf-8",
    )
    # A new catalogue is loaded for a new folder only; the edited copy is new to it.
    from bot.content.catalogue import catalogue

    catalogue.cache_clear()
    assert fingerprint(load_settings(env)) != before
    # Survey notes are not training data.
    survey = knowledge / "survey" / "train_negatives.yml"
    catalogue.cache_clear()
    changed = fingerprint(load_settings(env))
    survey.write_text(survey.read_text(encoding="utf-8") + "\n# a note\n", encoding="utf-8")
    catalogue.cache_clear()
    assert fingerprint(load_settings(env)) == changed
