"""Scoring the first reply a user gets to a real question.

`first_reply` follows the dialogue's own routing (data/rules/) and, for knowledge
questions, the answer actions' decision (bot/actions/decision.py), so the score is
that of what the user would see, not of a bare intent label. `judge` turns a reply
and the question type's expectation into one of four outcomes:

- right: the expected article was answered, or the expected honest reply was given
  (the annet-IT reply with its ticket offer for other IT, the leader/HR pointer for HR,
  the out-of-scope reply for the rest);
- clarified: "Mente du …?" (or the topic clarifier) instead of an answer;
- abstained: an honest "not sure" with a ticket offer, or a hand-off;
- wrong: an answer the user would take as fact and that is not the right one: another
  article, the HR pointer for an IT question, "I can't help with that" for a question
  Rakel covers, small talk. A hedged article counts as an answer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.actions.decision import THRESHOLDS, Thresholds, decide
from bot.content.faq_intent import FAQ
from bot.evaluation.survey import EvalMessage, Expectation
from bot.nlu.nearest import falls_back

OUTCOMES = ("right", "clarified", "abstained", "wrong")

# Intents whose first reply is fixed by a rule (data/rules/*.yml): the kind of reply.
_INTENT_REPLIES = {
    "other_it": "other_it",
    "out_of_scope_hr": "hr",
    "out_of_scope": "out_of_scope",
    "vague_problem": "topic_clarifier",
    "request_human": "handoff",
}


@dataclass(frozen=True)
class Reply:
    kind: str  # answer | clarify | unsure | other_it | hr | out_of_scope | topic_clarifier
    #            | handoff | small_talk
    articles: tuple[str, ...] = ()


def first_reply(
    parse: dict[str, Any],
    thresholds: Thresholds = THRESHOLDS,
    fallback: tuple[float, float] | None = None,
) -> Reply:
    """`fallback`: the fallback classifier's thresholds (confirmed, unconfirmed by the
    nearest examples; bot/nlu/confirmed_fallback.py) to apply instead of the model's
    own, for the threshold grid on dev; None keeps the trained model's decision."""
    intent = (parse.get("intent") or {}).get("name") or "nlu_fallback"
    if fallback is not None:
        best: dict[str, Any] = next(
            (e for e in parse.get("intent_ranking") or [] if e.get("name") != "nlu_fallback"),
            {},
        )
        unsure = falls_back({**parse, "intent": best}, *fallback)
        intent = "nlu_fallback" if unsure else best.get("name", "nlu_fallback")
    if intent in (FAQ, "nlu_fallback"):
        decision = decide(parse, may_answer=intent == FAQ, thresholds=thresholds)
        return Reply(decision.outcome, decision.articles)
    if intent in _INTENT_REPLIES:
        return Reply(_INTENT_REPLIES[intent])
    return Reply("small_talk")


def judge(expect: Expectation, reply: Reply) -> str:
    if reply.kind in ("clarify", "topic_clarifier"):
        return "clarified"
    if reply.kind in ("unsure", "handoff"):
        return "abstained"
    if expect.kind == "article":
        return "right" if reply.kind == "answer" and reply.articles == (expect.value,) else "wrong"
    if expect.kind == "missing_article":
        # No article answers it yet: the honest annet-IT reply with a ticket is an abstention.
        return "abstained" if reply.kind == "other_it" else "wrong"
    if expect.kind == "other_it":
        return "right" if reply.kind == "other_it" else "wrong"
    if expect.value == "hr":
        if reply.kind == "hr":
            return "right"
        return "abstained" if reply.kind == "out_of_scope" else "wrong"
    return "right" if reply.kind == "out_of_scope" else "wrong"


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    right_among_buttons: int = 0

    def add(self, outcome: str, among_buttons: bool) -> None:
        self.counts[outcome] += 1
        self.right_among_buttons += among_buttons

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share(self, outcome: str) -> float:
        return self.counts[outcome] / self.total if self.total else 0.0

    def line(self, label: str) -> str:
        shares = "  ".join(f"{o} {self.share(o):.2f}" for o in OUTCOMES)
        extra = (
            f"  (right article among buttons {self.right_among_buttons}/{self.counts['clarified']})"
            if self.counts["clarified"]
            else ""
        )
        return f"  {label:24s} n={self.total:4d}  {shares}{extra}"


@dataclass
class Report:
    split: str
    overall: Tally = field(default_factory=Tally)
    in_scope: Tally = field(default_factory=Tally)
    negatives: Tally = field(default_factory=Tally)
    by_topic: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_language: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    wrong: list[tuple[str, str, str]] = field(default_factory=list)

    def lines(self, show_wrong: int = 0) -> list[str]:
        out = [f"real questions, {self.split} split:", self.overall.line("all")]
        out.append(self.in_scope.line("in scope (topics)"))
        out.append(self.negatives.line("other IT + out of scope"))
        for topic in sorted(self.by_topic):
            out.append(self.by_topic[topic].line(f"topic {topic}"))
        for lang in sorted(self.by_language):
            out.append(self.by_language[lang].line(f"language {lang}"))
        for expected, got, text in self.wrong[:show_wrong]:
            out.append(f"    wrong: expected {expected}, got {got}: {text}")
        return out


def evaluate(
    messages: Iterable[EvalMessage],
    parse: Callable[[str], dict[str, Any]],
    split: str,
    thresholds: Thresholds = THRESHOLDS,
    fallback: tuple[float, float] | None = None,
) -> Report:
    report = Report(split)
    for message in messages:
        expect = message.type.expect
        reply = first_reply(parse(message.text), thresholds, fallback)
        outcome = judge(expect, reply)
        among = (
            outcome == "clarified" and expect.kind == "article" and expect.value in reply.articles
        )
        tallies = [report.overall, report.in_scope if expect.in_scope else report.negatives]
        tallies += [report.by_topic[expect.topic], report.by_language[message.lang]]
        for tally in tallies:
            tally.add(outcome, among)
        if outcome == "wrong":
            got = f"{reply.kind}:{','.join(reply.articles)}" if reply.articles else reply.kind
            report.wrong.append((f"{expect.kind}:{expect.value}", got, message.text))
    return report
