"""The scaled profile's configuration, without starting it: env file, settings
guard, Rasa's reading of endpoints.scaled.yml, the nginx template (checked by the
real nginx) and the docker-compose manifest's consistency with the tested profile."""

from __future__ import annotations

import re
import socket
import struct
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from bot.settings import PROJECT_ROOT, SettingsError, load_settings
from devtools.ports import free_port
from devtools.readiness import wait_port
from devtools.scaled.config import ENV_FILE, NGINX_TEMPLATE, load_config, read_env_file
from devtools.scaled.profile import ScaledProfile
from devtools.scaled.services import nginx_setup, render_template

COMPOSE = PROJECT_ROOT / "deploy" / "docker-compose.yml"
PG = "postgresql+psycopg2://rakel:pw@127.0.0.1:5432/"


def test_env_file_defaults_are_two_plus_two_replicas():
    config = load_config(Path("/tmp/x"), env={})
    assert config.replicas["rasa"] == 2 and config.replicas["actions"] == 2
    assert config.endpoints == PROJECT_ROOT / "endpoints.scaled.yml"
    assert config.replica_ports["rasa"] == [5105, 5106]
    assert config.ports["LB"] == 8480


def test_environment_overrides_the_file_and_zero_picks_free_ports():
    config = load_config(
        Path("/tmp/x"),
        env={
            "RAKEL_SCALED_LB_PORT": "0",
            "RAKEL_SCALED_RASA_BASE_PORT": "0",
            "RAKEL_SCALED_RASA_REPLICAS": "3",
        },
    )
    assert config.ports["LB"] not in (0, 8480)
    assert len(set(config.replica_ports["rasa"])) == 3
    assert 0 not in config.replica_ports["rasa"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAKEL_SCALED_RASA_REPLICAS": "0"}, "RAKEL_SCALED_RASA_REPLICAS must be at least 1"),
        ({"RAKEL_SCALED_PG_PORT": "post"}, "RAKEL_SCALED_PG_PORT must be a port number"),
        ({"RAKEL_SCALED_PG_PORT": "70000"}, "between 0 and 65535"),
    ],
)
def test_bad_values_get_a_precise_error(env, message):
    with pytest.raises(SettingsError, match=message):
        load_config(Path("/tmp/x"), env=env)


def test_malformed_env_file_line_is_named(tmp_path):
    bad = tmp_path / "bad.env"
    bad.write_text("# ok\nRAKEL_PROFILE=scaled\nthis is not a setting\n")
    with pytest.raises(SettingsError, match=r"bad.env:3"):
        read_env_file(bad)


def test_scaled_profile_refuses_sqlite_and_the_in_memory_lock_store():
    scaled = {"RAKEL_PROFILE": "scaled", "RAKEL_ENDPOINTS": "endpoints.scaled.yml"}
    with pytest.raises(SettingsError, match="RAKEL_DB_URL on PostgreSQL"):
        load_settings(scaled)
    with pytest.raises(SettingsError, match="RAKEL_TRACKER_DB_URL on PostgreSQL"):
        load_settings({**scaled, "RAKEL_DB_URL": PG + "rakel"})
    with pytest.raises(SettingsError, match="RAKEL_ENDPOINTS=endpoints.scaled.yml"):
        load_settings(
            {
                "RAKEL_PROFILE": "scaled",
                "RAKEL_DB_URL": PG + "rakel",
                "RAKEL_TRACKER_DB_URL": PG + "rakel_tracker",
            }
        )
    with pytest.raises(SettingsError, match="RAKEL_PROFILE must be one of"):
        load_settings({"RAKEL_PROFILE": "cluster"})
    settings = load_settings(
        {**scaled, "RAKEL_DB_URL": PG + "rakel", "RAKEL_TRACKER_DB_URL": PG + "rakel_tracker"}
    )
    assert settings.db_url.endswith("/rakel")


def test_rasa_reads_redis_lock_store_and_our_tracker_store_from_scaled_endpoints(monkeypatch):
    from rasa.core.lock_store import LockStore, RedisLockStore
    from rasa.utils.endpoints import read_endpoint_config

    monkeypatch.setenv("RAKEL_REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("RAKEL_REDIS_PORT", "6390")
    monkeypatch.setenv("RAKEL_REDIS_PASSWORD", "s3cret")
    monkeypatch.setenv("RAKEL_ACTION_ENDPOINT", "http://127.0.0.1:8455/webhook")
    monkeypatch.setenv("RAKEL_ACTION_TOKEN", "t" * 43)
    path = str(PROJECT_ROOT / "endpoints.scaled.yml")
    lock_store = LockStore.create(read_endpoint_config(path, "lock_store"))
    assert isinstance(lock_store, RedisLockStore)
    kwargs = lock_store.red.connection_pool.connection_kwargs
    assert (kwargs["host"], int(kwargs["port"]), kwargs["password"]) == (
        "127.0.0.1",
        6390,
        "s3cret",
    )
    assert read_endpoint_config(path, "tracker_store").type == (
        "bot.tracker_store.RakelTrackerStore"
    )
    actions = read_endpoint_config(path, "action_endpoint")
    assert actions.url == "http://127.0.0.1:8455/webhook"
    assert actions.headers == {"Authorization": "Bearer " + "t" * 43}


def _profile(tmp_path: Path) -> ScaledProfile:
    profile = ScaledProfile(tmp_path)
    profile.config = load_config(tmp_path, env={})
    return profile


@pytest.mark.scaled  # runs the real nginx of the scaled profile
def test_nginx_accepts_the_rendered_template(tmp_path):
    site = render_template(NGINX_TEMPLATE.read_text(), _profile(tmp_path).nginx_values())
    assert "server 127.0.0.1:5105 max_fails=1" in site and "server 127.0.0.1:5106" in site
    command = nginx_setup(tmp_path / "nginx", site)
    result = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_nginx_resends_action_calls_only_and_never_on_a_slow_replica():
    template = NGINX_TEMPLATE.read_text()
    directives = [line.split("#")[0].strip() for line in template.splitlines()]
    assert "proxy_next_upstream error;" in directives
    assert not any("proxy_next_upstream" in d and "timeout" in d for d in directives)
    # `non_idempotent` in exactly one place: the internal actions server.
    assert [d for d in directives if "non_idempotent" in d] == [
        "proxy_next_upstream error non_idempotent;"
    ]
    actions_location = template.split("proxy_pass http://rakel_actions;")[1].split("}")[0]
    assert "non_idempotent" in actions_location
    # socketio's long-polling sessions stay on one replica.
    assert re.search(r"upstream rakel_rasa_sticky \{\s*hash \$remote_addr consistent;", template)


class _Upstream(threading.Thread):
    """A replica on a free port: answers 200, or reads the request and dies (RST)."""

    def __init__(self, *, dies: bool) -> None:
        super().__init__(daemon=True)
        self.dies = dies
        self.requests: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def run(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(data.split(b" ")[1].decode() if data else "")
                if self.dies:
                    # Like a SIGKILLed process: the connection is reset, no answer.
                    connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    continue
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                )


@pytest.mark.scaled  # runs the real nginx of the scaled profile
def test_real_nginx_resends_an_action_call_but_not_a_user_message(tmp_path):
    """A replica dies after the request reached it: nginx hands the action call to the
    other action server (the actions are idempotent per message), while the user's
    message gets a 502 and is not processed a second time."""
    import requests

    dying, healthy = _Upstream(dies=True), _Upstream(dies=False)
    for upstream in (dying, healthy):
        upstream.start()
    servers = "\n    ".join(
        f"server 127.0.0.1:{u.port} max_fails=1 fail_timeout=10s;" for u in (dying, healthy)
    )
    public, actions, rasa_internal = free_port(), free_port(), free_port()
    values = {
        **_profile(tmp_path).nginx_values(),
        "RAKEL_NGINX_RASA_SERVERS": servers,
        "RAKEL_NGINX_ACTIONS_SERVERS": servers,
        "RAKEL_NGINX_PUBLIC_LISTEN": f"127.0.0.1:{public}",
        "RAKEL_NGINX_RASA_LISTEN": f"127.0.0.1:{rasa_internal}",
        "RAKEL_NGINX_ACTIONS_LISTEN": f"127.0.0.1:{actions}",
    }
    command = nginx_setup(tmp_path / "nginx", render_template(NGINX_TEMPLATE.read_text(), values))
    nginx = subprocess.Popen(command, start_new_session=True)
    try:
        wait_port(public, timeout=10, process=nginx)
        wait_port(actions, timeout=10, process=nginx)
        # Action calls: every one answered, the one that reached the dying replica by
        # the other replica.
        calls = [
            requests.post(f"http://127.0.0.1:{actions}/webhook", json={"n": i}, timeout=10)
            for i in range(4)
        ]
        assert [c.status_code for c in calls] == [200] * 4
        assert dying.requests == ["/webhook"]
        assert healthy.requests == ["/webhook"] * 4
        # User messages: the one that reached the dying replica is a 502, not resent.
        dying.requests.clear()
        healthy.requests.clear()
        sent = [
            requests.post(
                f"http://127.0.0.1:{public}/webhooks/teams/webhook",
                json={"type": "message", "text": "hei"},
                timeout=10,
            )
            for _ in range(4)
        ]
        assert sorted(r.status_code for r in sent) == [200, 200, 200, 502]
        assert dying.requests == ["/webhooks/teams/webhook"]
        assert len(healthy.requests) == 3
        # The REST channel is not published: nginx answers itself, no replica sees it.
        healthy.requests.clear()
        refused = requests.post(
            f"http://127.0.0.1:{public}/webhooks/rest/webhook",
            json={"sender": "x", "message": "hei"},
            timeout=10,
        )
        assert refused.status_code == 404 and healthy.requests == []
        # ...but reaches a replica through the internal listener.
        internal = requests.post(
            f"http://127.0.0.1:{rasa_internal}/webhooks/rest/webhook",
            json={"sender": "x", "message": "hei"},
            timeout=10,
        )
        assert internal.status_code == 200 and healthy.requests == ["/webhooks/rest/webhook"]
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        for upstream in (dying, healthy):
            upstream.sock.close()


def test_a_template_value_left_out_is_an_error():
    with pytest.raises(SettingsError, match=r"\$\{RAKEL_NGINX_ACCESS_LOG\}"):
        render_template(NGINX_TEMPLATE.read_text(), {})


def test_compose_manifest_uses_the_tested_profile():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    replicas = {
        name: s
        for name, s in services.items()
        if name.split("-")[0] in ("rasa", "actions", "web", "worker")
    }
    assert sum(name.startswith("rasa-") for name in replicas) >= 2
    assert sum(name.startswith("actions-") for name in replicas) >= 2
    for name, service in replicas.items():
        env = service["environment"]
        assert service["env_file"] == "scaled.env", name
        assert env["RAKEL_ENDPOINTS"] == "endpoints.scaled.yml", name
        assert env["RAKEL_DB_URL"].startswith("postgresql+psycopg2://"), name
        assert env["RAKEL_TRACKER_DB_URL"].startswith("postgresql+psycopg2://"), name
        # Required, never generated per replica (the REST channel refuses without it).
        assert env["RAKEL_REST_TOKEN"].startswith("${RAKEL_REST_TOKEN:?"), name
        # Every replica group listed here is behind nginx under its own name.
        if not name.startswith("worker"):
            group = {"rasa": "RASA", "actions": "ACTIONS", "web": "WEB"}[name.split("-")[0]]
            port = {"rasa": 5005, "actions": 5055, "web": 8080}[name.split("-")[0]]
            assert (
                f"server {name}:{port} "
                in (services["nginx"]["environment"][f"RAKEL_NGINX_{group}_SERVERS"])
            )
    # The same variables as deploy/scaled.env, the same nginx template.
    assert set(read_env_file(ENV_FILE)) >= {"RAKEL_PROFILE", "RAKEL_ENDPOINTS"}
    nginx = services["nginx"]
    mounted = [v.split(":")[0] for v in nginx["volumes"]]
    assert "./nginx/rakel.conf.template" in mounted
    needed = set(re.findall(r"\$\{(RAKEL_[A-Z0-9_]+)\}", NGINX_TEMPLATE.read_text()))
    assert needed <= set(nginx["environment"])
    assert services["migrate"]["command"][-1] == "migrate"


@pytest.mark.scaled
def test_backing_services_start_migrate_fail_over_and_stop_cleanly():
    """PostgreSQL, Redis and nginx as `make scaled-up` starts them (no replicas)."""
    import tempfile

    import psycopg2
    import redis
    import requests

    root = Path(tempfile.mkdtemp(prefix="rakel-scaled-"))
    root.chmod(0o755)
    overrides = {
        f"RAKEL_SCALED_{name}_PORT": "0"
        for name in (
            "LB",
            "RASA_LB",
            "ACTIONS_LB",
            "PG",
            "REDIS",
            "RASA_BASE",
            "ACTIONS_BASE",
            "WEB_BASE",
        )
    }
    profile = ScaledProfile(root, overrides)
    profile.prepare()
    try:
        profile.start_backing_services()
        profile.start_nginx()
        cfg = profile.cfg
        # Migrated once, on PostgreSQL, with the generated password.
        with (
            psycopg2.connect(
                host="127.0.0.1",
                port=cfg.ports["PG"],
                user="rakel",
                password=profile.secret("scaled_pg_password"),
                dbname="rakel",
            ) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT to_regclass('public.tickets'), to_regclass('public.feedback')")
            assert cursor.fetchone() == ("tickets", "feedback")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(
                host="127.0.0.1",
                port=cfg.ports["PG"],
                user="rakel",
                password="guess",
                dbname="rakel",
            )
        # Redis wants its password.
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=cfg.ports["REDIS"]).set("k", "v")
        assert redis.Redis(
            host="127.0.0.1",
            port=cfg.ports["REDIS"],
            password=profile.secret("scaled_redis_password"),
        ).ping()
        # No replica is up: nginx tried both Rasa replicas, then answered 502.
        response = requests.post(
            f"{profile.lb_url}/webhooks/teams/webhook",
            json={"type": "message", "text": "hei"},
            timeout=10,
        )
        assert response.status_code == 502
        tried = response.headers["X-Rakel-Upstream"].split(", ")
        assert sorted(tried) == sorted(f"127.0.0.1:{p}" for p in cfg.replica_ports["rasa"])
        pids = dict(profile.pids)
    finally:
        profile.down()
    for name, pid in pids.items():
        if pid > 0:
            assert (
                not Path(f"/proc/{pid}").exists()
                or "zombie" in Path(f"/proc/{pid}/status").read_text()
            ), name
    assert not (root / "pg").exists() and not (root / "state.json").exists()
    import shutil

    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.scaled  # runs the real nginx of the scaled profile
def test_nginx_access_log_never_holds_a_token(tmp_path):
    import urllib.error
    import urllib.request

    profile = _profile(tmp_path)
    values = profile.nginx_values()
    port = free_port()
    values["RAKEL_NGINX_PUBLIC_LISTEN"] = f"127.0.0.1:{port}"
    log = tmp_path / "access.log"
    values["RAKEL_NGINX_ACCESS_LOG"] = str(log)
    command = nginx_setup(tmp_path / "nginx", render_template(NGINX_TEMPLATE.read_text(), values))
    nginx = subprocess.Popen(command, stderr=subprocess.DEVNULL)  # noqa: S603 - our nginx
    try:
        wait_port(port, timeout=10, process=nginx)
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook?a=1&token=s3cret-tok&b=2"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback
        # 502: no Rasa behind it, but nginx answered and logged
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
    logged = log.read_text()
    assert "/webhooks/rest/webhook?a=1&token=***&b=2" in logged
    assert "s3cret-tok" not in logged


def test_compose_requires_every_secret_explicitly():
    from bot.settings import SECRET_NAMES

    compose = COMPOSE.read_text()
    example = read_env_file(PROJECT_ROOT / "deploy" / "secrets.env.example")
    for name in SECRET_NAMES:
        variable = f"RAKEL_{name.upper()}"
        # ${VAR:?…}: compose refuses to start without it; no replica generates its own.
        assert f"{variable}: ${{{variable}:?" in compose, variable
        assert variable in example, variable
