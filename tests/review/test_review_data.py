"""NLU export, statistics from a real Rasa tracker store, OpenAPI, admin CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.models import Feedback, NluMiss, StaffUser
from bot.settings import PROJECT_ROOT as ROOT
from bot.web import api, charts, nlu_review, stats
from bot.web.app import create_app
from tests.support.staff import (
    ADMIN,
    ADMIN_PASSWORD,
    csrf_from,
    make_miss,
    make_ticket,
)


@pytest.fixture
async def client(settings, database):
    async with TestClient(TestServer(create_app(settings))) as client:
        page = await client.get("/login")
        await client.post(
            "/login",
            data={
                "csrf_token": csrf_from(await page.text()),
                "username": ADMIN,
                "password": ADMIN_PASSWORD,
            },
        )
        yield client


# --- NLU misses and export ----------------------------------------------------------


async def test_mark_miss_and_export_loads_as_rasa_training_data(client, database, tmp_path):
    camera = make_miss(database, "kamera mitt funker ikke [i teams](app) :)")
    sound = make_miss(database, "hører ingenting\ni møtet", kind="not_helped")
    make_miss(database, "hva blir været i morgen", kind="out_of_scope")
    html = await (await client.get("/staff/misses?state=umerket")).text()
    assert "faq/teams_camera_sound" in html and "faq/mfa_lost_phone" in html
    token = csrf_from(html)
    for miss_id in (camera, sound):
        response = await client.post(
            f"/staff/misses/{miss_id}",
            data={"csrf_token": token, "intent": "faq/teams_camera_sound", "back": "state=umerket"},
            allow_redirects=False,
        )
        assert response.status == 303
        assert response.headers["Location"].startswith("/staff/misses?state=umerket&lagret=")
    marked = database.run(
        lambda s: {
            m.id: (m.corrected_intent, m.corrected_by) for m in s.execute(select(NluMiss)).scalars()
        }
    )
    assert marked[camera] == ("faq/teams_camera_sound", ADMIN)
    assert sum(1 for intent, _ in marked.values() if intent is None) == 1

    response = await client.get("/staff/misses/export.yml")
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"]
    text = await response.text()
    assert yaml.safe_load(text)["version"] == "3.1"
    path = tmp_path / "export.yml"
    path.write_text(text, encoding="utf-8")

    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    examples = sorted((m.get("intent"), m.get("text")) for m in data.intent_examples)
    # Rasa splits the retrieval intent faq/teams_camera_sound into intent + response key
    assert examples == [
        ("faq", "hører ingenting i møtet"),
        ("faq", "kamera mitt funker ikke (i teams)(app) :)"),
    ]
    assert {m.get("intent_response_key") for m in data.intent_examples} == {
        "faq/teams_camera_sound"
    }
    assert data.entity_examples == []  # user text is never read as entity markup


async def test_marking_rejects_unknown_intent_and_can_be_cleared(client, database):
    miss = make_miss(database, "skriveren er tom for toner")
    token = csrf_from(await (await client.get("/staff/misses")).text())
    bad = await client.post(
        f"/staff/misses/{miss}", data={"csrf_token": token, "intent": "faq/finnes_ikke"}
    )
    assert bad.status == 400
    await client.post(f"/staff/misses/{miss}", data={"csrf_token": token, "intent": "out_of_scope"})
    await client.post(f"/staff/misses/{miss}", data={"csrf_token": token, "intent": ""})
    row = database.run(lambda s: s.get(NluMiss, miss))
    assert row.corrected_intent is None and row.corrected_by is None
    assert yaml.safe_load(await (await client.get("/staff/misses/export.yml")).text())["nlu"] == []


async def test_misses_filter_conversations_without_ticket(client, database):
    make_ticket(database, conversation_id="med-sak")
    make_miss(database, "melding fra samtale med sak", conversation_id="med-sak")
    make_miss(database, "melding fra samtale uten sak", conversation_id="uten-sak")
    everything = await (await client.get("/staff/misses")).text()
    assert "melding fra samtale med sak" in everything and "RAK-1001" in everything
    without = await (await client.get("/staff/misses?uten_sak=1")).text()
    assert "melding fra samtale uten sak" in without
    assert "melding fra samtale med sak" not in without


def test_every_topics_intent_is_offered():
    intents = nlu_review.known_intents()
    assert "faq/teams_camera_sound" in intents and "request_human" in intents
    assert all("/" not in i or i.startswith("faq/") for i in intents)


# --- statistics ---------------------------------------------------------------------


async def write_tracker_events(url: str, conversations: dict[str, list[tuple[str, float]]]) -> None:
    """Real Rasa tracker store rows: UserUttered events with intents and timestamps."""
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.tracker_store import RakelTrackerStore

    store = RakelTrackerStore(url=url)
    for sender, messages in conversations.items():
        tracker = DialogueStateTracker(sender, slots=[])
        for intent, timestamp in messages:
            tracker.update(
                UserUttered(
                    "tekst", intent={"name": intent, "confidence": 0.9}, timestamp=timestamp
                )
            )
        await store.save(tracker)
    store.engine.dispose()


async def test_statistics_from_tracker_store_and_our_tables(settings, database):
    now = datetime.now(timezone.utc)
    today, yesterday = now.timestamp(), (now - timedelta(days=1)).timestamp()
    await write_tracker_events(
        settings.tracker_db_url,
        {
            "conv-a": [("greet", yesterday), ("faq", yesterday + 5)],
            "conv-b": [("nlu_fallback", today), ("request_human", today + 5)],
            "conv-c": [("faq", today), ("affirm", today + 5)],
            "conv-d": [("faq", (now - timedelta(days=60)).timestamp())],  # outside 30 days
        },
    )
    make_ticket(database, conversation_id="conv-b", category="teams", municipality="Molde")
    make_ticket(database, conversation_id="conv-x", category="two_factor", municipality="Rauma")
    database.run(
        lambda s: s.add_all(
            [
                Feedback(conversation_id="conv-c", helped=True),
                Feedback(conversation_id="conv-a", helped=True),
                Feedback(conversation_id="conv-a", helped=False),
            ]
        )
    )
    engine = stats.tracker_engine(settings.tracker_db_url)
    since = stats.period_start(30)
    tracker = stats.tracker_figures(engine, since, 30)
    figures = database.run(lambda s: stats.collect(s, tracker, since, 30))
    engine.dispose()
    assert tracker.available and tracker.conversations == {"conv-a", "conv-b", "conv-c"}
    assert sum(n for _, n in tracker.per_day) == 3 and len(tracker.per_day) == 30
    # conv-b ended in a ticket (conv-x is not in the tracker store)
    assert figures.outcomes.counts["handed_over"] == 1
    assert figures.fallback_rate == pytest.approx(1 / 6)
    assert figures.helped_rate == pytest.approx(2 / 3)
    assert dict(figures.tickets_per_topic) == {"teams": 1, "two_factor": 1}
    assert dict(figures.tickets_per_municipality) == {"Molde": 1, "Rauma": 1}


async def test_statistics_page_renders_svg_charts(client, settings, database):
    now = datetime.now(timezone.utc).timestamp()
    await write_tracker_events(
        settings.tracker_db_url, {"s1": [("faq", now)], "s2": [("faq", now)]}
    )
    make_ticket(database, conversation_id="s1", municipality="Vestnes")
    html = await (await client.get("/staff/stats?dager=7")).text()
    assert "<svg viewBox" in html and "Samtaler per dag" in html
    assert 'id="kpi-samtaler">2<' in html
    assert 'id="kpi-handed_over">50 %<' in html
    assert "Vestnes" in html and "<script" not in html


async def test_statistics_without_tracker_store(client, settings, database):
    make_ticket(database)
    html = await (await client.get("/staff/stats")).text()
    assert "Samtaleloggen (Rasas tracker store) er ikke tilgjengelig" in html
    assert 'id="kpi-saker">1<' in html
    # we never create Rasa's database ourselves
    assert not (settings.var_dir / "tracker.db").exists()


def test_chart_geometry_scales_to_the_largest_value():
    chart = charts.columns([("01.11", 0), ("02.11", 5), ("03.11", 10)], height=220)
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[2] == 2 * heights[1] and chart.maximum == 10
    bars = charts.horizontal([("Teams", 4), ("Tofaktor", 2)])
    assert bars.bars[0].width == 2 * bars.bars[1].width


# --- OpenAPI --------------------------------------------------------------------------


def test_openapi_document_is_valid_and_matches_the_routes(settings):
    from jsonschema import Draft4Validator

    spec = api.load_openapi()
    assert spec["openapi"].startswith("3.0")
    assert {"title", "version"} <= set(spec["info"])

    def walk(node):  # every $ref resolves, every schema is a valid JSON schema
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                target = spec
                for part in ref.removeprefix("#/").split("/"):
                    target = target[part]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    for schema in spec["components"]["schemas"].values():
        Draft4Validator.check_schema(schema)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation["responses"], (path, method)
            assert "operationId" in operation

    app = create_app(settings)
    documented = {
        (m.upper(), p.replace("{ticketId}", "{public_id}"))
        for p, ops in spec["paths"].items()
        for m in ops
        if m != "parameters"
    }
    served = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.resource is not None
        and r.resource.canonical.startswith("/api/")
        and r.method != "HEAD"
    }
    assert documented == served


async def test_openapi_is_served_and_responses_match_schemas(client, database):
    from jsonschema import RefResolver, validate

    spec = json.loads(await (await client.get("/api/openapi.json")).text())
    resolver = RefResolver.from_schema(spec)
    public_id = make_ticket(database)

    def check(body, name):
        schema = {"$ref": f"#/components/schemas/{name}"}
        validate(_nullable(body), schema, resolver=resolver)

    check(await (await client.get("/api/tickets")).json(), "TicketList")
    check(await (await client.get(f"/api/tickets/{public_id}")).json(), "TicketDetail")


def _nullable(body):
    """OpenAPI 3.0 `nullable` is not JSON Schema: drop nulls before validating."""
    if isinstance(body, dict):
        return {k: _nullable(v) for k, v in body.items() if v is not None}
    if isinstance(body, list):
        return [_nullable(v) for v in body]
    return body


# --- CLI ----------------------------------------------------------------------------


def test_cli_create_staff_reads_password_from_stdin(settings, database, tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "RAKEL_VAR_DIR": str(tmp_path),
        "RAKEL_DB_URL": settings.db_url,
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "create-staff", "Kari"],
        input="et-langt-passord-2026\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    too_short = subprocess.run(
        [sys.executable, "-m", "bot.cli", "create-staff", "ola"],
        input="kort\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert too_short.returncode == 2 and "at least 12" in too_short.stderr
    users = database.run(lambda s: [u.username for u in s.execute(select(StaffUser)).scalars()])
    assert users == ["kari"]
    assert "et-langt-passord-2026" not in done.stdout
