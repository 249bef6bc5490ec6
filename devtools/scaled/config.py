"""What the scaled profile runs and where: deploy/scaled.env plus the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import PROJECT_ROOT, SettingsError
from devtools.ports import free_port

ENV_FILE = PROJECT_ROOT / "deploy" / "scaled.env"
NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "rakel.conf.template"

# Fixed ports of the listeners; replica ports come from the *_BASE_PORT values.
LISTENERS = ("LB", "RASA_LB", "ACTIONS_LB", "PG", "REDIS")
GROUPS = ("rasa", "actions", "web", "worker")


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as docker compose's env_file reads them (no shell expansion)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        values[key.strip()] = value.strip()
    return values


def _port(values: Mapping[str, str], name: str) -> int:
    raw = values.get(name, "")
    try:
        port = int(raw)
    except ValueError as exc:
        raise SettingsError(
            f"{name} must be a port number (0 = any free port), got {raw!r}"
        ) from exc
    if not 0 <= port <= 65535:
        raise SettingsError(f"{name} must be between 0 and 65535, got {port}")
    return port or free_port()


def _count(values: Mapping[str, str], name: str, minimum: int) -> int:
    raw = values.get(name, "")
    try:
        count = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc
    if count < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {count}")
    return count


@dataclass(frozen=True)
class ScaledConfig:
    """Resolved values: replica counts and concrete ports (free ones picked for 0)."""

    root: Path
    values: dict[str, str]
    replicas: dict[str, int]
    ports: dict[str, int]
    replica_ports: dict[str, list[int]] = field(default_factory=dict)

    @property
    def endpoints(self) -> Path:
        path = Path(self.values["RAKEL_ENDPOINTS"])
        return path if path.is_absolute() else PROJECT_ROOT / path


def load_config(
    root: Path, env: Mapping[str, str] | None = None, env_file: Path = ENV_FILE
) -> ScaledConfig:
    env = os.environ if env is None else env
    values = read_env_file(env_file)
    # The environment wins over the file, as with docker compose.
    values.update({key: env[key] for key in values if key in env})
    values.update(
        {
            key: value
            for key, value in env.items()
            if key.startswith("RAKEL_SCALED_") and key not in values
        }
    )
    replicas = {
        "rasa": _count(values, "RAKEL_SCALED_RASA_REPLICAS", 1),
        "actions": _count(values, "RAKEL_SCALED_ACTIONS_REPLICAS", 1),
        "web": _count(values, "RAKEL_SCALED_WEB_REPLICAS", 1),
        "worker": _count(values, "RAKEL_SCALED_WORKER_REPLICAS", 0),
    }
    ports = {name: _port(values, f"RAKEL_SCALED_{name}_PORT") for name in LISTENERS}
    replica_ports: dict[str, list[int]] = {}
    for group in ("rasa", "actions", "web"):
        base = int(values.get(f"RAKEL_SCALED_{group.upper()}_BASE_PORT", "0") or 0)
        replica_ports[group] = [base + i if base else free_port() for i in range(replicas[group])]
    return ScaledConfig(
        root=root.resolve(),
        values=values,
        replicas=replicas,
        ports=ports,
        replica_ports=replica_ports,
    )
