"""Add sha256 hashes to a pinned lock file, or check that it has them.

    python -m devtools.lockhash requirements/rasa-lock.txt [more locks]   # (re-)hash
    python -m devtools.lockhash --check requirements/*-lock.txt          # offline check

Setup installs every lock with `pip install --require-hashes`, so each `name==version`
line needs the digest of every file that pip may pick for it. This tool changes
nothing but the hashes: it does not resolve, does not move a pin and keeps every
comment, so Rasa's verified freeze (installed with --no-deps) stays exactly as it
is. For each pin it asks the package index's JSON simple API (PEP 691, the same
index pip installs from) for the files of that version and records all of them,
wheels for every platform and the sdist, so the lock installs on any machine.

After changing a pin: edit the `name==version` line, then re-hash that file
(`make lock-hashes` does every lock) and review the diff.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

DEFAULT_INDEX = "https://pypi.org/simple"
PEP691 = "application/vnd.pypi.simple.v1+json"
# `name[extras]==version ; marker`: extras and an environment marker are kept as written.
PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*(?P<version>[^\s;\\#]+)"
)
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


class LockError(Exception):
    """A lock line this tool cannot hash or accept; the message names it."""


@dataclass
class Pin:
    name: str
    version: str
    line: int  # 1-based, for messages
    head: str  # the requirement as written, without its hashes
    hashes: list[str] = field(default_factory=list)


def parse(text: str) -> tuple[list[str | Pin], list[Pin]]:
    """The file as a list of verbatim lines and pins (with any hashes they carry)."""
    items: list[str | Pin] = []
    pins: list[Pin] = []
    current: Pin | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if current is not None:
            # Continuation of the previous pin: its hash options.
            current.hashes += [h.split(":", 1)[1] for h in HASH.findall(stripped)]
            if not stripped.endswith("\\"):
                current = None
            continue
        match = PIN.match(stripped)
        if not match:
            if stripped and not stripped.startswith("#"):
                raise LockError(f"line {number}: not a `name==version` pin: {stripped!r}")
            items.append(raw)
            continue
        head = stripped.split("--hash", 1)[0].rstrip(" \t\\")
        if "#" in head:
            # pip joins continuation lines before it strips comments: a comment here
            # would swallow the hashes that follow.
            raise LockError(f"line {number}: put the comment on its own line: {stripped!r}")
        pin = Pin(match["name"], match["version"], number, head)
        pin.hashes += [h.split(":", 1)[1] for h in HASH.findall(stripped)]
        items.append(pin)
        pins.append(pin)
        if stripped.endswith("\\"):
            current = pin
    return items, pins


def render(items: list[str | Pin]) -> str:
    lines: list[str] = []
    for item in items:
        if isinstance(item, str):
            lines.append(item)
            continue
        head = item.head
        if not item.hashes:
            lines.append(head)
            continue
        lines.append(head + " \\")
        for i, digest in enumerate(item.hashes):
            tail = " \\" if i < len(item.hashes) - 1 else ""
            lines.append(f"    --hash=sha256:{digest}{tail}")
    return "\n".join(lines) + "\n"


def file_version(filename: str, name: str) -> Version | None:
    """The version a distribution file carries, if it is one of `name`'s."""
    try:
        if filename.endswith(".whl"):
            dist, version, _build, _tags = parse_wheel_filename(filename)
        else:
            dist, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None  # eggs, .exe installers and other files pip does not install
    return version if dist == canonicalize_name(name) else None


def digests_for(pin: Pin, files: list[dict]) -> list[str]:
    wanted = Version(pin.version)
    found = sorted(
        {
            entry["hashes"]["sha256"]
            for entry in files
            if "sha256" in entry.get("hashes", {})
            and file_version(entry["filename"], pin.name) == wanted
        }
    )
    if not found:
        raise LockError(f"line {pin.line}: the index has no file of {pin.name}=={pin.version}")
    return found


def fetch_files(name: str, index: str) -> list[dict]:
    if not index.startswith(("https://", "http://")):
        raise LockError(f"the index must be an http(s) URL, not {index!r}")
    url = f"{index.rstrip('/')}/{canonicalize_name(name)}/"
    request = urllib.request.Request(url, headers={"Accept": PEP691})  # noqa: S310 - checked
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - checked
        return json.load(response)["files"]


def hash_lock(path: Path, index: str = DEFAULT_INDEX, fetch=fetch_files) -> int:
    """Rewrite `path` with every file digest of every pin; return the pin count."""
    items, pins = parse(path.read_text())
    for pin in pins:
        try:
            pin.hashes = digests_for(pin, fetch(pin.name, index))
        except LockError as error:
            raise LockError(f"{path}: {error}") from None
        print(f"  {pin.name}=={pin.version}: {len(pin.hashes)} file(s)", flush=True)
    path.write_text(render(items))
    return len(pins)


def unhashed(path: Path) -> list[str]:
    """Pins of `path` that carry no hash (pip's --require-hashes would refuse them)."""
    _items, pins = parse(path.read_text())
    return [f"{path}:{p.line}: {p.name}=={p.version}" for p in pins if not p.hashes]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("locks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="only report pins without hashes")
    parser.add_argument("--index-url", default=DEFAULT_INDEX, help="a PEP 691 simple index")
    args = parser.parse_args(argv)
    try:
        if args.check:
            missing = [entry for lock in args.locks for entry in unhashed(lock)]
            for entry in missing:
                print(f"no hash: {entry}", file=sys.stderr)
            return 1 if missing else 0
        for lock in args.locks:
            print(f"hashing {lock}", flush=True)
            count = hash_lock(lock, args.index_url)
            print(f"{lock}: {count} pins hashed")
    except LockError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
