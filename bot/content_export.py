"""Approved content changes written into content files.

Two callers, one way of writing (docs/learning-loop.md):

- `python -m bot.cli export-content` writes the approved changes into `knowledge/` and
  `bot/data/nlu/`, so they go into version control. A change whose file changed since
  it was approved (its `base_sha256` no longer matches) is refused with a note and
  left for review instead of overwriting; the rest become `exported`. After an export
  the database and the files agree: nothing approved is left that the files lack.
- the trainer (bot/trainer.py) writes them into a copy of those folders to train from,
  leaving the files and the rows as they are.

Files are edited with ruamel.yaml's round trip, so comments, key order and block
style stay as their authors wrote them; only the changed field differs.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import LiteralScalarString
from ruamel.yaml.util import load_yaml_guess_indent
from sqlalchemy.orm import Session

from bot.content.catalogue import Catalogue
from bot.content.faq_intent import FAQ
from bot.content_changes import approved_changes, article_file, project_path, sha256_of
from bot.models import ContentAudit, ContentChange
from bot.settings import PROJECT_ROOT

NLU_DIR = PROJECT_ROOT / "bot" / "data" / "nlu"


class ExportError(RuntimeError):
    """The changes would leave the content invalid; every file is as it was."""


@dataclass
class ExportResult:
    exported: list[ContentChange] = field(default_factory=list)
    refused: list[tuple[ContentChange, str]] = field(default_factory=list)
    files: set[Path] = field(default_factory=set)


def _example_text(text: str) -> str:
    """One training example: one line, and no [..](..) Rasa would read as an entity."""
    return re.sub(r"\s+", " ", text.replace("[", "(").replace("]", ")")).strip()


class _Files:
    """The content files being edited, loaded once each and written at the end."""

    def __init__(self) -> None:
        self.data: dict[Path, Any] = {}
        self.yaml: dict[Path, YAML] = {}
        self.original: dict[Path, str | None] = {}

    def load(self, path: Path) -> Any:
        if path not in self.data:
            text = path.read_text(encoding="utf-8")
            _, indent, sequence_indent = load_yaml_guess_indent(text)
            yaml: Any = YAML()
            yaml.preserve_quotes = True
            yaml.width = 10**6  # never fold an author's long line
            offset = sequence_indent or 0
            yaml.indent(mapping=indent or 2, sequence=offset + 2, offset=offset)
            self.yaml[path], self.original[path] = yaml, text
            self.data[path] = yaml.load(text)
        return self.data[path]

    def create(self, path: Path, data: Any) -> None:
        if path.exists() or path in self.data:
            raise FileExistsError(path)
        yaml: Any = YAML()
        yaml.width = 10**6
        yaml.indent(mapping=2, sequence=2, offset=0)
        self.yaml[path], self.original[path], self.data[path] = yaml, None, data

    def write(self) -> set[Path]:
        written = set()
        for path, data in self.data.items():
            out = io.StringIO()
            self.yaml[path].dump(data, out)
            if out.getvalue() != self.original[path]:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(out.getvalue(), encoding="utf-8")
                written.add(path)
        return written

    def restore(self) -> None:
        for path, text in self.original.items():
            if text is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(text, encoding="utf-8")


def _block(lines: list[str]) -> LiteralScalarString:
    return LiteralScalarString("".join(f"- {_example_text(line)}\n" for line in lines))


def _add_to_block(block: str, text: str) -> LiteralScalarString:
    line = f"- {_example_text(text)}"
    existing = [ln.strip() for ln in str(block).splitlines()]
    body = str(block) if str(block).endswith("\n") or not block else str(block) + "\n"
    return LiteralScalarString(body if line in existing else body + line + "\n")


def _add_nlu_example(data: Any, intent: str, text: str) -> None:
    for item in data.get("nlu") or []:
        if item.get("intent") != intent:
            continue
        examples = item.get("examples")
        if isinstance(examples, str):
            item["examples"] = _add_to_block(examples, text)
        else:  # examples with metadata (other_it: the service of each)
            if any(str(e.get("text", "")).strip() == _example_text(text) for e in examples):
                return
            entry = CommentedMap()
            entry["text"] = LiteralScalarString(_example_text(text) + "\n")
            if any("metadata" in e for e in examples):
                entry["metadata"] = CommentedMap(service="other")
            examples.append(entry)
        return
    raise KeyError(intent)


def _new_article(data: dict[str, Any]) -> CommentedMap:
    article = CommentedMap()
    for key, value in data.items():
        if key == "examples":
            lines = [ln.strip().removeprefix("- ") for ln in str(value).splitlines() if ln.strip()]
            article[key] = _block(lines)
        elif key == "answer":
            article[key] = LiteralScalarString(str(value).rstrip("\n") + "\n")
        else:
            article[key] = value
    return article


def target_file(
    change: ContentChange, content: Catalogue, knowledge_dir: Path, nlu_dir: Path
) -> Path:
    """The file `change` edits under these folders."""
    if change.kind == "new_article":
        topic = json.loads(change.after)["topic"]
        return article_file(knowledge_dir, topic, str(change.article_id))
    if change.article_id:
        return article_file(
            knowledge_dir, content.articles[change.article_id].topic, change.article_id
        )
    from bot.content_changes import nlu_file

    declared = nlu_file(change.intent)
    if declared is None:
        raise KeyError(change.intent)
    return nlu_dir / declared.name


def _apply(files: _Files, change: ContentChange, path: Path) -> None:
    value = json.loads(change.after)
    if change.kind == "new_article":
        files.create(path, _new_article(value))
        return
    data = files.load(path)
    if change.kind == "answer":
        data["answer"] = LiteralScalarString(str(value).rstrip("\n") + "\n")
    elif change.kind == "examples":
        data["examples"] = _block(list(value))
    elif change.kind == "example":
        if change.intent.startswith(FAQ + "/"):
            data["examples"] = _add_to_block(data.get("examples") or "", str(value))
        else:
            _add_nlu_example(data, change.intent, str(value))
    else:
        raise ValueError(f"unknown change kind {change.kind!r}")


def write_changes(changes: list[ContentChange], knowledge_dir: Path, nlu_dir: Path) -> set[Path]:
    """Apply `changes` (oldest first) to the files under these folders, as the trainer
    does on its copy: no base check, the database untouched. Returns the files written."""
    content = Catalogue.load(knowledge_dir)
    files = _Files()
    for change in changes:
        _apply(files, change, target_file(change, content, knowledge_dir, nlu_dir))
    return files.write()


def refusal_note(path: Path) -> str:
    return (
        f"Filen {project_path(path)} er endret etter at endringen ble godkjent, så den ble "
        "ikke skrevet over. Se på filen slik den er nå, og gjør endringen på nytt."
    )


def _mark(
    session: Session, change: ContentChange, actor: str, status: str, note: str | None = None
) -> None:
    change.status, change.note = status, note
    session.add(
        ContentAudit(
            actor=actor,
            action=status,
            change_id=change.id,
            field="status",
            old_value="approved",
            new_value=note or status,
        )
    )


def export(
    session: Session, actor: str, knowledge_dir: Path, nlu_dir: Path = NLU_DIR
) -> ExportResult:
    """Write the approved changes into the content files and mark them exported.

    A change whose file is not the one it was based on is refused (status `refused`,
    `note` says why) and the other changes of that file are still written when theirs
    match. The files are checked as the catalogue loads them before anything is
    committed; on a problem every file is restored and ExportError raised.
    """
    result = ExportResult()
    content = Catalogue.load(knowledge_dir)
    files = _Files()
    original_sha: dict[Path, str | None] = {}
    for change in approved_changes(session):
        path = target_file(change, content, knowledge_dir, nlu_dir)
        if path not in original_sha:
            original_sha[path] = sha256_of(path)
        if original_sha[path] != change.base_sha256:
            note = refusal_note(path)
            _mark(session, change, actor, "refused", note)
            result.refused.append((change, note))
            continue
        _apply(files, change, path)
        _mark(session, change, actor, "exported")
        result.exported.append(change)
    session.flush()  # a database problem shows before any file is touched
    try:
        result.files = files.write()
        Catalogue.load(knowledge_dir)
    except Exception as exc:
        files.restore()
        raise ExportError(f"the exported content does not load, nothing written: {exc}") from exc
    return result
