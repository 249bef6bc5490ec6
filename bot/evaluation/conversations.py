"""Multi-turn conversations played over REST against Rakel's real processes.

Each conversation in tests/data/conversations/<set>.yml is a list of turns; each turn
says what the user types and what the reply should be: an article (`{article: <id>}`)
or a kind of reply (`{kind: clarifier}`, see KINDS). Every turn is scored, and three
figures are printed per set (issue 16's targets are for the holdout set):

- follow-ups in context: turns marked `followup: true` answered as expected;
- all turns right: every turn answered as expected;
- context wrongly carried: turns marked `switch: true` (a clear new question) that
  got an answer or clarifier from the topic the conversation was about before.

`python -m bot.evaluation.conversations --rasa-url …` plays the train set and, when
present, the holdout set against a running Rasa; `make eval` runs
`python -m devtools.conversations`, which first starts Rasa, the action server and
the web service on free ports with a private var folder, as the end-to-end tests do.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.content.catalogue import Catalogue, catalogue
from bot.content.faq_intent import ARTICLE_ENTITY, button_payload
from bot.content.render import KnowledgeBase
from bot.settings import PROJECT_ROOT, load_settings

CONVERSATIONS = PROJECT_ROOT / "tests" / "data" / "conversations"
SETS = ("train", "holdout")
DOMAIN = PROJECT_ROOT / "domain.yml"

# The kind of a reply, by the response that opens it (domain.yml). An article is
# recognised by its rendered text instead.
RESPONSE_KINDS: dict[str, str] = {
    "utter_topic_clarifier": "clarifier",
    "utter_clarify_problem": "clarifier",
    "utter_did_you_mean": "did_you_mean",
    "utter_next_best": "next_best",
    "utter_none_fit": "ticket_offer",
    "utter_offer_ticket": "ticket_offer",
    "utter_sorry_not_helped": "sorry",
    "utter_unsure": "fallback",
    "utter_still_unclear": "fallback",
    "utter_other_it": "fallback",
    "utter_out_of_scope": "fallback",
    "utter_out_of_scope_hr": "fallback",
    "utter_how_can_i_help": "fallback",
    "utter_ticket_intro": "ticket_form",
    "utter_ask_ticket_description": "ticket_form",
    "utter_invalid_ticket_description": "ticket_form",
    "utter_ask_ticket_municipality": "ticket_form",
    "utter_invalid_ticket_municipality": "ticket_form",
    "utter_ask_ticket_priority": "ticket_form",
    "utter_invalid_ticket_priority": "ticket_form",
    "utter_ask_ticket_contact": "ticket_form",
    "utter_invalid_ticket_contact": "ticket_form",
    "utter_ticket_what_to_change": "ticket_form",
    "utter_ticket_summary": "ticket_summary",
    "utter_ticket_created": "ticket_created",
    "utter_ticket_failed": "ticket_failed",
    "utter_ticket_cancelled": "ticket_cancelled",
    "utter_glad_helped": "glad",
    "utter_greet": "ok",
    "utter_goodbye": "ok",
    "utter_thanks": "ok",
    "utter_anything_else": "ok",
    "utter_no_ticket_ok": "ok",
    "utter_cancelled": "ok",
    "utter_iamabot": "ok",
}
# Kinds a conversation file may name for a reply that can take more than one form:
# asking for a person is answered with the ticket offer or straight with the form.
KIND_ALIASES: dict[str, frozenset[str]] = {"handoff": frozenset({"ticket_offer", "ticket_form"})}
KINDS = frozenset(RESPONSE_KINDS.values()) | {"article", "other"} | set(KIND_ALIASES)
# Opens a reply whose kind the next message says ("Beklager …" before the next-best
# articles or the ticket offer).
PREFACE = "sorry"


@dataclass(frozen=True)
class Turn:
    user: str
    expect_article: str | None
    expect_kind: str | None
    followup: bool = False
    switch: bool = False


@dataclass(frozen=True)
class Conversation:
    id: str
    source: str
    turns: tuple[Turn, ...]


class ConversationError(ValueError):
    """A conversation file that does not say what to expect, precisely."""


def load(path: Path, articles: Iterable[str]) -> list[Conversation]:
    known = set(articles)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    conversations = []
    seen: set[str] = set()
    for entry in data.get("conversations") or []:
        cid = entry.get("id")
        if not cid or cid in seen:
            raise ConversationError(f"{path.name}: missing or duplicate id {cid!r}")
        seen.add(cid)
        if not entry.get("source"):
            raise ConversationError(f"{path.name}: {cid}: no source")
        turns = []
        for index, raw in enumerate(entry.get("turns") or [], start=1):
            expect = raw.get("expect") or {}
            article, kind = expect.get("article"), expect.get("kind")
            if (article is None) == (kind is None):
                raise ConversationError(f"{cid} turn {index}: expect one of article or kind")
            if article is not None and article not in known:
                raise ConversationError(f"{cid} turn {index}: unknown article {article!r}")
            if kind is not None and kind not in KINDS:
                raise ConversationError(f"{cid} turn {index}: unknown kind {kind!r}")
            if ("user" in raw) == ("click" in raw):
                raise ConversationError(f"{cid} turn {index}: say either user or click")
            if "click" in raw and raw["click"] not in known:
                raise ConversationError(f"{cid} turn {index}: unknown article {raw['click']!r}")
            # A click on an article's button sends what the button sends.
            said = str(raw["user"]) if "user" in raw else button_payload(str(raw["click"]))
            turns.append(
                Turn(
                    user=said,
                    expect_article=article,
                    expect_kind=kind,
                    followup=bool(raw.get("followup")),
                    switch=bool(raw.get("switch")),
                )
            )
        if len(turns) < 2:
            raise ConversationError(f"{cid}: a conversation has at least two turns")
        conversations.append(Conversation(cid, str(entry["source"]), tuple(turns)))
    return conversations


@dataclass(frozen=True)
class Reply:
    kind: str
    article: str | None = None
    # Articles named by the reply's buttons (clarifiers, "Mente du …?", next-best).
    buttons: tuple[str, ...] = ()
    text: str = ""


def _button_article(payload: str) -> str | None:
    if "{" not in payload:
        return None
    try:
        value = json.loads(payload[payload.index("{") :]).get(ARTICLE_ENTITY)
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None


class ReplyReader:
    """Tells which article or kind of reply a list of REST messages is."""

    def __init__(self, knowledge: KnowledgeBase, domain_path: Path = DOMAIN) -> None:
        domain = yaml.safe_load(domain_path.read_text(encoding="utf-8"))
        self.openings: list[tuple[str, str]] = []
        for name, kind in RESPONSE_KINDS.items():
            text = domain["responses"][name][0]["text"]
            # The fixed start of the response, before any {placeholder}.
            opening = text.split("{", 1)[0].strip()
            if opening:
                self.openings.append((opening, kind))
        # Longest first: "Dette sender jeg" must not be taken for a shorter opening.
        self.openings.sort(key=lambda item: -len(item[0]))
        self.rendered = {
            article_id: knowledge.render(article).strip()
            for article_id, article in knowledge.articles.items()
        }

    def read(self, messages: list[dict[str, Any]]) -> Reply:
        text = "\n\n".join(m.get("text") or "" for m in messages)
        buttons = tuple(
            a
            for m in messages
            for b in m.get("buttons") or []
            if (a := _button_article(str(b.get("payload") or "")))
        )
        for article_id, rendered in self.rendered.items():
            if rendered and rendered in text:
                return Reply("article", article_id, buttons, text)
        kinds = [self._kind(m.get("text") or "") for m in messages]
        known = [k for k in kinds if k != "other"]
        main = [k for k in known if k != PREFACE]
        kind = main[0] if main else (known[0] if known else "other")
        return Reply(kind, None, buttons, text)

    def _kind(self, text: str) -> str:
        text = text.strip()
        for opening, kind in self.openings:
            if text.startswith(opening):
                return kind
        return "other"


@dataclass
class TurnResult:
    conversation: str
    index: int
    turn: Turn
    reply: Reply
    right: bool
    carried: bool  # a switch turn answered from the previous topic


@dataclass
class SetReport:
    name: str
    results: list[TurnResult] = field(default_factory=list)

    def _share(self, selected: list[TurnResult], good: Callable[[TurnResult], bool]) -> float:
        return sum(map(good, selected)) / len(selected) if selected else float("nan")

    @property
    def followups(self) -> list[TurnResult]:
        return [r for r in self.results if r.turn.followup]

    @property
    def switches(self) -> list[TurnResult]:
        return [r for r in self.results if r.turn.switch]

    @property
    def followups_in_context(self) -> float:
        return self._share(self.followups, lambda r: r.right)

    @property
    def all_turns_right(self) -> float:
        return self._share(self.results, lambda r: r.right)

    @property
    def context_wrongly_carried(self) -> float:
        return self._share(self.switches, lambda r: r.carried)

    def lines(self, show_wrong: int = 50) -> list[str]:
        conversations = len({r.conversation for r in self.results})
        lines = [
            f"{self.name}: {conversations} conversations, {len(self.results)} turns",
            f"  follow-ups in context    {self.followups_in_context:.3f}"
            f"  ({sum(r.right for r in self.followups)}/{len(self.followups)}; target >= 0.90)",
            f"  all turns right          {self.all_turns_right:.3f}"
            f"  ({sum(r.right for r in self.results)}/{len(self.results)}; target >= 0.90)",
            f"  context wrongly carried  {self.context_wrongly_carried:.3f}"
            f"  ({sum(r.carried for r in self.switches)}/{len(self.switches)}; target <= 0.05)",
        ]
        wrong = [r for r in self.results if not r.right][:show_wrong]
        for r in wrong:
            expected = r.turn.expect_article or r.turn.expect_kind
            got = r.reply.article or r.reply.kind
            lines.append(
                f"    wrong {r.conversation}#{r.index} {r.turn.user!r}: {got} (want {expected})"
            )
        return lines


def is_right(turn: Turn, reply: Reply) -> bool:
    if turn.expect_article is not None:
        return reply.article == turn.expect_article
    expected = turn.expect_kind or ""
    return reply.kind in KIND_ALIASES.get(expected, frozenset({expected}))


def reply_topic(reply: Reply, content: Catalogue) -> str | None:
    """The topic a reply puts the conversation in: its article's, or its buttons'."""
    articles = content.articles
    if reply.article in articles:
        return articles[reply.article].topic
    topics = {articles[a].topic for a in reply.buttons if a in articles}
    return topics.pop() if len(topics) == 1 else None


def play(
    conversations: list[Conversation],
    send: Callable[[str, str], list[dict[str, Any]]],
    reader: ReplyReader,
    content: Catalogue,
    name: str,
) -> SetReport:
    """Play every conversation through `send(sender, text)` and score each turn."""
    report = SetReport(name)
    for conversation in conversations:
        sender = f"conv-{conversation.id}-{uuid.uuid4().hex[:8]}"
        topic: str | None = None
        for index, turn in enumerate(conversation.turns, start=1):
            reply = reader.read(send(sender, turn.user))
            right = is_right(turn, reply)
            now = reply_topic(reply, content)
            carried = bool(turn.switch and not right and topic and now == topic)
            report.results.append(TurnResult(conversation.id, index, turn, reply, right, carried))
            topic = now or topic
    return report


def rest_sender(rasa_url: str, timeout: float = 60) -> Callable[[str, str], list[dict[str, Any]]]:
    import requests

    def send(sender: str, text: str) -> list[dict[str, Any]]:
        response = requests.post(
            f"{rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=timeout,
        )
        response.raise_for_status()
        return list(response.json())

    return send


def available_sets(directory: Path = CONVERSATIONS) -> list[tuple[str, Path]]:
    return [
        (name, directory / f"{name}.yml") for name in SETS if (directory / f"{name}.yml").exists()
    ]


def run_sets(rasa_url: str, sets: list[tuple[str, Path]]) -> list[SetReport]:
    content = catalogue(load_settings().knowledge_dir)
    knowledge = KnowledgeBase.from_settings(load_settings())
    reader = ReplyReader(knowledge)
    send = rest_sender(rasa_url)
    return [play(load(path, content.articles), send, reader, content, name) for name, path in sets]


def print_reports(reports: list[SetReport], show_wrong: int = 50) -> None:
    print("Multi-turn conversations over REST (tests/data/conversations/)")
    for report in reports:
        print("\n".join(report.lines(show_wrong)))
    if not any(report.name == "holdout" for report in reports):
        print("holdout: tests/data/conversations/holdout.yml not present")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-url", required=True, help="the running Rasa to play against")
    parser.add_argument("--show-wrong", type=int, default=50)
    args = parser.parse_args(argv)
    print_reports(run_sets(args.rasa_url, available_sets()), args.show_wrong)
    return 0


if __name__ == "__main__":
    sys.exit(main())
