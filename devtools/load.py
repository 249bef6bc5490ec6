"""The load generator: simulated employees replaying conversations over the REST channel.

`run_level` plays conversations from N concurrent users and measures latency,
throughput, errors and the peak memory of the processes under load; `report` prints
a table of levels. Used by `make bench`, `make bench-scaled` and the scaled tests.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp


@dataclass
class LevelResult:
    users: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    # How often each conversation (by index in the list) was played.
    played: Counter[int] = field(default_factory=Counter)

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
                total += int(
                    next(
                        line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")
                    )
                )
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


def rest_headers(token: str | None) -> dict[str, str]:
    """What the REST channel wants when RAKEL_REST_TOKEN is set (bot/channels/rest.py)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


async def run_level(
    url: str,
    users: int,
    conversations: list[list[str]],
    rounds: int,
    pids: dict[str, int],
    observe: Observer | None = None,
    headers: dict[str, str] | None = None,
) -> LevelResult:
    result = LevelResult(users)
    timeout = aiohttp.ClientTimeout(total=120)

    async def employee(index: int, session: aiohttp.ClientSession) -> None:
        for round_ in range(rounds):
            sender = f"bench-{uuid.uuid4().hex[:10]}"
            conversation = (index + round_) % len(conversations)
            result.played[conversation] += 1
            for text in conversations[conversation]:
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
    async with aiohttp.ClientSession(
        timeout=timeout, connector=connector, headers=headers
    ) as session:
        with RssSampler(pids) as sampler:
            started = time.perf_counter()
            await asyncio.gather(*(employee(i, session) for i in range(users)))
            result.seconds = time.perf_counter() - started
        result.peak_rss_mb = sampler.peak
    return result


def report(name: str, results: list[LevelResult]) -> list[str]:
    lines = [
        f"{name}:",
        f"  {'users':>5} {'msgs':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'msg/s':>7} {'errors':>6}  peak RSS MB",
    ]
    for r in results:
        rss = ", ".join(f"{k} {v:.0f}" for k, v in r.peak_rss_mb.items())
        lines.append(
            f"  {r.users:>5} {len(r.latencies):>6} {r.pct(0.5):>8.0f} {r.pct(0.95):>8.0f} "
            f"{r.pct(0.99):>8.0f} {r.throughput:>7.1f} {r.errors:>6}  {rss}"
        )
    return lines
