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
