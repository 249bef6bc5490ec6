"""config_nlu_testing.yml is config.yml's pipeline minus the FallbackClassifier."""

from __future__ import annotations

import yaml

from bot.settings import PROJECT_ROOT


def test_nlu_testing_config_matches_the_real_pipeline():
    real = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())
    testing = yaml.safe_load((PROJECT_ROOT / "config_nlu_testing.yml").read_text())
    expected = [c for c in real["pipeline"] if c["name"] != "FallbackClassifier"]
    assert testing["pipeline"] == expected
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
