"""`make bench`: Rakel's speed under realistic load, next to a minimal Rasa assistant.

Starts Rakel's real processes (cached model) and a `rasa init` baseline (same Rasa,
same machine), replays Norwegian conversations (bench/conversations.yml) from 1, 10
and 50 concurrent simulated employees over the REST channel, and prints per level:
latency p50/p95/p99 per message, messages/second, errors, peak RSS of each process;
plus training time, time from start to first answer, and Rakel/baseline ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.settings import load_settings  # noqa: E402
from bot.train import ensure_model, rasa_cli, training_record  # noqa: E402
from tests.support.processes import Rakel, free_port, make_env, wait_http  # noqa: E402

LEVELS = (1, 10, 50)
TARGET_P95_RATIO = 1.5
TARGET_THROUGHPUT_RATIO = 0.7


@dataclass
class LevelResult:
    users: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    peak_rss_mb: dict[str, float] = field(default_factory=dict)

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


class RssSampler:
    """Samples the resident memory of processes (and their children) every 100 ms."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak: dict[str, float] = dict.fromkeys(pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _tree_rss_kb(pid: int) -> int:
        total = 0
        pending = [pid]
        while pending:
            current = pending.pop()
            try:
                status = Path(f"/proc/{current}/status").read_text()
                total += int(next(line.split()[1] for line in status.splitlines()
                                  if line.startswith("VmRSS:")))
                children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
                pending += [int(c) for c in children]
            except (OSError, StopIteration, ValueError):
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], self._tree_rss_kb(pid) / 1024)
            self._stop.wait(0.1)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# observe(sender, text, response or None, reply body or None) sees every message:
# the scaled tests use it to follow which replica answered each conversation.
Observer = Callable[[str, str, "aiohttp.ClientResponse | None", "list | None"], None]


async def run_level(url: str, users: int, conversations: list[list[str]], rounds: int,
                    pids: dict[str, int], observe: Observer | None = None) -> LevelResult:
    result = LevelResult(users)
    timeout = aiohttp.ClientTimeout(total=120)

    async def employee(index: int, session: aiohttp.ClientSession) -> None:
        for round_ in range(rounds):
            sender = f"bench-{uuid.uuid4().hex[:10]}"
            for text in conversations[(index + round_) % len(conversations)]:
                started = time.perf_counter()
                try:
                    async with session.post(url, json={"sender": sender, "message": text}) as r:
                        body = await r.json(content_type=None)
                        ok = r.status == 200 and isinstance(body, list) and bool(body)
                        if not ok:
                            result.errors += 1
                        if observe is not None:
                            observe(sender, text, r, body if ok else None)
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                    result.errors += 1
                    if observe is not None:
                        observe(sender, text, None, None)
                result.latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        with RssSampler(pids) as sampler:
            started = time.perf_counter()
            await asyncio.gather(*(employee(i, session) for i in range(users)))
            result.seconds = time.perf_counter() - started
        result.peak_rss_mb = sampler.peak
    return result


def first_answer_seconds(url: str, started: float) -> float:
    """Seconds from process start until the REST channel gives a real answer."""
    import requests

    while True:
        try:
            response = requests.post(url, json={"sender": "warmup", "message": "hei"}, timeout=30)
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
        subprocess.run([rasa_cli(), "init", "--no-prompt", "--init-dir", str(project)],
                       check=True, cwd=project, stdout=subprocess.DEVNULL)
    return project


def start_baseline(project: Path, port: int, log: Path) -> tuple[subprocess.Popen, float]:
    started = time.monotonic()
    process = subprocess.Popen(
        [rasa_cli(), "run", "--port", str(port), "--interface", "127.0.0.1"],
        cwd=project, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    wait_http(f"http://127.0.0.1:{port}/", 300, process)
    return process, started


def report(name: str, results: list[LevelResult]) -> list[str]:
    lines = [f"{name}:",
             f"  {'users':>5} {'msgs':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
             f"{'msg/s':>7} {'errors':>6}  peak RSS MB"]
    for r in results:
        rss = ", ".join(f"{k} {v:.0f}" for k, v in r.peak_rss_mb.items())
        lines.append(f"  {r.users:>5} {len(r.latencies):>6} {r.pct(0.5):>8.0f} {r.pct(0.95):>8.0f} "
                     f"{r.pct(0.99):>8.0f} {r.throughput:>7.1f} {r.errors:>6}  {rss}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2,
                        help="conversations per simulated employee at each level")
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)

    settings = load_settings()
    var = settings.var_dir / "bench"
    var.mkdir(parents=True, exist_ok=True)
    conversations = yaml.safe_load((ROOT / "bench" / "conversations.yml").read_text())[
        "conversations"]

    model = ensure_model(settings)
    training = training_record(model).get("training_seconds")

    run_var = var / f"run-{uuid.uuid4().hex[:6]}"
    ports = {name: free_port() for name in ("rasa", "actions", "web")}
    env = make_env(run_var, ports, {"RAKEL_MODEL_DIR": str(model.parent)})
    subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    (run_var / "logs").mkdir(parents=True)
    rakel = Rakel(var_dir=run_var, env=env, ports=ports, logs=run_var / "logs")
    lines: list[str] = []
    try:
        rakel.start("actions")
        rakel.start("web")
        started = time.monotonic()
        rakel.start("rasa")
        url = f"{rakel.rasa_url}/webhooks/rest/webhook"
        first = first_answer_seconds(url, started)
        pids = {name: p.pid for name, p in rakel.processes.items()}
        rakel_results = [asyncio.run(run_level(url, n, conversations, args.rounds, pids))
                         for n in args.levels]
    finally:
        rakel.stop_all()
    lines += [f"training time (when this model was trained): "
              f"{training if training is not None else 'unknown'} s",
              f"Rakel: start to first answer {first:.1f} s"]
    lines += report("Rakel (REST, SQLite tracker store, action server)", rakel_results)

    exit_code = 0
    if not args.skip_baseline:
        project = baseline_project(var)
        port = free_port()
        process, started = start_baseline(project, port, var / "baseline.log")
        try:
            burl = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
            bfirst = first_answer_seconds(burl, started)
            base_results = [asyncio.run(run_level(burl, n, conversations, args.rounds,
                                                  {"rasa": process.pid}))
                            for n in args.levels]
        finally:
            os.killpg(process.pid, 15)
            process.wait(30)
        lines.append(f"baseline: start to first answer {bfirst:.1f} s")
        lines += report("baseline (rasa init assistant, same Rasa, in-memory tracker)",
                        base_results)
        lines.append("Rakel / baseline:")
        for r, b in zip(rakel_results, base_results, strict=True):
            p95 = r.pct(0.95) / b.pct(0.95)
            thr = r.throughput / b.throughput if b.throughput else float("nan")
            lines.append(f"  {r.users:>3} users: p95 x{p95:.2f}, throughput x{thr:.2f}")
            if r.users == 10 and (p95 > TARGET_P95_RATIO or thr < TARGET_THROUGHPUT_RATIO
                                  or r.errors):
                exit_code = 1
        lines.append(f"target at 10 users: p95 <= x{TARGET_P95_RATIO}, "
                     f"throughput >= x{TARGET_THROUGHPUT_RATIO}, zero errors: "
                     f"{'met' if exit_code == 0 else 'NOT met'}")
    print("\n".join(["", "=== Rakel benchmark ===", *lines]))
    (var / "last-run.json").write_text(json.dumps({"lines": lines}, indent=1))
    shutil.rmtree(run_var, ignore_errors=True)

    return exit_code


if __name__ == "__main__":
    sys.exit(main())
