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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import PROJECT_ROOT, load_settings
from devtools.ports import LOOPBACK
from devtools.postgres import Postgres
from devtools.processes import log_tail, rakel_command, spawn, stop_process_group
from devtools.readiness import ProcessExited, answers_ok, ready_url, wait_port, wait_until
from devtools.scaled.config import NGINX_TEMPLATE, ScaledConfig, load_config
from devtools.scaled.services import nginx_setup, redis_command, render_template

READY_TIMEOUT = 420  # two Rasa replicas load TensorFlow + the model in parallel on 2 cores
STATE = "state.json"
DB_ROLE = "rakel"
DATABASES = ("rakel", "rakel_tracker")


@dataclass
class Replica:
    name: str  # "rasa-1"
    group: str  # "rasa"
    env: dict[str, str]
    port: int | None = None
    pid: int | None = None

    @property
    def ready_url(self) -> str | None:
        """None for a worker: it listens on nothing."""
        if self.port is None:
            return None
        base = f"http://{LOOPBACK}:{self.port}"
        return ready_url(self.group, base, self.env.get("RAKEL_RASA_TOKEN"))


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
        """RAKEL_<NAME> from the environment, else the one generated under var/."""
        variable = f"RAKEL_{name.upper()}"
        given = {**os.environ, **(self.overrides or {})}.get(variable)
        env = {"RAKEL_VAR_DIR": str(self.var_dir), **({variable: given} if given else {})}
        return load_settings(env).secret(name)

    @property
    def postgres(self) -> Postgres:
        # The superuser and the replicas' role share the generated password.
        return Postgres(self.root / "pg", self.cfg.ports["PG"], self.secret("scaled_pg_password"))

    def db_url(self, database: str) -> str:
        """What the replicas connect with: the `rakel` role."""
        return self.postgres.url(database, user=DB_ROLE)

    # --- environment ---------------------------------------------------------------
    def common_env(self) -> dict[str, str]:
        cfg = self.cfg
        env = {**os.environ, **(self.overrides or {})}
        env.update(cfg.values)
        env.update(
            {
                "RAKEL_PROFILE": "scaled",
                "RAKEL_VAR_DIR": str(self.var_dir),
                "RAKEL_ENDPOINTS": str(cfg.endpoints),
                "RAKEL_DB_URL": self.db_url("rakel"),
                "RAKEL_TRACKER_DB_URL": self.db_url("rakel_tracker"),
                "RAKEL_REDIS_HOST": LOOPBACK,
                "RAKEL_REDIS_PORT": str(cfg.ports["REDIS"]),
                "RAKEL_REDIS_PASSWORD": self.secret("scaled_redis_password"),
                # Rasa replicas reach the action servers through nginx; the web service
                # checks Rasa through nginx's internal API listener.
                "RAKEL_ACTION_SERVER_URL": self.actions_lb_url,
                "RAKEL_RASA_URL": self.rasa_api_url,
                # A model activated on the models page is loaded on every replica.
                "RAKEL_RASA_REPLICAS": ",".join(
                    f"http://{LOOPBACK}:{port}" for port in cfg.replica_ports["rasa"]
                ),
                "RAKEL_RASA_TOKEN": self.secret("rasa_token"),
                # Every Rasa replica calls every action server with the same token.
                "RAKEL_ACTION_TOKEN": self.secret("action_token"),
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
            self._spawn(replica.name, rakel_command(replica.group, replica.env), replica.env)

    def _start_stores(self) -> None:
        postgres = self.postgres
        postgres.start()
        self.pids["postgres"] = -1  # stopped with pg_ctl, not a signal
        self._save()
        postgres.create_role_and_databases(DB_ROLE, postgres.password, list(DATABASES))
        self._spawn(
            "redis",
            redis_command(
                self.root / "redis", self.cfg.ports["REDIS"], self.secret("scaled_redis_password")
            ),
            dict(os.environ),
        )
        wait_port(self.cfg.ports["REDIS"], process=self.children["redis"])

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
        process = spawn(command, env, self.logs / f"{name}.log")
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
        wait_port(self.cfg.ports["LB"], process=self.children["nginx"])

    def wait_ready(self, names: list[str] | None = None, timeout: float = READY_TIMEOUT) -> None:
        """Wait until every replica is ready (they start in parallel: one deadline)."""
        deadline = time.monotonic() + timeout
        for name in names or list(self.replicas):
            url = self.replicas[name].ready_url
            try:
                if url is None:
                    # Workers listen on nothing: by now they have read their settings.
                    if not self.alive(name):
                        raise ProcessExited(f"{name}: the process exited first")
                    continue
                wait_until(
                    lambda url=url: answers_ok(url),
                    timeout=max(0.0, deadline - time.monotonic()),
                    what=name,
                    alive=lambda name=name: self.alive(name),
                    interval=0.5,
                )
            except ProcessExited:
                raise ProcessExited(
                    f"{name} exited during start; the end of "
                    f"{self.logs / name}.log:\n{self.log_tail(name)}"
                ) from None
            except TimeoutError:
                raise TimeoutError(
                    f"{name} not ready after {timeout:.0f}s: see {self.logs / name}.log"
                ) from None

    def log_tail(self, name: str, lines: int = 25) -> str:
        return log_tail(self.logs / f"{name}.log", lines)

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
