"""A model's figures, and whether a retrained model may replace the live one.

The figures are those of `make eval` (bot/evaluate.py), computed in this process from
the model file: the first reply to the real questions of the test split
(tests/data/realq/; the four outcomes, for the negatives and per topic) and the topic
accuracy on the held-out file. The dev split is left to `make eval`: thresholds are
tuned on it, so it says less about a new model, and it would double the time. The
trainer (bot/trainer.py) stores the figures as JSON with the model's row; the models
page shows them side by side.

The guard reads the test split only, the one no threshold was tuned on: a new model
goes live unless right answers fall by more than RIGHT_MAY_FALL or confidently wrong
answers rise by more than WRONG_MAY_RISE (issue 18: 2 and 1 percentage points).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

RIGHT_MAY_FALL = 0.02
WRONG_MAY_RISE = 0.01
GUARD_SPLIT = "test"
OUTCOMES = ("right", "clarified", "abstained", "wrong")


def _tally(tally: Any) -> dict[str, Any]:
    return {"n": tally.total, **{o: round(tally.share(o), 4) for o in OUTCOMES}}


def figures(model: Path, knowledge_dir: Path | None = None) -> dict[str, Any]:
    """The model's evaluation figures (JSON-able). `knowledge_dir`: the content it was
    trained from, for the topics of the held-out file (a new article's intent)."""
    from bot.content.catalogue import catalogue
    from bot.evaluate import evaluate_heldout, load_heldout, parse_with_model
    from bot.evaluation.scoring import evaluate
    from bot.evaluation.survey import by_split, load_messages, load_survey

    parse = parse_with_model(model)
    project = catalogue()
    survey = load_survey({a.id: a.topic for a in project.articles.values()})
    report = evaluate(by_split(load_messages(survey), GUARD_SPLIT), parse, GUARD_SPLIT)
    out: dict[str, Any] = {
        GUARD_SPLIT: {
            **_tally(report.overall),
            "negatives": _tally(report.negatives),
            "topics": {topic: _tally(t) for topic, t in sorted(report.by_topic.items())},
        }
    }
    content = catalogue(knowledge_dir) if knowledge_dir else project
    heldout = evaluate_heldout(load_heldout(), parse, content)
    out["heldout"] = {"n": heldout.total, "topic_accuracy": round(heldout.topic_accuracy, 4)}
    return out


def _points(share: float) -> str:
    return f"{share * 100:.1f}".replace(".", ",") + " %"


def held_back_reason(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """Why the new model must not replace the live one (Norwegian, for the page), or
    None when it may."""
    old, new = before[GUARD_SPLIT], after[GUARD_SPLIT]
    reasons = []
    if new["right"] < old["right"] - RIGHT_MAY_FALL - 1e-9:
        reasons.append(
            f"riktige svar falt fra {_points(old['right'])} til {_points(new['right'])} "
            f"(høyst {RIGHT_MAY_FALL * 100:.0f} prosentpoeng er tillatt)"
        )
    if new["wrong"] > old["wrong"] + WRONG_MAY_RISE + 1e-9:
        reasons.append(
            f"sikre, men gale svar økte fra {_points(old['wrong'])} til {_points(new['wrong'])} "
            f"(høyst {WRONG_MAY_RISE * 100:.0f} prosentpoeng er tillatt)"
        )
    if not reasons:
        return None
    return (
        "Holdt tilbake: på testsettet med ekte spørsmål " + " og ".join(reasons) + ". "
        "Den aktive modellen svarer fortsatt. Se gjennom endringene siden forrige modell."
    )
