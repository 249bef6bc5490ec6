"""All configuration, read from the environment in one place.

Every process (Rasa's action server, our web service, the worker, the CLI) calls
`load_settings()`; nothing else reads `os.environ` for Rakel settings. Defaults are
the embedded single-machine profile: SQLite files under `var/`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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


# Widget identity tokens (bot/channels/widget_token.py): longer-lived ones are refused.
# A working day; the web service issues 15-minute tokens, the page fetches new ones.
WIDGET_TOKEN_MAX_LIFETIME_SECONDS = 8 * 3600


# --- Python environments ----------------------------------------------------------
# Which environment runs which process (docs/architecture.md). Rasa 3.6 pins aiohttp 3.9
# and SQLAlchemy 1.4; the web service and the worker never import Rasa, so they run on
# current releases (requirements/web-lock.txt) in an environment of their own. The Rasa
# server, the action server and the trainer stay in Rasa's.
WEB_ENV_PROCESSES = frozenset({"web", "worker"})
ENVIRONMENTS = {"rasa": ("RAKEL_VENV", ".venv"), "web": ("RAKEL_WEB_VENV", ".venv-web")}


def environment_dir(name: str, env: Mapping[str, str] | None = None) -> Path:
    """The virtualenv `rasa` or `web` (relative settings are from the checkout).

    Not resolved: the checkout's `.venv` may be a link that several checkouts share.
    """
    env = os.environ if env is None else env
    variable, default = ENVIRONMENTS[name]
    return PROJECT_ROOT / (env.get(variable) or default)


def process_python(process: str, env: Mapping[str, str] | None = None) -> Path:
    """The interpreter that runs `bot.cli run <process>`."""
    name = "web" if process in WEB_ENV_PROCESSES else "rasa"
    return environment_dir(name, env) / "bin" / "python"


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
    # Trained models, cached by fingerprint (bot/train.py); shareable between checkouts.
    model_dir: Path = Path("var/models")
    # Sentence embeddings training computed (bot/nlu/e5_featurizer.py): a retraining
    # embeds only new texts. Shareable like the model cache (the tests share one).
    embedding_cache: Path = Path("var/cache")
    contacts: Mapping[str, str] = field(default_factory=dict)
    itsm_url: str | None = None
    retention_days: int = 90
    # ITSM forwarding by the worker (bot/worker.py). The lease must outlast a request:
    # a claimed row only becomes due again when its worker has surely given up or died.
    # Not in the text form of the settings: settings get logged and printed.
    itsm_token: str | None = field(default=None, repr=False)
    itsm_timeout_seconds: float = 10.0
    itsm_retry_base_seconds: float = 5.0
    itsm_retry_max_seconds: float = 3600.0
    outbox_lease_seconds: float = 60.0
    worker_poll_seconds: float = 2.0
    # Every Rasa server a model is activated on (bot/model_activation.py): rasa_url
    # unless RAKEL_RASA_REPLICAS lists the replicas of a scaled deployment.
    rasa_replicas: tuple[str, ...] = ()
    # Seconds between the trainer's looks for a requested training (bot/trainer.py).
    trainer_poll_seconds: float = 2.0
    # Messages the Rasa process works on at once (bot/channels/admission.py); 0: no bound.
    rasa_max_in_flight: int = 3
    retention_interval_seconds: float = 3600.0
    widget_token_max_lifetime_seconds: int = WIDGET_TOKEN_MAX_LIFETIME_SECONDS
    # Where each process listens and which Rasa files it reads.
    rasa_host: str = "127.0.0.1"
    actions_host: str = "127.0.0.1"
    endpoints: Path = PROJECT_ROOT / "endpoints.yml"
    credentials: Path = PROJECT_ROOT / "credentials.yml"
    # Staff pages: the first admin (created at web start if missing), the cookie's
    # Secure flag (off only for plain-http development) and the reverse proxies whose
    # X-Forwarded-For names the client (login throttling counts per client address).
    admin_user: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    cookie_secure: bool = True
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # The environment these settings were read from: secrets (RAKEL_<NAME>) come from
    # it, and child processes inherit it. Never printed: it holds the secrets.
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    _secrets: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def child_environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment for a process Rakel starts (Rasa, training, validation).

        The system's variables (PATH, HOME, ...) come from this process; Rakel's own
        (RAKEL_*) exactly from these settings, so a child reads the same configuration
        even when the settings were built from an injected environment. This checkout
        comes first on PYTHONPATH: Rasa imports our channels and stores by module path.
        Rakel runs on closed networks: no usage telemetry from Rasa.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAKEL_")}
        env.update(self.env)
        env.setdefault("RASA_TELEMETRY_ENABLED", "false")
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])
        )
        env.update(extra or {})
        return env

    def secret(self, name: str) -> str:
        """A secret from the environment (`RAKEL_<NAME>`), else one generated once into var/.

        Generated secrets let a single machine run with no setup; a scaled
        deployment sets them in the environment so all replicas agree. The value is
        read once per Settings object: requests do not touch the disk.
        """
        cached = self._secrets.get(name)
        if cached is not None:
            return cached
        env_name = f"RAKEL_{name.upper()}"
        value = self.env.get(env_name) or ""
        if value:
            check_secret(env_name, value)
        else:
            value = _generated_secret(self.var_dir / "secrets" / name)
        self._secrets[name] = value
        return value


MIN_SECRET_BYTES = 32
# Secrets Rakel itself uses; a RAKEL_<NAME> set for one of them is checked at start.
SECRET_NAMES = ("session_key", "rasa_token", "action_token", "widget_key", "widget_issuer_key")


def check_secret(source: str, value: str) -> None:
    """Refuse a guessable secret before any process starts using it."""
    size = len(value.encode("utf-8"))
    if size < MIN_SECRET_BYTES:
        raise SettingsError(
            f"{source} must be at least {MIN_SECRET_BYTES} bytes long, got {size}; generate "
            "one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )


def _generated_secret(path: Path) -> str:
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        value = _create_secret(path)
    # A short file is not ours (or was cut short): never run with it.
    check_secret(f"{path} (delete it to generate a new one)", value)
    return value


def _create_secret(path: Path) -> str:
    """Write a new secret so that a racing process can never read a partial one.

    The whole value is written and synced under a temporary name first, then linked
    to the real name. `os.link` fails if the name exists, so of two processes racing
    the first link wins and the other reads the winner's complete file; the name
    never exists with less than the whole secret behind it.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(MIN_SECRET_BYTES)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return path.read_text().strip()
    finally:
        os.unlink(temporary)
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0, got {env.get(name)!r}")


def _networks(
    env: Mapping[str, str], name: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in (env.get(name) or "").split(","):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError as exc:
            raise SettingsError(
                f"{name} must be comma-separated IP addresses or networks "
                f"(e.g. 10.0.0.5,172.18.0.0/16), got {item.strip()!r}"
            ) from exc
    return tuple(networks)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value <= 0:
        raise SettingsError(f"{name} must be greater than 0, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if value <= 0:
        raise SettingsError(f"{name} must be greater than 0, got {raw!r}")
    return value


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
            raise SettingsError(
                f"RAKEL_PROFILE=scaled needs {name} on PostgreSQL "
                f"(postgresql+psycopg2://…), got {url.split(':', 1)[0]}:"
            )
    endpoints = env.get("RAKEL_ENDPOINTS", "")
    if not endpoints or Path(endpoints).name == "endpoints.yml":
        raise SettingsError(
            "RAKEL_PROFILE=scaled needs RAKEL_ENDPOINTS=endpoints.scaled.yml "
            "(Redis lock store shared by the Rasa replicas)"
        )


def _replicas(env: Mapping[str, str]) -> tuple[str, ...]:
    listed = [u.strip().rstrip("/") for u in env.get("RAKEL_RASA_REPLICAS", "").split(",")]
    urls = tuple(u for u in listed if u)
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SettingsError(f"RAKEL_RASA_REPLICAS: {url!r} is not an http(s) URL")
    return urls or (env.get("RAKEL_RASA_URL", "http://127.0.0.1:5005").rstrip("/"),)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    var_dir = Path(env.get("RAKEL_VAR_DIR", PROJECT_ROOT / "var")).resolve()
    contacts = {
        key: env.get(f"RAKEL_{key.upper()}", default) for key, default in CONTACT_DEFAULTS.items()
    }
    db_url = env.get("RAKEL_DB_URL") or f"sqlite:///{var_dir / 'rakel.db'}"
    tracker_db_url = env.get("RAKEL_TRACKER_DB_URL") or f"sqlite:///{var_dir / 'tracker.db'}"
    check_profile(env, db_url, tracker_db_url)
    for name in SECRET_NAMES:
        if env.get(f"RAKEL_{name.upper()}"):
            check_secret(f"RAKEL_{name.upper()}", env[f"RAKEL_{name.upper()}"])
    return Settings(
        var_dir=var_dir,
        db_url=db_url,
        tracker_db_url=tracker_db_url,
        rasa_url=env.get("RAKEL_RASA_URL", "http://127.0.0.1:5005"),
        rasa_replicas=_replicas(env),
        trainer_poll_seconds=_float(env, "RAKEL_TRAINER_POLL_SECONDS", 2.0),
        action_server_url=env.get("RAKEL_ACTION_SERVER_URL", "http://127.0.0.1:5055"),
        web_host=env.get("RAKEL_WEB_HOST", "127.0.0.1"),
        web_port=_int(env, "RAKEL_WEB_PORT", 8080),
        knowledge_dir=Path(env.get("RAKEL_KNOWLEDGE_DIR", PROJECT_ROOT / "knowledge")),
        model_dir=Path(env.get("RAKEL_MODEL_DIR") or var_dir / "models"),
        embedding_cache=Path(env.get("RAKEL_EMBEDDING_CACHE") or var_dir / "cache"),
        contacts=contacts,
        itsm_url=env.get("RAKEL_ITSM_URL") or None,
        retention_days=_int(env, "RAKEL_RETENTION_DAYS", 90),
        itsm_token=env.get("RAKEL_ITSM_TOKEN") or None,
        itsm_timeout_seconds=_float(env, "RAKEL_ITSM_TIMEOUT_SECONDS", 10.0),
        itsm_retry_base_seconds=_float(env, "RAKEL_ITSM_RETRY_BASE_SECONDS", 5.0),
        itsm_retry_max_seconds=_float(env, "RAKEL_ITSM_RETRY_MAX_SECONDS", 3600.0),
        outbox_lease_seconds=_float(env, "RAKEL_OUTBOX_LEASE_SECONDS", 60.0),
        worker_poll_seconds=_float(env, "RAKEL_WORKER_POLL_SECONDS", 2.0),
        rasa_max_in_flight=_int(env, "RAKEL_RASA_MAX_IN_FLIGHT", 3),
        retention_interval_seconds=_float(env, "RAKEL_RETENTION_INTERVAL_SECONDS", 3600.0),
        rasa_host=env.get("RAKEL_RASA_HOST") or "127.0.0.1",
        actions_host=env.get("RAKEL_ACTIONS_HOST") or "127.0.0.1",
        endpoints=Path(env.get("RAKEL_ENDPOINTS") or PROJECT_ROOT / "endpoints.yml"),
        credentials=Path(env.get("RAKEL_CREDENTIALS") or PROJECT_ROOT / "credentials.yml"),
        admin_user=(env.get("RAKEL_ADMIN_USER") or "").strip() or None,
        admin_password=env.get("RAKEL_ADMIN_PASSWORD") or None,
        cookie_secure=_bool(env, "RAKEL_COOKIE_SECURE", True),
        trusted_proxies=_networks(env, "RAKEL_TRUSTED_PROXIES"),
        widget_token_max_lifetime_seconds=_positive_int(
            env, "RAKEL_WIDGET_TOKEN_MAX_LIFETIME_SECONDS", WIDGET_TOKEN_MAX_LIFETIME_SECONDS
        ),
        env=dict(env),
    )


# --- channels -----------------------------------------------------------------
# Read by the channel classes inside the Rasa process (Rasa builds them from
# credentials.yml, which holds no secrets). Kept apart from `Settings` because only
# that process needs them.

MS_LOGIN = "https://login.microsoftonline.com"


@dataclass(frozen=True)
class TeamsSettings:
    """Microsoft Teams (Bot Framework) bot registration; `configured` is False when unset."""

    app_id: str | None
    app_password: str | None = field(default=None, repr=False)
    tenant_id: str | None = None
    token_url: str | None = None
    openid_config_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    jwks_url: str | None = None  # None: the jwks_uri named by the OpenID configuration
    issuer: str = "https://api.botframework.com"

    @property
    def required(self) -> dict[str, str | None]:
        # The tenant too: activities are accepted from this tenant only, and there is
        # deliberately no "any tenant" mode.
        return {
            "RAKEL_TEAMS_APP_ID": self.app_id,
            "RAKEL_TEAMS_APP_PASSWORD": self.app_password,
            "RAKEL_TEAMS_TENANT_ID": self.tenant_id,
        }

    @property
    def missing(self) -> list[str]:
        return [name for name, value in self.required.items() if not value]

    @property
    def configured(self) -> bool:
        return not self.missing


def load_teams_settings(env: Mapping[str, str] | None = None) -> TeamsSettings:
    env = os.environ if env is None else env
    tenant = env.get("RAKEL_TEAMS_TENANT_ID") or None
    defaults = TeamsSettings(app_id=None)
    return TeamsSettings(
        app_id=env.get("RAKEL_TEAMS_APP_ID") or None,
        app_password=env.get("RAKEL_TEAMS_APP_PASSWORD") or None,
        tenant_id=tenant,
        # Single-tenant authority: the multi-tenant botframework.com authority Rasa 3.6
        # hard-codes is deprecated and refuses new single-tenant bots.
        token_url=env.get("RAKEL_TEAMS_TOKEN_URL")
        or (f"{MS_LOGIN}/{tenant}/oauth2/v2.0/token" if tenant else None),
        openid_config_url=env.get("RAKEL_TEAMS_OPENID_CONFIG_URL") or defaults.openid_config_url,
        jwks_url=env.get("RAKEL_TEAMS_JWKS_URL") or None,
        issuer=env.get("RAKEL_TEAMS_ISSUER") or defaults.issuer,
    )


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
MIN_REST_TOKEN_CHARS = 32


@dataclass(frozen=True)
class RestSettings:
    """The REST channel (bot/channels/rest.py): open on loopback, else token only.

    `make run` binds Rasa to 127.0.0.1, where only this machine's users reach it, so
    REST stays open for local use. Any other bind (RAKEL_RASA_HOST) or the scaled
    profile requires `Authorization: Bearer <RAKEL_REST_TOKEN>`; unset, REST refuses
    every message.
    """

    token: str | None = field(default=None, repr=False)
    required: bool = False


def load_rest_settings(env: Mapping[str, str] | None = None) -> RestSettings:
    env = os.environ if env is None else env
    token = env.get("RAKEL_REST_TOKEN") or None
    if token is not None and len(token) < MIN_REST_TOKEN_CHARS:
        raise SettingsError(
            f"RAKEL_REST_TOKEN must be at least {MIN_REST_TOKEN_CHARS} characters "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    host = env.get("RAKEL_RASA_HOST") or "127.0.0.1"
    scaled = (env.get("RAKEL_PROFILE") or "single") == "scaled"
    return RestSettings(token=token, required=scaled or host not in LOOPBACK_HOSTS)


def widget_origins(settings: Settings, env: Mapping[str, str] | None = None) -> list[str]:
    """Browser origins allowed to open the widget's socket.

    RAKEL_WIDGET_ORIGINS, comma-separated; by default the web service's own origin.
    """
    env = os.environ if env is None else env
    raw = env.get("RAKEL_WIDGET_ORIGINS", "")
    origins = [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]
    return origins or [
        f"http://127.0.0.1:{settings.web_port}",
        f"http://localhost:{settings.web_port}",
    ]
