"""Staff decisions that change Rakel's content, stored as approved changes in the database.

A decision on a missed message (the article that should have answered, other IT, out
of scope) becomes an example question for that intent; an edit of an article's answer
text or example questions, and a new article draft, become a change of that article.
Every change is validated exactly as an article file is (bot.content.articles.parse_article
and the grounding check bot.content.grounding.ungrounded_facts) before anything is
stored, records the SHA-256 of the file it was based on, and is audited (who, when,
before -> after). Training and `export-content` read the approved changes (docs/learning-loop.md).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content.articles import Article, parse_article
from bot.content.catalogue import Catalogue, catalogue
from bot.content.faq_intent import FAQ, full_intent
from bot.content.files import ContentError, read_yaml
from bot.content.grounding import REPORT_FILE, numbers_in, report_sections, ungrounded_facts
from bot.models import ContentAudit, ContentChange, NluMiss, Ticket, utcnow
from bot.privacy import mask_text
from bot.settings import PROJECT_ROOT
from bot.tickets.transcript import read_transcript

NLU_DIR = PROJECT_ROOT / "bot" / "data" / "nlu"


class ChangeError(ValueError):
    """A change staff asked for is refused; `problems` are Norwegian, for the page."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def project_path(path: Path) -> str:
    """The file as recorded: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def article_file(knowledge_dir: Path, topic: str, article_id: str) -> Path:
    return Path(knowledge_dir) / topic / f"{article_id}.yml"


def nlu_file(intent: str) -> Path | None:
    """The training-data file that declares `intent` (bot/data/nlu), if any."""
    pattern = re.compile(rf"^\s*-\s*intent:\s*{re.escape(intent)}\s*$", re.MULTILINE)
    for path in sorted(NLU_DIR.glob("*.yml")):
        if pattern.search(path.read_text(encoding="utf-8")):
            return path
    return None


def _audit(session: Session, actor: str, action: str, **fields: Any) -> None:
    session.add(ContentAudit(actor=actor, action=action, **fields))


def _withdraw(session: Session, miss: NluMiss, actor: str) -> None:
    """An earlier decision on the same message no longer holds."""
    for change in session.scalars(
        select(ContentChange).where(
            ContentChange.miss_id == miss.id, ContentChange.status == "approved"
        )
    ):
        change.status = "withdrawn"
        _audit(
            session,
            actor,
            "withdrawn",
            change_id=change.id,
            field="status",
            old_value="approved",
            new_value="withdrawn",
        )


# --- decisions on missed messages ---------------------------------------------------


def assign(
    session: Session,
    miss_id: int,
    intent: str | None,
    actor: str,
    knowledge_dir: Path,
) -> NluMiss | None:
    """Give a missed message the intent it should have had (None clears it): the message
    becomes an approved example question for that intent."""
    miss = session.get(NluMiss, miss_id)
    if miss is None:
        return None
    content = catalogue(knowledge_dir)
    intent = (intent or "").strip() or None
    if intent is not None and intent not in content.topic_by_intent:
        raise ChangeError([f"Ukjent intensjon «{intent}»."])
    if intent == miss.corrected_intent and miss.dismissed_at is None:
        return miss
    _withdraw(session, miss, actor)
    _audit(
        session,
        actor,
        "assigned",
        miss_id=miss.id,
        field="corrected_intent",
        old_value=miss.corrected_intent,
        new_value=intent,
    )
    miss.corrected_intent = intent
    miss.corrected_by = actor if intent else None
    miss.corrected_at = utcnow() if intent else None
    miss.dismissed_by = miss.dismissed_at = None
    if intent is not None:
        article_id = intent.split("/", 1)[1] if intent.startswith(FAQ + "/") else None
        if article_id:
            article = content.articles[article_id]
            path: Path | None = article_file(knowledge_dir, article.topic, article_id)
        else:
            path = nlu_file(intent)
        session.flush()
        _approve(
            session,
            ContentChange(
                created_by=actor,
                kind="example",
                intent=intent,
                article_id=article_id,
                path=project_path(path) if path else None,
                base_sha256=sha256_of(path) if path else None,
                after=json.dumps(miss.text, ensure_ascii=False),
                miss_id=miss.id,
            ),
        )
    return miss


def dismiss(session: Session, miss_id: int, actor: str) -> NluMiss | None:
    """Staff decided the message needs nothing; an earlier decision is withdrawn."""
    miss = session.get(NluMiss, miss_id)
    if miss is None:
        return None
    if miss.dismissed_at is not None:
        return miss
    _withdraw(session, miss, actor)
    _audit(
        session,
        actor,
        "dismissed",
        miss_id=miss.id,
        field="corrected_intent",
        old_value=miss.corrected_intent,
        new_value=None,
    )
    miss.corrected_intent = miss.corrected_by = miss.corrected_at = None
    miss.dismissed_by, miss.dismissed_at = actor, utcnow()
    return miss


DECISIONS = ("assign", "dismiss")


def decide(
    session: Session,
    miss_id: int,
    decision: str,
    intent: str | None,
    actor: str,
    knowledge_dir: Path,
) -> NluMiss | None:
    """One staff decision on a missed message: "assign" an intent, or "dismiss"."""
    if decision == "dismiss":
        return dismiss(session, miss_id, actor)
    return assign(session, miss_id, intent, actor, knowledge_dir)


def flag_ticket_message(session: Session, public_id: str, turn: int, actor: str) -> NluMiss | None:
    """A user message of a ticket's conversation, as a missed message staff decide on.

    The same message flagged again returns its row (the key is the ticket and turn).
    None when the ticket or a user message at `turn` does not exist.
    """
    ticket = session.scalar(select(Ticket).where(Ticket.public_id == public_id))
    if ticket is None:
        return None
    turns = read_transcript(ticket.transcript)
    if not 0 <= turn < len(turns) or turns[turn].sender != "user" or turns[turn].clicked:
        return None  # a button click is a choice, not a question
    key = f"ticket:{ticket.id}:{turn}"
    miss = session.scalar(
        select(NluMiss).where(NluMiss.message_id == key, NluMiss.kind == "staff_flagged")
    )
    if miss is None:
        miss = NluMiss(
            conversation_id=ticket.conversation_id,
            channel=ticket.channel,
            kind="staff_flagged",
            text=mask_text(turns[turn].text),
            message_id=key,
        )
        session.add(miss)
        session.flush()
        _audit(session, actor, "flagged", miss_id=miss.id, field="ticket", new_value=public_id)
    return miss


# --- article edits and drafts -------------------------------------------------------


def _approve(session: Session, change: ContentChange) -> ContentChange:
    session.add(change)
    session.flush()
    _audit(
        session,
        change.created_by,
        "approved",
        change_id=change.id,
        field=change.kind,
        old_value=change.before,
        new_value=change.after,
    )
    return change


def report_text(report_file: Path = REPORT_FILE) -> str:
    return report_file.read_text(encoding="utf-8")


def report_section_names(report_file: Path = REPORT_FILE) -> list[str]:
    """The report's headings ("2.1.1 KUNDESERVICE"), as an article cites them."""
    return list(report_sections(report_text(report_file)))


def check_article(
    data: dict[str, Any], path: Path, content: Catalogue, report_file: Path = REPORT_FILE
) -> Article:
    """Validate article data as its file at `path` would be, grounding included;
    ChangeError with the problems in Norwegian."""
    try:
        article = parse_article(data, path, content.article_topics())
    except ContentError as exc:
        raise ChangeError([norwegian(exc.field, str(exc), data)]) from exc
    problems = ungrounded_facts(article, report_text(report_file))
    if problems:
        raise ChangeError([norwegian("grounding", p, data) for p in problems])
    return article


def _examples_block(examples: list[str]) -> str:
    return "".join(f"- {e}\n" for e in examples)


def example_lines(text: str) -> list[str]:
    """Example questions typed one per line ("- " at the start is optional), masked:
    staff paste them from conversations, and the database keeps no personal data."""
    lines = [line.strip().removeprefix("- ").strip() for line in text.splitlines()]
    return [mask_text(line) for line in lines if line]


def effective_value(session: Session, article_id: str, field: str, from_file: Any) -> Any:
    """The field's value with the latest approved change applied, else the file's."""
    latest = session.scalar(
        select(ContentChange)
        .where(
            ContentChange.article_id == article_id,
            ContentChange.kind == field,
            ContentChange.status == "approved",
        )
        .order_by(ContentChange.id.desc())
        .limit(1)
    )
    return json.loads(latest.after) if latest else from_file


EDITABLE_FIELDS = ("answer", "examples")


def edit_article(
    session: Session,
    article_id: str,
    field: str,
    value: str,
    actor: str,
    knowledge_dir: Path,
    report_file: Path = REPORT_FILE,
) -> ContentChange | None:
    """A new answer text or example list for an existing article, validated with the
    article's other fields as they stand. None when nothing changed."""
    if field not in EDITABLE_FIELDS:
        raise ChangeError([f"Feltet «{field}» kan ikke endres her."])
    content = catalogue(knowledge_dir)
    article = content.articles.get(article_id)
    if article is None:
        raise ChangeError([f"Ukjent artikkel «{article_id}»."])
    path = article_file(knowledge_dir, article.topic, article_id)
    data = copy.deepcopy(read_yaml(path))
    current = {
        "answer": effective_value(session, article_id, "answer", article.answer),
        "examples": effective_value(session, article_id, "examples", list(article.examples)),
    }
    data["answer"] = current["answer"]
    data["examples"] = _examples_block(current["examples"])
    new: Any = value.strip() if field == "answer" else example_lines(value)
    if new == current[field]:
        return None
    data[field] = new if field == "answer" else _examples_block(new)
    check_article(data, path, content, report_file)
    return _approve(
        session,
        ContentChange(
            created_by=actor,
            kind=field,
            intent=full_intent(article_id),
            article_id=article_id,
            path=project_path(path),
            base_sha256=sha256_of(path),
            before=json.dumps(current[field], ensure_ascii=False),
            after=json.dumps(new, ensure_ascii=False),
        ),
    )


_SLUG = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e", "ü": "u", "ö": "o"})


def article_id_for(title: str) -> str:
    """An article id from its title: "Skrive ut fra Teams" -> "skrive_ut_fra_teams"."""
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower().translate(_SLUG)).strip("_")
    if slug and not slug[0].isalpha():
        slug = "a_" + slug
    return slug[:60].rstrip("_")


@dataclass(frozen=True)
class Draft:
    """What staff typed for a new article."""

    title: str
    answer: str
    topic: str
    examples: str
    report_section: str  # "" for general guidance
    general_guidance: bool
    needs_person: bool = False
    owner: str = "Kundeservice"


def draft_data(draft: Draft) -> dict[str, Any]:
    """The draft as an article file's data. Every number in a report-based answer is a
    report fact, so the grounding check finds it in the cited section or refuses it."""
    answer = draft.answer.strip()
    sections = [draft.report_section] if draft.report_section else []
    facts = list(dict.fromkeys(numbers_in(answer))) if sections else []
    return {
        "id": article_id_for(draft.title),
        "topic": draft.topic,
        "title": draft.title.strip(),
        "answer": answer,
        "source": {"report_sections": sections, "general_guidance": draft.general_guidance},
        "report_facts": facts,
        "needs_person": draft.needs_person,
        "reviewed": date.today().isoformat(),
        "owner": draft.owner.strip() or "Kundeservice",
        "examples": _examples_block(example_lines(draft.examples)),
    }


def create_draft(
    session: Session,
    draft: Draft,
    actor: str,
    knowledge_dir: Path,
    *,
    miss_id: int | None = None,
    report_file: Path = REPORT_FILE,
) -> ContentChange:
    """A new article, validated as its file would be; stored only when it passes."""
    content = catalogue(knowledge_dir)
    data = draft_data(draft)
    problems = []
    if not data["id"]:
        problems.append("Skriv en tittel med bokstaver eller tall.")
    elif data["id"] in content.articles or session.scalar(
        select(ContentChange.id).where(
            ContentChange.kind == "new_article",
            ContentChange.article_id == data["id"],
            ContentChange.status == "approved",
        )
    ):
        problems.append(f"Det finnes allerede en artikkel med tittelen «{draft.title.strip()}».")
    if problems:
        raise ChangeError(problems)
    path = article_file(knowledge_dir, draft.topic, data["id"])
    check_article(data, path, content, report_file)
    return _approve(
        session,
        ContentChange(
            created_by=actor,
            kind="new_article",
            intent=full_intent(data["id"]),
            article_id=data["id"],
            path=project_path(path),
            base_sha256=None,  # no file yet: export refuses if one appears meanwhile
            after=json.dumps(data, ensure_ascii=False),
            miss_id=miss_id,
        ),
    )


def approved_changes(session: Session) -> list[ContentChange]:
    """The changes training and export apply, oldest first (a later change of the same
    article field supersedes an earlier one)."""
    return list(
        session.scalars(
            select(ContentChange)
            .where(ContentChange.status == "approved")
            .order_by(ContentChange.id)
        )
    )


def changes(session: Session, limit: int = 100) -> list[ContentChange]:
    return list(
        session.scalars(select(ContentChange).order_by(ContentChange.id.desc()).limit(limit))
    )


def audit_trail(session: Session, limit: int = 200) -> list[ContentAudit]:
    return list(session.scalars(select(ContentAudit).order_by(ContentAudit.id.desc()).limit(limit)))


# --- the validator's findings, for staff ---------------------------------------------

MAX_ANSWER = 1000
MAX_TITLE = 60


def norwegian(field: str | None, message: str, data: dict[str, Any]) -> str:
    """A validation finding (English, for developers) as staff read it."""
    found = re.search(r"'([^']*)'", message)
    quoted = found.group(1) if found else ""
    if field == "grounding":
        if message.startswith("report fact") and "number" in message:
            return (
                f"Tallet {quoted} står ikke i avsnittet du viser til i årsrapporten. "
                "Rett tallet, velg riktig avsnitt eller ta tallet ut."
            )
        if message.startswith("number"):
            number = message.split()[1]
            return f"Tallet {number} i svaret står ikke i årsrapporten. Ta det ut eller rett det."
        if message.startswith("report fact"):
            return f"«{quoted}» står ikke i avsnittet du viser til i årsrapporten."
        if message.startswith("cited section"):
            return f"Avsnittet «{quoted}» finnes ikke i årsrapporten."
        if "not in the report" in message:
            return (
                f"«{quoted}» er ikke nevnt i årsrapporten. Merk svaret som generell veiledning "
                "eller ta navnet ut."
            )
        if "not listed in report_facts" in message:
            return (
                f"Svaret nevner «{quoted}» og viser til årsrapporten. Merk svaret som generell "
                "veiledning, eller velg avsnittet som nevner det."
            )
    if field == "source" or (field or "").startswith("source"):
        return (
            "Oppgi en kilde: velg avsnittet i årsrapporten svaret bygger på, "
            "eller merk det som generell veiledning."
        )
    if field == "answer":
        if "too long" in message:
            length = len(str(data.get("answer", "")))
            return f"Svaret er for langt: {length} tegn. Det kan ha høyst {MAX_ANSWER} tegn."
        if "placeholder" in message or "braces" in message:
            return (
                "Svaret har krøllparenteser Rakel ikke kjenner. Bruk bare kontaktfeltene "
                "({contact_phone}, {contact_email}, {portal_url}, {opening_hours}, "
                "{visit_address}), eller ta dem ut."
            )
        return "Skriv et svar."
    if field == "title":
        return f"Tittelen må ha tekst på én linje, høyst {MAX_TITLE} tegn og uten krøllparenteser."
    if field == "examples":
        count = len(example_lines(str(data.get("examples", ""))))
        if "duplicate" in message:
            return "Det samme eksempelspørsmålet står flere ganger. Ta bort dobbeltene."
        return f"Skriv minst 10 eksempelspørsmål, ett per linje (nå {count})."
    if field == "topic":
        return f"Ukjent tema «{data.get('topic')}». Velg et av temaene i listen."
    if field == "report_facts":
        return "Tallene i svaret må stå i avsnittet du viser til i årsrapporten."
    return f"Utkastet er ikke gyldig ({message})."
