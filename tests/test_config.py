"""The configuration Rasa and the tools read."""

from __future__ import annotations

import yaml

from bot.settings import PROJECT_ROOT, load_settings
from bot.train import nlu_testing_config


def test_cross_validation_uses_the_real_pipeline_without_the_fallback(tmp_path):
    real = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())
    settings = load_settings({"RAKEL_VAR_DIR": str(tmp_path)})
    testing = yaml.safe_load(nlu_testing_config(settings).read_text())
    names = [c["name"] for c in testing["pipeline"]]
    assert not [n for n in names if n.endswith("FallbackClassifier")]
    fallbacks = [c for c in real["pipeline"] if c["name"].endswith("FallbackClassifier")]
    assert len(fallbacks) == 1
    assert testing["pipeline"] == [c for c in real["pipeline"] if c not in fallbacks]
    assert testing["language"] == real["language"] == "nb"
    assert "policies" not in testing


def test_the_text_form_of_the_settings_shows_no_tokens_or_passwords():
    from bot.settings import load_settings, load_teams_settings

    settings = load_settings(
        {"RAKEL_ITSM_URL": "https://itsm.example", "RAKEL_ITSM_TOKEN": "tok-s3cret"}
    )
    assert settings.itsm_token == "tok-s3cret"
    assert "tok-s3cret" not in repr(settings) and "tok-s3cret" not in str(settings)
    teams = load_teams_settings(
        {
            "RAKEL_TEAMS_APP_ID": "app",
            "RAKEL_TEAMS_APP_PASSWORD": "pw-s3cret",
            "RAKEL_TEAMS_TENANT_ID": "tenant",
        }
    )
    assert "pw-s3cret" not in repr(teams)
