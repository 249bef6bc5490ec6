"""`make teams-package` builds an uploadable Teams app package from the environment."""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile

from PIL import Image

from bot.settings import PROJECT_ROOT

APP_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


VENV = os.environ.get("RAKEL_VENV", str(PROJECT_ROOT / ".venv"))


def make(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "teams-package", f"VENV={VENV}"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_package_has_manifest_and_icons():
    result = make(
        {
            **os.environ,
            "RAKEL_TEAMS_APP_ID": APP_ID,
            "RAKEL_PORTAL_URL": "https://portal.ror-ikt.example",
        }
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(PROJECT_ROOT / "dist" / "rakel-teams.zip") as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        colour = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert manifest["manifestVersion"] == "1.16"
    assert manifest["$schema"].endswith("/v1.16/MicrosoftTeams.schema.json")
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["name"]["short"] == "Spør 'o Rakel"
    assert manifest["developer"]["privacyUrl"].startswith("https://portal.ror-ikt.example")
    assert colour.size == (192, 192)
    assert outline.size == (32, 32) and outline.mode == "RGBA"
    # Outline: white on transparent, nothing else.
    pixels = (
        outline.get_flattened_data()
        if hasattr(outline, "get_flattened_data")
        else list(outline.getdata())
    )
    assert {p[:3] for p in pixels if p[3] > 0} == {(255, 255, 255)}
    assert any(p[3] == 0 for p in pixels)


def test_package_refuses_without_a_bot_id():
    result = make({k: v for k, v in os.environ.items() if k != "RAKEL_TEAMS_APP_ID"})
    assert result.returncode != 0
    assert "RAKEL_TEAMS_APP_ID must be the bot's Microsoft App ID" in result.stderr
