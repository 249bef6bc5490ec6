"""The Rasa training files derived from the catalogue, written at train time.

Articles bring their example questions (`faq/<id>` NLU data) and their answers
(`utter_faq/<id>` responses, which Rasa's retrieval intent needs in the domain).
(Municipality words are matched by the ticket form itself, bot/tickets/labels.py: no
component of the pipeline reads lookup tables.)
The files land in the build folder beside the hand-written NLU data of bot/data/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.content.catalogue import Catalogue
from bot.content.render import KnowledgeBase

HEADER = "# Generated from knowledge/ by bot.content.training_data - do not edit.\n"


class _LiteralDumper(yaml.SafeDumper):
    """Writes multi-line strings as `|` blocks, as Rasa's own files do."""


_LiteralDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None
    ),
)


def _examples_block(lines: list[str]) -> str:
    return "".join(f"- {line}\n" for line in lines)


def nlu_data(catalogue: Catalogue) -> dict[str, Any]:
    nlu: list[dict[str, str]] = [
        {"intent": article.intent, "examples": _examples_block(list(article.examples))}
        for article in sorted(catalogue.articles.values(), key=lambda a: a.id)
    ]
    return {"version": "3.1", "nlu": nlu}


def responses(knowledge: KnowledgeBase) -> dict[str, Any]:
    return {
        "version": "3.1",
        "responses": {
            # Rendered (contacts filled in): Rasa would warn about unfilled {placeholders}.
            f"utter_{article.intent}": [{"text": f"{article.title}. {knowledge.render(article)}"}]
            for article in sorted(knowledge.articles.values(), key=lambda a: a.id)
        },
    }


def _write(target: Path, data: dict[str, Any]) -> None:
    content = HEADER + yaml.dump(data, Dumper=_LiteralDumper, allow_unicode=True, sort_keys=False)
    # Unchanged files keep their mtime, so Rasa's own caching is not disturbed.
    if not target.exists() or target.read_text(encoding="utf-8") != content:
        target.write_text(content, encoding="utf-8")


def write(catalogue: Catalogue, knowledge: KnowledgeBase, out: Path) -> Path:
    """Write the generated NLU data and responses into `out`; returns `out`."""
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "catalogue_nlu.yml", nlu_data(catalogue))
    _write(out / "knowledge_responses.yml", responses(knowledge))
    return out
