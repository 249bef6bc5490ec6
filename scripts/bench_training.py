"""`make bench-training`: Rakel's latency at 10 users while the trainer retrains.

Issue 18: a retraining must not slow the answers users get: p95 at 10 users during
training at most x1.3 of idle. Starts Rakel (REST, action server, web service) on the
current model, plays the benchmark's conversations at 10 users idle, then again while
a training runs exactly as the trainer runs it (bot/trainer.py: niced, one thread,
fine-tuned from the live model on the files plus one new example, or `--full`), then
idle once more. Prints the fine-tuning (or full) training time and both p95s.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import sys
import threading
import time
import uuid

import yaml

from bot import trainer
from bot.content_export import write_changes
from bot.models import ContentChange
from bot.settings import PROJECT_ROOT as ROOT
from bot.settings import load_rest_settings, load_settings
from bot.train import DATA, ensure_model
from devtools.load import LevelResult, report, rest_headers, run_level
from devtools.ports import free_port
from devtools.processes import make_env, running

USERS = 10
TARGET = 1.3


def training_copy(settings, root):  # type: ignore[no-untyped-def]
    """The trainer's copy of the content, with one new example (not in any model yet)."""
    shutil.copytree(settings.knowledge_dir, root / "knowledge")
    shutil.copytree(DATA, root / "data")
    example = ContentChange(
        kind="example",
        intent="faq/teams_screen_share",
        article_id="teams_screen_share",
        after=f'"kollegaene ser ikke skjermen min {uuid.uuid4().hex[:6]}"',
    )
    write_changes([example], root / "knowledge", root / "data" / "nlu")
    return dataclasses.replace(settings, knowledge_dir=root / "knowledge"), root / "data"


def pooled(results: list[LevelResult]) -> LevelResult:
    out = LevelResult(USERS)
    for r in results:
        out.latencies += r.latencies
        out.errors += r.errors
        out.seconds += r.seconds
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="a full training, not fine-tuning")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per employee and block")
    args = parser.parse_args(argv)

    settings = load_settings()
    scripted = yaml.safe_load((ROOT / "bench" / "conversations.yml").read_text())
    conversations = [*scripted["conversations"], scripted["ticket_flow"]]
    model = ensure_model(settings)
    run_var = settings.var_dir / "bench" / f"training-{uuid.uuid4().hex[:6]}"
    ports = {name: free_port() for name in ("rasa", "actions", "web")}
    env = make_env(run_var, ports, {"RAKEL_MODEL_DIR": str(model.parent)})
    tree_settings, data_dir = training_copy(settings, run_var / "content")
    trained: dict[str, float] = {}

    def train() -> None:
        started = time.monotonic()
        ensure_model(
            tree_settings,
            data_dir=data_dir,
            finetune_from=None if args.full else model,
            extra_env=trainer.TRAINING_ENV,
            out_dir=run_var / "models",
            force=True,
            niceness=trainer.NICENESS,
        )
        trained["seconds"] = time.monotonic() - started

    with running(run_var, ports, env) as rakel:
        url = f"{rakel.rasa_url}/webhooks/rest/webhook"
        headers = rest_headers(load_rest_settings(env).token)
        pids = {n: p.pid for n, p in rakel.processes.items()}

        def block() -> LevelResult:
            return asyncio.run(
                run_level(url, USERS, conversations, args.rounds, pids, headers=headers)
            )

        idle = [block()]
        training = threading.Thread(target=train)
        training.start()
        during = []
        while training.is_alive():
            during.append(block())
        idle.append(block())
    quiet, busy = pooled(idle), pooled(during)
    ratio = busy.pct(0.95) / quiet.pct(0.95)
    kind = "full training" if args.full else "fine-tuning"
    lines = [
        f"{kind} (niced {trainer.NICENESS}, one thread): {trained.get('seconds', 0):.0f} s",
        *report(f"Rakel at {USERS} users, idle (before and after)", [quiet]),
        *report(f"Rakel at {USERS} users, during the {kind}", [busy]),
        f"p95 during / idle: x{ratio:.2f} (target <= x{TARGET}): "
        f"{'met' if ratio <= TARGET and not busy.errors else 'NOT met'}",
    ]
    print("\n".join(["", "=== Rakel while training ===", *lines]))
    shutil.rmtree(run_var, ignore_errors=True)
    return 0 if ratio <= TARGET and not busy.errors else 1


if __name__ == "__main__":
    sys.exit(main())
