"""Start and stop the whole scaled profile; its state lives in <root>/state.json.

`up` starts PostgreSQL and Redis, runs the migrations once, starts every replica in
parallel (each a `python -m bot.cli run …` process in its own process group, so
`down` — possibly from another shell — can stop it), then nginx in front.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.scaled.config import NGINX_TEMPLATE, ScaledConfig, load_config
from bot.scaled.services import (
    LOOPBACK,
    Postgres,
    nginx_setup,
    redis_command,
    render_template,
    stop_process_group,
)
from bot.settings import PROJECT_ROOT, load_settings

READY_TIMEOUT = 420  # two Rasa replicas load TensorFlow + the model in parallel on 2 cores
STATE = "state.json"


@dataclass
class Replica:
    name: str  # "rasa-1"
    group: str  # "rasa"
    env: dict[str, str]
    port: int | None = None
    pid: int | None = None

    @property
    def ready_url(self) -> str | None:
        if self.port is None:
            return None
        path = {"rasa": "/", "actions": "/health", "web": "/health?ready"}[self.group]
        return f"http://{LOOPBACK}:{self.port}{path}"


@dataclass
class ScaledProfile:
    root: Path
    overrides: Mapping[str, str] | None = None
    config: ScaledConfig | None = None
    replicas: dict[str, Replica] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    # Our children when started in this process (reaped by us; `down` from another
    # shell has only the pids).
    children: dict[str, subprocess.Popen] = field(default_factory=dict, repr=False)

    # --- addresses ---------------------------------------------------------------
    @property
    def lb_url(self) -> str:
        return f"http://{LOOPBACK}:{self.cfg.ports['LB']}"

    @property
    def rasa_api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.cfg.ports['RASA_LB']}"

    @property
    def actions_lb_url(self) -> str:
        return f"http://{LOOPBACK}:{self.cfg.ports['ACTIONS_LB']}"

    @property
    def cfg(self) -> ScaledConfig:
        if self.config is None:
            raise RuntimeError("scaled profile not configured: call up() or load()")
        return self.config

    @property
    def var_dir(self) -> Path:
        return self.root / "var"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def secret(self, name: str) -> str:
        # Only the folder: secret() itself prefers RAKEL_<NAME> from the environment.
        return load_settings({"RAKEL_VAR_DIR": str(self.var_dir)}).secret(name)

    @property
    def postgres(self) -> Postgres:
        return Postgres(self.root / "pg", self.cfg.ports["PG"], self.secret("scaled_pg_password"))

    # --- environment ---------------------------------------------------------------
    def common_env(self) -> dict[str, str]:
        cfg = self.cfg
        pg = self.postgres
        env = {**os.environ, **(self.overrides or {})}
        env.update(cfg.values)
        env.update(
            {
                "RAKEL_PROFILE": "scaled",
                "RAKEL_VAR_DIR": str(self.var_dir),
                "RAKEL_ENDPOINTS": str(cfg.endpoints),
                "RAKEL_DB_URL": pg.url("rakel"),
                "RAKEL_TRACKER_DB_URL": pg.url("rakel_tracker"),
                "RAKEL_REDIS_HOST": LOOPBACK,
                "RAKEL_REDIS_PORT": str(cfg.ports["REDIS"]),
                "RAKEL_REDIS_PASSWORD": self.secret("scaled_redis_password"),
                # Rasa replicas reach the action servers through nginx; the web service
                # checks Rasa through nginx's internal API listener.
                "RAKEL_ACTION_SERVER_URL": self.actions_lb_url,
                "RAKEL_RASA_URL": self.rasa_api_url,
                "RAKEL_RASA_TOKEN": self.secret("rasa_token"),
                # REST is on the internal listener only, and wants this token.
                "RAKEL_REST_TOKEN": self.secret("rest_token"),
                # One trained model for every replica (the project's cache).
                "RAKEL_MODEL_DIR": os.environ.get(
                    "RAKEL_MODEL_DIR", str(PROJECT_ROOT / "var" / "models")
                ),
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
                ),
            }
        )
        return env

    def plan(self) -> dict[str, Replica]:
        cfg = self.cfg
        common = self.common_env()
        replicas: dict[str, Replica] = {}
        for group in ("actions", "web", "rasa"):
            for index, port in enumerate(cfg.replica_ports[group], start=1):
                env = dict(common)
                own = f"http://{LOOPBACK}:{port}"
                if group == "rasa":
                    env["RAKEL_RASA_URL"] = own
                elif group == "actions":
                    env["RAKEL_ACTION_SERVER_URL"] = own
                else:
                    env["RAKEL_WEB_PORT"] = str(port)
                replicas[f"{group}-{index}"] = Replica(f"{group}-{index}", group, env, port)
        if (PROJECT_ROOT / "bot" / "worker.py").exists():
            for index in range(1, cfg.replicas["worker"] + 1):
                replicas[f"worker-{index}"] = Replica(f"worker-{index}", "worker", dict(common))
        return replicas

    # --- lifecycle ---------------------------------------------------------------
    def up(self) -> None:
        self.prepare()
        try:
            self.start_backing_services()
            # Once, before any replica: the model all replicas load.
            self._run_once(["train"], self.common_env(), "train")
            self.start_replicas()
            self.start_nginx()
            self.wait_ready()
        except BaseException:
            self.down()
            raise

    def prepare(self) -> None:
        if (self.root / STATE).exists():
            raise RuntimeError(
                f"{self.root / STATE} exists: the profile is running (`make scaled-down` first)"
            )
        env = {**os.environ, **(self.overrides or {})}
        self.root.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        self.config = load_config(self.root, env)

    def start_backing_services(self) -> None:
        """PostgreSQL and Redis, then the migrations, once, before any replica."""
        self._start_stores()
        self._run_once(["migrate"], self.common_env(), "migrate")

    def start_replicas(self) -> None:
        """Every replica at once: Rasa's 30-60 s model load overlaps."""
        self.replicas = self.plan()
        for replica in self.replicas.values():
            self._spawn(
                replica.name, [sys.executable, "-m", "bot.cli", "run", replica.group], replica.env
            )

    def _start_stores(self) -> None:
        self.postgres.start()
        self.pids["postgres"] = -1  # stopped with pg_ctl, not a signal
        self._save()
        self._spawn(
            "redis",
            redis_command(
                self.root / "redis", self.cfg.ports["REDIS"], self.secret("scaled_redis_password")
            ),
            dict(os.environ),
        )
        self._wait_port(self.cfg.ports["REDIS"], "redis")

    def _run_once(self, args: list[str], env: dict[str, str], name: str) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:
            result = subprocess.run(
                [sys.executable, "-m", "bot.cli", *args],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode:
            raise RuntimeError(f"`bot.cli {' '.join(args)}` failed: see {self.logs / name}.log")

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        with log:
            process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pids[name] = process.pid
        self.children[name] = process
        self._save()

    def nginx_values(self) -> dict[str, str]:
        def servers(group: str) -> str:
            return "\n    ".join(
                f"server {LOOPBACK}:{port} max_fails=1 fail_timeout=10s;"
                for port in self.cfg.replica_ports[group]
            )

        return {
            "RAKEL_NGINX_ACCESS_LOG": str(self.root / "nginx" / "logs" / "access.log"),
            "RAKEL_NGINX_RASA_SERVERS": servers("rasa"),
            "RAKEL_NGINX_ACTIONS_SERVERS": servers("actions"),
            "RAKEL_NGINX_WEB_SERVERS": servers("web"),
            "RAKEL_NGINX_PUBLIC_LISTEN": f"{LOOPBACK}:{self.cfg.ports['LB']}",
            "RAKEL_NGINX_RASA_LISTEN": f"{LOOPBACK}:{self.cfg.ports['RASA_LB']}",
            "RAKEL_NGINX_ACTIONS_LISTEN": f"{LOOPBACK}:{self.cfg.ports['ACTIONS_LB']}",
        }

    def start_nginx(self) -> None:
        site = render_template(NGINX_TEMPLATE.read_text(), self.nginx_values())
        command = nginx_setup(self.root / "nginx", site)
        check = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True, check=False)
        if check.returncode:
            raise RuntimeError(f"nginx config invalid: {check.stderr.strip()}")
        self._spawn("nginx", command, dict(os.environ))
        self._wait_port(self.cfg.ports["LB"], "nginx")

    def wait_ready(self, names: list[str] | None = None, timeout: float = READY_TIMEOUT) -> None:
        """Wait until every replica answers (they start in parallel, so wait once)."""
        deadline = time.monotonic() + timeout
        for name in names or list(self.replicas):
            replica = self.replicas[name]
            if replica.ready_url is None:
                continue
            while True:
                if not self.alive(name):
                    raise RuntimeError(
                        f"{name} exited during start; the end of "
                        f"{self.logs / name}.log:\n{self.log_tail(name)}"
                    )
                if _answers(replica.ready_url):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{name} not ready after {timeout:.0f}s: see {self.logs / name}.log"
                    )
                time.sleep(0.5)
        # Workers listen on nothing: by now they have read their settings and started.
        for name in names or list(self.replicas):
            if self.replicas[name].ready_url is None and not self.alive(name):
                raise RuntimeError(
                    f"{name} exited during start; the end of "
                    f"{self.logs / name}.log:\n{self.log_tail(name)}"
                )

    def log_tail(self, name: str, lines: int = 25) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def alive(self, name: str) -> bool:
        pid = self.pids.get(name)
        if pid is None or pid < 0:
            return False
        if name in self.children:
            return self.children[name].poll() is None
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished:
                return False
        except ChildProcessError:
            pass  # not our child (status from another shell): ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self, name: str) -> None:
        """SIGKILL one replica's whole process group: a crash, not a shutdown."""
        os.killpg(self.pids[name], signal.SIGKILL)
        if name in self.children:
            self.children[name].wait()

    def down(self, keep_data: bool = False) -> None:
        if not self.pids:
            self.load()
        if self.config is None:
            return
        names = [n for n in self.pids if n not in ("postgres", "redis")]
        for name in [*names, "redis"]:
            if name in self.pids:
                stop_process_group(self.pids[name])
            if name in self.children:
                self.children.pop(name).wait()
        self.postgres.stop()
        (self.root / STATE).unlink(missing_ok=True)
        if not keep_data:
            for folder in ("pg", "redis", "var/secrets"):
                shutil.rmtree(self.root / folder, ignore_errors=True)
        self.pids = {}

    # --- state -------------------------------------------------------------------
    def _save(self) -> None:
        cfg = self.cfg
        state = {
            "pids": self.pids,
            "ports": cfg.ports,
            "replica_ports": cfg.replica_ports,
            "replicas": cfg.replicas,
            "values": cfg.values,
        }
        (self.root / STATE).write_text(json.dumps(state, indent=1))

    def load(self) -> bool:
        path = self.root / STATE
        if not path.exists():
            return False
        state = json.loads(path.read_text())
        self.config = ScaledConfig(
            root=self.root,
            values=state["values"],
            replicas=state["replicas"],
            ports=state["ports"],
            replica_ports=state["replica_ports"],
        )
        self.pids = {name: int(pid) for name, pid in state["pids"].items()}
        return True

    @staticmethod
    def _wait_port(port: int, name: str, timeout: float = 30) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                sock.settimeout(1)
                if sock.connect_ex((LOOPBACK, port)) == 0:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{name} is not listening on {LOOPBACK}:{port}")

    def banner(self) -> str:
        cfg = self.cfg
        lines = [
            "Rakel scaled profile is up:",
            f"  public (nginx)       {self.lb_url}  Teams {self.lb_url}/webhooks/teams/webhook,"
            f" socketio {self.lb_url}/socket.io/, web pages {self.lb_url}/",
            f"  Rasa API (internal)  {self.rasa_api_url}  (token in RAKEL_RASA_TOKEN / "
            f"{self.var_dir / 'secrets' / 'rasa_token'})",
            f"  REST (internal)      {self.rasa_api_url}/webhooks/rest/webhook  (Bearer token in "
            f"RAKEL_REST_TOKEN / {self.var_dir / 'secrets' / 'rest_token'})",
            f"  actions (internal)   {self.actions_lb_url}",
        ]
        for group in ("rasa", "actions", "web"):
            ports = ", ".join(f"{LOOPBACK}:{p}" for p in cfg.replica_ports[group])
            lines.append(f"  {group + ' replicas':<20} {ports}")
        workers = [n for n in self.pids if n.startswith("worker-")]
        if workers:
            lines.append(f"  workers              {len(workers)}")
        lines += [
            f"  PostgreSQL           {LOOPBACK}:{cfg.ports['PG']}  databases rakel, "
            f"rakel_tracker (role rakel)",
            f"  Redis (lock store)   {LOOPBACK}:{cfg.ports['REDIS']}",
            f"  logs                 {self.logs}/, {self.root / 'nginx' / 'logs'}/",
            "Stop with `make scaled-down`.",
        ]
        return "\n".join(lines)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except urllib.error.HTTPError:
        # The web service's /health answers 503 while a dependency starts: it is up.
        return url.endswith("?ready")
    except (OSError, ValueError):
        return False
