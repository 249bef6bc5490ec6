"""`make eval`'s multi-turn conversations: start Rakel's real processes on free ports
with a private var folder, play tests/data/conversations/ over REST, print the figures
(bot/evaluation/conversations.py)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bot.evaluation.conversations import available_sets, print_reports, run_sets
from devtools.ports import free_port
from devtools.processes import make_env, running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-wrong", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rakel-conversations-") as tmp:
        var_dir = Path(tmp)
        ports = {name: free_port() for name in ("rasa", "actions", "web")}
        with running(var_dir, ports, make_env(var_dir, ports)) as rakel:
            reports = run_sets(rakel.rasa_url, available_sets())
    print_reports(reports, args.show_wrong)
    return 0


if __name__ == "__main__":
    sys.exit(main())
