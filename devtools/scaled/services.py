"""Throwaway Redis and nginx instances from Debian's packages (PostgreSQL:
devtools.postgres).

Each runs as our own process on loopback with its files under var/scaled/ — never
the system services.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bot.settings import SettingsError
from devtools.ports import LOOPBACK


def redis_command(folder: Path, port: int, password: str) -> list[str]:
    """redis-server with a config file (the password stays out of `ps`)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "redis.conf"
    config.touch(mode=0o600)
    config.write_text(
        "\n".join(
            [
                f"bind {LOOPBACK}",
                f"port {port}",
                f"requirepass {password}",
                # Only locks live here: nothing worth persisting.
                'save ""',
                "appendonly no",
                f"dir {folder}",
                "daemonize no",
                f"logfile {folder / 'redis.log'}",
            ]
        )
        + "\n"
    )
    return [shutil.which("redis-server") or "/usr/bin/redis-server", str(config)]


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise SettingsError("nginx not found: run scripts/test-deps.sh (Debian's nginx)")
    return found


def render_template(template: str, values: dict[str, str]) -> str:
    """Fill ${NAME} like the nginx image's envsubst; nginx's own $vars stay as they are."""
    for name, value in values.items():
        template = template.replace("${" + name + "}", value)
    missing = re.search(r"\$\{RAKEL_[A-Z0-9_]+\}", template)
    if missing:
        raise SettingsError(f"nginx template needs a value for {missing.group(0)}")
    return template


def nginx_setup(folder: Path, site: str) -> list[str]:
    """Write a main config around the rendered site; return the command to run it."""
    for sub in ("conf.d", "tmp", "logs"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "conf.d" / "rakel.conf").write_text(site)
    tmp = folder / "tmp"
    (folder / "nginx.conf").write_text(
        "\n".join(
            [
                "worker_processes 1;",
                f"pid {folder / 'nginx.pid'};",
                f"error_log {folder / 'logs' / 'error.log'} warn;",
                "daemon off;",
                "events { worker_connections 2048; }",
                "http {",
                f"  client_body_temp_path {tmp / 'body'};",
                f"  proxy_temp_path {tmp / 'proxy'};",
                f"  fastcgi_temp_path {tmp / 'fastcgi'};",
                f"  uwsgi_temp_path {tmp / 'uwsgi'};",
                f"  scgi_temp_path {tmp / 'scgi'};",
                f"  include {folder / 'conf.d'}/*.conf;",
                "}",
            ]
        )
        + "\n"
    )
    return [
        nginx_binary(),
        "-p",
        str(folder),
        "-c",
        str(folder / "nginx.conf"),
        "-e",
        str(folder / "logs" / "error.log"),
    ]
