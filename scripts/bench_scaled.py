"""`make bench-scaled`: the scaled profile's throughput through nginx, 1 vs 2 replicas.

Starts the scaled profile (PostgreSQL, Redis, nginx; free loopback ports) once with
1 Rasa + 1 action server and once with 2 + 2, replays the benchmark's Norwegian
conversations (bench/conversations.yml, devtools.load, as `make bench`) from
concurrent simulated employees through nginx, and prints latency, throughput,
errors and peak RSS per replica for each. On a 2-core machine expect little gain
from a second replica: the point is that the recipe is correct.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT as ROOT
from bot.settings import load_settings
from devtools.load import LevelResult, report, rest_headers, run_level
from devtools.scaled.profile import ScaledProfile

PORTS = ("LB", "RASA_LB", "ACTIONS_LB", "PG", "REDIS", "RASA_BASE", "ACTIONS_BASE", "WEB_BASE")


def measure(
    replicas: int, levels: list[int], rounds: int, conversations: list[list[str]]
) -> list[LevelResult]:
    root = Path(tempfile.mkdtemp(prefix="rakel-bench-scaled-"))
    root.chmod(0o755)  # PostgreSQL runs as `postgres` and must reach its folder
    overrides = {f"RAKEL_SCALED_{name}_PORT": "0" for name in PORTS}
    overrides |= {
        "RAKEL_SCALED_RASA_REPLICAS": str(replicas),
        "RAKEL_SCALED_ACTIONS_REPLICAS": str(replicas),
    }
    profile = ScaledProfile(root, overrides)
    try:
        profile.up()
        # REST is not published by nginx: the internal listener, with the token.
        url = f"{profile.rasa_api_url}/webhooks/rest/webhook"
        headers = rest_headers(profile.secret("rest_token"))
        pids = {
            name: pid
            for name, pid in profile.pids.items()
            if name.startswith(("rasa-", "actions-"))
        }
        # Warm-up: the first messages of a fresh replica load lazy parts of the model.
        asyncio.run(run_level(url, 2 * replicas, conversations, 1, {}, headers=headers))
        return [
            asyncio.run(run_level(url, n, conversations, rounds, pids, headers=headers))
            for n in levels
        ]
    finally:
        profile.down()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    conversations = yaml.safe_load((ROOT / "bench" / "conversations.yml").read_text())[
        "conversations"
    ]
    results = {n: measure(n, args.levels, args.rounds, conversations) for n in (1, 2)}
    lines = []
    for n, level_results in results.items():
        lines += report(
            f"scaled profile, {n} Rasa + {n} action server(s) behind nginx "
            "(PostgreSQL tracker store, Redis lock store)",
            level_results,
        )
    lines.append("2 replicas / 1 replica:")
    for one, two in zip(results[1], results[2], strict=True):
        lines.append(
            f"  {one.users:>3} users: throughput x{two.throughput / one.throughput:.2f},"
            f" p95 x{two.pct(0.95) / one.pct(0.95):.2f}, errors {one.errors} / "
            f"{two.errors}"
        )
    print("\n".join(["", "=== Rakel scaled benchmark ===", *lines]))
    out = load_settings().var_dir / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scaled-last-run.json").write_text(json.dumps({"lines": lines}, indent=1))
    return 1 if any(r.errors for rs in results.values() for r in rs) else 0


if __name__ == "__main__":
    sys.exit(main())
