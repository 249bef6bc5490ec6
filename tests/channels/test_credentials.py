"""Every channel named in credentials.yml is a class Rasa can load."""

from __future__ import annotations

import importlib

import yaml
from rasa.core.channels.channel import InputChannel

from bot.settings import PROJECT_ROOT


def test_every_configured_channel_imports_as_an_input_channel():
    credentials = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text()) or {}
    assert credentials, "no channels configured"
    for dotted in credentials:
        module, _, name = dotted.rpartition(".")
        channel = getattr(importlib.import_module(module), name)
        assert issubclass(channel, InputChannel), dotted
