"""The project's domain.yml, as the trained model carries it: expected reply texts."""

from __future__ import annotations

import functools

from rasa.shared.core.domain import Domain

from bot.channels.notices import response_text
from bot.settings import PROJECT_ROOT


@functools.cache
def project_domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def response(name: str) -> str:
    text = response_text(project_domain(), name)
    assert text is not None, f"domain.yml has no text for {name}"
    return text
