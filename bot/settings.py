"""All configuration, read from the environment in one place.

Every process (Rasa's action server, our web service, the worker, the CLI) calls
`load_settings()`; nothing else reads `os.environ` for Rakel settings. Defaults are
the embedded single-machine profile: SQLite files under `var/`.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Contact details are configuration, not facts: the defaults are visibly fake so
# that a deployment that forgot to set them never shows invented numbers.
CONTACT_DEFAULTS = {
    "contact_phone": "(telefonnummer er ikke satt opp)",
    "contact_email": "kundeservice@example.invalid",
    "portal_url": "https://portal.example.invalid",
    "opening_hours": "(åpningstider er ikke satt opp)",
    "visit_address": "(besøksadresse er ikke satt opp)",
}


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    db_url: str
    tracker_db_url: str
    rasa_url: str
    action_server_url: str
    web_host: str
    web_port: int
    knowledge_dir: Path
    contacts: Mapping[str, str] = field(default_factory=dict)
    itsm_url: str | None = None
    retention_days: int = 90

    def secret(self, name: str) -> str:
        """A secret from the environment, else one generated once into var/.

        Generated secrets let a single machine run with no setup; a scaled
        deployment sets them in the environment so all replicas agree.
        """
        env_name = f"RAKEL_{name.upper()}"
        value = os.environ.get(env_name)
        if value:
            return value
        path = self.var_dir / "secrets" / name
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        value = secrets.token_urlsafe(32)
        # O_EXCL: if two processes race, the loser reads the winner's value.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


PROFILES = ("single", "scaled")


def check_profile(env: Mapping[str, str], db_url: str, tracker_db_url: str) -> None:
    """RAKEL_PROFILE=scaled promises shared state; refuse a replica that would not share it.

    A replica left on the SQLite defaults or the in-memory lock store would answer,
    but keep its own copy of conversations: fail at start instead.
    """
    profile = env.get("RAKEL_PROFILE") or "single"
    if profile not in PROFILES:
        raise SettingsError(f"RAKEL_PROFILE must be one of {', '.join(PROFILES)}, got {profile!r}")
    if profile != "scaled":
        return
    for name, url in (("RAKEL_DB_URL", db_url), ("RAKEL_TRACKER_DB_URL", tracker_db_url)):
        if not url.startswith("postgresql"):
            raise SettingsError(f"RAKEL_PROFILE=scaled needs {name} on PostgreSQL "
                                f"(postgresql+psycopg2://…), got {url.split(':', 1)[0]}:")
    endpoints = env.get("RAKEL_ENDPOINTS", "")
    if not endpoints or Path(endpoints).name == "endpoints.yml":
        raise SettingsError("RAKEL_PROFILE=scaled needs RAKEL_ENDPOINTS=endpoints.scaled.yml "
                            "(Redis lock store shared by the Rasa replicas)")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    var_dir = Path(env.get("RAKEL_VAR_DIR", PROJECT_ROOT / "var")).resolve()
    contacts = {
        key: env.get(f"RAKEL_{key.upper()}", default)
        for key, default in CONTACT_DEFAULTS.items()
    }
    db_url = env.get("RAKEL_DB_URL") or f"sqlite:///{var_dir / 'rakel.db'}"
    tracker_db_url = env.get("RAKEL_TRACKER_DB_URL") or f"sqlite:///{var_dir / 'tracker.db'}"
    check_profile(env, db_url, tracker_db_url)
    return Settings(
        var_dir=var_dir,
        db_url=db_url,
        tracker_db_url=tracker_db_url,
        rasa_url=env.get("RAKEL_RASA_URL", "http://127.0.0.1:5005"),
        action_server_url=env.get("RAKEL_ACTION_SERVER_URL", "http://127.0.0.1:5055"),
        web_host=env.get("RAKEL_WEB_HOST", "127.0.0.1"),
        web_port=_int(env, "RAKEL_WEB_PORT", 8080),
        knowledge_dir=Path(env.get("RAKEL_KNOWLEDGE_DIR", PROJECT_ROOT / "knowledge")),
        contacts=contacts,
        itsm_url=env.get("RAKEL_ITSM_URL") or None,
        retention_days=_int(env, "RAKEL_RETENTION_DAYS", 90),
    )
