"""HTTP tests of the models page: who may train and roll back, what the page shows of
a training, its before/after figures and why a model was held back."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.model_versions import made_active
from bot.models import ContentAudit, ModelVersion, utcnow
from tests.notices.conftest import AGENT, AGENT_PASSWORD, client  # noqa: F401 - fixture
from tests.notices.test_notice_pages import login, token
from tests.review.conftest import database, settings  # noqa: F401 - fixtures

PAGE = "/staff/models"


def figures(right: float, wrong: float) -> str:
    topic = {"n": 40, "right": right, "clarified": 0.1, "abstained": 0.1, "wrong": wrong}
    return json.dumps(
        {
            "test": {
                "n": 305,
                "right": right,
                "clarified": 0.1,
                "abstained": round(0.9 - right - wrong, 4),
                "wrong": wrong,
                "negatives": topic,
                "topics": {"teams": topic, "two_factor": topic},
            },
            "heldout": {"n": 343, "topic_accuracy": 0.94},
        }
    )


def models(database):  # noqa: F811
    return database.run(
        lambda s: [
            (m.status, m.requested_by)
            for m in s.scalars(select(ModelVersion).order_by(ModelVersion.id))
        ]
    )


async def test_the_page_needs_a_login_and_only_admins_may_train(client, database):  # noqa: F811
    response = await client.get(PAGE, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login")

    await login(client, AGENT, AGENT_PASSWORD)
    page = await client.get(PAGE)
    html = await page.text()
    assert page.status == 200 and "Tren ny modell" not in html
    assert "Bare administratorer" in html
    csrf = await token(client, PAGE)
    refused = await client.post("/staff/models/train", data={"csrf_token": csrf})
    assert refused.status == 403
    refused = await client.post("/staff/models/rollback", data={"csrf_token": csrf})
    assert refused.status == 403
    assert models(database) == []


async def test_an_admin_queues_one_training_and_sees_its_progress(client, database):  # noqa: F811
    await login(client)
    csrf = await token(client, PAGE)
    # Without the CSRF token nothing is queued.
    assert (await client.post("/staff/models/train", data={})).status == 403
    response = await client.post("/staff/models/train", data={"csrf_token": csrf})
    assert response.status == 200  # followed to the page
    html = await response.text()
    assert "Treningen er bestilt" in html and "Trening pågår" in html
    assert "venter på treneren" in html
    # A second press while it waits reuses the request.
    again = await client.post("/staff/models/train", data={"csrf_token": csrf})
    assert "En trening pågår allerede" in await again.text()
    assert models(database) == [("queued", "admin")]

    def running(session):
        row = session.scalar(select(ModelVersion))
        row.status, row.stage = "training", "training"
        row.started_at = utcnow() - timedelta(seconds=95)

    database.run(running)
    status = await (await client.get("/staff/models/status")).json()
    assert status["running"] is True and status["stage_label"] == "trener modellen"
    assert 95 <= status["elapsed_seconds"] < 120
    html = await (await client.get(PAGE)).text()  # a reload shows the same progress
    assert "trener modellen" in html and "1 min 3" in html
    audit = database.run(lambda s: [(a.actor, a.action) for a in s.scalars(select(ContentAudit))])
    assert audit == [("admin", "requested")]


async def test_a_held_back_model_shows_why_and_the_figures_side_by_side(client, database):  # noqa: F811
    def history(session):
        live = ModelVersion(
            name="rakel-live",
            path="/nowhere/rakel-live.tar.gz",
            source="files",
            kind="full",
            status="active",
            figures=figures(0.63, 0.046),
            activated_at=utcnow(),
            activated_by="start",
        )
        session.add(live)
        session.flush()
        session.add(
            ModelVersion(
                name="rakel-new",
                source="staff",
                kind="finetune",
                status="held_back",
                requested_by="admin",
                compared_with_id=live.id,
                figures=figures(0.55, 0.09),
                reason="Holdt tilbake: riktige svar falt.",
            )
        )

    database.run(history)
    await login(client)
    html = await (await client.get(PAGE)).text()
    assert "Holdt tilbake: riktige svar falt." in html
    assert "63,0 %" in html and "55,0 %" in html and "-8,0 poeng" in html
    assert "Sikre, men gale svar" in html and "+4,4 poeng" in html
    # No model before the live one: nothing to roll back to.
    assert "Rull tilbake" not in html
    csrf = await token(client, PAGE)
    refused = await client.post("/staff/models/rollback", data={"csrf_token": csrf})
    assert refused.status == 409
    assert "ingen tidligere modell" in await refused.text()


async def test_a_rollback_a_replica_refuses_changes_nothing(client, database, tmp_path):  # noqa: F811
    old_file = tmp_path / "rakel-old.tar.gz"
    old_file.write_bytes(b"model")

    def history(session):
        old = ModelVersion(name="rakel-old", path=str(old_file), source="files", status="retired")
        session.add(old)
        session.flush()
        new = ModelVersion(name="rakel-new", path=str(old_file), source="staff", status="held_back")
        session.add(new)
        session.flush()
        made_active(session, new.id, "trainer", replaced_id=old.id)

    database.run(history)
    await login(client)
    html = await (await client.get(PAGE)).text()
    assert "Rull tilbake til forrige modell" in html
    csrf = await token(client, PAGE)
    # The settings' Rasa replica is not running in this test: it cannot load the model.
    response = await client.post("/staff/models/rollback", data={"csrf_token": csrf})
    assert response.status == 502
    assert "Den aktive modellen svarer fortsatt" in await response.text()
    assert [s for s, _ in models(database)] == ["retired", "active"]
