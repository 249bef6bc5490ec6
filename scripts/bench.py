"""`make bench`: Rakel's speed under realistic load, next to a minimal Rasa assistant.

Starts Rakel's real processes (cached model) and a `rasa init` baseline (same Rasa,
same machine), replays Norwegian conversations (bench/conversations.yml, one of them a
ticket flow) from 1, 10 and 50 concurrent simulated employees over the REST channel,
the two assistants taking turns in blocks, and prints per level:
latency p50/p95/p99 per message, messages/second, errors, peak RSS of each process;
plus training time, time from start to first answer, and Rakel/baseline ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.settings import PROJECT_ROOT as ROOT
from bot.settings import load_rest_settings, load_settings
from bot.train import ensure_model, rasa_cli, training_record
from devtools.load import LevelResult, report, rest_headers, run_level
from devtools.ports import free_port
from devtools.processes import Rakel, make_env
from devtools.readiness import wait_http

LEVELS = (1, 10, 50)
TARGET_P95_RATIO = 1.5
TARGET_THROUGHPUT_RATIO = 0.7
# Frames in more than this share of a process's samples are its trunk (server loop,
# request handler): the profile summary lists what lies below them.
TRUNK_SHARE = 0.75


class PySpy:
    """py-spy sampling each process during a level; writes collapsed stacks per process.

    The raw files load into speedscope or flamegraph.pl; `summary()` prints the frames
    that take the largest share of each process's samples (inclusive), which is what
    docs/performance.md reports.
    """

    def __init__(self, pids: dict[str, int], out_dir: Path) -> None:
        self.pids = pids
        self.out_dir = out_dir
        self.spies: list[subprocess.Popen] = []

    def __enter__(self) -> PySpy:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
        for name, pid in self.pids.items():
            self.spies.append(
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--rate",
                        "100",
                        "--format",
                        "raw",
                        "--nonblocking",
                        "--output",
                        str(self.out_dir / f"{name}.txt"),
                        "--pid",
                        str(pid),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(1)  # py-spy attaches asynchronously
        return self

    def __exit__(self, *exc: object) -> None:
        for spy in self.spies:
            spy.send_signal(signal.SIGINT)
        for spy in self.spies:
            spy.wait(60)

    def summary(self, top: int = 20) -> list[str]:
        """Per process: the frames with the largest share of samples, inclusive of
        what they call, leaving out the trunk every request passes through (the
        server loop, the channel handler) so the stages of the work show."""
        lines = []
        for name in self.pids:
            path = self.out_dir / f"{name}.txt"
            inclusive: Counter[str] = Counter()
            total = 0
            for line in path.read_text().splitlines() if path.exists() else []:
                stack, _, count = line.rpartition(" ")
                frames = {
                    frame.rsplit(":", 1)[0] + ")" if ":" in frame else frame
                    for frame in stack.split(";")[1:]
                }
                total += int(count)
                inclusive.update(dict.fromkeys(frames, int(count)))
            lines.append(f"py-spy {name}: {total} samples (100 Hz), {path}")
            stages = [
                (frame, n) for frame, n in inclusive.most_common() if n < TRUNK_SHARE * total
            ][:top]
            lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in stages]
        return lines


def first_answer_seconds(url: str, started: float, headers: dict[str, str] | None = None) -> float:
    """Seconds from process start until the REST channel gives a real answer."""
    import requests

    while True:
        try:
            response = requests.post(
                url, json={"sender": "warmup", "message": "hei"}, headers=headers, timeout=30
            )
            if response.status_code == 200 and response.json():
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.2)


def baseline_project(var: Path) -> Path:
    """A `rasa init` assistant (same Rasa version), trained once and cached."""
    project = var / "baseline"
    if not list((project / "models").glob("*.tar.gz")):
        shutil.rmtree(project, ignore_errors=True)
        project.mkdir(parents=True)
        subprocess.run(
            [rasa_cli(), "init", "--no-prompt", "--init-dir", str(project)],
            check=True,
            cwd=project,
            stdout=subprocess.DEVNULL,
        )
    return project


def start_baseline(project: Path, port: int, log: Path) -> tuple[subprocess.Popen, float]:
    started = time.monotonic()
    process = subprocess.Popen(
        [rasa_cli(), "run", "--port", str(port), "--interface", "127.0.0.1"],
        cwd=project,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_http(f"http://127.0.0.1:{port}/", 300, process)
    return process, started


def stored_tickets(env: dict[str, str]) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(load_settings(env).db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM tickets")).scalar_one()
    finally:
        engine.dispose()


@dataclass
class System:
    """One assistant under test: where to send messages, which processes to watch."""

    name: str
    url: str
    pids: dict[str, int]
    first_answer: float
    results: dict[int, LevelResult] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def add(self, block: LevelResult) -> None:
        total = self.results.setdefault(block.users, LevelResult(block.users))
        total.latencies += block.latencies
        total.errors += block.errors
        total.seconds += block.seconds
        total.played += block.played
        for name, mb in block.peak_rss_mb.items():
            total.peak_rss_mb[name] = max(total.peak_rss_mb.get(name, 0.0), mb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="at least this many conversations per simulated employee in each block",
    )
    parser.add_argument(
        "--min-messages",
        type=int,
        default=300,
        help="more rounds at a level until it sends at least this many "
        "messages per assistant, so a p95 rests on enough samples",
    )
    parser.add_argument(
        "--blocks",
        type=int,
        default=3,
        help="Rakel and the baseline take turns this many times per level, "
        "so a slow minute of a shared machine hits both",
    )
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample Rakel's processes with py-spy at the 10-user level "
        "(or the only level) and print where their time goes",
    )
    args = parser.parse_args(argv)

    settings = load_settings()
    var = settings.var_dir / "bench"
    var.mkdir(parents=True, exist_ok=True)
    scripted = yaml.safe_load((ROOT / "bench" / "conversations.yml").read_text())
    conversations = [*scripted["conversations"], scripted["ticket_flow"]]
    mean_length = sum(map(len, conversations)) / len(conversations)
    rounds = {
        n: max(args.rounds, math.ceil(args.min_messages / args.blocks / (n * mean_length)))
        for n in args.levels
    }
    model = ensure_model(settings)
    training = training_record(model).get("training_seconds")

    run_var = var / f"run-{uuid.uuid4().hex[:6]}"
    ports = {name: free_port() for name in ("rasa", "actions", "web")}
    env = make_env(run_var, ports, {"RAKEL_MODEL_DIR": str(model.parent)})
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (run_var / "logs").mkdir(parents=True)
    rakel_processes = Rakel(var_dir=run_var, env=env, ports=ports, logs=run_var / "logs")
    baseline_process: subprocess.Popen | None = None
    profiled = 10 if 10 in args.levels else args.levels[0]
    profile_lines: list[str] = []
    try:
        rakel_processes.start("actions")
        rakel_processes.start("web")
        started = time.monotonic()
        rakel_processes.start("rasa")
        url = f"{rakel_processes.rasa_url}/webhooks/rest/webhook"
        # Loopback needs no token; one set in the environment is enforced all the same.
        headers = rest_headers(load_rest_settings(env).token)
        rakel = System(
            "Rakel",
            url,
            {n: p.pid for n, p in rakel_processes.processes.items()},
            first_answer_seconds(url, started, headers),
            headers=headers,
        )
        systems = [rakel]
        if not args.skip_baseline:
            port = free_port()
            baseline_process, started = start_baseline(
                baseline_project(var), port, var / "baseline.log"
            )
            burl = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
            systems.append(
                System(
                    "baseline",
                    burl,
                    {"rasa": baseline_process.pid},
                    first_answer_seconds(burl, started),
                )
            )
        # Both assistants stay up; at each level they take turns, one block each, so
        # drift in the machine's speed (other work, CPU throttling) hits both alike.
        for n in args.levels:
            for _ in range(args.blocks):
                for system in systems:
                    play = run_level(
                        system.url,
                        n,
                        conversations,
                        rounds[n],
                        system.pids,
                        headers=system.headers,
                    )
                    if args.profile and system is rakel and n == profiled and not profile_lines:
                        with PySpy(system.pids, var / "profile") as spy:
                            system.add(asyncio.run(play))
                        profile_lines += spy.summary()
                    else:
                        system.add(asyncio.run(play))
    finally:
        rakel_processes.stop_all()
        if baseline_process is not None:
            os.killpg(baseline_process.pid, signal.SIGTERM)
            baseline_process.wait(30)

    # The ticket flow is the last conversation.
    expected = sum(r.played[len(conversations) - 1] for r in rakel.results.values())
    stored = stored_tickets(env)
    lines = [
        f"training time (when this model was trained): "
        f"{training if training is not None else 'unknown'} s",
        f"{args.blocks} alternating blocks per level, "
        f"{', '.join(f'{rounds[n]} round(s) at {n}' for n in args.levels)} per block",
    ]
    for system in systems:
        lines.append(f"{system.name}: start to first answer {system.first_answer:.1f} s")
    lines += report(
        "Rakel (REST, SQLite tracker store, action server)", [rakel.results[n] for n in args.levels]
    )
    lines.append(
        f"Rakel: tickets stored by the ticket-flow conversations: {stored} of {expected} expected"
    )
    if args.profile:
        lines += [f"(py-spy sampled the first Rakel block at {profiled} users)", *profile_lines]

    exit_code = 0 if stored == expected else 1
    if not args.skip_baseline:
        baseline = systems[1]
        lines += report(
            "baseline (rasa init assistant, same Rasa, in-memory tracker)",
            [baseline.results[n] for n in args.levels],
        )
        lines.append("Rakel / baseline:")
        for n in args.levels:
            r, b = rakel.results[n], baseline.results[n]
            p95 = r.pct(0.95) / b.pct(0.95)
            thr = r.throughput / b.throughput if b.throughput else float("nan")
            lines.append(f"  {n:>3} users: p95 x{p95:.2f}, throughput x{thr:.2f}")
            if n == 10 and (p95 > TARGET_P95_RATIO or thr < TARGET_THROUGHPUT_RATIO or r.errors):
                exit_code = 1
        lines.append(
            f"target at 10 users: p95 <= x{TARGET_P95_RATIO}, "
            f"throughput >= x{TARGET_THROUGHPUT_RATIO}, zero errors, "
            f"every ticket stored: {'met' if exit_code == 0 else 'NOT met'}"
        )
    print("\n".join(["", "=== Rakel benchmark ===", *lines]))
    (var / "last-run.json").write_text(json.dumps({"lines": lines}, indent=1))
    shutil.rmtree(run_var, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
