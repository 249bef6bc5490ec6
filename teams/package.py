"""Build the Teams app package: `make teams-package` -> dist/rakel-teams.zip.

The manifest is filled from the environment, never from committed values:
RAKEL_TEAMS_APP_ID (the Azure Bot's Microsoft App ID, also used as the Teams app id),
RAKEL_TEAMS_APP_VERSION (default 1.0.0) and RAKEL_PORTAL_URL (https, for the
developer/privacy/terms links).
"""

from __future__ import annotations

import json
import os
import re
import sys
import zipfile
from pathlib import Path
from string import Template
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class PackageError(ValueError):
    pass


def manifest(env: dict[str, str]) -> dict:
    app_id = env.get("RAKEL_TEAMS_APP_ID", "")
    if not GUID.match(app_id):
        raise PackageError(
            f"RAKEL_TEAMS_APP_ID must be the bot's Microsoft App ID (a GUID), got {app_id!r}"
        )
    portal = env.get("RAKEL_PORTAL_URL", "").rstrip("/")
    if not portal.startswith("https://"):
        raise PackageError(
            "RAKEL_PORTAL_URL must be an https:// address "
            "(Teams requires https links for the developer, privacy and terms)"
        )
    version = env.get("RAKEL_TEAMS_APP_VERSION", "1.0.0")
    if not re.match(r"^\d+\.\d+\.\d+$", version):
        raise PackageError(f"RAKEL_TEAMS_APP_VERSION must look like 1.0.0, got {version!r}")
    values = {
        "app_id": app_id,
        "version": version,
        "website_url": portal,
        "privacy_url": f"{portal}/personvern",
        "terms_url": f"{portal}/vilkar",
    }
    template = json.loads((HERE / "manifest.template.json").read_text(encoding="utf-8"))
    return _fill(template, values)


def _fill(node: Any, values: dict[str, str]) -> Any:
    """Substitute ${name} in string values only (keys such as "$schema" stay as they are)."""
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value, values) for value in node]
    if isinstance(node, str):
        return Template(node).substitute(values)
    return node


def build(env: dict[str, str], target: Path) -> Path:
    data = manifest(env)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        # Teams wants the three files at the root of the zip.
        archive.writestr("manifest.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.write(HERE / "color.png", "color.png")
        archive.write(HERE / "outline.png", "outline.png")
    return target


if __name__ == "__main__":
    try:
        path = build(dict(os.environ), ROOT / "dist" / "rakel-teams.zip")
    except PackageError as exc:
        sys.exit(f"teams-package: {exc}")
    print(f"wrote {path.relative_to(ROOT)}")
